"""Exactly-once handling of callbacks across processes: the first delivery computes the reply,
re-sends (WeCom retries after 5 s, three tries in all) get the stored reply and cause nothing."""
from __future__ import annotations

import time
from typing import Callable

from redis import Redis

from bot.keys import DEDUPE

TTL_SECONDS = 2 * 3600
_PENDING = b"\x00pending"
_WAIT_SECONDS = 3.0   # a re-send while the first is still running waits for its reply, within WeCom's 5 s
# claim the message id and read one more key the answer will need, in one round trip
_CLAIM_AND_GET = """
local claimed = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
if not claimed then return {0, false} end
return {1, redis.call('GET', KEYS[2])}
"""


def once(redis: Redis, channel: str, msg_id: str, compute: Callable[[bytes | None], str | None], *,
         also_get: str) -> str | None:
    """Run ``compute`` for the first delivery of ``msg_id``; return its stored result for re-sends.

    ``compute`` receives the value of the key ``also_get`` (or None), read together with the claim.

    Returns:
        The rendered passive reply (plaintext) or None for "no reply".
    """
    key = DEDUPE.format(channel=channel, msg_id=msg_id)
    claimed, extra = redis.eval(_CLAIM_AND_GET, 2, key, also_get, _PENDING, TTL_SECONDS)
    if claimed:
        try:
            result = compute(extra)
        except BaseException:
            redis.delete(key)    # let WeCom's retry try again
            raise
        redis.set(key, b"R" + (result or "").encode("utf-8"), ex=TTL_SECONDS)
        return result
    return _stored(redis, key)


def _stored(redis: Redis, key: str) -> str | None:
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        value = redis.get(key)
        if value is None or value == _PENDING:
            if value is None or time.monotonic() > deadline:
                return None      # the first delivery failed or is still running: acknowledged quietly
            time.sleep(0.05)
            continue
        return value[1:].decode("utf-8") or None
