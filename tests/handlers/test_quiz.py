"""答题, 跳过, 结束, 错题 through the real encrypted callback path, on small packs written for each test.

The helpers at the top (packs, app, say, records) are shared by the other test_quiz_* modules.
"""
from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from pathlib import Path

import fakeredis
import pytest
import yaml
from sqlalchemy import select

from bot import create_app, db
from bot.keys import FLOW
from bot.models import CheckIn, StudyLog
from bot.models.quiz import QuizAnswer, ReviewCard
from bot.textnorm import normalize
from tests.conftest import TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN, make_settings
from tests.factories import member
from tests.platform import messages
from tests.platform.actor import WeComPlatform

GROUP_CHAT = messages.DEMO_CHAT
_COMMON = {"topics": ["测试"], "difficulty": 1, "explanation": "这是解析。", "source": "测试题库"}
Q = {
    "single": {"id": "q-single", "type": "single", "text": "根据《水法》，水资源属于（  ）所有。",
               "options": {"A": "国家", "B": "集体", "C": "水库管理单位", "D": "取水单位"}, "answer": "A"},
    "multiple": {"id": "q-multiple", "type": "multiple", "text": "防汛“四预”包括（  ）。",
                 "options": {"A": "预报", "B": "预警", "C": "预演", "D": "预售"}, "answer": "ABC"},
    "truefalse": {"id": "q-truefalse", "type": "truefalse", "text": "汛期实行 24 小时值班。", "answer": True},
    "fill": {"id": "q-fill", "type": "fill", "text": "县级以上人民政府设立____，负责本地防汛抗旱工作。",
             "answer": ["防汛抗旱指挥部"]},
}


def single(qid: str, answer: str = "A") -> dict:
    return {"id": qid, "type": "single", "text": f"题目 {qid}", "options": {"A": "甲", "B": "乙"}, "answer": answer}


# quiz_all for everyone, quiz_ops for 工程运维 (the factory member's cohort), quiz_retired for 退休
DEFAULT_PACKS = {
    "quiz_all": ((), [Q["single"], Q["multiple"], Q["truefalse"], Q["fill"]]),
    "quiz_ops": (("工程运维",), [single("ops-1"), single("ops-2")]),
    "quiz_retired": (("退休",), [single("ret-1")]),
}


def write_packs(root: Path, packs: dict) -> Path:
    for pack_id, (audience, questions) in packs.items():
        folder = root / pack_id
        folder.mkdir(parents=True)
        manifest = {"id": pack_id, "version": 1, "title": f"测试题库 {pack_id}", "kind": "quiz", "topics": ["测试"],
                    "audience": list(audience), "description": "测试用"}
        (folder / "pack.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), "utf-8")
        (folder / "questions.yaml").write_text(
            yaml.safe_dump([{**q, **_COMMON} for q in questions], allow_unicode=True, sort_keys=False), "utf-8")
    return root


def build_app(tmp_path: Path, redis, clock, *, packs: dict | None = None, **overrides):
    root = tmp_path / "packs"
    if not root.exists():
        write_packs(root, DEFAULT_PACKS if packs is None else packs)
    return create_app(make_settings(tmp_path, CONTENT_PACKS_DIR=str(root), **overrides), redis=redis, clock=clock)


@contextlib.contextmanager
def running(tmp_path, redis, clock, *, people=("u001",), **kw):
    """An app on test packs with members on the roster, and WeCom to talk to it."""
    app = build_app(tmp_path, redis, clock, **kw)
    with app.app_context():
        db.create_all(app)
        for userid in people:
            member(db.get_session(), userid, name={"u001": "张三", "u002": "李四"}.get(userid, userid))
        yield app, WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                 client=app.test_client())


def say(platform, text: str, *, user="u001", group=False, **kw) -> str:
    if group:
        return platform.say(text, channel="robot", chattype="group", user=user, chat=GROUP_CHAT, **kw).text
    return platform.say(text, channel="app", chattype="single", user=user, **kw).text


def flow(redis, *, user="u001", group=False) -> dict | None:
    key = FLOW.format(channel="robot" if group else "app", chat_id=GROUP_CHAT if group else user, user_id=user)
    raw = redis.get(key)
    return json.loads(raw) if raw else None


def asked(redis, **kw) -> str:
    """The ref of the question the member's open quiz is waiting on."""
    data = flow(redis, **kw)["data"]
    return data["refs"][data["i"]]


