"""Media ids: one upload per clip and target, reused until half a day before WeCom's 3-day expiry."""
from datetime import timedelta

import pytest

from bot.voice import AmrClip, VoiceError, media_id_for
from bot.voice.amr import encode_amr
from tests.voice.test_amr import tone


class Uploads:
    def __init__(self):
        self.received = []

    def __call__(self, data: bytes) -> str:
        self.received.append(data)
        return f"media-{len(self.received)}"


@pytest.fixture(scope="module")
def clip():
    data = encode_amr(tone(1.0))
    return AmrClip(data, 1.0, "一")


def test_media_id_is_reused_before_expiry_and_renewed_after(clip, clock, redis_client):
    upload = Uploads()
    start = clock()
    first = media_id_for(clip, upload, target="app", now=clock(), redis=redis_client)
    clock.set(start + timedelta(days=2, hours=11, minutes=59))
    assert media_id_for(clip, upload, target="app", now=clock(), redis=redis_client) == first
    assert upload.received == [clip.data]

    clock.set(start + timedelta(days=2, hours=12))
    renewed = media_id_for(clip, upload, target="app", now=clock(), redis=redis_client)
    assert renewed != first and len(upload.received) == 2

    clock.set(start + timedelta(days=4))                 # the renewed id is younger than 2.5 days
    assert media_id_for(clip, upload, target="app", now=clock(), redis=redis_client) == renewed
    assert len(upload.received) == 2


def test_each_robot_uploads_its_own_copy(clip, clock, redis_client):
    upload = Uploads()
    a = media_id_for(clip, upload, target="robot:aaaa", now=clock(), redis=redis_client)
    b = media_id_for(clip, upload, target="robot:bbbb", now=clock(), redis=redis_client)
    assert a != b and len(upload.received) == 2


def test_different_audio_gets_its_own_media_id(clip, clock, redis_client):
    upload = Uploads()
    other = AmrClip(encode_amr(tone(2.0)), 2.0, "二")
    media_id_for(clip, upload, target="app", now=clock(), redis=redis_client)
    media_id_for(other, upload, target="app", now=clock(), redis=redis_client)
    assert upload.received == [clip.data, other.data]


def test_invalid_audio_is_refused_before_uploading(clock, redis_client):
    upload = Uploads()
    with pytest.raises(VoiceError):
        media_id_for(AmrClip(b"RIFF-not-amr", 1.0, "x"), upload, target="app", now=clock(), redis=redis_client)
    assert upload.received == []


def test_uses_the_app_redis_by_default(app, clip, clock, redis_client):
    upload = Uploads()
    media_id_for(clip, upload, target="app", now=clock())
    assert redis_client.keys("szzs:voice-media:app:*") == [f"szzs:voice-media:app:{clip.sha256}".encode()]
