"""Recording an answer: one QuizAnswer row per member, question and quiz (or contest), and the review card.

``record_answer`` is what every way of asking a question calls (daily quiz, review, a contest): the
unique constraint on (session_ref, question_ref, userid) makes a re-sent callback, a retried job or a
time-out racing an answer record once, and only the first record moves the review schedule.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models.quiz import Outcome, QuizAnswer, QuizMode
from bot.sqlutil import insert_ignoring_duplicates
from handlers._services import review

REPLY_LIMIT = 200     # characters of the member's reply kept with the answer


def record_answer(session: Session, *, userid: str, question_ref: str, pack_version: int, mode: QuizMode,
                  session_ref: str, outcome: Outcome, reply: str, seconds: float | None, now: datetime,
                  schedule_review: bool = True) -> bool:
    """Store one answer (once) and, when it is new, rate the member's review card of the question.

    Args:
        session_ref: the quiz or contest the question was asked in.
        seconds: from asking to answering (None when unknown).
        schedule_review: False for a mode whose answers should not feed the 错题本.

    Returns:
        True when recorded now; False when this member's answer to this question in this session
        was recorded before (nothing changes).
    """
    row = dict(userid=userid, question_ref=question_ref, pack_version=pack_version, mode=mode.value,
               session_ref=session_ref, outcome=outcome.value, reply=(reply or "")[:REPLY_LIMIT],
               seconds=None if seconds is None else round(max(seconds, 0.0), 1), day=now.date(), answered_at=now)
    if insert_ignoring_duplicates(session, QuizAnswer, row) == 0:
        return False
    if schedule_review:
        review.schedule_review(session, userid=userid, question_ref=question_ref, outcome=outcome, now=now)
    return True


def answers_in(session: Session, session_ref: str, userid: str) -> list[QuizAnswer]:
    """The member's recorded answers of one quiz or contest, in the order given."""
    query = (select(QuizAnswer).where(QuizAnswer.session_ref == session_ref, QuizAnswer.userid == userid)
             .order_by(QuizAnswer.answered_at, QuizAnswer.id))
    return list(session.scalars(query))
