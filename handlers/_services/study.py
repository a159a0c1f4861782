"""Study time: self-reports capped per day, vouched time by source, undo, and totals for reports."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import Leave, StudyLog
from bot.models.study import StudySource
from bot.sqlutil import chunks, insert_ignoring_duplicates

_ACTIVE = StudyLog.revoked_at.is_(None)


@dataclass(frozen=True)
class Recorded:
    minutes: int          # what was recorded (0: nothing, the day's cap was reached)
    asked: int            # what the member reported
    day_total: int        # self-reported minutes today, after this entry
    cap: int              # the daily cap for self-reports, in minutes

    @property
    def capped(self) -> bool:
        return self.minutes < self.asked


@dataclass(frozen=True)
class Totals:
    self_minutes: int = 0
    vouched_minutes: int = 0

    @property
    def minutes(self) -> int:
        return self.self_minutes + self.vouched_minutes


def record_self(session: Session, *, userid: str, now: datetime, minutes: int, topic: str, text: str,
                ref: str, cap_minutes: int) -> Recorded:
    """Record self-reported time, counting at most ``cap_minutes`` a day; ``ref`` names the message."""
    today = now.date()
    so_far = _self_minutes_on(session, userid, today)
    allowed = max(0, min(minutes, cap_minutes - so_far))
    if allowed:
        row = dict(userid=userid, day=today, minutes=allowed, topic=topic[:64], source=StudySource.SELF.value,
                   source_ref=ref, text=text[:500], recorded_by=userid, created_at=now)
        if insert_ignoring_duplicates(session, StudyLog, row) == 0:
            allowed = 0          # this very message was recorded before
    return Recorded(allowed, minutes, so_far + allowed, cap_minutes)


def record_vouched(session: Session, *, userid: str, day: date, minutes: int, source: StudySource, ref: str,
                   topic: str, recorded_by: str, now: datetime) -> bool:
    """Record time the system can vouch for (a quiz, an activity, a read push); once per ``ref``."""
    row = dict(userid=userid, day=day, minutes=minutes, topic=topic[:64], source=source.value, source_ref=ref,
               text="", recorded_by=recorded_by, created_at=now)
    return insert_ignoring_duplicates(session, StudyLog, row) == 1


def revoke_last_today(session: Session, *, userid: str, now: datetime) -> StudyLog | None:
    """Undo the member's latest self-reported entry of today; vouched time cannot be undone by him."""
    entry = session.scalar(
        select(StudyLog).where(StudyLog.userid == userid, StudyLog.day == now.date(), _ACTIVE,
                               StudyLog.source == StudySource.SELF.value)
        .order_by(StudyLog.created_at.desc(), StudyLog.id.desc()).limit(1))
    if entry is not None:
        entry.revoked_at = now
    return entry


def totals(session: Session, userids: list[str], first: date, last: date) -> dict[str, Totals]:
    """Minutes per member between two days (inclusive), split into self-reported and vouched."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: {"self": 0, "vouched": 0})
    for chunk in chunks(userids):
        query = (select(StudyLog.userid, StudyLog.source, func.sum(StudyLog.minutes))
                 .where(StudyLog.userid.in_(chunk), StudyLog.day >= first, StudyLog.day <= last, _ACTIVE)
                 .group_by(StudyLog.userid, StudyLog.source))
        for userid, source, minutes in session.execute(query):
            found[userid]["self" if source == StudySource.SELF.value else "vouched"] += minutes or 0
    return {u: Totals(found[u]["self"], found[u]["vouched"]) for u in userids}


def activities_attended(session: Session, userids: list[str], first: date, last: date) -> dict[str, int]:
    """Practice activities attended per member (attendance is recorded as vouched study time)."""
    counts: dict[str, int] = {}
    for chunk in chunks(userids):
        query = (select(StudyLog.userid, func.count(StudyLog.source_ref.distinct()))
                 .where(StudyLog.userid.in_(chunk), StudyLog.day >= first, StudyLog.day <= last, _ACTIVE,
                        StudyLog.source == StudySource.ACTIVITY.value)
                 .group_by(StudyLog.userid))
        counts.update(session.execute(query).all())
    return {u: counts.get(u, 0) for u in userids}


def leave_days(session: Session, userids: list[str], first: date, last: date) -> dict[str, set[date]]:
    """The days each member is on leave between two days (inclusive)."""
    days: dict[str, set[date]] = {u: set() for u in userids}
    leaves = [leave for chunk in chunks(userids) for leave in session.scalars(
        select(Leave).where(Leave.userid.in_(chunk), Leave.start_day <= last, Leave.end_day >= first))]
    for leave in leaves:
        day = max(leave.start_day, first)
        while day <= min(leave.end_day, last):
            days[leave.userid].add(day)
            day += timedelta(days=1)
    return days


def _self_minutes_on(session: Session, userid: str, day: date) -> int:
    query = select(func.coalesce(func.sum(StudyLog.minutes), 0)).where(
        StudyLog.userid == userid, StudyLog.day == day, StudyLog.source == StudySource.SELF.value, _ACTIVE)
    return int(session.scalar(query))
