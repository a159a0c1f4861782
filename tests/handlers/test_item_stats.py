"""Item statistics (facility and discrimination from first attempts) and 题目分析, on fixed data sets."""
from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta

import fakeredis
import pytest

from bot import create_app, db, org, roles
from bot.models import QuizAnswer
from bot.models.quiz import Outcome, QuizMode
from handlers._services.item_stats import ItemStats, Verdict, item_stats
from tests.conftest import SHANGHAI, make_settings
from tests.factories import member
from tests.handlers.test_awareness import write_pack

START = datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI)
_ids = itertools.count(1)
_minutes = itertools.count(1)


@pytest.fixture
def app(tmp_path, clock):
    packs = tmp_path / "packs"
    write_pack(packs, "quiz_t_items", "测试题库", "", {q: "测试" for q in ("h1", "h2", "neg", "zero", "few")})
    app = create_app(make_settings(tmp_path / "bot", CONTENT_PACKS_DIR=str(packs)), redis=fakeredis.FakeRedis(),
                     clock=clock)
    with app.app_context():
        db.create_all(app)
        yield app


def attempt(userid: str, question: str, right: bool, outcome_if_wrong=Outcome.WRONG):
    """An answer later than every one before it, so the order of calls is the order of attempts."""
    at = START + timedelta(minutes=next(_minutes))
    db.get_session().add(QuizAnswer(
        userid=userid, question_ref=f"quiz_t_items/{question}", pack_version=1, mode=QuizMode.DAILY.value,
        session_ref=f"s{next(_ids)}", outcome=(Outcome.RIGHT if right else outcome_if_wrong).value, reply="",
        seconds=4.0, day=at.date(), answered_at=at))


def test_facility_and_discrimination_by_hand(app):
    """Four members, three questions; first attempts (1 right):

            q1 q2 q3    later attempts (ignored): D q1 right, A q3 wrong
        A    1  1  1
        B    1  1  0
        C    0  1  0
        D    0  0  1

    The rest score is the share right of the member's other two first attempts.
    q1: x = 1,1,0,0; rest = 1, .5, .5, .5 → Σ(x-x̄)(y-ȳ) = .25, Σ(x-x̄)² = 1, Σ(y-ȳ)² = .1875 → r = 1/√3
    q2: x = 1,1,1,0; rest = 1, .5, 0, .5 → covariance 0 → r = 0
    q3: x = 1,0,0,1; rest = 1, 1, .5, 0 → Σ(x-x̄)(y-ȳ) = -.25, Σ(y-ȳ)² = 11/16 → r = -1/√11
    """
    session = db.get_session()
    for userid in "ABCD":
        member(session, userid, name=f"职工{userid}")
    table = {"A": (1, 1, 1), "B": (1, 1, 0), "C": (0, 1, 0), "D": (0, 0, 1)}
    for userid, scores in table.items():
        for question, right in zip(("h1", "h2", "neg"), scores):
            attempt(userid, question, bool(right), outcome_if_wrong=Outcome.MISSED if userid == "C" else Outcome.WRONG)
    attempt("D", "h1", True)
    attempt("A", "neg", False)
    session.commit()
    q1, q2, q3 = item_stats(session, ["quiz_t_items/h1", "quiz_t_items/h2", "quiz_t_items/neg"], min_attempts=4)
    assert (q1.attempts, q1.facility) == (4, 0.5) and q1.discrimination == pytest.approx(1 / math.sqrt(3))
    assert (q2.attempts, q2.facility) == (4, 0.75) and q2.discrimination == pytest.approx(0, abs=1e-9)
    assert (q3.attempts, q3.facility) == (4, 0.5) and q3.discrimination == pytest.approx(-1 / math.sqrt(11))
    assert [q.verdict(4) for q in (q1, q2, q3)] == [Verdict.FINE, Verdict.FINE, Verdict.NEGATIVE]


def test_unanswered_questions_and_lone_members():
    assert ItemStats("x", 0, 0, None).verdict() is Verdict.TOO_FEW
    assert ItemStats("x", 12, 0, None).verdict() is Verdict.ALL_WRONG
    assert ItemStats("x", 12, 6, None).verdict() is Verdict.FINE     # no correlation to judge: not flagged


def test_a_member_with_a_single_attempt_says_nothing_about_discrimination(app):
    session = db.get_session()
    for userid in ("A", "B"):
        member(session, userid, name=f"职工{userid}")
    attempt("A", "h1", True)
    attempt("B", "h1", False)
    session.commit()
    (only,) = item_stats(session, ["quiz_t_items/h1"], min_attempts=1)
    assert (only.attempts, only.right, only.discrimination) == (2, 1, None)


@pytest.fixture
def answered_bank(app, clock):
    """Ten members: s0–s4 strong (right on h1, h2), s5–s9 weak; everyone wrong on zero;
    on neg the weak are right and the strong wrong (discrimination -1); three attempts on few."""
    session = db.get_session()
    for n in range(10):
        member(session, f"s{n}", name=f"职工{n}")
    member(session, "lead1", name="班组长", department="工程管理科", team="大坝巡查班组")
    roles.grant(session, "lead1", roles.LEADER, org_unit_id=org.find_unit_by_name(session, "大坝巡查班组")[0].id,
                by="test", at=clock())
    for n in range(10):
        strong = n < 5
        attempt(f"s{n}", "h1", strong)
        attempt(f"s{n}", "h2", strong)
        attempt(f"s{n}", "neg", not strong)
        attempt(f"s{n}", "zero", False)
    for n in range(3):
        attempt(f"s{n}", "few", True)
    attempt("s0", "zero", True)              # a second attempt: not a first one, ignored
    session.commit()


def say(platform, text, user):
    return platform.say(text, channel="app", chattype="single", user=user).text


def test_item_analysis_lists_broken_questions(platform, answered_bank):
    reply = say(platform, "题目分析 测试题库", "admin01")
    assert "题目分析 · 测试题库（5 题，首次作答共 43 人次）" in reply
    assert "疑似有问题的题目 2 道" in reply
    # question texts are cut to 20 characters
    assert "quiz_t_items/zero「quiz_t_items 的第 zero…」：首次作答 10 人，全部答错" in reply
    assert "quiz_t_items/neg「quiz_t_items 的第 neg …」：首次作答 10 人，答对率 50%，区分度 -1.00" in reply
    assert "样本不足（首次作答少于 10 人）：1 道：quiz_t_items/few" in reply
    assert "其余 2 道未见异常" in reply
    assert "quiz_t_items/h1「" not in reply


def test_item_analysis_without_a_bank_covers_every_bank(platform, answered_bank):
    assert "题目分析 · 全部题库（5 题" in say(platform, "题目分析", "admin01")


def test_item_analysis_is_for_admins_only(platform, answered_bank):
    assert "管理员权限" in say(platform, "题目分析", "lead1")
    assert "管理员权限" in say(platform, "题目分析", "s0")


def test_an_unknown_bank_is_named_back(platform, answered_bank):
    reply = say(platform, "题目分析 天文学", "admin01")
    assert "没有找到题库或主题「天文学」" in reply and "测试题库" in reply
