"""The simulator's server side without a browser: bubbles from replies and stand-in records, markdown
made safe, voice decoded for browsers, the JSON endpoints' refusals, and no simulator on a real tenant."""
from __future__ import annotations

import io
import json
import math
import struct
import wave

import fakeredis
import pytest

from bot import clock, create_app, db
from bot.demo import load_demo_unit
from bot.simulator import audio, render
from bot.standin import store
from bot.voice.amr import encode_amr
from bot.voice.engine import Speech
from tests.bot.test_democlock import demo_settings
from tests.conftest import make_settings


def media_url(media_id, kind):
    return f"/m/{kind}/{media_id}"


def test_markdown_is_escaped_before_it_is_formatted():
    html = render.markdown_html('# 标题\n**加粗** <script>alert(1)</script>\n> 引用\n'
                                '[链接](https://example.org/a) <font color="warning">注意</font>')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>加粗</b>" in html and "<blockquote>引用</blockquote>" in html
    assert '<a href="https://example.org/a" target="_blank" rel="noopener">链接</a>' in html
    assert '<span class="font-warning">注意</span>' in html and "<h3>标题</h3>" in html
    assert "href" not in render.markdown_html("[x](javascript:alert(1))")     # only http(s) links become links


@pytest.mark.parametrize("plaintext, kind, shown", [
    (json.dumps({"msgtype": "stream", "stream": {"id": "s", "finish": True, "content": "**好**"}}), "markdown", "<b>好</b>"),
    (json.dumps({"msgtype": "text", "text": {"content": "欢迎"}}), "text", "欢迎"),
    ("<xml><MsgType>markdown</MsgType><Markdown><Content><![CDATA[**周报**]]></Content></Markdown></xml>",
     "markdown", "<b>周报</b>"),
    ("<xml><MsgType>text</MsgType><Text><Content><![CDATA[打卡成功]]></Content></Text></xml>", "text", "打卡成功"),
    ("<xml><ToUserName>u</ToUserName><MsgType>text</MsgType><Content><![CDATA[单聊]]></Content></xml>", "text", "单聊"),
])
def test_passive_replies_of_every_channel_become_bubbles(plaintext, kind, shown):
    bubble = render.passive_reply(plaintext)
    assert bubble["kind"] == kind and shown in (bubble.get("html") or bubble.get("text"))


def test_stand_in_records_become_news_image_and_text_bubbles():
    news = render.stand_in_record({"msgtype": "news", "body": {"msgtype": "news", "news": {"articles": [
        {"title": "汛期值班", "description": "六条规矩", "url": "https://example.org/n", "picurl": "https://example.org/c.jpg"}]}}},
        media_url=media_url)
    assert news == {"kind": "news", "articles": [{"title": "汛期值班", "description": "六条规矩",
                                                  "url": "https://example.org/n", "picurl": "https://example.org/c.jpg"}]}
    image = render.stand_in_record({"msgtype": "image", "body": {"msgtype": "image", "image": {"base64": "iVBORw0KGgo=",
                                                                                               "md5": "x"}}}, media_url=media_url)
    assert image["src"] == "data:image/png;base64,iVBORw0KGgo="
    text = render.stand_in_record({"msgtype": "text", "body": {"msgtype": "text", "text": {"content": "提醒"}}},
                                  media_url=media_url)
    assert text == {"kind": "text", "text": "提醒"}


def test_voice_and_file_records_name_the_stored_upload(demo_app):
    clip = store.save_media("voice", b"#!AMR\n" + b"\x3c" + bytes(31), filename="rules-1.amr", owner="app")
    bubble = render.stand_in_record({"msgtype": "voice", "body": {"msgtype": "voice", "voice": {"media_id": clip.media_id}}},
                                    media_url=media_url)
    assert bubble == {"kind": "voice", "src": f"/m/voice/{clip.media_id}", "name": "rules-1.amr", "size": 38}


def spoken_second() -> bytes:
    samples = b"".join(struct.pack("<h", int(6000 * math.sin(n / 8))) for n in range(16000))
    return encode_amr(Speech(samples=samples, sample_rate=16000))


def test_amr_voice_is_decoded_to_wav_browsers_play():
    wav = wave.open(io.BytesIO(audio.amr_to_wav(spoken_second())))
    assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
    assert 0.95 <= wav.getnframes() / 8000 <= 1.1


def test_bytes_that_are_no_amr_are_refused():
    with pytest.raises(audio.NotPlayable):
        audio.amr_to_wav(b"RIFF....not amr at all")


@pytest.fixture
def demo_app(tmp_path):
    app = create_app(demo_settings(tmp_path), redis=fakeredis.FakeRedis())
    with app.app_context():
        db.create_all(app)
        yield app


def test_page_roster_and_media_endpoints(demo_app):
    load_demo_unit(db.get_session(), now=clock.now())
    client = demo_app.test_client()
    page = client.get("/simulator/")
    assert page.status_code == 200 and "水库管理所工作群" in page.text and "simulator.js" in page.text
    people = client.get("/simulator/api/people").json
    departments = {d["name"]: d for d in people["departments"]}
    assert list(departments) == ["领导班子", "工程管理科", "水情调度科", "后勤保障科"]
    teams = {t["name"]: t for t in departments["工程管理科"]["teams"]}
    zhangwei = next(m for m in teams["大坝巡查班组"]["members"] if m["userid"] == "zhangwei")
    assert zhangwei["cohorts"] == ["青年", "工程运维"] and zhangwei["role"] == "成员"
    clip = store.save_media("voice", spoken_second(), filename="a.amr", owner="app")
    played = client.get(f"/simulator/media/{clip.media_id}")
    assert played.status_code == 200 and played.mimetype == "audio/wav" and played.data[:4] == b"RIFF"
    assert client.get("/simulator/media/3unknown").status_code == 404
    assert client.get("/simulator/font.otf").status_code == 200


@pytest.mark.parametrize("body, status, message", [
    ({"user": "zhangwei", "text": ""}, 400, "请先选择成员"),
    ({"user": "zhangwei", "text": "打" * 2001}, 400, "太长"),
    ({"user": "zhangwei", "text": "打卡", "channel": "app", "group": True}, 502, "自建应用只收一对一消息"),
    ({"user": "zhangwei", "text": "打卡", "channel": "fax", "group": False}, 502, "未知的通道"),
])
def test_bad_messages_get_a_polite_answer_and_send_nothing(demo_app, body, status, message):
    answer = demo_app.test_client().post("/simulator/api/say", json=body)
    assert answer.status_code == status and message in answer.json["error"]


@pytest.mark.parametrize("body", [{}, {"minutes": 0}, {"minutes": 121}, {"minutes": "60"}, {"minutes": True}])
def test_the_clock_refuses_odd_steps_and_stays_put(demo_app, body):
    answer = demo_app.test_client().post("/simulator/api/clock", json=body)
    assert answer.status_code == 400 and answer.json["error"]
    assert demo_app.test_client().get("/simulator/api/clock").json["offset_minutes"] == 0


def test_no_simulator_on_a_real_tenant(tmp_path):
    app = create_app(make_settings(tmp_path), redis=fakeredis.FakeRedis())
    assert app.test_client().get("/simulator/").status_code == 404
