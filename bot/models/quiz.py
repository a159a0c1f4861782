"""Quiz answers and spaced review (答题, 错题, 竞赛): what awareness rates and item statistics read.

Questions live in content packs; records name them by ``question_ref`` = ``<pack id>/<question id>``
and keep the pack version they were asked in.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Base


class QuizMode(str, Enum):
    DAILY = "daily"          # 答题: today's questions for one member
    REVIEW = "review"        # 错题: questions due in the member's review schedule
    CONTEST = "contest"      # 竞赛: a group contest


class Outcome(str, Enum):
    RIGHT = "right"
    WRONG = "wrong"
    MISSED = "missed"        # the time limit passed
    SKIPPED = "skipped"      # 跳过


class QuizAnswer(Base):
    """One member's answer (or non-answer) to one question in one quiz or contest."""

    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("session_ref", "question_ref", "userid", name="uq_quiz_answers_once"),
                      Index("ix_quiz_answers_userid_day", "userid", "day"),
                      Index("ix_quiz_answers_question_ref", "question_ref"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[str] = mapped_column(ForeignKey("members.userid"))
    question_ref: Mapped[str] = mapped_column(String(160))
    pack_version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    session_ref: Mapped[str] = mapped_column(String(96))     # the quiz or contest it was asked in
    outcome: Mapped[str] = mapped_column(String(8))
    reply: Mapped[str] = mapped_column(Text, default="")
    seconds: Mapped[float | None] = mapped_column(Float)      # from asking to answering
    day: Mapped[date] = mapped_column(Date)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewCard(Base):
    """A question in a member's review schedule (py-fsrs card state), created on a wrong or missed answer."""

    __tablename__ = "review_cards"
    __table_args__ = (Index("ix_review_cards_userid_due", "userid", "due"),)

    userid: Mapped[str] = mapped_column(ForeignKey("members.userid"), primary_key=True)
    question_ref: Mapped[str] = mapped_column(String(160), primary_key=True)
    card: Mapped[str] = mapped_column(Text)                   # fsrs.Card.to_json()
    due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_outcome: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
