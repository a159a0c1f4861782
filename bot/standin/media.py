"""Pure rules for uploaded media: size limits, file signatures, AMR-NB frame walking.

Codes where the protocol notes give none (chosen from WeCom's global list):
wrong file kind → 40004 invalid media type; over the size limit → 45001 media size out of limit;
voice over 60 s → 45007 voice playtime out of limit; ≤5 bytes → 44001 empty media.
"""
from __future__ import annotations

from bot.standin import codes
from bot.standin.codes import Problem

MIN_BYTES = 6                      # WeCom: "size > 5 bytes"
MB = 1024 * 1024
MAX_BYTES = {"image": 10 * MB, "voice": 2 * MB, "video": 10 * MB, "file": 20 * MB}
MAX_VOICE_MS = 60_000

AMR_HEADER = b"#!AMR\n"
# AMR-NB storage format: payload bytes per frame type (bits 3-6 of the frame header byte);
# 8 is SID, 9-14 are reserved, 15 is NO_DATA. Each frame also has its 1-byte header.
AMR_PAYLOAD = (12, 13, 15, 17, 19, 20, 26, 31, 5, 0, 0, 0, 0, 0, 0, 0)
AMR_FRAME_MS = 20

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def looks_like_image(data: bytes) -> bool:
    """True for JPG or PNG bytes, the only image formats WeCom takes."""
    return data.startswith(JPEG_MAGIC) or data.startswith(PNG_MAGIC)


def looks_like_mp4(data: bytes) -> bool:
    """True when the first box is ``ftyp``, as in every MP4 file."""
    return data[4:8] == b"ftyp"


def amr_duration_ms(data: bytes) -> int | None:
    """Walk the frames of an AMR-NB file.

    Args:
        data: the whole file.

    Returns:
        The playing time in milliseconds, or None when the header is missing, a frame is cut
        short, or there are no frames at all.
    """
    if not data.startswith(AMR_HEADER):
        return None
    position, frames = len(AMR_HEADER), 0
    while position < len(data):
        mode = (data[position] >> 3) & 0x0F
        position += 1 + AMR_PAYLOAD[mode]
        frames += 1
    if position != len(data) or frames == 0:
        return None
    return frames * AMR_FRAME_MS


def check_upload(kind: str, data: bytes) -> Problem | None:
    """Check one upload against WeCom's limits for its type.

    Args:
        kind: ``image``, ``voice``, ``video`` or ``file`` (already known to be allowed).
        data: the file bytes.

    Returns:
        The Problem WeCom would answer, or None when the file is acceptable.
    """
    if len(data) < MIN_BYTES:
        return Problem(codes.EMPTY_MEDIA, f"media is {len(data)} bytes, must be more than 5")
    if len(data) > MAX_BYTES[kind]:
        return Problem(codes.MEDIA_TOO_BIG, f"{kind} is {len(data)} bytes, max {MAX_BYTES[kind]}")
    if kind == "voice":
        return _check_voice(data)
    if kind == "image" and not looks_like_image(data):
        return Problem(codes.INVALID_MEDIA_TYPE, "image must be JPG or PNG")
    if kind == "video" and not looks_like_mp4(data):
        return Problem(codes.INVALID_MEDIA_TYPE, "video must be MP4")
    return None


def _check_voice(data: bytes) -> Problem | None:
    if not data.startswith(AMR_HEADER):
        return Problem(codes.INVALID_MEDIA_TYPE, "voice must be AMR (file must start with '#!AMR\\n')")
    duration = amr_duration_ms(data)
    if duration is None:
        return Problem(codes.INVALID_MEDIA_TYPE, "voice is not a whole AMR-NB file (truncated or no frames)")
    if duration > MAX_VOICE_MS:
        return Problem(codes.VOICE_TOO_LONG, f"voice plays {duration / 1000:.2f} s, max 60 s")
    return None


def content_type(kind: str, data: bytes) -> str:
    """The Content-Type to serve stored media with."""
    if kind == "voice":
        return "audio/amr"
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if kind == "video":
        return "video/mp4"
    return "application/octet-stream"
