"""知晓率 through the real callback path, and in 进度, 我的 and the month-end unit report, on a fixed data set.

Two small test banks replace the demo ones so the figures can be worked out by hand:

    quiz_t_policy (everyone)      p1 [水法]   p2 [水法, 防洪法]   p3 [防洪法]
    quiz_t_dam    (工程运维 only)  d1 [巡视检查]   d2 [巡视检查]

Active members: patrol1, patrol2 (大坝巡查班组), flood1 (防汛抢险班组), head1 (工程管理科 itself),
water1 (水情调度科, 调度管理 — not 工程运维), admin01 (后勤保障科); old1 is retired.

Answers in 2026, oldest first per member:
    patrol1  p1 right (03-01), p1 wrong (06-01), p3 right (06-02)
    patrol2  p2 wrong (02-01), p2 right (05-01), d1 missed (05-02)
    flood1   p1 skipped (04-01), d2 right (04-02)
    head1    p3 right (2025-12-20, last year), p1 right (11-20)
    water1   p1 right (07-01), p3 wrong (07-02)
    old1     p1 right (03-01)   (retired: never counted)
    admin01  nothing

By hand, the whole unit this year (6 active people):
    水法 (p1, p2):  knowing patrol1, patrol2, head1, water1 = 4/6 = 67%;
                    latest answer wrong: patrol1 (p1 wrong after right), flood1 (p1 skipped) = 2/6 = 33%
    防洪法 (p2, p3): knowing patrol1 (p3), patrol2 (p2) = 2/6 = 33% (head1's p3 was last year);
                    latest wrong: water1 (p3) = 1/6 = 17%
    巡视检查 (d1, d2) counts only the 4 工程运维 people (the bank's audience; water1 and admin01 are not):
                    knowing flood1 = 1/4 = 25%; latest wrong: patrol2 (d1 missed) = 1/4 = 25%
    lowest first: 巡视检查, 防洪法, 水法; average (4/6 + 2/6 + 1/4) / 3 = 42%
大坝巡查班组 (patrol1, patrol2): 水法 2/2, still wrong 1/2 (patrol1); 巡视检查 0/2.
工程管理科 (patrol1, patrol2, flood1, head1): 水法 3/4 = 75%, still wrong 2/4 = 50%, not yet: 抢险一.
"""
from __future__ import annotations

import itertools
from datetime import date, datetime, time
from pathlib import Path

import fakeredis
import pytest

from bot import create_app, db
from bot.models import QuizAnswer
from bot.models.quiz import Outcome, QuizMode
from jobs.closed_loop import send_month_end_reports
from tests.conftest import SHANGHAI, make_settings
from tests.factories import office_with_leaders
from tests.standin_http import messages

RIGHT, WRONG, MISSED, SKIPPED = Outcome.RIGHT, Outcome.WRONG, Outcome.MISSED, Outcome.SKIPPED
_ids = itertools.count(1)

PACK = """id: {id}
version: 1
title: {title}
kind: quiz
topics: [{topics}]
audience: [{audience}]
description: 测试用题库。
"""
QUESTION = """- id: {id}
  type: truefalse
  text: {text}
  answer: true
  topics: [{topics}]
  difficulty: 1
  explanation: 解析。
  source: 测试
"""


def write_pack(root: Path, pack_id: str, title: str, audience: str, questions: dict[str, str]) -> None:
    folder = root / pack_id
    folder.mkdir(parents=True)
    topics = ", ".join(dict.fromkeys(t.strip() for ts in questions.values() for t in ts.split(",")))
    (folder / "pack.yaml").write_text(PACK.format(id=pack_id, title=title, topics=topics, audience=audience), "utf-8")
    (folder / "questions.yaml").write_text(
        "".join(QUESTION.format(id=q, text=f"{pack_id} 的第 {q} 题", topics=t) for q, t in questions.items()), "utf-8")


@pytest.fixture
def app(tmp_path, clock, fake_server, standin_url):
    packs = tmp_path / "packs"
    write_pack(packs, "quiz_t_policy", "测试政策题库", "", {"p1": "水法", "p2": "水法, 防洪法", "p3": "防洪法"})
    write_pack(packs, "quiz_t_dam", "测试大坝题库", "工程运维", {"d1": "巡视检查", "d2": "巡视检查"})
    settings = make_settings(tmp_path / "bot", CONTENT_PACKS_DIR=str(packs), WECOM_API_BASE=standin_url)
    app = create_app(settings, redis=fakeredis.FakeRedis(server=fake_server), clock=clock)
    with app.app_context():
        db.create_all(app)
        yield app


def answer(userid, ref, outcome, day):
    db.get_session().add(QuizAnswer(
        userid=userid, question_ref=ref, pack_version=1, mode=QuizMode.DAILY.value, session_ref=f"s{next(_ids)}",
        outcome=outcome.value, reply="", seconds=3.0, day=day,
        answered_at=datetime.combine(day, time(9, 0), tzinfo=SHANGHAI)))


