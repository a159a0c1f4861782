"""From script to clips: parts ≤ 55 s measured from the AMR itself, full coverage, rate, and the disk cache."""
from pathlib import Path

import pytest

from bot.voice import VoiceError, voice_parts
from bot.voice.amr import MAX_BYTES
from tests.voice.conftest import CountingEngine, SlowReader, demuxed_frames
from tests.voice.scripts import LONG


@pytest.fixture(scope="module")
def long_clips(espeak, tmp_path_factory):
    assert 560 <= len(LONG) <= 700
    return voice_parts(LONG, rate=150, engine=espeak, cache_dir=tmp_path_factory.mktemp("voice"))


def test_long_script_becomes_several_parts_each_at_most_55_seconds(long_clips):
    assert len(long_clips) >= 3
    for clip in long_clips:
        frames, sample_rate, channels = demuxed_frames(clip.data)
        assert (sample_rate, channels) == (8000, 1)
        assert frames * 0.020 <= 55.0                      # AMR-NB: one frame per 20 ms
        assert clip.seconds == pytest.approx(frames * 0.020)
        assert clip.data.startswith(b"#!AMR\n") and len(clip.data) <= MAX_BYTES


def test_parts_cover_the_whole_script_in_order(long_clips):
    assert "".join(clip.text for clip in long_clips) == LONG
    for clip in long_clips[:-1]:
        assert clip.text.rstrip()[-1] in "。！？；…，、"       # every cut is at a pause


def test_parts_are_not_needlessly_short(long_clips):
    total = sum(clip.seconds for clip in long_clips)
    assert len(long_clips) <= total // 40 + 1


def test_slower_rate_gives_measurably_longer_audio(espeak, tmp_path):
    default = voice_parts(LONG, rate=175, engine=espeak, cache_dir=tmp_path)
    slow = voice_parts(LONG, rate=150, engine=espeak, cache_dir=tmp_path)
    assert sum(c.seconds for c in slow) > 1.1 * sum(c.seconds for c in default)


def test_second_request_is_served_from_disk_without_synthesis(espeak, tmp_path):
    engine = CountingEngine(espeak)
    first = voice_parts(LONG, rate=150, engine=engine, cache_dir=tmp_path)
    calls = engine.calls
    assert calls == len(first)
    again = voice_parts(LONG, rate=150, engine=engine, cache_dir=tmp_path)
    assert engine.calls == calls
    assert again == first


def test_cache_is_keyed_by_rate_and_script(espeak, tmp_path):
    engine = CountingEngine(espeak)
    voice_parts("水库安全。", rate=150, engine=engine, cache_dir=tmp_path)
    voice_parts("水库安全。", rate=175, engine=engine, cache_dir=tmp_path)
    voice_parts("水库安全！", rate=150, engine=engine, cache_dir=tmp_path)
    assert engine.calls == 3


def test_damaged_cache_entry_is_synthesised_again(espeak, tmp_path):
    engine = CountingEngine(espeak)
    voice_parts("防汛值班。", rate=150, engine=engine, cache_dir=tmp_path)
    for part in tmp_path.rglob("part-0.amr"):
        part.write_bytes(b"garbage")
    clips = voice_parts("防汛值班。", rate=150, engine=engine, cache_dir=tmp_path)
    assert engine.calls == 2 and clips[0].data.startswith(b"#!AMR\n")


def test_cache_defaults_to_the_instance_folder(app, espeak):
    voice_parts("老同志们好。", rate=150, engine=espeak)
    assert list(Path(app.instance_path, "voice-cache").rglob("part-0.amr"))


def test_part_longer_than_guessed_is_measured_and_cut_again(tmp_path):
    reader = SlowReader(seconds_per_char=1.0)         # ~4× slower than the estimate assumes
    script = "汛期值班要认真，" * 20 + "完。"
    clips = voice_parts(script, rate=150, engine=reader, cache_dir=tmp_path)
    assert "".join(c.text for c in clips) == script
    assert all(demuxed_frames(c.data)[0] * 0.020 <= 55.0 for c in clips)
    assert len(reader.texts) > len(clips)             # the first, too-long attempts were thrown away


def test_empty_script_is_refused(tmp_path, espeak):
    with pytest.raises(VoiceError, match="empty"):
        voice_parts(" \n ", rate=150, engine=espeak, cache_dir=tmp_path)
