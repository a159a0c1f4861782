"""The three callback channels end to end through the platform-side crypto in tests/platform."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot import create_app, db
from bot.models import CheckIn, UnknownSender
from tests.conftest import TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN, make_settings
from tests.factories import member
from tests.platform import messages
from tests.platform.actor import WeComPlatform
from tests.platform.crypto import PlatformCrypto

CHANNELS = ("robot", "aibot", "app")


@pytest.fixture
def zhang(app):
    return member(db.get_session(), "u001", name="张三")


def stored(model) -> int:
    session = db.get_session()
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("channel", CHANNELS)
def test_url_verification_answers_the_plain_echo(platform, channel):
    response, echo = platform.verify(channel)
    assert response.status == 200
    assert response.body == echo.encode()


@pytest.mark.parametrize("channel", CHANNELS)
def test_url_verification_with_wrong_signature_is_403(platform, channel):
    response, _ = platform.verify(channel, query_overrides={"msg_signature": "0" * 40})
    assert response.status == 403


@pytest.mark.parametrize("channel", CHANNELS)
def test_checkin_through_each_channel(platform, zhang, channel):
    reply = platform.say("打卡 今天学习了防汛应急预案", channel=channel,
                         chattype="single" if channel == "app" else "group")
    assert reply.status == 200
    assert "打卡成功" in reply.text and "连续打卡 1 天" in reply.text
    assert stored(CheckIn) == 1


def test_aibot_reply_is_a_finished_stream(platform, zhang):
    reply = platform.say("打卡", channel="aibot")
    assert reply.msgtype == "stream"
    assert reply.data["stream"]["finish"] is True


def test_app_reply_is_addressed_to_the_sender(platform, zhang):
    reply = platform.say("打卡", channel="app")
    assert reply.xml.findtext("ToUserName") == "u001"
    assert reply.xml.findtext("FromUserName") == TEST_CORP_ID


def test_second_checkin_same_day_is_kind_and_records_nothing(platform, zhang):
    platform.say("打卡")
    reply = platform.say("@思政助手　打卡！")
    assert "已经打过卡" in reply.text
    assert stored(CheckIn) == 1


def test_sender_not_on_roster_is_told_whom_to_ask_and_recorded(platform, app):
    member(db.get_session(), "admin01", name="王管理", department="综合办公室", team=None)
    reply = platform.say("打卡", user="stranger", name="路人甲")
    assert "不在本单位的名册" in reply.text and "王管理" in reply.text
    assert stored(CheckIn) == 0
    assert db.get_session().get(UnknownSender, "stranger").times == 1


@pytest.mark.parametrize("channel, event", [("robot", "enter_chat"), ("robot", "add_to_chat"),
                                            ("aibot", "enter_chat")])
def test_welcome_lists_the_most_useful_commands(platform, channel, event):
    reply = platform.event(event, channel=channel)
    assert reply.status == 200
    for command in ("打卡", "我的", "帮助"):
        assert command in reply.text


def test_aibot_welcome_is_plain_text(platform):
    assert platform.event("enter_chat", channel="aibot").msgtype == "text"


@pytest.mark.parametrize("channel, plaintext", [
    ("robot", lambda corp: messages.robot_other("image")),
    ("aibot", lambda corp: messages.aibot_other("image")),
    ("app", lambda corp: messages.app_other("voice", corp_id=corp)),
    ("robot", lambda corp: messages.robot_event("delete_from_chat")),
])
def test_unknown_types_get_an_empty_200(platform, zhang, channel, plaintext):
    reply = platform.deliver(channel, plaintext(TEST_CORP_ID))
    assert reply.empty
    assert stored(CheckIn) == 0


def test_unknown_command_suggests_close_ones(platform, zhang):
    reply = platform.say("打咔")
    assert "打卡" in reply.text and "帮助" in reply.text


def test_admin_command_denied_to_member_and_audited(platform, zhang):
    from bot.models import AuditEntry

    reply = platform.say("授权 u001 管理员")
    assert "管理员权限" in reply.text
    assert stored(AuditEntry) == 1


# ---- bad input: a clear status, nothing stored ----

def _send_text(platform, text="打卡", channel="robot", **query):
    return platform.send(channel, messages.robot_text(text) if channel == "robot" else
                         messages.aibot_text(text), query_overrides=query or None)


@pytest.mark.parametrize("channel", CHANNELS)
def test_wrong_signature_is_403_and_stores_nothing(platform, zhang, channel):
    plaintext = messages.app_text("打卡", corp_id=TEST_CORP_ID) if channel == "app" else \
        messages.robot_text("打卡") if channel == "robot" else messages.aibot_text("打卡")
    response = platform.send(channel, plaintext, query_overrides={"msg_signature": "f" * 40})
    assert response.status == 403
    assert stored(CheckIn) == 0


@pytest.mark.parametrize("missing", ["msg_signature", "timestamp", "nonce"])
def test_missing_parameter_is_400(platform, zhang, missing):
    response = _send_text(platform, **{missing: ""})
    assert response.status == 400
    assert stored(CheckIn) == 0


def test_stale_timestamp_is_refused(platform, zhang):
    crypto = platform.crypto["robot"]
    old = str(int(time.time()) - 3600)
    query, body = crypto.callback(messages.robot_text("打卡"), json_envelope=False, timestamp=old)
    response = platform._request("POST", "/wecom/robot", query=query, body=body, content_type="text/xml")
    assert response.status == 403
    assert stored(CheckIn) == 0


@pytest.mark.parametrize("channel, body", [
    ("robot", b"<xml><Encrypt>unclosed"),
    ("robot", b"not xml at all"),
    ("aibot", b"{not json"),
    ("aibot", b'["encrypt"]'),
    ("aibot", b'{"encrypt": 5}'),
    ("app", b"<xml></xml>"),
])
def test_malformed_envelope_is_400(platform, zhang, channel, body):
    plaintext = messages.aibot_text("打卡") if channel == "aibot" else messages.robot_text("打卡")
    response = platform.send(channel, plaintext, body_override=body)
    assert response.status == 400
    assert stored(CheckIn) == 0


ENTITY_BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
               b"<xml><Encrypt>&lol2;</Encrypt></xml>")
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>'


@pytest.mark.parametrize("body", [ENTITY_BOMB, EXTERNAL, b"<!DOCTYPE xml><xml><Encrypt>x</Encrypt></xml>"])
def test_doctype_and_entities_are_refused(platform, zhang, body):
    response = platform.send("robot", messages.robot_text("打卡"), body_override=body)
    assert response.status == 400
    assert stored(CheckIn) == 0


def test_encrypted_plaintext_with_doctype_is_refused(platform, zhang):
    inner = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "打卡">]><xml><MsgId>m1</MsgId><MsgType>text</MsgType>'
             "<ChatType>group</ChatType><From><UserId>u001</UserId></From><Text><Content>&a;</Content></Text></xml>")
    response = platform.send("robot", inner)
    assert response.status == 400
    assert stored(CheckIn) == 0


def test_body_over_64_kib_is_413(platform, zhang):
    response = platform.send("robot", messages.robot_text("打卡"), body_override=b"<xml>" + b"a" * 70000 + b"</xml>")
    assert response.status == 413
    assert stored(CheckIn) == 0


def test_wrong_receiveid_is_refused(app, zhang):
    # encrypted for another corp: decrypts with the same key, but the trailing receiveid differs
    other = PlatformCrypto(TEST_TOKEN, TEST_AES_KEY, "wwsomeoneelse")
    query, body = other.callback(messages.app_text("打卡", corp_id="wwsomeoneelse"), json_envelope=False)
    response = app.test_client().post("/wecom/app", query_string=query, data=body)
    assert response.status_code == 403
    assert stored(CheckIn) == 0


def test_robot_callback_encrypted_for_the_app_is_refused(app, zhang):
    app_side = PlatformCrypto(TEST_TOKEN, TEST_AES_KEY, TEST_CORP_ID)
    query, body = app_side.callback(messages.robot_text("打卡"), json_envelope=False)
    assert app.test_client().post("/wecom/robot", query_string=query, data=body).status_code == 403
    assert stored(CheckIn) == 0


def test_unknown_channel_is_404(app):
    assert app.test_client().post("/wecom/nope").status_code == 404


@pytest.mark.parametrize("text", ["", "   ", "@思政助手"])
def test_empty_text_gets_a_greeting(platform, zhang, text):
    plaintext = messages.robot_text(text, chattype="single")
    reply = platform.deliver("robot", plaintext)
    assert "帮助" in reply.text
    assert stored(CheckIn) == 0


def test_very_long_text_is_handled_and_the_note_capped(platform, zhang):
    reply = platform.say("打卡 " + "防汛" * 2500)
    assert reply.status == 200 and "打卡成功" in reply.text
    assert len(reply.plaintext.encode()) < 4096
    note = db.get_session().scalar(select(CheckIn.note))
    assert len(note) == 500


def test_long_unknown_text_gets_a_short_polite_answer(platform, zhang):
    reply = platform.say("这" * 5000)
    assert reply.status == 200 and "帮助" in reply.text
    assert len(reply.text) < 300


@pytest.mark.parametrize("text, answer, stored_note", [
    ("打卡 今天学了防汛😀👍", "打卡成功", "今天学了防汛😀👍"),
    ("打卡 Learned 防汛 today ✅", "打卡成功", "Learned 防汛 today ✅"),
    ("打卡 \u202e反向文字", "打卡成功", "\u202e反向文字"),
    ("🙂🙂", "没太明白", None),
])
def test_emoji_and_mixed_scripts(platform, zhang, text, answer, stored_note):
    reply = platform.say(text)
    assert reply.status == 200 and answer in reply.text
    assert db.get_session().scalar(select(CheckIn.note)) == stored_note


def test_full_width_and_slash_forms(platform, zhang):
    assert "打卡成功" in platform.say("／打卡　今天学习").text


# ---- de-duplication ----

def test_resent_callback_three_times_across_two_apps_records_once(tmp_path, redis_client, clock):
    settings = make_settings(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'shared.sqlite'}")
    first = create_app(settings, redis=redis_client, clock=clock)
    second = create_app(settings, redis=redis_client, clock=clock)
    with first.app_context():
        db.create_all(first)
        member(db.get_session(), "u001")
    plaintext = messages.robot_text("打卡", msg_id="same-msg-1")
    replies = []
    for app in (first, second, first):
        platform = WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                 client=app.test_client())
        replies.append(platform.deliver("robot", plaintext))
    assert len({r.text for r in replies}) == 1 and "打卡成功" in replies[0].text
    with second.app_context():
        assert db.get_session().scalar(select(func.count()).select_from(CheckIn)) == 1


def test_same_msg_id_on_another_channel_is_a_different_message(platform, zhang):
    platform.deliver("robot", messages.robot_text("打卡", msg_id="m-1"))
    reply = platform.deliver("aibot", messages.aibot_text("打卡", msg_id="m-1"))
    assert "已经打过卡" in reply.text


def test_robot_reply_in_a_group_mentions_the_sender(platform, zhang):
    reply = platform.say("打卡", channel="robot", chattype="group")
    assert [item.text for item in reply.xml.iterfind("Text/MentionedList/Item")] == ["u001"]


def test_robot_reply_one_to_one_mentions_nobody(platform, zhang):
    reply = platform.say("打卡", channel="robot", chattype="single")
    assert reply.xml.find("Text/MentionedList") is None


@pytest.mark.parametrize("channel", ["robot", "aibot"])
def test_adapters_strip_the_mention_from_group_text(channel):
    from bot.channels import all_channels

    plaintext = (messages.robot_text if channel == "robot" else messages.aibot_text)("打卡 今天学习", user="u9")
    inbound = all_channels()[channel].parse(plaintext)
    assert inbound.text == "打卡 今天学习"
    assert inbound.sender_id == "u9" and inbound.is_group
