"""Sliding-window send limits kept in Redis, checked and counted in one atomic step."""
from __future__ import annotations

import secrets
import time

from bot.redis_store import get_redis
from bot.standin.store import key

# (window seconds, max sends) pairs
APP_MEMBER_LIMITS = ((60, 30), (3600, 1000))   # per member per app; WeCom drops the excess silently
WEBHOOK_LIMITS = ((60, 20),)                    # per robot; WeCom answers 45009

# One script so that two gunicorn workers cannot both see "29" and both send the 30th. It checks
# every key given (one per member of a message/send to 1000 members) in one round trip.
_SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local longest = 0
for i = 3, #ARGV, 2 do
  local window = tonumber(ARGV[i])
  if window > longest then longest = window end
end
local allowed = {}
for k = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', now - longest)
  local fits = 1
  for i = 3, #ARGV, 2 do
    local since = now - tonumber(ARGV[i])
    if redis.call('ZCOUNT', KEYS[k], '(' .. since, '+inf') >= tonumber(ARGV[i + 1]) then
      fits = 0
      break
    end
  end
  if fits == 1 then
    redis.call('ZADD', KEYS[k], now, ARGV[2])
    redis.call('EXPIRE', KEYS[k], math.ceil(longest))
  end
  allowed[k] = fits
end
return allowed
"""


def allow(subject: str, limits: tuple[tuple[int, int], ...]) -> bool:
    """Count one send for ``subject`` unless a window is already full.

    Args:
        subject: what is limited, e.g. ``app:user01`` or ``webhook:<key>``.
        limits: ``(window_seconds, max_sends)`` pairs that must all have room.

    Returns:
        True when the send fits (and is now counted), False when it is over a limit (not counted).
    """
    return allow_many([subject], limits)[0]


def allow_many(subjects: list[str], limits: tuple[tuple[int, int], ...]) -> list[bool]:
    """``allow`` for several subjects at once (each counted independently), in one round trip."""
    if not subjects:
        return []
    args: list = [repr(time.time()), secrets.token_hex(8)]
    for window, limit in limits:
        args += [window, limit]
    script = get_redis().register_script(_SLIDING_WINDOW)
    return [bool(flag) for flag in script(keys=[key(f"rate:{subject}") for subject in subjects], args=args)]
