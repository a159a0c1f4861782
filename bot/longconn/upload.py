"""Media upload over the socket: ``aibot_upload_media_init``, ``_chunk`` × n, ``_finish`` → a media_id.

wecom-longconn.md §7: filename ≤256 bytes, total_size ≥5 bytes, ≤100 chunks of ≤512 KiB (before base64),
chunk_index from 0; the session lives 30 minutes and the media_id 3 days. The chunks go one at a time,
each waiting for its ack, so a refused chunk stops the upload before the rest are written.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Awaitable, Callable

from bot.longconn import frames
from bot.longconn.frames import Frame

CHUNK_BYTES = 512 * 1024
MAX_CHUNKS = 100
MIN_BYTES = 5
FILENAME_BYTES = 256
KINDS = frozenset({"file", "image", "voice", "video"})


class UploadRefused(Exception):
    """WeCom refused one step of the upload (or its ack carried no id)."""

    def __init__(self, errcode: int | None, errmsg: str, cmd: str):
        super().__init__(f"{cmd}: errcode={errcode} {errmsg}")
        self.errcode, self.errmsg, self.cmd = errcode, errmsg, cmd


def upload_problem(kind: str, data: bytes) -> str | None:
    """Why this upload cannot be made at all (checked before anything is sent), or None."""
    if kind not in KINDS:
        return f"media type {kind!r} cannot be uploaded over the long connection"
    if len(data) < MIN_BYTES:
        return f"media is {len(data)} bytes; the upload needs at least {MIN_BYTES}"
    if len(data) > CHUNK_BYTES * MAX_CHUNKS:
        return f"media is {len(data)} bytes; {MAX_CHUNKS} chunks of {CHUNK_BYTES} bytes hold at most 50 MB"
    return None


def short_filename(filename: str) -> str:
    """``filename`` cut to 256 UTF-8 bytes, keeping its extension (WeCom judges the kind by it)."""
    if len(filename.encode("utf-8")) <= FILENAME_BYTES:
        return filename
    stem, dot, extension = filename.rpartition(".")
    suffix = f".{extension}" if dot and len(extension) <= 10 else ""
    room = FILENAME_BYTES - len(suffix.encode("utf-8"))
    stem = (stem if suffix else filename).encode("utf-8")[:room].decode("utf-8", "ignore")
    return stem + suffix


async def upload_media(send: Callable[[Frame], Awaitable[Frame]], kind: str, filename: str, data: bytes, *,
                       chunk_bytes: int = CHUNK_BYTES) -> str:
    """Upload ``data`` and return its media_id.

    Args:
        send: writes one frame and returns its ack (``Connection.request``).
        kind: ``voice``, ``image``, ``file`` or ``video``.
        filename: shown to the member for files; cut to 256 bytes.
        data: the whole file.
        chunk_bytes: bytes per chunk before base64 (tests change it to see the server refuse).

    Raises:
        UploadRefused: a step was answered with a non-zero errcode, or without the id it should carry.
        ConnectionLost, asyncio.TimeoutError: from ``send``.
    """
    pieces = [data[start:start + chunk_bytes] for start in range(0, len(data), chunk_bytes)]
    md5 = hashlib.md5(data).hexdigest()     # noqa: S324 - WeCom's checksum, not security
    init = await _step(send, frames.upload_init(kind, short_filename(filename), len(data), len(pieces), md5))
    upload_id = _field(init, "upload_id")
    for index, piece in enumerate(pieces):
        await _step(send, frames.upload_chunk(upload_id, index, base64.b64encode(piece).decode("ascii")))
    return _field(await _step(send, frames.upload_finish(upload_id)), "media_id")


async def _step(send: Callable[[Frame], Awaitable[Frame]], frame: Frame) -> Frame:
    ack = await send(frame)
    if ack.errcode:
        raise UploadRefused(ack.errcode, ack.errmsg, frame.cmd)
    return Frame(ack.req_id, frame.cmd, ack.body)       # remember which step this ack answered


def _field(ack: Frame, name: str) -> str:
    value = (ack.body or {}).get(name)
    if not isinstance(value, str) or not value:
        raise UploadRefused(None, f"the ack carried no {name}", ack.cmd)
    return value
