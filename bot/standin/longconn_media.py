"""The long-connection stand-in's media: the chunked upload trio and the media it hands out (wecom-longconn.md §7).

``aibot_upload_media_init {type, filename, total_size, total_chunks, md5?}`` → ``upload_id``;
``aibot_upload_media_chunk {upload_id, chunk_index, base64_data}``: index from 0, ≤512 KiB decoded, any
order, the same chunk again is accepted; ``aibot_upload_media_finish {upload_id}`` → ``{type, media_id,
created_at}`` once every chunk is there, the size and md5 agree and the file passes the type's checks
(voice: AMR with ``#!AMR``, ≤2 MB, ≤60 s — bot/standin/media.py). Sessions live 30 minutes, media 3 days;
uploads are limited to 30/min and 1000/h per bot, counted at init.

Codes where the notes give none (chosen): a bad field, chunk index, unknown or expired upload, missing
chunks or a size/md5 mismatch → 40058 invalid parameter; a chunk over 512 KiB or a file over its type's
limit → 45001; an unknown type → 40005; over the upload rate → 45009; a send with an unknown, expired
or other-type media_id → 40007.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from bot.standin import codes
from bot.standin.longconn_wire import take_slot
from bot.standin.media import MAX_BYTES, check_upload

CHUNK_BYTES = 512 * 1024
MAX_CHUNKS = 100
MIN_TOTAL = 5
FILENAME_BYTES = 256
SESSION_S = 30 * 60
MEDIA_S = 3 * 24 * 3600

Answer = tuple[int, str, dict | None]       # errcode, errmsg, ack body


@dataclass
class Upload:
    kind: str
    filename: str
    total_size: int
    total_chunks: int
    md5: str | None
    started: float
    chunks: dict[int, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class LongconnMedia:
    """One finished upload: what a send may name by ``media_id``, and the bytes the member would get."""

    media_id: str
    kind: str
    filename: str
    data: bytes
    created_at: float


class MediaUploads:
    """Upload sessions and finished media of one bot.

    Args:
        clock: seconds (the stand-in's clock).
        save: ``save(kind, filename, data) → media_id`` to keep the bytes elsewhere too (the demo process
            stores them where ``GET /standin/media/<id>`` serves them); default a fresh random id.
    """

    def __init__(self, clock: Callable[[], float], save: Callable[[str, str, bytes], str] | None = None):
        self.clock = clock
        self._save = save
        self.sessions: dict[str, Upload] = {}
        self.media: dict[str, LongconnMedia] = {}
        self.lose_chunks: set[int] = set()     # chunk indexes acked but forgotten (a test's lossy gateway)
        self.uploads_started = 0
        self._started: deque[float] = deque()

    def init(self, body: dict) -> Answer:
        kind, filename = body.get("type"), body.get("filename")
        total_size, total_chunks, md5 = body.get("total_size"), body.get("total_chunks"), body.get("md5")
        if kind not in MAX_BYTES:
            return codes.INVALID_TYPE, f"invalid type {kind!r}: file, image, voice or video", None
        if not isinstance(filename, str) or not filename or len(filename.encode("utf-8")) > FILENAME_BYTES:
            return codes.INVALID_PARAMETER, "filename must be 1 to 256 bytes", None
        if not _count(total_size) or total_size < MIN_TOTAL:
            return codes.INVALID_PARAMETER, "total_size must be an integer of at least 5", None
        if not _count(total_chunks) or not 1 <= total_chunks <= MAX_CHUNKS:
            return codes.INVALID_PARAMETER, "total_chunks must be 1 to 100", None
        if total_size > MAX_BYTES[kind]:
            return codes.MEDIA_TOO_BIG, f"{kind} is {total_size} bytes, max {MAX_BYTES[kind]}", None
        if total_size > total_chunks * CHUNK_BYTES or total_size < total_chunks:
            return codes.INVALID_PARAMETER, "total_chunks does not fit total_size in chunks of at most 512 KiB", None
        if md5 is not None and not isinstance(md5, str):
            return codes.INVALID_PARAMETER, "md5 must be a string", None
        if not take_slot(self._started, self.clock()):
            return codes.FREQ_LIMIT, "upload rate over 30 a minute or 1000 an hour for this bot", None
        self.uploads_started += 1
        upload_id = "up_" + secrets.token_hex(12)
        self.sessions[upload_id] = Upload(kind, filename, total_size, total_chunks, md5 or None, self.clock())
        return codes.OK, "ok", {"upload_id": upload_id}

    def chunk(self, body: dict) -> Answer:
        upload, problem = self._session(body.get("upload_id"))
        if upload is None:
            return codes.INVALID_PARAMETER, problem, None
        index, encoded = body.get("chunk_index"), body.get("base64_data")
        if not _count(index) or not 0 <= index < upload.total_chunks:
            return codes.INVALID_PARAMETER, f"chunk_index must be 0 to {upload.total_chunks - 1}", None
        try:
            data = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else None
        except (binascii.Error, ValueError):
            data = None
        if not data:
            return codes.INVALID_PARAMETER, "base64_data must be non-empty base64", None
        if len(data) > CHUNK_BYTES:
            return codes.MEDIA_TOO_BIG, f"chunk is {len(data)} bytes, max {CHUNK_BYTES} before base64", None
        if index not in self.lose_chunks:
            upload.chunks[index] = data          # the same chunk again replaces itself: idempotent
        return codes.OK, "ok", None

    def finish(self, body: dict) -> Answer:
        upload_id = body.get("upload_id")
        upload, problem = self._session(upload_id)
        if upload is None:
            return codes.INVALID_PARAMETER, problem, None
        missing = [i for i in range(upload.total_chunks) if i not in upload.chunks]
        if missing:
            return codes.INVALID_PARAMETER, f"chunks missing: {missing[:10]}", None
        data = b"".join(upload.chunks[i] for i in range(upload.total_chunks))
        if len(data) != upload.total_size:
            return codes.INVALID_PARAMETER, f"got {len(data)} bytes, total_size said {upload.total_size}", None
        if upload.md5 and hashlib.md5(data).hexdigest() != upload.md5.lower():    # noqa: S324
            return codes.INVALID_PARAMETER, "md5 does not match the chunks", None
        found = check_upload(upload.kind, data)
        if found is not None:
            return found.code, found.detail, None
        del self.sessions[upload_id]
        media_id = self._save(upload.kind, upload.filename, data) if self._save else "3lc_" + secrets.token_urlsafe(30)
        created = self.clock()
        self.media[media_id] = LongconnMedia(media_id, upload.kind, upload.filename, data, created)
        return codes.OK, "ok", {"type": upload.kind, "media_id": media_id, "created_at": str(int(created))}

    def usable(self, media_id: object, kind: str) -> bool:
        """May a send name ``media_id`` as a ``kind`` message? Known, of that type, younger than 3 days."""
        found = self.media.get(media_id) if isinstance(media_id, str) else None
        return found is not None and found.kind == kind and self.clock() - found.created_at <= MEDIA_S

    def _session(self, upload_id: object) -> tuple[Upload | None, str]:
        upload = self.sessions.get(upload_id) if isinstance(upload_id, str) else None
        if upload is None:
            return None, "invalid upload_id: unknown or already finished"
        if self.clock() - upload.started > SESSION_S:
            del self.sessions[upload_id]
            return None, "upload session expired (30 minutes)"
        return upload, ""


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
