"""The review schedule (py-fsrs): exact due dates from the injected clock after wrong and right answers,
and an answer recorded once however often it is sent."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot import db
from bot.models.quiz import Outcome, QuizAnswer, QuizMode, ReviewCard
from handlers._services import review
from handlers._services.quiz_record import record_answer
from tests.conftest import SHANGHAI
from tests.handlers.test_quiz import running

T0 = datetime(2026, 11, 25, 9, 30, tzinfo=SHANGHAI)
REF = "quiz_all/q-fill"


@pytest.fixture
def app(tmp_path, redis_client, clock):
    with running(tmp_path, redis_client, clock) as (app, _platform):
        yield app


def answer(outcome: Outcome, at: datetime, *, quiz: str | None = None, ref: str = REF) -> bool:
    done = record_answer(db.get_session(), userid="u001", question_ref=ref, pack_version=1, mode=QuizMode.DAILY,
                         session_ref=quiz or f"daily-{at:%Y%m%d%H%M%S}", outcome=outcome, reply="x", seconds=3.0,
                         now=at)
    db.get_session().commit()
    return done


def card(ref: str = REF) -> ReviewCard | None:
    session = db.get_session()
    session.expire_all()
    return session.get(ReviewCard, ("u001", ref))


def test_wrong_then_right_answers_move_the_due_date_exactly(app):
    answer(Outcome.WRONG, T0)
    assert review.card_due(card()) == datetime(2026, 11, 25, 1, 31, tzinfo=timezone.utc)       # +1 minute
    assert card().due.replace(tzinfo=None) == datetime(2026, 11, 25, 9, 31)                    # stored local
    assert (json.loads(card().card)["state"], card().last_outcome) == (1, "wrong")            # Learning
    answer(Outcome.RIGHT, T0 + timedelta(minutes=1))
    assert review.card_due(card()) == datetime(2026, 11, 25, 1, 41, tzinfo=timezone.utc)       # +10 minutes
    answer(Outcome.RIGHT, T0 + timedelta(minutes=11))
    assert review.card_due(card()) == datetime(2026, 11, 26, 1, 41, tzinfo=timezone.utc)       # Review: +1 day
    assert json.loads(card().card)["state"] == 2
    answer(Outcome.RIGHT, datetime(2026, 11, 26, 9, 41, tzinfo=SHANGHAI))
    assert review.card_due(card()) == datetime(2026, 11, 28, 1, 41, tzinfo=timezone.utc)       # +2 days
    answer(Outcome.WRONG, datetime(2026, 11, 28, 9, 41, tzinfo=SHANGHAI))
    assert review.card_due(card()) == datetime(2026, 11, 28, 1, 51, tzinfo=timezone.utc)       # relearning
    assert json.loads(card().card)["state"] == 3 and card().last_outcome == "wrong"


@pytest.mark.parametrize("outcome", [Outcome.MISSED, Outcome.SKIPPED])
def test_missed_and_skipped_are_rated_again(app, outcome):
    answer(outcome, T0)
    assert review.card_due(card()) == datetime(2026, 11, 25, 1, 31, tzinfo=timezone.utc)
    assert card().last_outcome == outcome.value


def test_a_right_answer_without_a_card_schedules_nothing(app):
    answer(Outcome.RIGHT, T0)
    assert card() is None


def test_the_same_answer_sent_twice_is_recorded_and_rated_once(app):
    assert answer(Outcome.WRONG, T0, quiz="daily-same") is True
    assert answer(Outcome.WRONG, T0 + timedelta(seconds=5), quiz="daily-same") is False
    assert answer(Outcome.RIGHT, T0 + timedelta(minutes=1), quiz="daily-same") is False   # a time-out racing it
    count = db.get_session().scalar(select(func.count()).select_from(QuizAnswer))
    assert count == 1 and review.card_due(card()) == datetime(2026, 11, 25, 1, 31, tzinfo=timezone.utc)


def test_due_waiting_and_next(app):
    answer(Outcome.WRONG, T0, ref="quiz_all/q-fill")
    answer(Outcome.WRONG, T0 + timedelta(minutes=5), ref="quiz_all/q-single")
    session = db.get_session()
    at = T0 + timedelta(minutes=2)
    assert review.due_refs(session, "u001", at) == ["quiz_all/q-fill"]
    assert review.waiting_refs(session, "u001", at) == {"quiz_all/q-single"}
    assert review.next_due(session, "u001", at) == datetime(2026, 11, 25, 9, 36, tzinfo=SHANGHAI)
    assert review.next_due(session, "u001", T0 + timedelta(hours=1)) is None
