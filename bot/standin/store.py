"""The stand-in's Redis state for tokens and media; every gunicorn worker sees the same.

Expects the app's client as ``redis_store`` builds it (bytes replies, no decode_responses),
because media bytes are stored as they came.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from bot.keys import STANDIN
from bot.redis_store import get_redis

TOKEN_SECONDS = 7200
MEDIA_SECONDS = 3 * 24 * 3600          # media_id validity, WeCom's "3 days"


def key(name: str) -> str:
    """The Redis key for one piece of stand-in state."""
    return STANDIN.format(name=name)


def reset() -> None:
    """Forget everything the stand-in holds: tokens, media, records, limits, scripted behaviour."""
    redis = get_redis()
    names = list(redis.scan_iter(match=key("*"), count=500))
    if names:
        redis.delete(*names)


# --- access tokens -------------------------------------------------------------------------

def issue_token() -> tuple[str, int]:
    """Answer a gettoken call.

    WeCom documents that fetching again within the validity returns the same token, so the
    current token is reused until it expires (or a test expires it). Every answer is counted
    in ``tokens_issued``, so a test can see a client that fetches per request.

    Returns:
        ``(access_token, expires_in seconds)``.
    """
    redis = get_redis()
    redis.incr(key("tokens_issued"))
    current = redis.get(key("token:current"))
    if current is not None:
        token = current.decode()
        expires_at = float(redis.hget(key("tokens"), token) or 0)
        if expires_at > time.time():
            return token, int(expires_at - time.time())
    token = secrets.token_urlsafe(48)           # 64 characters, well under WeCom's 512 bytes
    redis.hset(key("tokens"), token, repr(time.time() + TOKEN_SECONDS))
    redis.set(key("token:current"), token, ex=TOKEN_SECONDS)
    return token, TOKEN_SECONDS


def token_state(token: str) -> str:
    """``"valid"``, ``"expired"`` or ``"unknown"`` for a token a client presents."""
    expires_at = get_redis().hget(key("tokens"), token)
    if expires_at is None:
        return "unknown"
    return "valid" if float(expires_at) > time.time() else "expired"


def expire_tokens() -> None:
    """Make every token issued so far answer 42001, as if WeCom had invalidated them early."""
    redis = get_redis()
    tokens = redis.hkeys(key("tokens"))
    if tokens:
        redis.hset(key("tokens"), mapping={token: "0" for token in tokens})
    redis.delete(key("token:current"))


# --- media ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Media:
    """One uploaded file. ``owner`` is ``app`` for media/upload, ``webhook:<key>`` for a robot's upload."""

    media_id: str
    kind: str
    owner: str
    created_at: int
    filename: str
    data: bytes


def save_media(kind: str, data: bytes, *, filename: str, owner: str) -> Media:
    """Store an upload for three days and hand out its media_id."""
    media = Media(media_id="3" + secrets.token_urlsafe(36), kind=kind, owner=owner,
                  created_at=int(time.time()), filename=filename, data=data)
    name = key(f"media:{media.media_id}")
    with get_redis().pipeline() as pipe:
        pipe.hset(name, mapping={"kind": kind, "owner": owner, "created_at": media.created_at,
                                 "filename": filename, "data": data})
        pipe.expire(name, MEDIA_SECONDS)
        pipe.execute()
    return media


def find_media(media_id: str) -> Media | None:
    """The stored upload, or None when unknown or older than three days."""
    fields = get_redis().hgetall(key(f"media:{media_id}"))
    if not fields:
        return None
    created_at = int(fields[b"created_at"])
    if time.time() - created_at > MEDIA_SECONDS:
        return None
    return Media(media_id=media_id, kind=fields[b"kind"].decode(), owner=fields[b"owner"].decode(),
                 created_at=created_at, filename=fields[b"filename"].decode("utf-8"), data=fields[b"data"])


def media_usable(media_id: str, kind: str, owner: str) -> bool:
    """May ``owner`` send ``media_id`` as a ``kind`` message? Webhook media is private to its robot."""
    media = find_media(media_id)
    return media is not None and media.kind == kind and media.owner == owner
