"""A quiz in progress (答题, 错题): the flow data, moving from one question to the next, the end.

Both the chat step (an answer, 跳过, 结束) and the time-limit job (a missed question) move a quiz
with ``settle``; neither knows about the other, the flow's stored revision keeps them apart. The flow
data stays small: the quiz id, the question refs, where we are, and a few numbers.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import ConfigError
from bot.models import StudyLog
from bot.models.quiz import Outcome, QuizMode
from bot.models.study import StudySource
from handlers._services import question_bank as bank
from handlers._services import quiz_record, quiz_text, review, study
from handlers._services.question_bank import BankQuestion

FLOW = "quiz"
STEP = "answer"
TTL_SECONDS = 60 * 60             # an idle quiz is forgotten after an hour
CREDIT_CAP_SECONDS = 180          # per question, for the study time credited (an open chat is not study)
LATE_GRACE_SECONDS = 5            # a reply this soon after a time-out was typed for the question that timed out
LETTERS = {Outcome.RIGHT: "R", Outcome.WRONG: "W", Outcome.MISSED: "M", Outcome.SKIPPED: "S"}
GONE = "-"                        # the question left its pack while the quiz was open
TOPICS = {QuizMode.DAILY.value: "每日答题", QuizMode.REVIEW.value: "错题复习"}


@dataclass(frozen=True)
class QuizSettings:
    """QUIZ_* settings: questions per quiz, per review session, and the time limit per question."""

    questions: int = 5
    review_questions: int = 10
    seconds: int = 0              # one-to-one; 0 = no time limit
    group_seconds: int = 60       # in a group chat

    @classmethod
    def from_config(cls, config: Mapping) -> "QuizSettings":
        """Raises ConfigError naming the setting when a value is not a whole number in range."""
        return cls(_setting(config, "QUIZ_QUESTIONS", cls.questions, 1, 30),
                   _setting(config, "QUIZ_REVIEW_QUESTIONS", cls.review_questions, 1, 50),
                   _setting(config, "QUIZ_SECONDS_PER_QUESTION", cls.seconds, 0, 3600),
                   _setting(config, "QUIZ_GROUP_SECONDS_PER_QUESTION", cls.group_seconds, 0, 3600))

    def limit(self, *, in_group: bool) -> int:
        return self.group_seconds if in_group else self.seconds


@dataclass(frozen=True)
class Moved:
    """What ``settle`` did: the text to send, and the question now open (None: the quiz ended)."""

    text: str
    open_index: int | None


def new_quiz_id(mode: QuizMode, userid: str, now: datetime, started_by: str) -> str:
    """``daily-20261125-u001-1a2b3c4d``: mode, day and member readable; the start message makes it unique."""
    token = hashlib.sha256(started_by.encode("utf-8")).hexdigest()[:8]
    return f"{mode.value}-{now:%Y%m%d}-{userid}-{token}"


def new_data(*, quiz_id: str, mode: QuizMode, refs: list[str], now: datetime, limit: int) -> dict:
    stamp = round(now.timestamp(), 3)
    return {"id": quiz_id, "mode": mode.value, "refs": list(refs), "i": 0, "t0": stamp, "at": stamp,
            "res": "", "sec": 0.0, "lim": int(limit)}


def current(data: dict, app: Flask | None = None) -> BankQuestion | None:
    refs, index = data["refs"], data["i"]
    return bank.find(refs[index], app) if index < len(refs) else None


def ask(data: dict, app: Flask | None = None) -> str:
    """The open question as shown (questions that left their pack are passed over)."""
    while data["i"] < len(data["refs"]) and current(data, app) is None:
        data["res"] += GONE
        data["i"] += 1
    bq = current(data, app)
    if bq is None:
        return ""
    return quiz_text.question(bq, number=data["i"] + 1, total=len(data["refs"]), limit_seconds=data["lim"])


def settle(session: Session, data: dict, *, userid: str, outcome: Outcome, reply: str, now: datetime,
           app: Flask | None = None) -> Moved:
    """Record ``outcome`` for the open question, then show the next one or end with the summary."""
    bq = current(data, app)
    seconds = max(now.timestamp() - data["at"], 0.0)
    if bq is not None:
        quiz_record.record_answer(session, userid=userid, question_ref=bq.ref, pack_version=bq.pack.version,
                                  mode=QuizMode(data["mode"]), session_ref=data["id"], outcome=outcome,
                                  reply=reply, seconds=seconds, now=now)
    data["res"] += LETTERS[outcome] if bq is not None else GONE
    data["sec"] = round(data["sec"] + min(seconds, CREDIT_CAP_SECONDS), 1)
    data["i"] += 1
    data["at"] = round(now.timestamp(), 3)
    data.pop("late", None)
    if outcome is Outcome.MISSED:
        data["late"] = data["at"]         # see crossed_a_time_out
    said = quiz_text.verdict(bq.question, outcome) if bq is not None else ""
    following = ask(data, app)
    if not following:
        return Moved(_join(said, finish(session, data, userid=userid, now=now, app=app)), None)
    return Moved(_join(said, following), data["i"])


def crossed_a_time_out(data: dict, now: datetime) -> bool:
    """Whether a reply probably meant the question that just timed out: it arrives within
    ``LATE_GRACE_SECONDS`` of the time-out having moved the quiz on (it is then not graded, once)."""
    late = data.pop("late", None)
    return late is not None and late == data["at"] and now.timestamp() - late < LATE_GRACE_SECONDS


def finish(session: Session, data: dict, *, userid: str, now: datetime, app: Flask | None = None) -> str:
    """The summary; credits the quiz's study time once (source_ref = the quiz id)."""
    answered = [(ref, mark) for ref, mark in zip(data["refs"], data["res"]) if mark != GONE]
    # at least a minute for a finished quiz: it also marks today's quiz as done (finished_daily)
    minutes = max(math.ceil(data["sec"] / 60), 1) if answered else 0
    credited = bool(minutes) and study.record_vouched(
        session, userid=userid, day=now.date(), minutes=minutes, source=StudySource.QUIZ, ref=data["id"],
        topic=TOPICS.get(data["mode"], "答题"), recorded_by=userid, now=now)
    missed = [bank.find(ref, app) for ref, mark in answered if mark != LETTERS[Outcome.RIGHT]]
    ready = bool(review.due_refs(session, userid, now, limit=1))
    return quiz_text.summary(quiz_text.Summary(
        mode=data["mode"], answered=len(answered), right=sum(mark == "R" for _, mark in answered),
        seconds=now.timestamp() - data["t0"], credited_minutes=minutes if credited else 0,
        to_review=[bq.question.text for bq in missed if bq is not None], review_ready=ready,
        next_review=None if ready else review.next_due(session, userid, now)))


def finished_daily(session: Session, userid: str, now: datetime) -> str | None:
    """The id of the member's daily quiz finished today (its study time is credited at the end), or None."""
    query = select(StudyLog.source_ref).where(
        StudyLog.userid == userid, StudyLog.day == now.date(), StudyLog.source == StudySource.QUIZ.value,
        StudyLog.source_ref.like(f"{QuizMode.DAILY.value}-%")).limit(1)
    return session.scalar(query)


def _join(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)


def _setting(config: Mapping, name: str, default: int, low: int, high: int) -> int:
    value = config.get(name, default)
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or isinstance(value, bool) or not low <= number <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return number
