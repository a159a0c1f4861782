"""Dashboard sign-in: a one-time link valid 10 minutes, exchanged for a browser session, both in Redis.

Expiry is checked against ``bot.clock.now()`` (so tests and the demo clock can move past it); the
Redis TTL only cleans up. Redeeming a link deletes it atomically, so a link works exactly once.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

from redis import Redis

from bot import keys

LINK = keys.DASHBOARD_LINK
SESSION = keys.DASHBOARD_SESSION
LINK_VALID = timedelta(minutes=10)
SESSION_VALID = timedelta(hours=8)
_CLEANUP_SLACK = 3600        # Redis forgets a little after expiry, whatever the demo clock says


def issue_link(redis: Redis, userid: str, *, now: datetime) -> str:
    """A fresh one-time sign-in token for ``userid``, valid ten minutes from ``now``."""
    token = secrets.token_urlsafe(24)
    _store(redis, LINK.format(token=token), userid, now=now, valid=LINK_VALID)
    return token


def redeem_link(redis: Redis, token: str, *, now: datetime) -> str | None:
    """The userid the link was issued to, once; None when unknown, used or expired."""
    raw = redis.getdel(LINK.format(token=token)) if _plausible(token) else None
    return _valid_userid(raw, now)


def start_session(redis: Redis, userid: str, *, now: datetime) -> str:
    """A session id for the browser's cookie."""
    sid = secrets.token_urlsafe(32)
    _store(redis, SESSION.format(sid=sid), userid, now=now, valid=SESSION_VALID)
    return sid


def session_user(redis: Redis, sid: str | None, *, now: datetime) -> str | None:
    """Who is signed in with this session id; None when unknown or expired."""
    raw = redis.get(SESSION.format(sid=sid)) if sid and _plausible(sid) else None
    return _valid_userid(raw, now)


def end_session(redis: Redis, sid: str | None) -> None:
    if sid and _plausible(sid):
        redis.delete(SESSION.format(sid=sid))


def _store(redis: Redis, key: str, userid: str, *, now: datetime, valid: timedelta) -> None:
    until = (now + valid).isoformat()
    redis.set(key, json.dumps({"userid": userid, "until": until}), ex=int(valid.total_seconds()) + _CLEANUP_SLACK)


def _valid_userid(raw: bytes | None, now: datetime) -> str | None:
    if not raw:
        return None
    data = json.loads(raw)
    return data["userid"] if datetime.fromisoformat(data["until"]) > now else None


def _plausible(token: str) -> bool:
    return 16 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)
