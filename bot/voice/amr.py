"""AMR-NB: encoding speech for WeCom voice messages, reading a clip's length, and the upload check.

WeCom takes voice only as AMR, at most 2 MB and 60 s. AMR-NB is 8 kHz mono in 20 ms frames, so a
clip's length is its frame count × 20 ms — read straight from the bytes, no decoder needed.
"""
from __future__ import annotations

import io

from bot.voice.engine import Speech, VoiceError

HEADER = b"#!AMR\n"
# why check_voice refuses audio (VoiceError.reason)
TOO_BIG, NOT_AMR, BROKEN, SILENT, TOO_LONG = "too_big", "not_amr", "broken", "silent", "too_long"
MAX_BYTES = 2 * 1024 * 1024
MAX_SECONDS = 60.0
FRAME_SECONDS = 0.020
SAMPLE_RATE = 8000
BIT_RATE = 12200         # the best AMR-NB mode; 55 s is still only ~88 KB
# frame size in bytes (1 header byte + speech bits) by frame type; 15 is NO_DATA, 9–14 are SID/reserved
_FRAME_BYTES = {0: 13, 1: 14, 2: 16, 3: 18, 4: 20, 5: 21, 6: 27, 7: 32, 8: 6, 15: 1}


def encode_amr(speech: Speech) -> bytes:
    """AMR-NB 8 kHz mono bytes (with the ``#!AMR`` header) for ``speech``; FFmpeg resamples from any rate."""
    import av     # FFmpeg (about 16 MB) only where voice is encoded: the worker, never the web workers

    frame = av.AudioFrame(format="s16", layout="mono", samples=len(speech.samples) // 2)
    frame.planes[0].update(speech.samples)
    frame.sample_rate = speech.sample_rate
    out = io.BytesIO()
    with av.open(out, "w", format="amr") as container:
        stream = container.add_stream("libopencore_amrnb", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = BIT_RATE
        for packet in (*stream.encode(frame), *stream.encode(None)):
            container.mux(packet)
    return out.getvalue()


def amr_frames(data: bytes) -> int:
    """Number of 20 ms frames in an AMR-NB file.

    Raises:
        VoiceError: no header, or a frame header that is not AMR-NB.
    """
    if not data.startswith(HEADER):
        raise VoiceError("not an AMR-NB file: missing the '#!AMR\\n' header", reason=NOT_AMR)
    position, frames = len(HEADER), 0
    while position < len(data):
        frame_type = (data[position] >> 3) & 0x0F
        size = _FRAME_BYTES.get(frame_type)
        if size is None:
            raise VoiceError(f"unsupported AMR frame type {frame_type} at byte {position}", reason=BROKEN)
        position += size
        frames += 1
    if position != len(data):
        raise VoiceError("AMR file ends in the middle of a frame", reason=BROKEN)
    return frames


def amr_seconds(data: bytes) -> float:
    return amr_frames(data) * FRAME_SECONDS


def check_voice(data: bytes) -> float:
    """Refuse audio WeCom would reject; return its length in seconds.

    Raises:
        VoiceError: over 2 MB, no ``#!AMR`` header, broken frames, no frames, or longer than 60 s.
    """
    if len(data) > MAX_BYTES:
        raise VoiceError(f"voice is {len(data)} bytes; WeCom accepts at most {MAX_BYTES} (2 MB)", reason=TOO_BIG,
                         amount=len(data))
    seconds = amr_seconds(data)
    if seconds == 0:
        raise VoiceError("voice holds no audio frames", reason=SILENT)
    if seconds > MAX_SECONDS:
        raise VoiceError(f"voice lasts {seconds:.1f} s; WeCom accepts at most {MAX_SECONDS:.0f} s", reason=TOO_LONG,
                         amount=seconds)
    return seconds