def answer_rows(**where) -> list[QuizAnswer]:
    session = db.get_session()
    session.expire_all()
    query = select(QuizAnswer).filter_by(**where).order_by(QuizAnswer.id)
    return list(session.scalars(query))


def cards(userid="u001") -> dict[str, ReviewCard]:
    session = db.get_session()
    session.expire_all()
    return {c.question_ref: c for c in session.scalars(select(ReviewCard).where(ReviewCard.userid == userid))}


def right_reply(ref: str) -> str:
    return {"quiz_all/q-single": "A", "quiz_all/q-multiple": "ABC", "quiz_all/q-truefalse": "对",
            "quiz_all/q-fill": "防汛抗旱指挥部"}.get(ref, "A")


def wrong_reply(ref: str) -> str:
    return {"quiz_all/q-single": "B", "quiz_all/q-multiple": "AB", "quiz_all/q-truefalse": "错",
            "quiz_all/q-fill": "指挥部"}.get(ref, "B")


@pytest.fixture
def quiz(tmp_path, redis_client, clock):
    with running(tmp_path, redis_client, clock) as (app, platform):
        yield platform


# ---- every answer form ----

FORMS = [
    ("single", "A", "right"), ("single", "a", "right"), ("single", "Ａ", "right"), ("single", "国家", "right"),
    ("single", "选A", "right"), ("single", "B", "wrong"), ("single", "集体", "wrong"),
    ("multiple", "ABC", "right"), ("multiple", "AC B", "right"), ("multiple", "A,B,C", "right"),
    ("multiple", "A、B、C", "right"), ("multiple", "A C B", "right"), ("multiple", "ａｂｃ", "right"),
    ("multiple", "预报、预警、预演", "right"), ("multiple", "AC", "wrong"),
    ("truefalse", "对", "right"), ("truefalse", "√", "right"), ("truefalse", "正确", "right"),
    ("truefalse", "错", "wrong"), ("truefalse", "×", "wrong"), ("truefalse", "错误", "wrong"),
    ("fill", "防汛抗旱指挥部", "right"), ("fill", "防汛抗旱 指挥部", "right"), ("fill", "防指", "right"),
    ("fill", "“防汛抗旱指挥部”。", "right"), ("fill", "指挥部", "wrong"),
]


@pytest.mark.parametrize("qtype, reply, outcome", FORMS)
def test_every_answer_form_is_read_and_recorded(tmp_path, redis_client, clock, qtype, reply, outcome):
    with running(tmp_path, redis_client, clock, packs={"quiz_one": ((), [Q[qtype]])}, QUIZ_QUESTIONS=1) as (_, p):
        first = say(p, "答题")
        assert "第 1/1 题" in first and {"single": "单选题", "multiple": "多选题", "truefalse": "判断题",
                                          "fill": "填空题"}[qtype] in first
        text = say(p, reply)
        assert ("回答正确" if outcome == "right" else "回答错误") in text
        assert "正确答案：" in text and "解析：这是解析。" in text and "今天的答题结束" in text
        [row] = answer_rows()
        # the reply as the pipeline hands it over: NFKC, 、 as a comma
        assert (row.outcome, row.reply, row.mode, row.pack_version) == (outcome, normalize(reply), "daily", 1)


def test_a_question_shows_type_options_and_how_to_answer(quiz):
    text = say(quiz, "答题")
    assert "开始今天的答题，共 5 题。" in text and "第 1/5 题 · " in text
    assert any(how in text for how in ("请回复一个选项字母", "请回复全部正确选项", "请回复「对」或「错」", "请直接回复"))
    assert "「跳过」" in text and "「结束」" in text


def test_wrong_answer_shows_the_right_one_and_the_explanation(tmp_path, redis_client, clock):
    with running(tmp_path, redis_client, clock, packs={"quiz_one": ((), [Q["single"]])}, QUIZ_QUESTIONS=1) as (_, p):
        say(p, "答题")
        text = say(p, "B")
        assert "回答错误" in text and "正确答案：A（国家）" in text and "解析：这是解析。" in text


# ---- unreadable replies, commands, 跳过, 结束, 取消 ----

def test_an_unreadable_reply_gets_a_hint_and_the_question_again(quiz, redis_client):
    say(quiz, "答题")
    before = flow(redis_client)["data"]
    text = say(quiz, "我不知道啊")
    assert "跳过" in text and "第 1/5 题" in text
    assert answer_rows() == [] and flow(redis_client)["data"]["i"] == before["i"] == 0


