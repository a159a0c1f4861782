"""Voice, image and file messages into smart-bot conversations: the socket upload, through RQ and the relay."""
from __future__ import annotations

import asyncio
import base64
import os

import pytest
from rq import SimpleWorker

from bot import db
from bot.keys import LONGCONN_REQUESTS
from bot.standin import longconn_wire as wire
from bot.longconn.outbound import enqueue_to_conversation, upload_limits
from bot.longconn.relay import UPLOAD_DATA
from bot.longconn.upload import CHUNK_BYTES, UploadRefused, upload_media
from bot.models.messaging import Delivery
from bot.outbox import enqueue_to_members
from bot.outgoing import File, Image, Series, Text, Voice
from bot.ratelimit import acquire_many
from bot.redis_store import get_redis
from bot.tasks import OUTBOX, get_jobs
from bot.voice.amr import encode_amr
from tests.factories import member
from tests.longconn.conftest import BOT_ID
from tests.voice.conftest import demuxed_frames
from tests.voice.test_amr import tone


@pytest.fixture(scope="module")
def clip() -> bytes:
    return encode_amr(tone(1.0))


@pytest.fixture
def no_app(app):
    app.config["WECOM_AGENT_ID"] = None        # a unit whose only way to members is the smart bot
    return app


def drain(app) -> None:
    SimpleWorker([get_jobs(app).queue(OUTBOX)], connection=get_redis(app)).work(burst=True)


def spoken(wecom, *userids: str) -> None:
    for userid in userids:
        member(db.get_session(), userid)
        assert wecom.wait_replies(wecom.say(userid, "帮助"))


def uploads(wecom, cmd: str = wire.UPLOAD_INIT) -> list:
    return [f for f in wecom.received if f.cmd == cmd]


def ledger(push_prefix: str) -> list[tuple[str, str, str, int | None]]:
    rows = db.get_session().query(Delivery).filter(Delivery.push_id.like(f"{push_prefix}%")).all()
    return sorted((r.push_id, r.recipient, r.status, r.errcode) for r in rows)


def scheduled(app) -> list[str]:
    return get_jobs(app).queue(OUTBOX).scheduled_job_registry.get_job_ids()


def test_a_voice_push_arrives_once_as_the_voice_and_its_line_of_text(no_app, bot, wecom, clip):
    spoken(wecom, "u001")
    line = "以上是语音《学习二十大精神》，共 1 段，约 1 秒。"
    push = Series((Voice(clip, filename="item-1-1.amr"), Text(line)))        # as a push job sends it
    enqueue_to_members("push-7-0", ["u001"], push)
    drain(no_app)
    assert enqueue_to_members("push-7-0", ["u001"], push).duplicate

    sent = wecom.wait_sent(2)
    assert [(r.chatid, r.msgtype) for r in sent] == [("u001", "voice"), ("u001", "markdown")]
    assert sent[1].text == line
    received = wecom.media_bytes(sent[0].media_id)
    assert received.kind == "voice" and received.data == clip and received.filename == "item-1-1.amr"
    amr_frames, rate, channels = demuxed_frames(received.data)      # FFmpeg reads it as ~1 s of AMR-NB
    assert (rate, channels) == (8000, 1) and 50 <= amr_frames <= 52
    assert wecom.refusals == []
    assert ledger("push-7") == [("push-7-0", "chat:u001", "sent", None)]


def test_the_same_clip_is_uploaded_once_and_its_media_id_reused(no_app, bot, wecom, clip):
    spoken(wecom, "u001", "u002")
    enqueue_to_members("push-8-0", ["u001"], Voice(clip))
    drain(no_app)
    enqueue_to_members("push-9-0", ["u001", "u002"], Voice(clip))     # next week's push of the same clip
    drain(no_app)
    sent = wecom.wait_sent(3)
    assert len(uploads(wecom)) == 1 and wecom.uploads.uploads_started == 1
    assert len({r.media_id for r in sent}) == 1
    assert sorted(r.chatid for r in sent) == ["u001", "u001", "u002"]


def test_a_large_file_goes_in_chunks_of_at_most_512_KiB(app, bot, wecom):
    spoken(wecom, "u001")
    data = os.urandom(2 * CHUNK_BYTES + 1000)
    enqueue_to_conversation("file-1", "u001", File("学习材料.pdf", data))
    drain(app)
    sent = wecom.wait_sent(1)
    assert wecom.media_bytes(sent[0].media_id).data == data
    chunks = [f.body for f in uploads(wecom, wire.UPLOAD_CHUNK)]
    assert [c["chunk_index"] for c in chunks] == [0, 1, 2]
    assert [len(base64.b64decode(c["base64_data"])) for c in chunks] == [CHUNK_BYTES, CHUNK_BYTES, 1000]
    init = uploads(wecom)[0].body
    assert (init["type"], init["filename"], init["total_size"], init["total_chunks"]) == \
        ("file", "学习材料.pdf", len(data), 3)


