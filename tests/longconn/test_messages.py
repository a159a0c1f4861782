"""Messages over the long connection go through the one pipeline and come back on their req_id."""
from __future__ import annotations

import time

from bot import db
from bot.keys import DEDUPE
from bot.standin import longconn_wire as wire
from tests.factories import member


def on_roster(userid="u001", name="张三"):
    member(db.get_session(), userid, name=name)


def test_a_message_is_answered_on_its_req_id_with_a_finished_stream(bot, wecom):
    on_roster()
    req_id = wecom.say("u001", "帮助")
    replies = wecom.wait_replies(req_id)
    assert [(r.cmd, r.msgtype) for r in replies] == [(wire.RESPOND, "stream")]
    assert "思政助手可以帮您" in replies[0].text
    assert wecom.refusals == [] and wecom.violations == []


def test_a_group_message_with_a_mention_is_answered_in_the_group(bot, wecom):
    on_roster()
    req_id = wecom.say("u001", "帮助", chatid="wrkGroup01", chattype="group")
    replies = wecom.wait_replies(req_id)
    assert replies and replies[0].chatid == "wrkGroup01" and "思政助手可以帮您" in replies[0].text


def test_a_duplicate_msgid_is_answered_once(bot, wecom, valkey):
    on_roster()
    first = wecom.say("u001", "帮助", msgid="msg-dup-1")
    assert wecom.wait_replies(first)
    assert valkey.exists(DEDUPE.format(channel="longconn", msg_id="msg-dup-1"))   # the callbacks' key family
    second = wecom.say("u001", "帮助", msgid="msg-dup-1")
    time.sleep(0.5)            # give a wrong second answer the time to arrive
    assert wecom.wait_replies(second, timeout=0.1) == []
    assert len([r for r in wecom.replies if r.cmd == wire.RESPOND]) == 1


def test_enter_chat_gets_the_welcome_through_respond_welcome_msg(bot, wecom):
    req_id = wecom.event("u001", "enter_chat")
    replies = wecom.wait_replies(req_id)
    assert [(r.cmd, r.msgtype) for r in replies] == [(wire.RESPOND_WELCOME, "text")]
    assert "您好，我是思政助手" in replies[0].text


def test_a_dead_req_id_falls_back_to_aibot_send_msg(bot, wecom):
    on_roster()
    wecom.fail_next(wire.RESPOND, wire.INVALID_REQ_ID)
    wecom.say("u001", "帮助")
    sent = wecom.wait_sent(1)
    assert [(r.cmd, r.chatid, r.msgtype) for r in sent] == [(wire.SEND, "u001", "markdown")]
    assert "思政助手可以帮您" in sent[0].text


def test_a_closed_stream_falls_back_to_aibot_send_msg(bot, wecom):
    on_roster()
    wecom.fail_next(wire.RESPOND, wire.STREAM_CLOSED)
    wecom.say("u001", "帮助", chatid="wrkGroup01", chattype="group")
    sent = wecom.wait_sent(1)
    assert [(r.chatid, r.msgtype) for r in sent] == [("wrkGroup01", "markdown")]
    body = next(f.body for f in wecom.received if f.cmd == wire.SEND)
    assert body["chat_type"] == 2


def test_a_lost_subscription_reconnects_and_the_reply_is_sent_once_more(bot, wecom):
    on_roster()
    wecom.fail_next(wire.RESPOND, wire.NOT_SUBSCRIBED)
    wecom.say("u001", "帮助")
    sent = wecom.wait_sent(1)
    assert [(r.chatid, r.msgtype) for r in sent] == [("u001", "markdown")] and "思政助手可以帮您" in sent[0].text
    assert wecom.subscribes == 2 and bot.client.drops == 1 and bot.client.login_failures == 0