def test_a_command_during_a_quiz_is_routed_and_the_quiz_waits(quiz, redis_client):
    say(quiz, "答题")
    ref = asked(redis_client)
    text = say(quiz, "打卡")
    assert "打卡成功" in text
    assert db.get_session().scalar(select(CheckIn.userid)) == "u001"
    assert asked(redis_client) == ref and answer_rows() == []
    assert "回答正确" in say(quiz, right_reply(ref))


def test_answering_again_shows_the_open_question(quiz, redis_client):
    say(quiz, "答题")
    say(quiz, right_reply(asked(redis_client)))
    text = say(quiz, "答题")
    assert "您正在答题" in text and "第 2/5 题" in text
    assert flow(redis_client)["data"]["i"] == 1


def test_skip_records_skipped_and_puts_the_question_in_review(quiz, redis_client):
    say(quiz, "答题")
    ref = asked(redis_client)
    text = say(quiz, "跳过")
    assert "已跳过本题" in text and "正确答案：" in text and "第 2/5 题" in text
    [row] = answer_rows()
    assert (row.question_ref, row.outcome) == (ref, "skipped")
    assert ref in cards()


def test_end_stops_early_with_the_summary(quiz, redis_client, clock):
    say(quiz, "答题")
    clock.set(clock.at + timedelta(seconds=40))
    say(quiz, right_reply(asked(redis_client)))
    clock.set(clock.at + timedelta(seconds=35))
    wrong = asked(redis_client)
    say(quiz, wrong_reply(wrong))
    clock.set(clock.at + timedelta(seconds=5))
    text = say(quiz, "结束")
    assert "今天的答题结束：答对 1/2 题，用时 1 分 20 秒。" in text
    assert "已计入学习时长 2 分钟。" in text and "以下 1 题放进了错题本" in text
    assert flow(redis_client) is None
    assert "今天的答题已经完成了（答对 1/2 题）" in say(quiz, "答题")


def test_cancel_also_ends_with_the_summary(quiz, redis_client):
    say(quiz, "答题")
    say(quiz, right_reply(asked(redis_client)))
    text = say(quiz, "取消")
    assert "答对 1/1 题" in text and flow(redis_client) is None


def test_ending_before_any_answer_records_nothing_and_allows_a_new_start(quiz, redis_client):
    say(quiz, "答题")
    assert "这次没有记录答题" in say(quiz, "结束")
    assert "开始今天的答题" in say(quiz, "答题")


def test_skip_and_end_outside_a_quiz(quiz):
    assert "现在没有进行中的答题" in say(quiz, "跳过")
    assert "现在没有进行中的答题" in say(quiz, "结束")


# ---- a whole quiz, study time, the second 答题 of the day ----

def test_a_whole_quiz_records_every_answer_and_credits_study_time_once(quiz, redis_client, clock):
    text = say(quiz, "答题")
    outcomes = []
    for number in range(5):
        ref = asked(redis_client)
        clock.set(clock.at + timedelta(seconds=30))
        reply = right_reply(ref) if number % 2 == 0 else wrong_reply(ref)
        text = say(quiz, reply)
        outcomes.append("right" if number % 2 == 0 else "wrong")
    assert "今天的答题结束：答对 3/5 题，用时 2 分 30 秒。" in text
    assert "已计入学习时长 3 分钟。" in text and "以下 2 题放进了错题本" in text
    rows = answer_rows()
    assert [r.outcome for r in rows] == outcomes and len({r.session_ref for r in rows}) == 1
    assert rows[0].seconds == 30.0 and rows[0].day == clock.at.date()
    log = db.get_session().scalars(select(StudyLog)).one()
    assert (log.source, log.source_ref, log.minutes) == ("quiz", rows[0].session_ref, 3)
    again = say(quiz, "答题")
    assert "今天的答题已经完成了（答对 3/5 题）" in again and "错题" in again
    assert len(db.get_session().scalars(select(StudyLog)).all()) == 1


def test_nothing_left_to_ask_is_said_kindly(tmp_path, redis_client, clock):
    with running(tmp_path, redis_client, clock, packs={"quiz_retired": (("退休",), [single("ret-1")])}) as (_, p):
        text = say(p, "答题")
        assert "暂时都答过了" in text and flow(redis_client) is None


def test_not_on_the_roster_cannot_take_a_quiz(quiz):
    assert "名册" in say(quiz, "答题", user="stranger")


# ---- 错题 ----

