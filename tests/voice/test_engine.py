"""espeak-ng through ctypes: Mandarin that sounds like speech, at the asked speed."""
import threading

import pytest

from bot.voice import MANDARIN, EspeakEngine, VoiceError
from tests.voice.scripts import SHORT


def test_mandarin_sentence_is_audible_and_of_plausible_length(espeak):
    speech = espeak.synthesise(SHORT, voice=MANDARIN, rate=175)
    assert speech.sample_rate == 22050
    assert speech.peak() > 3000                       # not silence
    # 12 syllables: Mandarin at ~4 per second; a wrong voice spelling out "Chinese letter" takes far longer
    assert 1.5 < speech.seconds < 6.0


def test_engine_name_carries_the_espeak_version(espeak):
    assert espeak.name.startswith("espeak-ng-1.52")


def test_slower_rate_gives_longer_speech(espeak):
    normal = espeak.synthesise(SHORT, voice=MANDARIN, rate=175).seconds
    slow = espeak.synthesise(SHORT, voice=MANDARIN, rate=150).seconds
    assert slow > normal * 1.1


def test_unknown_voice_and_rate_are_refused(espeak):
    with pytest.raises(VoiceError, match="no voice"):
        espeak.synthesise(SHORT, voice="no-such-voice", rate=150)
    with pytest.raises(VoiceError, match="rate"):
        espeak.synthesise(SHORT, voice=MANDARIN, rate=20)


def test_threads_get_their_own_audio():
    """Concurrent callers each get exactly their own sentence (espeak jitters by a few ms run to run)."""
    engine, results = EspeakEngine(), []
    texts = {"short": "水库。", "long": SHORT * 3}
    expected = {key: engine.synthesise(text, voice=MANDARIN, rate=150).seconds for key, text in texts.items()}

    def speak(key):
        results.append((key, engine.synthesise(texts[key], voice=MANDARIN, rate=150).seconds))

    threads = [threading.Thread(target=speak, args=(key,)) for key in texts for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(key for key, _ in results) == ["long"] * 3 + ["short"] * 3
    for key, seconds in results:
        assert seconds == pytest.approx(expected[key], rel=0.05)
