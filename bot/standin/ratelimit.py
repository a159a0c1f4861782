"""Sliding-window send limits kept in Redis, checked and counted in one atomic step."""
from __future__ import annotations

import secrets
import time

from bot.redis_store import get_redis
from bot.standin.store import key

# (window seconds, max sends) pairs
APP_MEMBER_LIMITS = ((60, 30), (3600, 1000))   # per member per app; WeCom drops the excess silently
WEBHOOK_LIMITS = ((60, 20),)                    # per robot; WeCom answers 45009

# One script so that two gunicorn workers cannot both see "29" and both send the 30th.
_SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local longest = 0
for i = 3, #ARGV, 2 do
  local window = tonumber(ARGV[i])
  if window > longest then longest = window end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
for i = 3, #ARGV, 2 do
  local since = now - tonumber(ARGV[i])
  if redis.call('ZCOUNT', KEYS[1], '(' .. since, '+inf') >= tonumber(ARGV[i + 1]) then
    return 0
  end
end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(longest))
return 1
"""


def allow(subject: str, limits: tuple[tuple[int, int], ...]) -> bool:
    """Count one send for ``subject`` unless a window is already full.

    Args:
        subject: what is limited, e.g. ``app:user01`` or ``webhook:<key>``.
        limits: ``(window_seconds, max_sends)`` pairs that must all have room.

    Returns:
        True when the send fits (and is now counted), False when it is over a limit (not counted).
    """
    args: list = [repr(time.time()), secrets.token_hex(8)]
    for window, limit in limits:
        args += [window, limit]
    script = get_redis().register_script(_SLIDING_WINDOW)
    return bool(script(keys=[key(f"rate:{subject}")], args=args))
