"""Which questions a member gets: due reviews first, then unseen questions of the packs meant for the
member's cohorts, then ones seen long enough ago — shuffled with a seed of member and day, so the same
data on the same day always gives the same quiz.

Never drawn unless due: a question answered right in the last ``RECENT_RIGHT_DAYS`` days, and one
whose review card is due later (asking it early would break the spacing).
"""
from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, timedelta
from typing import Iterable

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models.quiz import Outcome, QuizAnswer
from handlers._services import question_bank as bank
from handlers._services import review

RECENT_RIGHT_DAYS = 30


def draw_daily(session: Session, *, userid: str, cohorts: Iterable[str], now: datetime, count: int,
               app: Flask | None = None) -> list[str]:
    """Up to ``count`` question refs for today's quiz of ``userid``; empty when nothing is left to ask."""
    due = _still_in_bank(review.due_refs(session, userid, now), app)[:count]
    if len(due) >= count:
        return due
    today = now.date()
    blocked = set(due) | review.waiting_refs(session, userid, now) | _right_since(
        session, userid, today - timedelta(days=RECENT_RIGHT_DAYS))
    seen = _seen(session, userid)
    pool = sorted({bq.ref for bq in bank.for_cohorts(cohorts, app)} - blocked)
    rng = random.Random(seed(userid, today, "daily"))
    unseen = [ref for ref in pool if ref not in seen]
    again = [ref for ref in pool if ref in seen]
    rng.shuffle(unseen)
    rng.shuffle(again)
    return (due + unseen + again)[:count]


def draw_review(session: Session, *, userid: str, now: datetime, count: int, app: Flask | None = None) -> list[str]:
    """Up to ``count`` of the member's questions due for review, the longest overdue first."""
    return _still_in_bank(review.due_refs(session, userid, now), app)[:count]


def seed(userid: str, day: date, mode: str) -> int:
    """A stable seed (Python's hash() of a str changes per process)."""
    digest = hashlib.sha256(f"{userid}|{day.isoformat()}|{mode}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def _still_in_bank(refs: list[str], app: Flask | None) -> list[str]:
    # a card can outlive its question (a pack edited or removed): skip it rather than fail
    return [ref for ref in refs if bank.find(ref, app) is not None]


def _seen(session: Session, userid: str) -> set[str]:
    return set(session.scalars(select(QuizAnswer.question_ref).where(QuizAnswer.userid == userid).distinct()))


def _right_since(session: Session, userid: str, first: date) -> set[str]:
    query = select(QuizAnswer.question_ref).where(QuizAnswer.userid == userid, QuizAnswer.day >= first,
                                                  QuizAnswer.outcome == Outcome.RIGHT.value).distinct()
    return set(session.scalars(query))
