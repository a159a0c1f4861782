"""竞赛 through the real encrypted group-robot callback: starting, answering in every form, scoring, stopping."""
from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from bot import db, redis_store
from bot.models.quiz import QuizAnswer
from bot.tasks import get_jobs
from handlers._services import contest as service
from handlers._services import question_bank
from jobs.contest import close_question
from tests.factories import member
from tests.standin_http import HOOK_KEY, app_on_standin, messages

CHAT = "wrkDemoGroup01"


@pytest.fixture
def app(tmp_path, fake_server, standin_url, clock):
    """The bot with the demo group's webhook pointing at the stand-in, so posts can be read back."""
    with app_on_standin(tmp_path, fake_server, standin_url, clock, WECOM_GROUP_WEBHOOKS={CHAT: HOOK_KEY}) as app:
        yield app


@pytest.fixture
def members(app):
    session = db.get_session()
    return [member(session, "u001", name="张三"), member(session, "u002", name="李四", department="办公室", team=None)]


def say(platform, text, user="u001", **kw):
    return platform.say(text, user=user, chat=CHAT, **kw).text


def contest():
    return service.find(redis_store.get_redis(), CHAT)


def start_with(refs: list[str], clock, seconds=30):
    """A contest on chosen questions, as the 竞赛 command stores it (the answer tests need known questions)."""
    questions = [question_bank.find(ref) for ref in refs]
    return service.start(redis_store.get_redis(), chat_id=CHAT, contest_id="ct-test-1", title="测试",
                         questions=questions, seconds=seconds, now=clock())


def first_of_type(qtype: str) -> str:
    return next(bq.ref for bq in question_bank.all_questions() if bq.question.type == qtype)


def stored(contest_id="ct-test-1"):
    session = db.get_session()
    session.expire_all()
    rows = session.scalars(select(QuizAnswer).where(QuizAnswer.session_ref == contest_id).order_by(QuizAnswer.userid))
    return [(r.userid, r.outcome, r.reply) for r in rows]


def scores(contest_id="ct-test-1"):
    raw = redis_store.get_redis().zrange(f"szzs:contest-scores:{contest_id}", 0, -1, withscores=True)
    return {u.decode(): int(s) for u, s in raw}


# -- starting ------------------------------------------------------------------------------------

def test_admin_starts_a_contest_and_the_reply_carries_the_first_question(app, platform, clock):
    reply = say(platform, "竞赛 大坝安全 3 20", user="admin01")
    running = contest()
    assert running.running and len(running.questions) == 3 and running.seconds == 20
    assert {ref.split("/")[0] for ref, _ in running.questions} == {"quiz_dam_safety"}
    assert "答题竞赛开始" in reply and "共 3 题，每题 20 秒" in reply
    assert running.question().question.text in reply and "第 1/3 题" in reply
    assert running.deadline_ms - running.opened_ms == 20_000
    registry = ScheduledJobRegistry(queue=get_jobs().queue())
    job_id = f"contest-close-{running.id}-0"
    assert job_id in registry.get_job_ids()
    assert registry.get_scheduled_time(job_id) == running.deadline(clock().tzinfo)


@pytest.mark.parametrize("text, count, seconds", [
    ("竞赛 水法", 5, 30), ("知识竞赛 防汛值班 3", 3, 30), ("竞赛 库区生态 10题 45秒", 10, 45),
    ("竞赛 大坝安全 30秒", 5, 30), ("竞赛 大坝安全 五题 1分钟", 5, 60), ("ＣＯＮＴＥＳＴ 大坝安全 ２ １５", 2, 15),
])
def test_everyday_phrasings_of_the_start_command(app, platform, text, count, seconds):
    say(platform, text, user="admin01")
    running = contest()
    assert running is not None, text
    assert (len(running.questions), running.seconds) == (min(count, len(question_bank.matching(text.split()[1]))),
                                                         seconds)


def test_a_topic_draws_only_its_questions_and_says_when_there_are_fewer(app, platform):
    topic_size = len(question_bank.matching("水法"))
    reply = say(platform, "竞赛 水法 20", user="admin01")
    assert all("水法" in question_bank.find(ref).topics for ref, _ in contest().questions)
    assert f"主题「水法」，共 {topic_size} 题（该题库共 {topic_size} 题）" in reply