def test_review_with_an_empty_book(quiz):
    assert "错题本还是空的" in say(quiz, "错题")


def test_review_asks_what_is_due_and_says_when_the_next_one_is(quiz, redis_client, clock):
    say(quiz, "答题")
    wrong = []
    for _ in range(5):
        clock.set(clock.at + timedelta(seconds=10))
        ref = asked(redis_client)
        if len(wrong) < 2:
            wrong.append(ref)
            say(quiz, wrong_reply(ref))
        else:
            say(quiz, right_reply(ref))
    # wrong answers (09:30:10, 09:30:20) are due a minute later: FSRS's first learning step
    assert "下一道在 11月25日 09:31 到期" in say(quiz, "错题")
    clock.set(clock.at + timedelta(minutes=1))
    text = say(quiz, "错题")
    assert "开始复习错题，共 2 题" in text
    assert asked(redis_client) == wrong[0]
    for ref in wrong:
        say(quiz, right_reply(ref))
    review_rows = answer_rows(mode="review")
    assert [r.question_ref for r in review_rows] == wrong and {r.outcome for r in review_rows} == {"right"}
    assert review_rows[0].session_ref.startswith("review-20261125-u001-")
    assert "下一道在 11月25日 09:41 到期" in say(quiz, "错题")     # Good → the 10-minute learning step


# ---- chats, re-sends, restarts ----

def test_two_quizzes_of_one_member_in_two_chats_do_not_mix(quiz, redis_client):
    say(quiz, "答题")
    say(quiz, "答题", group=True)
    one, grp = flow(redis_client)["data"], flow(redis_client, group=True)["data"]
    assert one["id"] != grp["id"]
    say(quiz, right_reply(asked(redis_client)))
    say(quiz, right_reply(asked(redis_client)))
    say(quiz, "跳过", group=True)
    assert flow(redis_client)["data"]["i"] == 2 and flow(redis_client, group=True)["data"]["i"] == 1
    by_quiz = {}
    for row in answer_rows():
        by_quiz.setdefault(row.session_ref, []).append(row.outcome)
    assert by_quiz == {one["id"]: ["right", "right"], grp["id"]: ["skipped"]}


def test_a_resent_answer_callback_is_recorded_once(quiz, redis_client):
    say(quiz, "答题")
    ref = asked(redis_client)
    plaintext = messages.app_text(wrong_reply(ref), user="u001", corp_id=TEST_CORP_ID, msg_id=880001)
    first = quiz.deliver("app", plaintext).text
    again = quiz.deliver("app", plaintext).text
    assert first == again and "回答错误" in first
    assert len(answer_rows()) == 1 and flow(redis_client)["data"]["i"] == 1
    assert json.loads(cards()[ref].card)["step"] == 0          # rated Again once


def test_the_quiz_survives_a_new_app_on_the_same_redis(tmp_path, clock):
    server = fakeredis.FakeServer()
    shared = dict(DATABASE_URL=f"sqlite:///{tmp_path / 'quiz.sqlite'}")
    first_app = build_app(tmp_path, fakeredis.FakeRedis(server=server), clock, **shared)
    with first_app.app_context():
        db.create_all(first_app)
        member(db.get_session(), "u001", name="张三")
        platform = WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                 client=first_app.test_client())
        say(platform, "答题")
        ref = asked(fakeredis.FakeRedis(server=server))
    second_app = build_app(tmp_path, fakeredis.FakeRedis(server=server), clock, **shared)
    with second_app.app_context():
        platform = WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                 client=second_app.test_client())
        text = say(platform, right_reply(ref))
        assert "回答正确" in text and "第 2/5 题" in text
        [row] = answer_rows()
        assert (row.question_ref, row.outcome) == (ref, "right")


# ---- settings ----

def test_settings_set_the_number_of_questions_and_bad_values_stop_the_start(tmp_path, redis_client, clock):
    from bot.config import ConfigError

    with running(tmp_path, redis_client, clock, QUIZ_QUESTIONS=3, QUIZ_GROUP_SECONDS_PER_QUESTION=0) as (_, p):
        assert "共 3 题" in say(p, "答题") and "限时" not in say(p, "答题", group=True)
    for name, value in (("QUIZ_QUESTIONS", "many"), ("QUIZ_QUESTIONS", 0), ("QUIZ_SECONDS_PER_QUESTION", -1)):
        with pytest.raises(ConfigError, match=name):
            build_app(tmp_path, redis_client, clock, **{name: value})
