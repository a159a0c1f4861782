"""Sliding-window send limits in Redis, checked and taken atomically by one Lua script.

Each (scope, subject) is a sorted set of send times under ``keys.RATE``. A call either takes
``cost`` slots in *every* listed window at once, or takes none and says how long to wait, so a
sender that is over a limit waits instead of having WeCom drop the message silently.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Iterable, Sequence

from redis import Redis

from bot import keys

# KEYS: one per (subject, limit), subject-major.  ARGV: now, member prefix, cost, then limit/window
# pairs.  Returns one wait (seconds, as a string to keep the fraction) per subject; "0" = taken.
_SCRIPT = """
local now = tonumber(ARGV[1])
local prefix = ARGV[2]
local cost = tonumber(ARGV[3])
local nlimits = (#ARGV - 3) / 2
local waits = {}
for s = 0, #KEYS / nlimits - 1 do
  local wait = 0
  for r = 1, nlimits do
    local key = KEYS[s * nlimits + r]
    local limit = tonumber(ARGV[2 + 2 * r])
    local window = tonumber(ARGV[3 + 2 * r])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local excess = redis.call('ZCARD', key) + cost - limit
    if excess > 0 then
      local entry = redis.call('ZRANGE', key, excess - 1, excess - 1, 'WITHSCORES')
      local w = tonumber(entry[2]) + window - now
      if w > wait then wait = w end
    end
  end
  if wait == 0 then
    for r = 1, nlimits do
      local key = KEYS[s * nlimits + r]
      for i = 1, cost do
        redis.call('ZADD', key, ARGV[1], prefix .. ':' .. s .. ':' .. i)
      end
      redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[3 + 2 * r]) * 1000) + 1000)
    end
  end
  waits[s + 1] = tostring(wait)
end
return waits
"""


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` sends per ``window_s`` seconds for each subject of ``scope``."""

    scope: str
    limit: int
    window_s: float


# wecom-protocol.md §5: 20 messages/min per webhook
WEBHOOK_LIMITS = (Limit("webhook", 20, 60),)


def member_limits(agent_id: int | str) -> tuple[Limit, ...]:
    """wecom-protocol.md §6: per member per app ≤30/min and ≤1000/h (excess silently dropped)."""
    return (Limit(f"app{agent_id}-minute", 30, 60), Limit(f"app{agent_id}-hour", 1000, 3600))


def acquire(redis: Redis, scope: str, subject: str, *, limit: int, window_s: float, now: float,
            cost: int = 1) -> float:
    """Take ``cost`` slots for ``subject`` in one window.

    Args:
        redis: the shared Redis.
        scope: what is limited, e.g. ``webhook``.
        subject: who is limited, e.g. a userid or a hashed webhook key.
        limit: slots per window.
        window_s: window length in seconds.
        now: the current time in epoch seconds.
        cost: slots to take at once (a message split into parts costs one per part).

    Returns:
        0 when the slots were taken, else the seconds to wait before they would be free.
    """
    return acquire_many(redis, (Limit(scope, limit, window_s),), [subject], now=now, cost=cost)[subject]


def acquire_many(redis: Redis, limits: Sequence[Limit], subjects: Iterable[str], *, now: float,
                 cost: int = 1) -> dict[str, float]:
    """Take ``cost`` slots in every window of ``limits`` for each subject, all-or-nothing per subject.

    Returns:
        ``{subject: wait}``: 0 when taken, else the seconds until every window has room.

    Raises:
        ValueError: ``cost`` exceeds a limit (it could never be taken).
    """
    subjects = list(dict.fromkeys(subjects))
    if not subjects or not limits:
        return {subject: 0.0 for subject in subjects}
    if any(cost > lim.limit for lim in limits) or cost < 1:
        raise ValueError(f"cost {cost} cannot fit the limits {limits}")
    redis_keys = [keys.RATE.format(scope=lim.scope, subject=subject) for subject in subjects for lim in limits]
    args: list = [repr(float(now)), uuid.uuid4().hex, cost]
    for lim in limits:
        args += [lim.limit, repr(float(lim.window_s))]
    waits = redis.eval(_SCRIPT, len(redis_keys), *redis_keys, *args)
    return {subject: float(wait) for subject, wait in zip(subjects, waits)}
