"""Outbound sends over real HTTP on loopback against the strict WeCom stand-in (bot/standin).

One app serves the stand-in on port 0; the test's app sends to it through the real clients. Both
share one fakeredis server, where the stand-in keeps its state.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import db, outbox
from bot.outgoing import Markdown, Text, Voice
from bot.models.messaging import Delivery
from bot.tasks import OUTBOX, get_jobs
from bot.wecom.errors import RetryableWeComError
from tests.standin_http import GROUP, HOOK_KEY, app_on_standin, control, messages, stats

AMR = b"#!AMR\n" + (b"\x3c" + b"\0" * 31) * 50          # 50 AMR-NB 12.2k frames = 1 s


@pytest.fixture
def sender(tmp_path, fake_server, standin_url, clock):
    with app_on_standin(tmp_path, fake_server, standin_url, clock, WECOM_GROUP_WEBHOOKS={GROUP: HOOK_KEY}) as app:
        yield app


def ledger(push_id: str) -> list[tuple[str, str]]:
    session = db.get_session()
    session.expire_all()
    rows = session.scalars(select(Delivery).where(Delivery.push_id == push_id).order_by(Delivery.id))
    return [(row.recipient, row.status) for row in rows]


def test_token_refused_with_42001_is_refetched_once_and_the_message_delivered_once(sender, standin_url):
    control(standin_url, {"fail_next": [{"path": "message/send", "errcode": 42001}]})
    summary = outbox.deliver_to_members(push_id="p-token", userids=["u001"], message=Text("学习提醒").to_dict())
    assert summary["sent"] == 1
    assert stats(standin_url)["tokens_issued"] == 2
    sent = messages(standin_url, recipient="u001")
    assert [m["body"]["text"]["content"] for m in sent] == ["学习提醒"]
    assert ledger("p-token") == [("user:u001", "sent")]


def test_tokens_expired_early_are_replaced(sender, standin_url):
    outbox.deliver_to_members(push_id="p-a", userids=["u001"], message=Text("一").to_dict())
    control(standin_url, {"expire_tokens": True})
    outbox.deliver_to_members(push_id="p-b", userids=["u001"], message=Text("二").to_dict())
    assert [m["body"]["text"]["content"] for m in messages(standin_url, recipient="u001")] == ["一", "二"]
    assert stats(standin_url)["tokens_issued"] == 2


def test_45009_raises_for_backoff_and_the_rerun_delivers_once(sender, standin_url):
    control(standin_url, {"fail_next": [{"path": "message/send", "errcode": 45009},
                                        {"path": "webhook/send", "errcode": 45009}]})
    with pytest.raises(RetryableWeComError) as caught:
        outbox.deliver_to_members(push_id="p-busy", userids=["u001", "u002"], message=Text("通知").to_dict())
    assert caught.value.errcode == 45009 and ledger("p-busy") == []
    with pytest.raises(RetryableWeComError):
        outbox.deliver_to_group(push_id="p-busy", chat=GROUP, message=Text("通知").to_dict())
    # what RQ's Retry does later: run the same job again
    outbox.deliver_to_members(push_id="p-busy", userids=["u001", "u002"], message=Text("通知").to_dict())
    outbox.deliver_to_group(push_id="p-busy", chat=GROUP, message=Text("通知").to_dict())
    assert len(messages(standin_url, via="app")) == 2
    assert len(messages(standin_url, via="webhook")) == 1


def test_webhook_20_a_minute_is_honoured_and_the_rest_waits(sender, standin_url):
    summaries = [outbox.deliver_to_group(push_id=f"p-{i:02d}", chat=GROUP, message=Text(f"第{i}条").to_dict())
                 for i in range(25)]
    assert sum(s["sent"] for s in summaries) == 20
    waiting = [s for s in summaries if s["deferred"]]
    assert len(waiting) == 5 and all(s["retry_at"] for s in waiting)
    assert len(messages(standin_url, chat=GROUP)) == 20
    assert stats(standin_url)["calls"].get("webhook/send") == 20       # nothing refused by the stand-in
    assert stats(standin_url)["violations"] == 0
    assert len(get_jobs().queue(OUTBOX).scheduled_job_registry.get_job_ids()) == 5


def test_a_retried_job_never_sends_twice(sender, standin_url):
    control(standin_url, {"latency_ms": 20})
    for _ in range(2):
        outbox.deliver_to_members(push_id="p-once", userids=["u001"], message=Markdown("**周五学习**").to_dict())
        outbox.deliver_to_group(push_id="p-once", chat=GROUP, message=Markdown("**周五学习**").to_dict())
    assert len(messages(standin_url, recipient="u001")) == 1
    assert len(messages(standin_url, chat=GROUP)) == 1


def test_voice_is_uploaded_then_sent_on_both_paths(sender, standin_url):
    outbox.deliver_to_group(push_id="p-voice", chat=GROUP, message=Voice(AMR).to_dict())
    outbox.deliver_to_members(push_id="p-voice", userids=["u001"], message=Voice(AMR).to_dict())
    (group_msg,) = messages(standin_url, chat=GROUP)
    (member_msg,) = messages(standin_url, recipient="u001")
    assert group_msg["msgtype"] == member_msg["msgtype"] == "voice"
    assert stats(standin_url)["calls"]["webhook/upload_media"] == 1
    assert stats(standin_url)["calls"]["media/upload"] == 1
    assert ledger("p-voice") == [("group:" + GROUP, "sent"), ("user:u001", "sent")]


def test_a_busy_wecom_is_retried_later_and_later_then_delivered_once(sender, standin_url):
    """45009 twice: RQ puts the send job back 5 s, then 15 s later (bot.tasks.DEFAULT_RETRY), not at once."""
    import time

    from rq import SimpleWorker

    sender.config["RQ_IS_ASYNC"] = True           # a real queue and worker, as in production
    control(standin_url, {"fail_next": [{"path": "message/send", "errcode": 45009}] * 2})
    job_id = outbox.enqueue_to_members("p-backoff", ["u001"], Text("通知")).job_id
    queue = get_jobs().queue(OUTBOX)
    registry = queue.scheduled_job_registry
    delays = []
    for _ in range(3):
        before = int(time.time())                  # RQ keeps the retry time in whole seconds
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        after = time.time()
        due = registry.connection.zscore(registry.key, job_id)
        if due is None:
            break
        delays.append(next((d for d in (0, 5, 15, 60) if before + d <= due <= after + d), due - after))
        registry.remove(job_id)                    # the scheduler's work, without waiting for the time
        queue.enqueue_job(queue.fetch_job(job_id))
    assert delays == [5, 15]
    assert ledger("p-backoff") == [("user:u001", "sent")]
    assert len(messages(standin_url, via="app")) == 1
