"""The stand-in's logs: every message it accepted (or silently dropped) and every unexpected call."""
from __future__ import annotations

import json
import time

from bot.redis_store import get_redis
from bot.standin.store import key

MAX_MESSAGES = 5000        # a long demo session must not grow Redis without bound
MAX_VIOLATIONS = 1000
BODY_PREVIEW_BYTES = 2000


def add_message(*, via: str, msgtype: str, body: dict, recipient: str | None = None,
                chat: str | None = None, dropped: bool = False, msgid: str | None = None) -> dict:
    """Record one delivered (or dropped) message.

    Args:
        via: ``app``, ``appchat`` or ``webhook``.
        msgtype: the message type.
        body: the JSON the client sent, as parsed.
        recipient: the member's userid (app sends: one record per member).
        chat: the appchat chatid, or the chat name of the webhook's robot.
        dropped: True when WeCom would have silently dropped it (member over the rate limit).
        msgid: the msgid answered to the client (app sends).

    Returns:
        The record as stored.
    """
    redis = get_redis()
    record = {"id": int(redis.incr(key("message_seq"))), "via": via, "recipient": recipient, "chat": chat,
              "msgtype": msgtype, "body": body, "dropped": dropped, "msgid": msgid, "time": time.time()}
    with redis.pipeline() as pipe:
        pipe.rpush(key("messages"), json.dumps(record, ensure_ascii=False))
        pipe.ltrim(key("messages"), -MAX_MESSAGES, -1)
        pipe.execute()
    return record


def list_messages(*, recipient: str | None = None, chat: str | None = None, via: str | None = None,
                  since_id: int | None = None) -> list[dict]:
    """Recorded messages, oldest first, narrowed by whichever filters are given."""
    records = [json.loads(raw) for raw in get_redis().lrange(key("messages"), 0, -1)]
    return [r for r in records
            if (recipient is None or r["recipient"] == recipient)
            and (chat is None or r["chat"] == chat)
            and (via is None or r["via"] == via)
            and (since_id is None or r["id"] > since_id)]


def clear_messages() -> None:
    """Forget every recorded message."""
    get_redis().delete(key("messages"))


def add_violation(*, method: str, path: str, query: str, body: bytes) -> dict:
    """Record a call the real WeCom API would not understand, so a test can fail on it."""
    redis = get_redis()
    record = {"id": int(redis.incr(key("violation_seq"))), "method": method, "path": path, "query": query,
              "body": body[:BODY_PREVIEW_BYTES].decode("utf-8", "replace"), "time": time.time()}
    with redis.pipeline() as pipe:
        pipe.rpush(key("violations"), json.dumps(record, ensure_ascii=False))
        pipe.ltrim(key("violations"), -MAX_VIOLATIONS, -1)
        pipe.execute()
    return record


def list_violations() -> list[dict]:
    """Recorded unexpected calls, oldest first."""
    return [json.loads(raw) for raw in get_redis().lrange(key("violations"), 0, -1)]


def clear_violations() -> None:
    """Forget every recorded violation."""
    get_redis().delete(key("violations"))
