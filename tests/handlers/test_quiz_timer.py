"""Per-question time limits: asking schedules a job; when it fires the question is missed and the quiz moves
on (pushed to the group with an @, or to the member); an answer in time makes a late job do nothing."""
from __future__ import annotations

from datetime import timedelta

import fakeredis
import pytest
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from bot import db
from bot.models import StudyLog
from bot.tasks import get_jobs
from jobs.quiz_timer import time_out_question, timer_job_id
from tests.handlers.test_quiz import GROUP_CHAT, answer_rows, asked, cards, flow, right_reply, running, say
from tests.standin_http import HOOK_KEY, messages


@pytest.fixture
def redis(fake_server):
    return fakeredis.FakeRedis(server=fake_server)


@pytest.fixture
def quiz(tmp_path, redis, clock, standin_url):
    with running(tmp_path, redis, clock, WECOM_API_BASE=standin_url, WECOM_GROUP_WEBHOOKS={GROUP_CHAT: HOOK_KEY},
                 QUIZ_SECONDS_PER_QUESTION=30) as (_app, platform):
        yield platform


def scheduled() -> list[str]:
    return ScheduledJobRegistry(queue=get_jobs().queue()).get_job_ids()


def timer_of(redis, *, group: bool) -> dict:
    data = flow(redis, group=group)["data"]
    job_id = timer_job_id(data["id"], data["i"])
    assert job_id in scheduled()
    return Job.fetch(job_id, connection=redis).kwargs


def group_posts(url) -> list[dict]:
    return [m["body"] for m in messages(url, via="webhook")]


def test_a_group_question_has_a_time_limit_and_a_scheduled_job(quiz, redis):
    text = say(quiz, "答题", group=True)
    assert "（限时 60 秒）" in text                   # QUIZ_GROUP_SECONDS_PER_QUESTION's default
    data = flow(redis, group=True)["data"]
    assert timer_of(redis, group=True) == {"channel": "robot", "chat_id": GROUP_CHAT, "userid": "u001",
                                           "quiz_id": data["id"], "index": 0, "in_group": True}


def test_time_up_in_a_group_records_missed_and_posts_the_next_question(quiz, redis, clock, standin_url):
    say(quiz, "答题", group=True)
    ref = asked(redis, group=True)
    kwargs = timer_of(redis, group=True)
    clock.set(clock.at + timedelta(seconds=61))
    assert time_out_question(**kwargs) is True
    [row] = answer_rows()
    assert (row.question_ref, row.outcome, row.seconds, row.reply) == (ref, "missed", 61.0, "")
    assert ref in cards()
    assert flow(redis, group=True)["data"]["i"] == 1
    [post] = group_posts(standin_url)
    assert "时间到" in post["text"]["content"] and "第 2/5 题" in post["text"]["content"]
    assert post["text"]["mentioned_list"] == ["u001"]
    assert timer_of(redis, group=True)["index"] == 1          # the next question's clock is running
    assert time_out_question(**kwargs) is False               # the same job again: nothing more
    assert len(answer_rows()) == 1 and len(group_posts(standin_url)) == 1


def test_an_answer_in_time_cancels_the_job_and_a_late_firing_does_nothing(quiz, redis, clock, standin_url):
    say(quiz, "答题", group=True)
    kwargs = timer_of(redis, group=True)
    clock.set(clock.at + timedelta(seconds=20))
    assert "回答正确" in say(quiz, right_reply(asked(redis, group=True)), group=True)
    assert timer_job_id(kwargs["quiz_id"], 0) not in scheduled()
    clock.set(clock.at + timedelta(seconds=60))
    assert time_out_question(**kwargs) is False
    assert [r.outcome for r in answer_rows()] == ["right"] and group_posts(standin_url) == []
    assert flow(redis, group=True)["data"]["i"] == 1


def test_one_to_one_time_limit_pushes_to_the_member(quiz, redis, clock, standin_url):
    text = say(quiz, "答题")
    assert "（限时 30 秒）" in text
    kwargs = timer_of(redis, group=False)
    assert kwargs["in_group"] is False and kwargs["chat_id"] == "u001"
    clock.set(clock.at + timedelta(seconds=31))
    assert time_out_question(**kwargs) is True
    [sent] = messages(standin_url, via="app", recipient="u001")
    assert "时间到" in sent["body"]["text"]["content"] and "第 2/5 题" in sent["body"]["text"]["content"]


def test_the_last_question_timing_out_ends_the_quiz_with_the_summary(quiz, redis, clock, standin_url):
    say(quiz, "答题")
    for _ in range(4):
        say(quiz, right_reply(asked(redis)))
    kwargs = timer_of(redis, group=False)
    assert kwargs["index"] == 4
    clock.set(clock.at + timedelta(seconds=45))
    assert time_out_question(**kwargs) is True
    # no timer after the last question (the one that fired is still listed: the test called it directly)
    assert flow(redis) is None and scheduled() == [timer_job_id(kwargs["quiz_id"], 4)]
    [sent] = messages(standin_url, via="app", recipient="u001")
    assert "今天的答题结束：答对 4/5 题" in sent["body"]["text"]["content"]
    log = db.get_session().scalars(select(StudyLog)).one()
    assert (log.source, log.source_ref) == ("quiz", kwargs["quiz_id"])


def test_a_quiz_ended_early_leaves_no_timer_behind(quiz, redis, clock):
    say(quiz, "答题", group=True)
    kwargs = timer_of(redis, group=True)
    say(quiz, "结束", group=True)
    assert scheduled() == []
    clock.set(clock.at + timedelta(seconds=61))
    assert time_out_question(**kwargs) is False and answer_rows() == []


def test_no_time_limit_one_to_one_by_default(tmp_path, redis_client, clock):
    with running(tmp_path, redis_client, clock) as (_app, platform):
        assert "限时" not in say(platform, "答题")
        assert scheduled() == []


def test_a_time_out_that_loses_the_race_to_an_answer_changes_nothing(quiz, redis, clock, standin_url, monkeypatch):
    from bot import flows
    from jobs import quiz_timer

    say(quiz, "答题", group=True)
    kwargs = timer_of(redis, group=True)
    real_save = flows.save

    def answer_lands_first(client, key, state, *, read_rev, ttl_seconds):
        client.set(key, flows.FlowState("quiz", "answer", {"moved": True}, read_rev + 1).dumps())
        return real_save(client, key, state, read_rev=read_rev, ttl_seconds=ttl_seconds)

    monkeypatch.setattr(quiz_timer.flows, "save", answer_lands_first)
    clock.set(clock.at + timedelta(seconds=61))
    assert time_out_question(**kwargs) is False
    assert answer_rows() == [] and cards() == {} and group_posts(standin_url) == []


def test_a_reply_crossing_the_time_out_is_not_graded_against_the_next_question(quiz, redis, clock):
    say(quiz, "答题", group=True)
    kwargs = timer_of(redis, group=True)
    clock.set(clock.at + timedelta(seconds=60))
    assert time_out_question(**kwargs) is True
    clock.set(clock.at + timedelta(seconds=2))
    text = say(quiz, "A", group=True)
    assert "时间刚好到了" in text and "第 2/5 题" in text
    assert [r.outcome for r in answer_rows()] == ["missed"]
    assert "回答" in say(quiz, right_reply(asked(redis, group=True)), group=True)      # the next reply counts
    assert [r.outcome for r in answer_rows()] == ["missed", "right"]
