"""Reusing uploaded media ids (voice clips, and images and files sent to many conversations): WeCom keeps a media id for 3 days, so upload once and reuse it.

The id is renewed half a day before it expires, so a push that starts just before expiry never sends
a dead id. Ids are kept per upload target because a webhook robot can only send media it uploaded
itself, while app media ids are shared by the corp's apps.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Callable

from redis import Redis

from bot import keys
from bot.redis_store import get_redis
from bot.voice.amr import check_voice
from bot.voice.clips import AmrClip

MEDIA_LIFETIME = timedelta(days=3)
RENEW_AFTER = timedelta(days=2, hours=12)


def stored_media_id(data: bytes, upload: Callable[[bytes], str], *, target: str, now: datetime,
                    redis: Redis | None = None) -> str:
    """A WeCom media id for ``data`` usable by ``target``: the stored one if young enough, else a new upload.

    ``target`` names where the id is valid: ``"app"``, or ``"robot:<digest of the webhook key>"``
    (never the raw key — it is a credential), or ``"aibot:<bot id>"`` for the smart bot's long-connection
    uploads (with the media type, e.g. ``aibot:<bot id>:image``, for what is not a voice clip).
    ``now`` is an aware datetime from the injected clock.
    """
    redis = redis if redis is not None else get_redis()
    key = keys.VOICE_MEDIA.format(target=target, audio_sha256=hashlib.sha256(data).hexdigest())
    stored = _read(redis.get(key))
    if stored is not None and timedelta(0) <= now - stored[1] < RENEW_AFTER:
        return stored[0]
    media_id = upload(data)
    record = {"media_id": media_id, "uploaded_at": now.isoformat()}
    redis.set(key, json.dumps(record), ex=MEDIA_LIFETIME)
    return media_id


def media_id_for(clip: AmrClip, upload: Callable[[bytes], str], *, target: str, now: datetime,
                 redis: Redis | None = None) -> str:
    """``stored_media_id`` for a voice clip, checked before it is uploaded.

    Raises:
        VoiceError: the clip is not valid AMR, over 2 MB or over 60 s.
    """
    def checked_upload(data: bytes) -> str:
        check_voice(data)
        return upload(data)

    return stored_media_id(clip.data, checked_upload, target=target, now=now, redis=redis)


def _read(raw: bytes | None) -> tuple[str, datetime] | None:
    if raw is None:
        return None
    try:
        record = json.loads(raw)
        return record["media_id"], datetime.fromisoformat(record["uploaded_at"])
    except (ValueError, KeyError, TypeError):
        return None