def test_a_chunk_over_512_KiB_is_refused(bot, wecom):
    data = os.urandom(2 * CHUNK_BYTES - 10)      # two chunks, as the init says; the first one 100 bytes too big
    upload = upload_media(bot.client.connection.request, "file", "big.bin", data, chunk_bytes=CHUNK_BYTES + 100)
    with pytest.raises(UploadRefused) as refused:
        asyncio.run_coroutine_threadsafe(upload, bot.loop).result(10)
    assert (refused.value.cmd, refused.value.errcode) == (wire.UPLOAD_CHUNK, 45001)
    assert wecom.uploads.media == {}


def test_a_lost_chunk_fails_the_send_in_the_ledger(no_app, bot, wecom, clip):
    spoken(wecom, "u001")
    wecom.uploads.lose_chunks = {0}             # acked, then lost by the gateway: finish finds it missing
    enqueue_to_members("push-10-0", ["u001"], Voice(clip))
    drain(no_app)
    assert (wire.UPLOAD_FINISH, 40058) in wecom.refusals
    assert wecom.wait_sent(1, timeout=0.3) == []
    assert ledger("push-10") == [("push-10-0", "chat:u001", "failed", 40058)]
    assert scheduled(no_app) == []              # refused, not busy: retrying would not help


def test_a_busy_upload_is_retried_later_and_nothing_is_lost(no_app, bot, wecom, clip):
    spoken(wecom, "u001")
    wecom.fail_next(wire.UPLOAD_CHUNK, -1)
    enqueue_to_members("push-11-0", ["u001"], Voice(clip))
    drain(no_app)
    assert wecom.wait_sent(1, timeout=0.3) == []
    assert ledger("push-11") == []               # nothing claimed: the retry sends it
    assert len(scheduled(no_app)) == 1


def test_the_bots_upload_limit_defers_new_uploads_but_not_stored_media(no_app, bot, wecom, valkey, clip):
    spoken(wecom, "u001", "u002")
    enqueue_to_members("push-12-0", ["u001"], Voice(clip))
    drain(no_app)
    now = no_app.extensions["szzs.clock"]().timestamp()
    acquire_many(valkey, upload_limits(BOT_ID), ["media"], now=now, cost=29)     # 30 uploads this minute
    enqueue_to_members("push-13-0", ["u002"], Voice(clip))                       # stored: goes out
    enqueue_to_members("push-14-0", ["u002"], Voice(encode_amr(tone(2.0))))     # new: must wait
    drain(no_app)
    sent = wecom.wait_sent(2)
    assert [r.chatid for r in sent] == ["u001", "u002"] and len(uploads(wecom)) == 1
    assert wecom.refusals == []                  # WeCom never had to refuse an upload
    assert ledger("push-1") == [("push-12-0", "chat:u001", "sent", None), ("push-13-0", "chat:u002", "sent", None)]
    assert len(scheduled(no_app)) == 1           # the new clip waits for the next minute


def test_an_image_goes_to_the_conversation_as_an_image(app, bot, wecom):
    spoken(wecom, "u001")
    png = b"\x89PNG\r\n\x1a\n" + bytes(300)
    enqueue_to_conversation("image-1", "u001", Image(png))
    drain(app)
    sent = wecom.wait_sent(1)
    assert sent[0].msgtype == "image" and wecom.media_bytes(sent[0].media_id).data == png
    assert uploads(wecom)[0].body["filename"] == "image.png"


def test_with_the_long_connection_down_a_voice_waits_and_leaves_no_bytes_behind(no_app, wecom, valkey, clip):
    no_app.config["LONGCONN_RELAY_WAIT_SECONDS"] = 1.5      # nobody takes the upload: give up soon
    member(db.get_session(), "u001")
    enqueue_to_members("push-15-0", ["u001"], Voice(clip))
    drain(no_app)
    assert ledger("push-15") == [] and len(scheduled(no_app)) == 1      # RQ retries it
    assert list(valkey.scan_iter(match=UPLOAD_DATA.format(request_id="*"))) == []
    assert valkey.llen(LONGCONN_REQUESTS.format(bot_id=BOT_ID)) == 0
