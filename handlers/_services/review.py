"""The review schedule (错题本): py-fsrs cards per member and question, due dates from an injected clock.

A wrong, missed or skipped answer is rated ``Again`` (and creates the card); a right answer to a
question that already has a card is rated ``Good``; a right answer without a card changes nothing.
Fuzzing is off so a due date follows from the answers and the clock alone (tests pin exact dates;
a unit's few hundred cards do not need spreading). ``ReviewCard.due`` is stored in the unit's time
zone like every other timestamp (SQLite keeps no offset); the card JSON keeps the exact UTC value.
"""
from __future__ import annotations

from datetime import datetime, timezone

from fsrs import Card, Rating, Scheduler
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models.quiz import Outcome, ReviewCard

SCHEDULER = Scheduler(enable_fuzzing=False)


def rating_for(outcome: Outcome) -> Rating:
    return Rating.Good if outcome is Outcome.RIGHT else Rating.Again


def schedule_review(session: Session, *, userid: str, question_ref: str, outcome: Outcome,
                    now: datetime) -> ReviewCard | None:
    """Rate the member's card of this question after an answer; returns the card (None: none needed)."""
    row = session.get(ReviewCard, (userid, question_ref))
    if row is None and outcome is Outcome.RIGHT:
        return None
    at = now.astimezone(timezone.utc)
    # card_id from the clock, not Card()'s default (which reads the real time and sleeps a millisecond)
    card = Card.from_json(row.card) if row is not None else Card(card_id=int(at.timestamp() * 1000), due=at)
    card, _log = SCHEDULER.review_card(card, rating_for(outcome), review_datetime=at)
    if row is None:
        row = ReviewCard(userid=userid, question_ref=question_ref)
        session.add(row)
    row.card = card.to_json()
    row.due = card.due.astimezone(now.tzinfo)
    row.last_outcome = outcome.value
    row.updated_at = now
    return row


def card_due(row: ReviewCard) -> datetime:
    """The exact (aware, UTC) due time of a stored card."""
    return Card.from_json(row.card).due


def due_refs(session: Session, userid: str, now: datetime, limit: int | None = None) -> list[str]:
    """The member's questions due for review at ``now``, the longest overdue first."""
    query = (select(ReviewCard.question_ref).where(ReviewCard.userid == userid, ReviewCard.due <= now)
             .order_by(ReviewCard.due, ReviewCard.question_ref))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def waiting_refs(session: Session, userid: str, now: datetime) -> set[str]:
    """The member's questions scheduled for a later review (asking them now would break the spacing)."""
    query = select(ReviewCard.question_ref).where(ReviewCard.userid == userid, ReviewCard.due > now)
    return set(session.scalars(query))


def next_due(session: Session, userid: str, now: datetime) -> datetime | None:
    """When the member's next card falls due after ``now`` (in ``now``'s time zone), or None."""
    row = session.scalar(select(ReviewCard).where(ReviewCard.userid == userid, ReviewCard.due > now)
                         .order_by(ReviewCard.due).limit(1))
    return card_due(row).astimezone(now.tzinfo) if row is not None else None


def count_cards(session: Session, userid: str) -> int:
    return session.scalar(select(func.count()).select_from(ReviewCard).where(ReviewCard.userid == userid)) or 0
