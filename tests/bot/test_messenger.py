"""The Messenger with fake WeCom senders: ledger, splitting, batching, limits, media, and the jobs."""
from __future__ import annotations

import base64
import hashlib
import logging
from datetime import timedelta

import pytest
from rq.job import JobStatus
from sqlalchemy import select

from bot import db, outbox, wecom
from bot.messenger import Messenger
from bot.outgoing import (
    APP_MARKDOWN_LIMIT, GROUP_MARKDOWN_LIMIT, TEXT_LIMIT, Article, File, Image, Markdown, Message, News, Series,
    Text, Voice, split_message, split_text,
)
from bot.models.messaging import Delivery
from bot.tasks import OUTBOX, get_jobs
from bot.wecom.errors import RetryableWeComError, WeComError

WEBHOOKS = {"chat-1": "key-1", "水情监测班组": "key-2"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


class FakeApp:
    """Plays the app API: records message/send and media/upload; ``fail`` queues exceptions."""

    def __init__(self):
        self.sends: list[tuple[list[str], dict]] = []
        self.uploads: list[tuple[str, str, bytes]] = []
        self.fail: list[Exception] = []
        self.fail_at: dict[int, Exception] = {}      # the n-th call (from 1) raises this
        self.calls = 0
        self.invalid: set[str] = set()

    def send_message(self, userids, msg):
        self.calls += 1
        if self.calls in self.fail_at:
            raise self.fail_at.pop(self.calls)
        if self.fail:
            raise self.fail.pop(0)
        self.sends.append((list(userids), msg))
        return {"errcode": 0, "invaliduser": "|".join(u for u in userids if u in self.invalid)}

    def upload_media(self, kind, filename, data):
        self.uploads.append((kind, filename, data))
        return f"app-media-{len(self.uploads)}"


class FakeWebhook:
    def __init__(self):
        self.sends: list[tuple[str, dict]] = []
        self.uploads: list[tuple[str, str, str, bytes]] = []
        self.fail: list[Exception] = []

    def send(self, key, payload):
        if self.fail:
            raise self.fail.pop(0)
        self.sends.append((key, payload))
        return {"errcode": 0}

    def upload_media(self, key, kind, filename, data):
        self.uploads.append((key, kind, filename, data))
        return f"hook-media-{len(self.uploads)}"


@pytest.fixture
def fake_app():
    return FakeApp()


@pytest.fixture
def fake_webhook():
    return FakeWebhook()


@pytest.fixture
def messenger(app, redis_client, clock, fake_app, fake_webhook):
    return Messenger(session=db.get_session(), redis=redis_client, app_client=fake_app, webhook=fake_webhook,
                     webhooks=WEBHOOKS, agent_id=1000002, now=clock)


def rows(push_id=None) -> list[Delivery]:
    session = db.get_session()
    session.expire_all()
    query = select(Delivery).order_by(Delivery.id)
    if push_id:
        query = query.where(Delivery.push_id == push_id)
    return list(session.scalars(query))


# -- message values and splitting ----------------------------------------------------------------

@pytest.mark.parametrize("message", [
    Text("你好", ("u1", "@all")), Markdown("**重要**"), News((Article("标题", "https://x", "d", "p"),)),
    Image(PNG), File("学习资料.pdf", b"%PDF-1.4 ..."), Voice(b"#!AMR\n\0\0\0"),
    Series((Voice(b"#!AMR\n\0\0\0", filename="a-1.amr"), News((Article("标题", "https://x"),)),
            Text("以上是语音"))),
])
def test_messages_round_trip_through_plain_dicts(message):
    import json

    data = json.loads(json.dumps(message.to_dict()))     # what RQ job kwargs may carry
    assert Message.from_dict(data) == message


def test_a_series_is_its_messages_in_order_and_one_message_is_itself():
    voice, line = Voice(b"#!AMR\n\0\0\0"), Text("行\n" * 1500)              # 6 KB of text: three parts
    first, *rest = split_message(Series((voice, line)), "app")
    assert first is voice and len(rest) == 3 and all(isinstance(part, Text) for part in rest)
    assert all(len(part.content.encode()) <= TEXT_LIMIT for part in rest)
    assert "".join(part.content for part in rest).count("行") == 1500
    assert Series.of([line]) is line and Series.of([voice, line]) == Series((voice, line))


def test_unknown_msgtype_is_refused():
    with pytest.raises(ValueError):
        Message.from_dict({"msgtype": "telegram"})


def test_long_text_is_split_at_line_boundaries():
    lines = [f"第{i}行：" + "学习强国" * 20 for i in range(40)]      # ~250 bytes a line, ~10 KB
    parts = split_text("\n".join(lines), TEXT_LIMIT)
    assert len(parts) > 1
    assert all(len(p.encode("utf-8")) <= TEXT_LIMIT for p in parts)
    assert [line for p in parts for line in p.split("\n")] == lines     # nothing lost, no line cut


def test_a_single_huge_line_is_cut_between_characters():
    parts = split_text("水" * 3000, TEXT_LIMIT)                          # 9000 bytes, no newline
    assert "".join(parts) == "水" * 3000
    assert all(len(p.encode("utf-8")) <= TEXT_LIMIT for p in parts)


def test_short_text_is_untouched_and_markdown_limits_differ_by_channel():
    assert split_text("hello\n", TEXT_LIMIT) == ["hello\n"]
    body = "\n".join(["- 条目" * 30] * 30)                               # 30 lines of 241 B
    group, app_parts = split_message(Markdown(body), "group"), split_message(Markdown(body), "app")
    assert len(group) == 2 and len(app_parts) == 4                     # 16 vs 8 lines a part
    assert all(len(p.content.encode()) <= GROUP_MARKDOWN_LIMIT for p in group)
    assert all(len(p.content.encode()) <= APP_MARKDOWN_LIMIT for p in app_parts)


def test_mentions_go_with_the_first_part_and_news_is_cut_into_eights():
    parts = split_message(Text("行\n" * 1500, ("u1",)), "group")
    assert parts[0].mentioned == ("u1",) and all(p.mentioned == () for p in parts[1:])
    news = split_message(News(tuple(Article(f"t{i}", "https://x") for i in range(10))), "app")
    assert [len(n.articles) for n in news] == [8, 2]


# -- the ledger: at most once ----------------------------------------------------------------------

def test_second_send_of_the_same_push_to_a_group_does_nothing(messenger, fake_webhook):
    first = messenger.send_to_group("p1", "chat-1", Text("早上好"))
    second = messenger.send_to_group("p1", "chat-1", Text("早上好"))
    assert first.sent == ("chat-1",) and second.skipped == ("chat-1",)
    assert len(fake_webhook.sends) == 1
    assert [(r.recipient, r.status, r.attempts) for r in rows("p1")] == [("group:chat-1", "sent", 1)]


def test_second_send_to_members_only_reaches_new_members(messenger, fake_app):
    messenger.send_to_members("p1", ["u1", "u2"], Text("通知"))
    result = messenger.send_to_members("p1", ["u1", "u2", "u3"], Text("通知"))
    assert [ids for ids, _ in fake_app.sends] == [["u1", "u2"], ["u3"]]
    assert result.sent == ("u3",) and set(result.skipped) == {"u1", "u2"}


def test_a_row_left_sending_by_a_killed_worker_is_never_resent(messenger, fake_app, caplog, clock):
    session = db.get_session()
    session.add(Delivery(push_id="p1", recipient="user:u1", msgtype="text", status="sending", attempts=1,
                         errcode=None, error="", updated_at=clock()))
    session.commit()
    with caplog.at_level(logging.WARNING):
        result = messenger.send_to_members("p1", ["u1", "u2"], Text("通知"))
    assert [ids for ids, _ in fake_app.sends] == [["u2"]]
    assert result.skipped == ("u1",)
    assert "sending" in caplog.text and "not resending" in caplog.text


def test_claim_lost_to_another_worker_is_skipped(messenger, fake_webhook, clock, monkeypatch):
    """Another process inserts the row between our check and our claim: the constraint decides."""
    original = messenger._ledger.unsent

    def racing_unsent(push_id, recipients):
        pending = original(push_id, recipients)
        session = db.get_session()
        session.add(Delivery(push_id=push_id, recipient="group:chat-1", msgtype="text", status="sending",
                             attempts=1, errcode=None, error="", updated_at=clock()))
        session.commit()
        return pending

    monkeypatch.setattr(messenger._ledger, "unsent", racing_unsent)
    result = messenger.send_to_group("p1", "chat-1", Text("hi"))
    assert result.skipped == ("chat-1",) and fake_webhook.sends == []


def test_retryable_error_releases_the_claim_so_the_retry_sends(messenger, fake_app):
    fake_app.fail = [RetryableWeComError(45009, "api freq out of limit", "message/send")]
    with pytest.raises(RetryableWeComError):
        messenger.send_to_members("p1", ["u1"], Text("通知"))
    assert rows("p1") == []
    assert messenger.send_to_members("p1", ["u1"], Text("通知")).sent == ("u1",)
    assert len(fake_app.sends) == 1


def test_known_failure_is_recorded_with_its_errcode_and_can_be_listed(messenger, fake_webhook, caplog):
    fake_webhook.fail = [WeComError(93000, "invalid webhook url", "webhook/send")]
    with caplog.at_level(logging.ERROR):
        result = messenger.send_to_group("p1", "chat-1", Text("hi"))
    assert result.failed == ("chat-1",)
    assert "errcode=93000" in caplog.text
    (row,) = rows("p1")
    assert (row.status, row.errcode) == ("failed", 93000)
    assert [(f.push_id, f.errcode) for f in outbox.recent_failures(db.get_session(), 10)] == [("p1", 93000)]


def test_a_failed_row_is_final_for_its_push(messenger, fake_webhook):
    fake_webhook.fail = [WeComError(93004, "robot disabled", "webhook/send")]
    messenger.send_to_group("p1", "chat-1", Text("hi"))
    assert messenger.send_to_group("p1", "chat-1", Text("hi")).skipped == ("chat-1",)
    assert messenger.send_to_group("p2", "chat-1", Text("hi")).sent == ("chat-1",)    # a new push sends
    assert [r.status for r in rows()] == ["failed", "sent"]


def test_failure_after_some_parts_went_out_is_not_retried(messenger, fake_webhook):
    long_text = "\n".join(["一行文字" * 40] * 20)                        # 9.6 KB: 5 parts
    total = len(split_message(Text(long_text), "group"))
    calls = []

    def fail_second(key, payload):
        calls.append(payload)
        if len(calls) == 2:
            raise RetryableWeComError(45009, "busy", "webhook/send")
        return {"errcode": 0}

    fake_webhook.send = fail_second
    result = messenger.send_to_group("p1", "chat-1", Text(long_text))
    assert result.failed == ("chat-1",) and total == 5
    (row,) = rows("p1")
    assert row.status == "failed" and f"after 1 of {total} parts" in row.error
    assert messenger.send_to_group("p1", "chat-1", Text(long_text)).skipped == ("chat-1",)
    assert len(calls) == 2                                              # no part went out twice


def test_unknown_group_and_missing_app_are_recorded_failures(app, redis_client, clock, fake_webhook):
    messenger = Messenger(session=db.get_session(), redis=redis_client, app_client=None, webhook=fake_webhook,
                          webhooks=WEBHOOKS, agent_id=None, now=clock)
    assert messenger.send_to_group("p1", "no-such-chat", Text("hi")).failed == ("no-such-chat",)
    assert messenger.send_to_members("p1", ["u1"], Text("hi")).failed == ("u1",)
    assert {(r.recipient, r.status) for r in rows("p1")} == {("group:no-such-chat", "failed"),
                                                             ("user:u1", "failed")}


def test_invalid_users_are_marked_failed_the_rest_sent(messenger, fake_app):
    fake_app.invalid = {"ghost"}
    result = messenger.send_to_members("p1", ["u1", "ghost"], Text("hi"))
    assert result.sent == ("u1",) and result.failed == ("ghost",)
    assert {r.recipient: r.status for r in rows("p1")} == {"user:u1": "sent", "user:ghost": "failed"}


# -- batching, splitting on the wire, rate limits --------------------------------------------------

def test_2500_members_go_out_in_three_calls(messenger, fake_app):
    userids = [f"u{i:04d}" for i in range(2500)]
    result = messenger.send_to_members("p1", userids, Markdown("**通知**"))
    assert [len(ids) for ids, _ in fake_app.sends] == [1000, 1000, 500]
    assert len(result.sent) == 2500 and not result.deferred
    assert all(msg["enable_duplicate_check"] == 1 for _, msg in fake_app.sends)
    assert len({id(msg) for _, msg in fake_app.sends}) == 1            # one rendered message shared
    assert {r.status for r in rows("p1")} == {"sent"} and len(rows("p1")) == 2500


def test_a_retryable_error_in_the_second_call_stops_the_third_and_the_retry_sends_the_rest(messenger, fake_app):
    userids = [f"u{i:04d}" for i in range(2500)]
    fake_app.fail_at = {2: RetryableWeComError(45009, "api freq out of limit", "message/send")}
    with pytest.raises(RetryableWeComError):
        messenger.send_to_members("p1", userids, Text("通知"))
    assert [len(ids) for ids, _ in fake_app.sends] == [1000]        # the third call, already booked, never went out
    assert len(rows("p1")) == 1000 and {r.status for r in rows("p1")} == {"sent"}    # booked claims released
    result = messenger.send_to_members("p1", userids, Text("通知"))  # the job's retry
    assert [len(ids) for ids, _ in fake_app.sends] == [1000, 1000, 500]
    assert len(result.sent) == 1500 and len(result.skipped) == 1000
    assert len(rows("p1")) == 2500 and {r.status for r in rows("p1")} == {"sent"}


def test_a_refused_call_fails_its_batch_only(messenger, fake_app):
    userids = [f"u{i:04d}" for i in range(2500)]
    fake_app.fail_at = {2: WeComError(40003, "invalid userid", "message/send")}
    result = messenger.send_to_members("p1", userids, Text("通知"))
    assert [len(ids) for ids, _ in fake_app.sends] == [1000, 500]
    assert len(result.sent) == 1500 and result.failed == tuple(userids[1000:2000])
    assert {r.errcode for r in rows("p1") if r.status == "failed"} == {40003}


def test_long_text_goes_out_as_several_messages(messenger, fake_app, fake_webhook):
    long_text = "\n".join(["党的二十大精神学习要点" * 10] * 20)          # ~6.6 KB
    messenger.send_to_group("p1", "chat-1", Text(long_text))
    messenger.send_to_members("p1", ["u1"], Text(long_text))
    for payloads in ([p for _, p in fake_webhook.sends], [m for _, m in fake_app.sends]):
        assert len(payloads) == 4
        assert all(len(p["text"]["content"].encode()) <= TEXT_LIMIT for p in payloads)
        assert "\n".join(p["text"]["content"] for p in payloads) == long_text


def test_webhook_over_20_a_minute_defers_instead_of_sending(messenger, fake_webhook, clock):
    results = [messenger.send_to_group(f"p{i}", "chat-1", Text(f"第{i}条")) for i in range(25)]
    assert len(fake_webhook.sends) == 20
    deferred = [r for r in results if r.deferred]
    assert len(deferred) == 5
    assert all(r.retry_at == pytest.approx(clock().timestamp() + 60) for r in deferred)
    assert len(rows()) == 20                                            # deferred: not claimed
    clock.set(clock() + timedelta(seconds=61))
    assert messenger.send_to_group("p20", "chat-1", Text("第20条")).sent == ("chat-1",)


def test_group_name_and_chat_id_share_limits_only_per_webhook_key(messenger, fake_webhook):
    for i in range(20):
        messenger.send_to_group(f"p{i}", "chat-1", Text("x"))
    assert messenger.send_to_group("p99", "chat-1", Text("x")).deferred
    assert messenger.send_to_group("p99", "水情监测班组", Text("x")).sent       # another robot


def test_members_over_30_a_minute_are_deferred_not_dropped(messenger, fake_app, clock):
    for i in range(30):
        messenger.send_to_members(f"p{i}", ["busy"], Text("x"))
    result = messenger.send_to_members("p30", ["busy", "idle"], Text("x"))
    assert result.sent == ("idle",)
    assert set(result.deferred) == {"busy"}
    assert result.deferred["busy"] == pytest.approx(clock().timestamp() + 60)
    assert fake_app.sends[-1][0] == ["idle"]


# -- media -----------------------------------------------------------------------------------------

def test_group_image_is_inline_base64_with_md5(messenger, fake_webhook):
    messenger.send_to_group("p1", "chat-1", Image(PNG))
    (_, payload), = fake_webhook.sends
    assert payload["msgtype"] == "image"
    assert base64.b64decode(payload["image"]["base64"]) == PNG
    assert payload["image"]["md5"] == hashlib.md5(PNG).hexdigest()
    assert fake_webhook.uploads == []


@pytest.mark.parametrize("message,kind", [(File("资料.pdf", b"%PDF-1.4 x"), "file"),
                                          (Voice(b"#!AMR\n\0\0\0\0"), "voice")])
def test_group_file_and_voice_are_uploaded_to_that_webhook_first(messenger, fake_webhook, message, kind):
    messenger.send_to_group("p1", "chat-1", message)
    assert fake_webhook.uploads == [("key-1", kind, message.filename, message.data)]
    assert fake_webhook.sends == [("key-1", {"msgtype": kind, kind: {"media_id": "hook-media-1"}})]


def test_member_media_is_uploaded_once_for_all_batches(messenger, fake_app):
    userids = [f"u{i}" for i in range(1500)]
    messenger.send_to_members("p1", userids, Voice(b"#!AMR\n\0\0\0\0"))
    assert [kind for kind, _, _ in fake_app.uploads] == ["voice"]
    assert [msg["voice"] for _, msg in fake_app.sends] == [{"media_id": "app-media-1"}] * 2


def test_a_series_reaches_each_batch_whole_with_one_ledger_row_per_member(messenger, fake_app):
    userids = [f"u{i:04d}" for i in range(1500)]
    result = messenger.send_to_members("p1", userids, Series((Voice(b"#!AMR\n\0\0\0\0"), Text("以上是语音"))))
    assert [(len(ids), msg["msgtype"]) for ids, msg in fake_app.sends] == [
        (1000, "voice"), (1000, "text"), (500, "voice"), (500, "text")]
    assert len(result.sent) == 1500
    assert len(rows("p1")) == 1500 and {(r.status, r.msgtype) for r in rows("p1")} == {("sent", "series")}


def test_a_series_cut_short_after_its_first_message_is_a_failure_not_a_retry(messenger, fake_app):
    fake_app.fail_at = {2: RetryableWeComError(45009, "api freq out of limit", "message/send")}
    result = messenger.send_to_members("p1", ["u1"], Series((News((Article("标题", "https://x"),)), Text("评价"))))
    assert [msg["msgtype"] for _, msg in fake_app.sends] == ["news"]      # the card went out: never sent again
    assert result.failed == ("u1",)
    assert [(r.status, r.errcode) for r in rows("p1")] == [("failed", 45009)]
    assert "after 1 of 2 parts" in rows("p1")[0].error


def test_news_renders_articles(messenger, fake_webhook):
    messenger.send_to_group("p1", "chat-1", News((Article("标题", "https://example.org/a", "摘要"),)))
    (_, payload), = fake_webhook.sends
    assert payload == {"msgtype": "news", "news": {"articles": [
        {"title": "标题", "url": "https://example.org/a", "description": "摘要"}]}}


# -- the jobs --------------------------------------------------------------------------------------

@pytest.fixture
def fake_clients(app, fake_app, fake_webhook):
    app.config["WECOM_GROUP_WEBHOOKS"] = WEBHOOKS
    app.extensions[wecom.EXTENSION] = wecom.WeComClients(app=fake_app, webhook=fake_webhook)
    return fake_app, fake_webhook


def test_enqueue_helpers_run_the_jobs_once_per_push(fake_clients):
    fake_app, fake_webhook = fake_clients
    first = outbox.enqueue_to_members("push:7", ["u2", "u1"], Text("通知"))
    again = outbox.enqueue_to_members("push:7", ["u1", "u2"], Text("通知"))
    outbox.enqueue_to_group("push:7", "水情监测班组", Markdown("**通知**"))
    assert not first.duplicate and again.duplicate
    assert first.job_id.startswith("send-members-push_7-")
    assert [ids for ids, _ in fake_app.sends] == [["u1", "u2"]]
    assert [key for key, _ in fake_webhook.sends] == ["key-2"]


def test_job_run_twice_sends_once(fake_clients):
    fake_app, _ = fake_clients
    message = Text("通知").to_dict()
    outbox.deliver_to_members(push_id="p1", userids=["u1"], message=message)
    summary = outbox.deliver_to_members(push_id="p1", userids=["u1"], message=message)
    assert len(fake_app.sends) == 1 and summary["skipped"] == 1


def test_retryable_error_propagates_out_of_the_job(fake_clients):
    fake_app, _ = fake_clients
    fake_app.fail = [RetryableWeComError(-1, "system busy", "message/send")]
    with pytest.raises(RetryableWeComError):
        outbox.deliver_to_members(push_id="p1", userids=["u1"], message=Text("x").to_dict())
    outbox.deliver_to_members(push_id="p1", userids=["u1"], message=Text("x").to_dict())
    assert len(fake_app.sends) == 1


def test_deferred_recipients_are_rescheduled_with_deterministic_ids(app, fake_clients, clock):
    _, fake_webhook = fake_clients
    for i in range(20):
        outbox.deliver_to_group(push_id=f"p{i}", chat="chat-1", message=Text("x").to_dict())
    summary = outbox.deliver_to_group(push_id="late", chat="chat-1", message=Text("x").to_dict())
    outbox.deliver_to_group(push_id="late", chat="chat-1", message=Text("x").to_dict())   # RQ retry
    assert summary["deferred"] == 1
    registry = get_jobs(app).queue(OUTBOX).scheduled_job_registry
    (job_id,) = registry.get_job_ids()
    assert job_id.startswith("send-group-late-")
    job = get_jobs(app).queue(OUTBOX).fetch_job(job_id)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.kwargs == {"push_id": "late", "chat": "chat-1", "message": Text("x").to_dict()}
    clock.set(clock() + timedelta(seconds=61))
    job.func(**job.kwargs)                                      # what the scheduler runs later
    assert len(fake_webhook.sends) == 21


def test_job_ids_are_valid_for_rq_and_deterministic():
    a = outbox.job_id("group", "周报/2026-11:第3期", "水情监测班组")
    assert a == outbox.job_id("group", "周报/2026-11:第3期", "水情监测班组")
    assert a != outbox.job_id("group", "周报/2026-11:第3期", "chat-1")
    assert all(c.isalnum() and c.isascii() or c in "_-" for c in a)


def test_a_message_too_long_for_any_window_is_recorded_not_retried_forever(messenger, fake_webhook):
    huge = "\n".join(["长" * 600] * 40)                 # 72 KB of text: 40 parts > 20 a minute
    result = messenger.send_to_group("p1", "chat-1", Text(huge))
    assert result.failed == ("chat-1",) and fake_webhook.sends == []
    (row,) = rows("p1")
    assert row.status == "failed" and "too long" in row.error
