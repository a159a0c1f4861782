"""The contest's close job: posts through the real outbound path to the stand-in, stores answers once,
moves on to the next question, ends with the leaderboard; firing twice or late does nothing twice."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from bot import db, redis_store
from bot.models.quiz import QuizAnswer
from bot.tasks import get_jobs
from handlers._services import contest as service
from handlers._services import question_bank
from jobs.contest import close_question
from tests.factories import member
from tests.handlers.test_contest import CHAT, app, say  # noqa: F401  (the app fixture with the group's webhook)
from tests.standin_http import messages


def posts(url):
    return [m["body"]["text"]["content"] for m in messages(url, via="webhook")]


def answers_stored():
    session = db.get_session()
    session.expire_all()
    rows = session.scalars(select(QuizAnswer).order_by(QuizAnswer.question_ref, QuizAnswer.userid))
    return [(r.userid, r.question_ref, r.outcome, r.mode, r.seconds) for r in rows]


def scheduled_closes():
    registry = ScheduledJobRegistry(queue=get_jobs().queue())
    return {job_id: registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids()}


@pytest.fixture
def started(app, platform, clock):  # noqa: F811
    session = db.get_session()
    member(session, "u001", name="张三")
    member(session, "u002", name="李四", department="办公室", team=None)
    member(session, "u003", name="王五")
    say(platform, "竞赛 大坝安全 2 30", user="admin01")
    return service.find(redis_store.get_redis(), CHAT)


def right_and_wrong(contest, index=None):
    """A right and a wrong reply to the contest's question, written the way members type them."""
    question = contest.question(index).question
    if question.type == "truefalse":
        return ("对", "错") if question.answer else ("错", "对")
    if question.type == "fill":
        return question.answer[0], "混凝土"
    return question.answer_label, next(letter for letter in question.options if not question.is_correct(letter))


def test_close_posts_the_answer_and_the_next_question_and_schedules_its_close(started, platform, clock, standin_url):
    right, wrong = right_and_wrong(started)
    clock.set(clock() + timedelta(seconds=3))
    say(platform, right, user="u001")
    say(platform, wrong, user="u002")
    clock.set(started.deadline(clock().tzinfo) + timedelta(seconds=2))     # the job fires a little late
    assert close_question(chat_id=CHAT, contest_id=started.id, index=0) == service.Closing.DONE

    (post,) = posts(standin_url)
    first = started.question(0).question
    assert f"【第 1 题揭晓】正确答案：{first.answer_label}" in post and first.explanation in post
    assert "本题 2 人作答，1 人答对。" in post and "最快答对：张三（3.0 秒，+95 分）" in post
    after = service.find(redis_store.get_redis(), CHAT)
    assert after.index == 1 and after.question().question.text in post and "第 2/2 题" in post
    # the next question runs its full time from when it was really posted
    assert after.opened_ms == int((started.deadline(clock().tzinfo) + timedelta(seconds=2)).timestamp() * 1000)
    assert scheduled_closes()[f"contest-close-{started.id}-1"] == after.deadline(clock().tzinfo)
    ref = started.questions[0][0]
    # u003 did not answer and is not recorded
    assert answers_stored() == [("u001", ref, "right", "contest", 3.0), ("u002", ref, "wrong", "contest", 3.0)]


def test_a_close_job_firing_twice_does_nothing_twice(started, platform, clock, standin_url):
    right, _ = right_and_wrong(started)
    say(platform, right, user="u001")
    clock.set(started.deadline(clock().tzinfo))
    assert close_question(chat_id=CHAT, contest_id=started.id, index=0) == service.Closing.DONE
    moved = service.find(redis_store.get_redis(), CHAT)
    clock.set(clock() + timedelta(seconds=5))
    assert close_question(chat_id=CHAT, contest_id=started.id, index=0) == service.Closing.AGAIN
    assert len(posts(standin_url)) == 1 and len(answers_stored()) == 1
    assert service.find(redis_store.get_redis(), CHAT) == moved     # the second run moved nothing


def test_a_job_of_another_contest_does_nothing(started, standin_url):
    assert close_question(chat_id=CHAT, contest_id="ct-20200101000000-deadbeef", index=0) == service.Closing.GONE
    assert service.find(redis_store.get_redis(), CHAT).index == 0 and posts(standin_url) == []


def test_after_the_last_question_the_leaderboard_is_posted_once(started, platform, clock, standin_url):
    opened = clock()
    right, _ = right_and_wrong(started)
    say(platform, right, user="u001")                          # 100
    clock.set(opened + timedelta(seconds=12))
    say(platform, right, user="u002")                          # 80
    clock.set(started.deadline(opened.tzinfo))
    close_question(chat_id=CHAT, contest_id=started.id, index=0)
    second = service.find(redis_store.get_redis(), CHAT)
    right, wrong = right_and_wrong(second)
    clock.set(clock() + timedelta(seconds=6))
    say(platform, right, user="u003")                          # 90
    say(platform, wrong, user="u001")                          # 0
    clock.set(second.deadline(opened.tzinfo))
    assert close_question(chat_id=CHAT, contest_id=started.id, index=1) == service.Closing.DONE
    assert close_question(chat_id=CHAT, contest_id=started.id, index=1) == service.Closing.AGAIN

    last = posts(standin_url)[-1]
    assert len(posts(standin_url)) == 2
    assert "【第 2 题揭晓】" in last and "【答题竞赛结束 · 排行榜】共 3 人参赛" in last
    assert last.index("1. 张三（工程管理科）100 分") < last.index("2. 王五（工程管理科）90 分") \
        < last.index("3. 李四（办公室）80 分")
    assert "· 工程管理科 95 分（2 人）" in last and "· 办公室 80 分（1 人）" in last
    assert not service.find(redis_store.get_redis(), CHAT).running
    assert db.get_session().scalar(select(func.count()).select_from(QuizAnswer)) == 4


def test_the_leaderboard_shows_the_top_ten(app, clock, standin_url):  # noqa: F811
    session = db.get_session()
    for i in range(12):
        member(session, f"m{i:02d}", name=f"成员{i:02d}", department="工程管理科" if i % 2 else "办公室")
    bq = next(bq for bq in question_bank.all_questions() if bq.question.type == "single")
    opened = clock()
    contest = service.start(redis_store.get_redis(), chat_id=CHAT, contest_id="ct-top-ten", title="测试",
                            questions=[bq], seconds=100, now=opened)
    for i in range(12):
        clock.set(opened + timedelta(seconds=i * 8))           # 100, 96, 92 … 56
        service.submit(redis_store.get_redis(), contest, userid=f"m{i:02d}", reply="x", correct=True, now=clock())
    clock.set(opened + timedelta(seconds=100))
    close_question(chat_id=CHAT, contest_id="ct-top-ten", index=0)
    board = posts(standin_url)[-1]
    expected = [100 - 4 * i for i in range(10)]
    lines = [line for line in board.splitlines() if re.match(r"\d+\. ", line)]
    assert [int(line.rsplit("）", 1)[1].removesuffix(" 分")) for line in lines] == expected
    assert "11." not in board and "共 12 人参赛" in board
    # even positions are 办公室: 100, 92 … 60 → 80; odd are 工程管理科: 96 … 56 → 76
    assert "· 办公室 80 分（6 人）" in board and "· 工程管理科 76 分（6 人）" in board
