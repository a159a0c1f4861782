"""Study time (学习) and leave (请假): what the monthly goals are measured against."""
from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Base


class StudySource(str, Enum):
    SELF = "self"            # the member said so (capped per day)
    PUSH = "push"            # a pushed item the member confirmed reading
    QUIZ = "quiz"            # time spent answering quizzes
    ACTIVITY = "activity"    # attendance at an activity
    ADMIN = "admin"          # live or replay watching reported by an admin


class StudyLog(Base):
    __tablename__ = "study_logs"
    # source_ref names what earned the time (a message, a quiz, an activity), so nothing counts twice
    __table_args__ = (UniqueConstraint("source", "source_ref", name="uq_study_logs_source_ref"),
                      Index("ix_study_logs_userid_day", "userid", "day"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[str] = mapped_column(ForeignKey("members.userid"))
    day: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(160))
    text: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Leave(Base):
    """A member away for a stretch of days: goals are pro-rated and reminders skip them."""

    __tablename__ = "leaves"
    __table_args__ = (Index("ix_leaves_userid_start", "userid", "start_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[str] = mapped_column(ForeignKey("members.userid"))
    start_day: Mapped[date] = mapped_column(Date)
    end_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(64), default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
