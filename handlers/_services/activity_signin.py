"""Sign-in codes (签到码): a 4-digit code an organiser shows, valid for a while around the activity.

The code lives in Redis with a TTL; the stored "valid until" is compared with the app clock (the
TTL only cleans up), so validity follows the same 'now' as everything else.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from redis import Redis

from bot.keys import ACTIVITY_SIGNIN_CODE

CODE_VALID = timedelta(minutes=30)
OPENS_BEFORE_START = timedelta(minutes=30)     # the organiser may show a code this early
CLOSES_AFTER_START = timedelta(hours=3)        # and until this late (a long 实践体验 included)
_CLEANUP = timedelta(days=1)


class Check(str, Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    NO_CODE = "no_code"


@dataclass(frozen=True)
class Code:
    code: str
    valid_until: datetime


def window(start: datetime) -> tuple[datetime, datetime]:
    return start - OPENS_BEFORE_START, start + CLOSES_AFTER_START


def issue(redis: Redis, activity_id: int, *, now: datetime) -> Code:
    """The activity's current code, or a new one valid for CODE_VALID (never past the window)."""
    current = find(redis, activity_id)
    if current is not None and current.valid_until > now:
        return current
    code = Code(f"{secrets.randbelow(10000):04d}", now + CODE_VALID)
    payload = json.dumps({"code": code.code, "until": code.valid_until.isoformat()})
    redis.set(ACTIVITY_SIGNIN_CODE.format(activity_id=activity_id), payload,
              ex=int((CODE_VALID + _CLEANUP).total_seconds()))
    return code


def find(redis: Redis, activity_id: int) -> Code | None:
    raw = redis.get(ACTIVITY_SIGNIN_CODE.format(activity_id=activity_id))
    if not raw:
        return None
    value = json.loads(raw)
    return Code(value["code"], datetime.fromisoformat(value["until"]))


def check(redis: Redis, activity_id: int, code: str, *, now: datetime) -> Check:
    current = find(redis, activity_id)
    if current is None:
        return Check.NO_CODE
    if not secrets.compare_digest(current.code, code.strip()):
        return Check.WRONG
    return Check.OK if now <= current.valid_until else Check.EXPIRED