def test_members_may_not_start_a_contest(app, platform, members):
    reply = say(platform, "竞赛 大坝安全")
    assert "管理员" in reply and contest() is None


def test_one_to_one_the_contest_is_refused(app, platform):
    reply = platform.say("竞赛 大坝安全", user="admin01", chattype="single").text
    assert "群" in reply and contest() is None


@pytest.mark.parametrize("text, says", [
    ("竞赛 大坝安全 0", "题数请在 1–20 之间"), ("竞赛 大坝安全 21", "题数请在 1–20 之间"),
    ("竞赛 大坝安全 5 5", "每题时间请在 10–300 秒之间"), ("竞赛 大坝安全 5 10分钟", "每题时间请在 10–300 秒之间"),
    ("竞赛 大坝安全 很多", "没看懂「很多」"), ("竞赛 大坝安全 5 30 9", "最多写两个数字"),
])
def test_out_of_bounds_options_are_explained_and_start_nothing(app, platform, text, says):
    reply = say(platform, text, user="admin01")
    assert says in reply and "用法：竞赛" in reply
    assert contest() is None


def test_an_unknown_bank_lists_the_banks(app, platform):
    reply = say(platform, "竞赛 天文地理", user="admin01")
    assert "没有找到题库或主题「天文地理」" in reply and "水库大坝安全管理" in reply and "防汛值班与应急处置" in reply
    assert contest() is None


def test_the_bare_command_asks_for_a_bank(app, platform):
    reply = say(platform, "竞赛", user="admin01")
    assert "哪个题库" in reply and "可用题库" in reply and contest() is None


def test_a_second_start_is_refused_politely(app, platform):
    say(platform, "竞赛 大坝安全 3", user="admin01")
    first = contest()
    reply = say(platform, "竞赛 水法", user="admin01")
    assert "已经有一场竞赛在进行（第 1/3 题）" in reply
    assert contest() == first


def test_a_group_without_a_webhook_cannot_start_one(app, platform):
    reply = platform.say("竞赛 大坝安全", user="admin01", chat="wrkOtherGroup").text
    assert "WECOM_GROUP_WEBHOOKS" in reply
    assert service.find(redis_store.get_redis(), "wrkOtherGroup") is None


# -- answering -----------------------------------------------------------------------------------

def _choice_forms():
    ref = first_of_type("single")
    question = question_bank.find(ref).question
    right = question.answer
    wrong = next(letter for letter in question.options if letter != right)
    full_width = chr(ord(right) + 0xFEE0)
    return ref, [(right, True), (right.lower(), True), (full_width, True), (f"选{right}", True),
                 (f"我选{right}。", True), (f"答案是 {right.lower()}", True), (f"{right}吧", True),
                 (question.options[right], True), (wrong, False), (question.options[wrong], False)]


@pytest.mark.parametrize("form", range(10))
def test_every_answer_form_to_a_single_choice_question(app, platform, clock, members, form):
    ref, forms = _choice_forms()
    text, right = forms[form]
    start_with([ref], clock)
    assert "已收到你对第 1 题的回答" in say(platform, text)
    close_question(chat_id=CHAT, contest_id="ct-test-1", index=0)
    # what reaches handlers is already normalised (full-width → half-width)
    assert stored() == [("u001", "right" if right else "wrong", unicodedata.normalize("NFKC", text))]


@pytest.mark.parametrize("qtype, forms", [
    ("truefalse", [("对", None), ("√", None), ("错", None), ("×", None), ("正确", None)]),
    ("multiple", [("answer", True), ("answer-spaced", True), ("A", False)]),
])
def test_true_false_and_multiple_choice_answers(app, platform, clock, members, qtype, forms):
    ref = first_of_type(qtype)
    question = question_bank.find(ref).question
    for number, (text, right) in enumerate(forms):
        if text == "answer":
            text = question.answer.lower()
        elif text == "answer-spaced":
            text = " ".join(question.answer)
        expected = question.is_correct(text) if right is None else right
        start_with([ref], clock)
        redis_store.get_redis().delete("szzs:contest-answers:ct-test-1:0", "szzs:contest-scores:ct-test-1")
        say(platform, text)
        assert scores() == {"u001": 100 if expected else 0}, (text, expected)
        service.stop(redis_store.get_redis(), CHAT)


