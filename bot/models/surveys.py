"""Survey responses and answers (问卷), and members' free feedback (反馈).

Anonymous surveys store no userid: a response is found again (to resume, and to count it once) by
a salted hash of survey and userid. Every answer carries the respondent's cohorts and department
as they were when answering, so results break down without joining the roster.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Base


class SurveyResponse(Base):
    """One member's (or one anonymous respondent's) go at one survey."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "respondent", name="uq_survey_responses_who"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(64), index=True)          # the pack id
    survey_version: Mapped[int] = mapped_column(Integer)
    respondent: Mapped[str] = mapped_column(String(64))                     # salted hash of survey + userid
    userid: Mapped[str | None] = mapped_column(String(64), index=True)      # None for anonymous surveys
    cohorts: Mapped[str] = mapped_column(String(255), default="")           # "青年,工程运维"
    department: Mapped[str] = mapped_column(String(64), default="")
    started_on: Mapped[date] = mapped_column(Date)                          # a day, not a time: less to link
    completed_on: Mapped[date | None] = mapped_column(Date)


class SurveyAnswer(Base):
    """The answer to one question, as given; ``value`` is the reading (letters, 1–5, text), empty when skipped."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id", name="uq_survey_answers_question"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id"), index=True)
    survey_id: Mapped[str] = mapped_column(String(64), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    reply: Mapped[str] = mapped_column(Text, default="")                    # the text as the member sent it
    value: Mapped[str] = mapped_column(Text, default="")
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    cohorts: Mapped[str] = mapped_column(String(255), default="")
    department: Mapped[str] = mapped_column(String(64), default="")


class Feedback(Base):
    """A free remark sent with 反馈; read by admins (反馈列表) and by the needs analysis."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    cohorts: Mapped[str] = mapped_column(String(255), default="")
    department: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
