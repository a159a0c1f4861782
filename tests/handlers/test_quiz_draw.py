"""Which questions a member gets: due reviews first, no recent right answers, unseen before seen, the
packs of the member's cohorts, and the same draw for the same member, day and data."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot import cohorts, db
from bot.models import Member
from bot.models.quiz import Outcome, QuizMode
from handlers._services import quiz_draw
from handlers._services.quiz_record import record_answer
from tests.conftest import SHANGHAI
from tests.factories import member
from tests.handlers.test_quiz import running

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=SHANGHAI)
ALL = {"quiz_all/q-single", "quiz_all/q-multiple", "quiz_all/q-truefalse", "quiz_all/q-fill"}
OPS = {"quiz_ops/ops-1", "quiz_ops/ops-2"}


@pytest.fixture
def app(tmp_path, redis_client, clock):
    with running(tmp_path, redis_client, clock) as (app, _platform):
        yield app


def draw(userid="u001", *, now=NOW, count=10):
    session = db.get_session()
    found = cohorts.get_rules().cohorts_of(session.get(Member, userid), today=now.date())
    return quiz_draw.draw_daily(session, userid=userid, cohorts=found, now=now, count=count)


def answered(ref: str, outcome: Outcome, at: datetime, userid="u001", quiz="old-quiz") -> None:
    record_answer(db.get_session(), userid=userid, question_ref=ref, pack_version=1, mode=QuizMode.DAILY,
                  session_ref=f"{quiz}-{at:%Y%m%d%H%M}", outcome=outcome, reply="x", seconds=5.0, now=at)
    db.get_session().commit()


def test_only_the_packs_meant_for_the_members_cohorts(app):
    assert set(draw()) == ALL | OPS                                  # 工程运维: quiz_ops, not quiz_retired
    member(db.get_session(), "r001", name="老李", status="退休")
    assert set(draw("r001")) == ALL | {"quiz_retired/ret-1"}


def test_the_same_member_day_and_data_give_the_same_quiz(app):
    first = draw(count=5)
    assert first == draw(count=5) == draw()[:5]
    # pinned: the seeded shuffles of member u001 on two days
    assert draw() == ["quiz_all/q-truefalse", "quiz_all/q-multiple", "quiz_all/q-single", "quiz_ops/ops-1",
                      "quiz_ops/ops-2", "quiz_all/q-fill"]
    assert draw(now=NOW + timedelta(days=1)) == ["quiz_ops/ops-1", "quiz_all/q-fill", "quiz_all/q-single",
                                                 "quiz_ops/ops-2", "quiz_all/q-truefalse", "quiz_all/q-multiple"]


def test_due_reviews_come_first_oldest_due_first(app):
    answered("quiz_all/q-fill", Outcome.WRONG, NOW - timedelta(hours=2))
    answered("quiz_ops/ops-1", Outcome.MISSED, NOW - timedelta(hours=3))
    drawn = draw(count=3)
    assert drawn[:2] == ["quiz_ops/ops-1", "quiz_all/q-fill"] and len(drawn) == 3
    assert draw(count=1) == ["quiz_ops/ops-1"]


def test_a_recent_right_answer_is_not_asked_again_but_one_older_than_30_days_is_last(app):
    answered("quiz_all/q-single", Outcome.RIGHT, NOW - timedelta(days=29))
    answered("quiz_all/q-multiple", Outcome.RIGHT, NOW - timedelta(days=31))
    drawn = draw()
    assert "quiz_all/q-single" not in drawn
    assert drawn[-1] == "quiz_all/q-multiple" and len(drawn) == 5     # seen: after every unseen one


def test_unseen_before_seen(app):
    for ref in ("quiz_all/q-single", "quiz_all/q-truefalse"):
        answered(ref, Outcome.RIGHT, NOW - timedelta(days=60))
    drawn = draw()
    assert set(drawn[:4]) == {"quiz_all/q-multiple", "quiz_all/q-fill"} | OPS
    assert set(drawn[4:]) == {"quiz_all/q-single", "quiz_all/q-truefalse"}


def test_a_right_answer_that_is_due_for_review_is_asked(app):
    answered("quiz_all/q-fill", Outcome.WRONG, NOW - timedelta(days=3))
    answered("quiz_all/q-fill", Outcome.RIGHT, NOW - timedelta(days=3) + timedelta(minutes=1), quiz="other")
    # right 3 days ago, but its card was due 10 minutes after that: due first
    assert draw()[0] == "quiz_all/q-fill"


def test_a_card_due_later_is_not_asked_early(app):
    answered("quiz_all/q-fill", Outcome.WRONG, NOW)               # due in a minute
    assert "quiz_all/q-fill" not in draw()
    assert draw(now=NOW + timedelta(minutes=1))[0] == "quiz_all/q-fill"


def test_review_draw_is_only_what_is_due(app):
    session = db.get_session()
    answered("quiz_all/q-fill", Outcome.WRONG, NOW - timedelta(minutes=5))
    answered("quiz_all/q-single", Outcome.SKIPPED, NOW)
    assert quiz_draw.draw_review(session, userid="u001", now=NOW, count=10) == ["quiz_all/q-fill"]
    assert quiz_draw.draw_review(session, userid="u001", now=NOW + timedelta(minutes=1), count=10) == [
        "quiz_all/q-fill", "quiz_all/q-single"]
    assert quiz_draw.draw_review(session, userid="u002", now=NOW, count=10) == []


def test_a_card_whose_question_left_the_bank_is_passed_over(app):
    answered("quiz_gone/q-x", Outcome.WRONG, NOW - timedelta(hours=1))
    answered("quiz_all/q-fill", Outcome.WRONG, NOW - timedelta(minutes=30))
    assert draw()[0] == "quiz_all/q-fill"
