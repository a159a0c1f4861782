"""Results of slow work reach a conversation by aibot_send_msg: through RQ, the ledger and the limits."""
from __future__ import annotations

from rq import SimpleWorker

from bot import db
from bot.standin import longconn_wire as wire
from bot.longconn.outbound import SINGLE, conversation_limits, deliver_to_conversation, enqueue_to_conversation
from bot.models.messaging import Delivery
from bot.outgoing import Markdown, Text
from bot.ratelimit import acquire_many
from bot.redis_store import get_redis
from bot.tasks import OUTBOX, get_jobs
from tests.factories import member
from tests.longconn.conftest import BOT_ID


def drain(app) -> None:
    SimpleWorker([get_jobs(app).queue(OUTBOX)], connection=get_redis(app)).work(burst=True)


def spoken(wecom, userid="u001") -> None:
    """The member talks first (WeCom only lets the bot push into conversations that have spoken)."""
    member(db.get_session(), userid)
    assert wecom.wait_replies(wecom.say(userid, "帮助"))


def test_a_long_jobs_result_arrives_by_aibot_send_msg_once(app, bot, wecom):
    spoken(wecom)
    result = Markdown("**本月学习情况**：8 小时")
    enqueue_to_conversation("report-1", "u001", result, chat_type=SINGLE)
    drain(app)
    assert enqueue_to_conversation("report-1", "u001", result, chat_type=SINGLE).duplicate
    again = deliver_to_conversation(push_id="report-1", chatid="u001", message=result.to_dict())  # a retried job
    assert again["skipped"] == 1 and again["sent"] == 0
    sent = wecom.wait_sent(1)
    assert [(r.chatid, r.msgtype, r.text) for r in sent] == [("u001", "markdown", "**本月学习情况**：8 小时")]
    body = next(f.body for f in wecom.received if f.cmd == wire.SEND)
    assert body["chat_type"] == 1
    rows = db.get_session().query(Delivery).filter_by(push_id="report-1").all()
    assert [(r.recipient, r.status) for r in rows] == [("chat:u001", "sent")]


def test_the_conversation_limit_counts_replies_and_defers_the_rest(app, bot, wecom):
    spoken(wecom)                                   # the reply took one of the 30 slots of this minute
    for n in range(30):
        enqueue_to_conversation(f"notice-{n}", "u001", Text(f"通知 {n}"))
    drain(app)
    assert len(wecom.wait_sent(29)) == 29
    assert wecom.refusals == []                     # WeCom never had to refuse: the bot kept to 30/min
    waiting = get_jobs(app).queue(OUTBOX).scheduled_job_registry.get_job_ids()
    assert len(waiting) == 1                        # the 30th push waits for the next minute
    rows = db.get_session().query(Delivery).filter(Delivery.push_id.like("notice-%")).all()
    assert len(rows) == 29 and {r.status for r in rows} == {"sent"}


def test_with_the_long_connection_down_the_send_is_retried_later_not_lost(app, wecom):
    app.config["LONGCONN_RELAY_WAIT_SECONDS"] = 1.5      # nobody takes the request: give up soon
    member(db.get_session(), "u001")
    enqueue_to_conversation("report-2", "u001", Text("结果"))
    drain(app)
    assert db.get_session().query(Delivery).filter_by(push_id="report-2").all() == []   # claim released
    assert len(get_jobs(app).queue(OUTBOX).scheduled_job_registry.get_job_ids()) == 1    # RQ retries it


def test_a_reply_over_the_limit_becomes_a_send_job_instead(app, bot, wecom, valkey):
    member(db.get_session(), "u001")
    now = app.extensions["szzs.clock"]().timestamp()
    acquire_many(valkey, conversation_limits(BOT_ID), ["u001"], now=now, cost=30)    # 30 pushes this minute
    req_id = wecom.say("u001", "帮助", msgid="msg-busy-1")
    assert wecom.wait_for(lambda: any(j.startswith("send-chat-reply-msg-busy-1")
                                      for j in get_jobs(app).queue(OUTBOX).get_job_ids()))
    assert wecom.wait_replies(req_id, timeout=0.2) == [] and wecom.refusals == []


def test_without_the_app_api_members_are_reached_in_their_own_conversations(app, bot, wecom):
    from bot.models.bindings import BindingStatus, SenderBinding
    from bot.outbox import enqueue_to_members

    app.config["WECOM_AGENT_ID"] = None                   # a unit with only the smart bot's long connection
    spoken(wecom, "u001")
    member(db.get_session(), "u002")                      # speaks to the bot as an opaque id bound to him
    now = app.extensions["szzs.clock"]()
    db.get_session().add(SenderBinding(external_id="wo_opaque_2", userid="u002", status=BindingStatus.CONFIRMED.value,
                                       asked_at=now, requested_at=now, decided_at=now, decided_by="admin"))
    db.get_session().commit()
    assert wecom.wait_replies(wecom.say("wo_opaque_2", "帮助"))
    enqueue_to_members("reminder-1", ["u001", "u002"], Text("今天还没打卡哦"))
    drain(app)
    sent = wecom.wait_sent(2)
    assert sorted((r.chatid, r.text) for r in sent) == [("u001", "今天还没打卡哦"), ("wo_opaque_2", "今天还没打卡哦")]
    assert enqueue_to_members("reminder-1", ["u001", "u002"], Text("今天还没打卡哦")).duplicate
    rows = db.get_session().query(Delivery).filter_by(push_id="reminder-1").all()
    assert sorted((r.recipient, r.status) for r in rows) == [("chat:u001", "sent"), ("chat:wo_opaque_2", "sent")]