def test_scores_fall_from_100_to_50_at_the_deadline_and_late_answers_are_told(app, platform, clock, members):
    ref = first_of_type("single")
    right = question_bank.find(ref).question.answer
    opened = clock()
    start_with([ref], clock, seconds=30)
    clock.set(opened + timedelta(seconds=15))
    say(platform, right, user="u001")
    clock.set(opened + timedelta(seconds=30))
    say(platform, right, user="u002")
    member(db.get_session(), "u003", name="王五")
    clock.set(opened + timedelta(seconds=30, milliseconds=1))
    late = say(platform, right, user="u003")
    assert "第 1 题已经截止" in late and "没有计分" in late
    assert scores() == {"u001": 75, "u002": 50}


def test_only_the_first_answer_counts(app, platform, clock, members):
    ref = first_of_type("single")
    question = question_bank.find(ref).question
    wrong = next(letter for letter in question.options if letter != question.answer)
    start_with([ref], clock)
    say(platform, wrong)
    again = say(platform, question.answer)
    assert "已经记下了，以第一次回答为准" in again
    assert scores() == {"u001": 0}


def test_chat_during_a_contest_is_not_taken_as_an_answer(app, platform, clock, members):
    start_with([first_of_type("single")], clock)
    reply = say(platform, "这道题好难啊，大家加油吧，我先去巡坝了，回来再看看结果如何")
    assert "已收到" not in reply
    assert scores() == {}


def test_i_dont_know_is_not_an_answer(app, platform, clock, members):
    start_with([first_of_type("single")], clock)
    assert "已收到" not in say(platform, "不知道")
    assert scores() == {}


def test_without_a_contest_an_answer_is_not_the_contest_s(app, platform, members):
    assert "已收到" not in say(platform, "B")


def test_a_finished_contest_says_so(app, platform, clock, members):
    ref = first_of_type("single")
    start_with([ref], clock)
    close_question(chat_id=CHAT, contest_id="ct-test-1", index=0)
    assert "本场竞赛已经结束" in say(platform, question_bank.find(ref).question.answer)


def test_someone_not_on_the_roster_is_not_scored(app, platform, clock):
    start_with([first_of_type("single")], clock)
    assert "不在本单位名册" in say(platform, "A", user="admin01")
    assert scores() == {}


# -- stopping ------------------------------------------------------------------------------------

def test_stop_gives_the_leaderboard_so_far_and_the_pending_close_does_nothing(app, platform, clock, members,
                                                                             standin_url):
    refs = [first_of_type("single"), first_of_type("truefalse")]
    right = question_bank.find(refs[0]).question.answer
    start_with(refs, clock)
    say(platform, right, user="u001")
    clock.set(clock() + timedelta(seconds=6))
    say(platform, right, user="u002")
    reply = say(platform, "结束竞赛", user="admin01")
    assert "提前结束" in reply and "共 2 人参赛" in reply
    assert reply.index("1. 张三（工程管理科）100 分") < reply.index("2. 李四（办公室）90 分")
    assert "· 工程管理科 100 分（1 人）" in reply and "· 办公室 90 分（1 人）" in reply
    assert stored() == [("u001", "right", right), ("u002", "right", right)]
    assert close_question(chat_id=CHAT, contest_id="ct-test-1", index=0) == service.Closing.STALE
    assert messages(standin_url) == []
    assert "没有进行中的竞赛" in say(platform, "结束竞赛", user="admin01")


def test_members_may_not_stop_a_contest(app, platform, clock, members):
    start_with([first_of_type("single")], clock)
    assert "管理员" in say(platform, "结束竞赛")
    assert contest().running


def test_a_personal_quiz_in_the_group_waits_while_a_contest_runs(app, platform, clock, members):
    """The contest takes the group's answers; 答题 there is refused until it ends, and an open quiz resumes after."""
    quiz = say(platform, "答题", user="u002")
    assert "开始今天的答题" in quiz
    ref = first_of_type("single")
    start_with([ref], clock)
    assert "私聊" in say(platform, "答题", user="u001")
    assert "已收到你对第 1 题的回答" in say(platform, question_bank.find(ref).question.answer, user="u002")
    assert scores() == {"u002": 100}
    service.stop(redis_store.get_redis(), CHAT)
    assert "接着答这一题" in say(platform, "答题", user="u002")      # the quiz is still there, where it was
