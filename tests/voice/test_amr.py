"""Encoding to AMR-NB and the check before upload (header, ≤ 2 MB, ≤ 60 s)."""
import array
import math

import pytest

from bot.voice import MANDARIN, Speech, VoiceError, check_voice
from bot.voice.amr import HEADER, MAX_BYTES, amr_frames, encode_amr
from tests.voice.conftest import demuxed_frames
from tests.voice.scripts import SHORT


def tone(seconds: float, rate: int = 22050) -> Speech:
    samples = array.array("h", (int(9000 * math.sin(i * 2 * math.pi * 440 / rate)) for i in range(int(seconds * rate))))
    return Speech(samples.tobytes(), rate)


def test_encoded_speech_is_8khz_mono_amr_nb_of_the_same_length(espeak):
    speech = espeak.synthesise(SHORT, voice=MANDARIN, rate=150)
    data = encode_amr(speech)
    assert data.startswith(b"#!AMR\n")
    frames, sample_rate, channels = demuxed_frames(data)
    assert (sample_rate, channels) == (8000, 1)
    assert amr_frames(data) == frames
    assert abs(frames * 0.020 - speech.seconds) < 0.1       # resampling keeps the length
    assert check_voice(data) == pytest.approx(frames * 0.020)


def test_header_less_audio_is_refused():
    data = encode_amr(tone(1.0))
    with pytest.raises(VoiceError, match="#!AMR"):
        check_voice(data[len(HEADER):])
    with pytest.raises(VoiceError, match="#!AMR"):
        check_voice(b"RIFF....WAVEfmt " + data)


def test_audio_over_2_mb_is_refused():
    data = encode_amr(tone(1.0))
    frame = data[len(HEADER):len(HEADER) + 32]           # one 12.2 kbit/s frame
    too_big = HEADER + frame * (MAX_BYTES // 32 + 1)
    with pytest.raises(VoiceError, match="2 MB"):
        check_voice(too_big)


def test_audio_over_60_seconds_is_refused():
    data = encode_amr(tone(61.0))
    with pytest.raises(VoiceError, match="60 s"):
        check_voice(data)


def test_header_only_audio_is_refused():
    with pytest.raises(VoiceError, match="no audio"):
        check_voice(HEADER)


def test_truncated_audio_is_refused():
    data = encode_amr(tone(1.0))
    with pytest.raises(VoiceError, match="middle of a frame"):
        check_voice(data[:-5])
