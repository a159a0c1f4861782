"""Voice test helpers: a real espeak engine, and wrappers that count or stretch what it does."""
from __future__ import annotations

import array
import io
import math

import av
import pytest

from bot.voice import EspeakEngine, Speech


class CountingEngine:
    """Wraps a real engine and counts synthesis calls, so a cache hit is visible."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0
        self.name = inner.name

    def synthesise(self, text, *, voice, rate):
        self.calls += 1
        return self.inner.synthesise(text, voice=voice, rate=rate)


class SlowReader:
    """Speaks a tone for ``seconds_per_char`` per character: far slower than any guess from the rate."""

    name = "slow-reader"

    sample_rate = 16000
    _period = array.array("h", (int(8000 * math.sin(i * 2 * math.pi / 40)) for i in range(40)))   # 400 Hz

    def __init__(self, seconds_per_char: float):
        self.seconds_per_char, self.texts = seconds_per_char, []

    def synthesise(self, text, *, voice, rate):
        self.texts.append(text)
        periods = int(len(text) * self.seconds_per_char * self.sample_rate) // len(self._period)
        return Speech((self._period * periods).tobytes(), self.sample_rate)


def demuxed_frames(data: bytes) -> tuple[int, int, int]:
    """(AMR frames, sample rate, channels) as FFmpeg's demuxer sees them — independent of bot.voice.amr."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        frames = sum(1 for packet in container.demux(stream) if packet.size)
        return frames, stream.sample_rate, stream.codec_context.channels


@pytest.fixture(scope="session")
def espeak():
    return EspeakEngine()
