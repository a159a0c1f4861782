"""Voice messages for the browser: AMR-NB (what WeCom plays) decoded to WAV (what browsers play)."""
from __future__ import annotations

import io
import wave


class NotPlayable(ValueError):
    """The bytes are not an AMR file PyAV can decode."""


def amr_to_wav(data: bytes) -> bytes:
    """Decode AMR-NB bytes to 16-bit mono WAV at the file's own rate (8 kHz).

    Raises:
        NotPlayable: the bytes do not decode as AMR.
    """
    import av     # FFmpeg only when a voice is played, not in every web worker
    from av.error import FFmpegError

    pcm = bytearray()
    rate = 8000
    try:
        with av.open(io.BytesIO(data), format="amr") as container:
            resampler = av.AudioResampler(format="s16", layout="mono")
            for frame in container.decode(audio=0):
                rate = frame.sample_rate
                for converted in resampler.resample(frame):
                    pcm += bytes(converted.planes[0])[: converted.samples * 2]
    except (FFmpegError, IndexError) as exc:
        raise NotPlayable(f"not a playable AMR file: {exc}") from None
    if not pcm:
        raise NotPlayable("the AMR file holds no audio")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(pcm))
    return out.getvalue()
