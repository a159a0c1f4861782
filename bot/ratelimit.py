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

# KEYS: one per (subject, scope), subject-major.  ARGV: now, member prefix, cost, the number of scopes, then
# (scope number, limit, window) per limit.  Returns one wait (seconds, as a string to keep the fraction) per
# subject; "0" = taken.  A set holding no more than the scope's smallest limit minus the cost cannot be over any
# of its windows, so most subjects cost three commands (ZCARD, ZADD, PEXPIRE); a fuller set is trimmed to its
# longest window and each window counted.
_SCRIPT = """
local now = tonumber(ARGV[1])
local prefix = ARGV[2]
local cost = tonumber(ARGV[3])
local nscopes = tonumber(ARGV[4])
local limits, smallest, longest = {}, {}, {}
for i = 5, #ARGV, 3 do
  local scope, limit, window = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  limits[#limits + 1] = {scope, limit, window}
  if not smallest[scope] or limit < smallest[scope] then smallest[scope] = limit end
  if not longest[scope] or window > longest[scope] then longest[scope] = window end
end
local waits = {}
for s = 0, #KEYS / nscopes - 1 do
  local wait = 0
  local full = {}
  for scope = 1, nscopes do
    local key = KEYS[s * nscopes + scope]
    if redis.call('ZCARD', key) + cost > smallest[scope] then
      full[scope] = true
      redis.call('ZREMRANGEBYSCORE', key, '-inf', now - longest[scope])
    end
  end
  for _, limit in ipairs(limits) do
    if full[limit[1]] then
      local key = KEYS[s * nscopes + limit[1]]
      local since = '(' .. (now - limit[3])
      local excess = redis.call('ZCOUNT', key, since, '+inf') + cost - limit[2]
      if excess > 0 then
        local entry = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES', 'LIMIT', excess - 1, 1)
        local w = tonumber(entry[2]) + limit[3] - now
        if w > wait then wait = w end
      end
    end
  end
  if wait == 0 then
    local entries = {}
    for i = 1, cost do
      entries[2 * i - 1] = ARGV[1]
      entries[2 * i] = prefix .. ':' .. s .. ':' .. i
    end
    for scope = 1, nscopes do
      local key = KEYS[s * nscopes + scope]
      redis.call('ZADD', key, unpack(entries))
      redis.call('PEXPIRE', key, math.ceil(longest[scope] * 1000) + 1000)
    end
  end
  waits[s + 1] = tostring(wait)
end
return waits
"""


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` sends per ``window_s`` seconds for each subject of ``scope``.

    The limits of one scope count the same sends (one sorted set per subject), e.g. WeCom's minute and
    hour windows for a member; limits of different scopes count separately.
    """

    scope: str
    limit: int
    window_s: float


# wecom-protocol.md §5: 20 messages/min per webhook
WEBHOOK_LIMITS = (Limit("webhook", 20, 60),)


def member_limits(agent_id: int | str) -> tuple[Limit, ...]:
    """wecom-protocol.md §6: per member per app ≤30/min and ≤1000/h (excess silently dropped)."""
    return (Limit(f"app{agent_id}", 30, 60), Limit(f"app{agent_id}", 1000, 3600))


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
    scopes = list(dict.fromkeys(lim.scope for lim in limits))
    redis_keys = [keys.RATE.format(scope=scope, subject=subject) for subject in subjects for scope in scopes]
    args: list = [repr(float(now)), uuid.uuid4().hex, cost, len(scopes)]
    for lim in limits:
        args += [scopes.index(lim.scope) + 1, lim.limit, repr(float(lim.window_s))]
    waits = redis.eval(_SCRIPT, len(redis_keys), *redis_keys, *args)
    return {subject: float(wait) for subject, wait in zip(subjects, waits)}
