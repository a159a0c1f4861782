"""Survey responses and answers (问卷), surveys written in chat, the needs cohorts stated, and feedback (反馈).

Anonymous surveys store no userid: a response is found again (to resume, and to count it once) by
a salted hash of survey and userid. Every answer carries the respondent's cohorts and department
as they were when answering, so results break down without joining the roster.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
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



class CohortNeed(Base):
    """A content topic a cohort asked for, found by the last 需求分析 that covered the cohort.

    The scheduled pushes' choice of the next item (handlers/_services/push_pick.py) prefers items on
    these topics; a new analysis replaces the cohort's rows.
    """

    __tablename__ = "cohort_needs"
    __table_args__ = (UniqueConstraint("cohort", "topic", name="uq_cohort_needs_topic"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort: Mapped[str] = mapped_column(String(64), index=True)
    topic: Mapped[str] = mapped_column(String(64))          # a need topic of needs_topics.yaml
    rank: Mapped[int] = mapped_column(Integer)              # 1 = asked for most
    survey_id: Mapped[str] = mapped_column(String(64))      # the survey whose analysis found it
    analysed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SurveyDefinition(Base):
    """A survey an admin wrote in chat (新建问卷): asked by 问卷 like a survey pack, as ``chat-<id>``.

    ``definition`` is the survey as a survey pack's survey.yaml would hold it (content_packs.schema.Survey),
    ``audience`` the cohort names pack.yaml would list.
    """

    __tablename__ = "survey_definitions"
    __table_args__ = (UniqueConstraint("title", name="uq_survey_definitions_title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(64))
    audience: Mapped[list] = mapped_column(JSON, default=list)
    definition: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