POLICY, DAM = "quiz_t_policy/", "quiz_t_dam/"
ANSWERS = [
    ("patrol1", POLICY + "p1", RIGHT, date(2026, 3, 1)), ("patrol1", POLICY + "p1", WRONG, date(2026, 6, 1)),
    ("patrol1", POLICY + "p3", RIGHT, date(2026, 6, 2)),
    ("patrol2", POLICY + "p2", WRONG, date(2026, 2, 1)), ("patrol2", POLICY + "p2", RIGHT, date(2026, 5, 1)),
    ("patrol2", DAM + "d1", MISSED, date(2026, 5, 2)),
    ("flood1", POLICY + "p1", SKIPPED, date(2026, 4, 1)), ("flood1", DAM + "d2", RIGHT, date(2026, 4, 2)),
    ("head1", POLICY + "p3", RIGHT, date(2025, 12, 20)), ("head1", POLICY + "p1", RIGHT, date(2026, 11, 20)),
    ("water1", POLICY + "p1", RIGHT, date(2026, 7, 1)), ("water1", POLICY + "p3", WRONG, date(2026, 7, 2)),
    ("old1", POLICY + "p1", RIGHT, date(2026, 3, 1)),
]


@pytest.fixture
def office(app, clock):
    session = db.get_session()
    office_with_leaders(session, clock())
    for row in ANSWERS:
        answer(*row)
    session.commit()


def say(platform, text, user):
    return platform.say(text, channel="app", chattype="single", user=user).text


def test_admin_sees_every_topic_lowest_first(platform, office):
    reply = say(platform, "知晓率", "admin01")
    assert "政策知晓率 · 水库管理所 · 2026 年（在职 6 人，目标 100%）" in reply
    lines = reply.splitlines()
    assert lines[2:5] == ["· 巡视检查：25%（1/4），仍错 25%",
                          "· 防洪法：33%（2/6），仍错 17%",
                          "· 水法：67%（4/6），仍错 33%"]
    assert "平均知晓率 42%" in reply


def test_one_topic_for_a_department_names_who_has_not_answered_right(platform, office):
    reply = say(platform, "知晓率 水法", "head1")
    assert "「水法」知晓率 · 工程管理科 · 2026 年" in reply
    assert "在职 4 人，答对过 3 人（75%），目标 100%" in reply
    assert "最近一次作答仍有错题：2 人（50%）" in reply
    assert "尚未答对：抢险一" in reply and "水情一" not in reply


def test_words_in_any_order_and_a_bank_title(platform, office):
    assert "在职 4 人，答对过 3 人（75%）" in say(platform, "知晓率 工程管理科 今年 水法", "admin01")
    reply = say(platform, "知晓率 测试大坝", "admin01")
    assert "「测试大坝题库」知晓率" in reply and "本题库面向工程运维，在职 4 人，答对过 1 人（25%）" in reply


def test_last_year_counts_only_last_years_answers(platform, office):
    reply = say(platform, "知晓率 去年", "admin01")
    assert "2025 年" in reply and "· 防洪法：17%（1/6），仍错 0%" in reply and "· 水法：0%（0/6）" in reply


def test_a_team_leader_sees_only_his_team(platform, office):
    reply = say(platform, "知晓率", "patrol1")
    assert "工程管理科 / 大坝巡查班组" in reply and "在职 2 人" in reply
    assert "· 巡视检查：0%（0/2），仍错 50%" in reply and "· 水法：100%（2/2），仍错 50%" in reply
    topic = say(platform, "知晓率 巡视检查", "patrol1")
    assert "尚未答对：巡查一、巡查二" in topic and "抢险一" not in topic
    refused = say(platform, "知晓率 水法 工程管理科", "patrol1")
    assert "不在您负责的范围内" in refused and "答对过" not in refused


def test_members_are_refused_politely(platform, office):
    reply = say(platform, "知晓率", "patrol2")
    assert "负责人权限" in reply and "%" not in reply


def test_unknown_words_get_a_clear_answer(platform, office):
    reply = say(platform, "知晓率 天文学", "admin01")
    assert "没有找到主题或部门「天文学」" in reply and "水法" in reply


def test_progress_shows_the_members_share_of_his_topics(platform, office):
    # patrol2 (工程运维): 水法, 防洪法, 巡视检查; right on 水法 and 防洪法 (p2); 巡视检查 still wrong
    reply = say(platform, "进度", "patrol2")
    assert "政策知晓率：今年已答对 2/3 个知识点（67%），目标 100%；1 个知识点还有错题" in reply
    # water1 (调度管理) is not in the dam bank's audience: 水法 right, 防洪法 wrong
    assert "今年已答对 1/2 个知识点（50%）" in say(platform, "我的", "water1")


def test_progress_keeps_the_not_yet_wording_before_any_answer(platform, office):
    assert "政策知晓率：目标 100%，尚未开始测评" in say(platform, "进度", "admin01")
    assert "尚未开始测评" in say(platform, "我的", "admin01")


def test_the_month_end_unit_report_carries_awareness(platform, office, clock, standin_url):
    clock.set(datetime(2026, 12, 1, 8, 30, tzinfo=SHANGHAI))
    send_month_end_reports(due=clock().isoformat())
    head = [m["body"]["text"]["content"] for m in messages(standin_url, recipient="head1")]
    report = next(t for t in head if "学习情况 ·" in t)
    # 工程管理科: 水法 3/4, 防洪法 2/4 (patrol1, patrol2), 巡视检查 1/4 (flood1) → average 6/12 = 50%
    assert "政策知晓率（2026 年至今）：平均 50%，目标 100%；最低的主题：巡视检查 25%、防洪法 50%、水法 75%" in report
