"""The long-connection stand-in's upload trio holds to wecom-longconn.md §7, the rules the bot is tested against."""
from __future__ import annotations

import base64
import hashlib

import pytest

from bot.simulator.render import stand_in_record
from bot.standin.longconn import Reply, reply_record
from bot.standin.longconn_bridge import media_saver
from bot.standin.longconn_media import CHUNK_BYTES, MediaUploads
from bot.voice.amr import encode_amr
from tests.voice.test_amr import tone


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake(clock):
    return MediaUploads(clock)


@pytest.fixture(scope="module")
def clip() -> bytes:
    return encode_amr(tone(1.0))


def start(fake, data: bytes, *, kind="voice", chunks=1, **extra) -> str:
    body = {"type": kind, "filename": f"a.{kind}", "total_size": len(data), "total_chunks": chunks,
            "md5": hashlib.md5(data).hexdigest(), **extra}
    code, detail, answer = fake.init(body)
    assert code == 0, detail
    return answer["upload_id"]


def chunk(fake, upload_id: str, index: int, data: bytes) -> tuple[int, str]:
    code, detail, _ = fake.chunk({"upload_id": upload_id, "chunk_index": index,
                                  "base64_data": base64.b64encode(data).decode()})
    return code, detail


def test_chunks_in_any_order_and_twice_make_one_media(fake, clip):
    data = clip
    parts = [data[:100], data[100:]]
    upload_id = start(fake, data, chunks=2)
    assert chunk(fake, upload_id, 1, parts[1])[0] == 0
    assert chunk(fake, upload_id, 0, parts[0])[0] == 0
    assert chunk(fake, upload_id, 0, parts[0])[0] == 0          # the same chunk again: idempotent
    code, _, answer = fake.finish({"upload_id": upload_id})
    assert code == 0 and answer["type"] == "voice" and answer["created_at"].isdigit()
    assert fake.media[answer["media_id"]].data == data
    assert fake.usable(answer["media_id"], "voice") and not fake.usable(answer["media_id"], "file")
    assert fake.finish({"upload_id": upload_id})[0] == 40058   # finished sessions are gone


def test_a_missing_chunk_a_wrong_md5_and_an_index_out_of_range_are_refused(fake, clip):
    upload_id = start(fake, clip, chunks=2)
    assert chunk(fake, upload_id, 2, clip[:10])[0] == 40058     # chunk_index counts from 0
    assert chunk(fake, upload_id, 0, clip[:100])[0] == 0
    code, detail, _ = fake.finish({"upload_id": upload_id})
    assert code == 40058 and "missing" in detail
    assert chunk(fake, upload_id, 1, clip[100:] + b"x")[0] == 0
    assert fake.finish({"upload_id": upload_id})[0] == 40058   # size and md5 no longer agree


def test_chunk_size_count_and_filename_limits(fake):
    big = b"\0" * (CHUNK_BYTES + 1)
    upload_id = start(fake, big * 2, kind="file", chunks=3)
    assert chunk(fake, upload_id, 0, big)[0] == 45001
    assert fake.init({"type": "file", "filename": "a", "total_size": 4, "total_chunks": 1})[0] == 40058
    assert fake.init({"type": "file", "filename": "a", "total_size": 10 ** 6, "total_chunks": 101})[0] == 40058
    assert fake.init({"type": "file", "filename": "a", "total_size": CHUNK_BYTES + 1, "total_chunks": 1})[0] == 40058
    assert fake.init({"type": "file", "filename": "文" * 86, "total_size": 10, "total_chunks": 1})[0] == 40058
    assert fake.init({"type": "gif", "filename": "a", "total_size": 10, "total_chunks": 1})[0] == 40005


def test_voice_must_be_amr_of_at_most_2_MB(fake, clip):
    assert fake.init({"type": "voice", "filename": "a.amr", "total_size": 2 * 1024 * 1024 + 1,
                      "total_chunks": 5})[0] == 45001
    not_amr = b"RIFF" + bytes(200)
    upload_id = start(fake, not_amr)
    assert chunk(fake, upload_id, 0, not_amr)[0] == 0
    assert fake.finish({"upload_id": upload_id})[0] == 40004


def test_sessions_expire_after_30_minutes_and_media_after_3_days(fake, clock, clip):
    upload_id = start(fake, clip)
    clock.now += 30 * 60 + 1
    assert chunk(fake, upload_id, 0, clip)[0] == 40058
    upload_id = start(fake, clip)
    chunk(fake, upload_id, 0, clip)
    media_id = fake.finish({"upload_id": upload_id})[2]["media_id"]
    clock.now += 3 * 24 * 3600 + 1
    assert not fake.usable(media_id, "voice")


def test_uploads_are_limited_to_30_a_minute(fake, clock, clip):
    for _ in range(30):
        start(fake, clip)
    assert fake.init({"type": "voice", "filename": "a.amr", "total_size": len(clip), "total_chunks": 1})[0] == 45009
    clock.now += 61
    start(fake, clip)


def test_the_demo_stand_in_keeps_socket_media_where_the_simulator_finds_it(app, clip):
    from bot.standin import bp as standin_bp

    app.register_blueprint(standin_bp, url_prefix="/standin")
    media_id = media_saver(app, "aibTestBot01")("voice", "a.amr", clip)
    record = reply_record(Reply("req-1", "aibot_send_msg", "u001", "voice", "", media_id))
    bubble = stand_in_record({"msgtype": "voice", "body": record}, media_url=lambda m, kind: f"/media/{m}")
    assert (bubble["kind"], bubble["src"], bubble["size"]) == ("voice", f"/media/{media_id}", len(clip))
    served = app.test_client().get(f"/standin/media/{media_id}")
    assert served.status_code == 200 and served.data == clip and served.mimetype == "audio/amr"
    text = reply_record(Reply("req-2", "aibot_send_msg", "u001", "markdown", "**结果**"))
    assert "<b>结果</b>" in stand_in_record({"msgtype": "markdown", "body": text}, media_url=None)["html"]
