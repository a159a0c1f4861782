"""Check-in rules: one per member per local day, streaks and monthly counts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.models import CheckIn
from bot.sqlutil import insert_ignoring_duplicates

# a streak longer than this is still shown as this many days; keeps the query bounded
STREAK_HORIZON_DAYS = 400


@dataclass(frozen=True)
class CheckInResult:
    recorded: bool        # False: already checked in today, nothing new stored
    streak: int           # consecutive days up to today
    month_count: int      # check-ins this calendar month
    note: str


def record(session: Session, *, userid: str, now: datetime, note: str, channel: str, msg_id: str) -> CheckInResult:
    """Store today's check-in unless one exists; the unique (userid, day) constraint settles races."""
    today = now.date()
    row = dict(userid=userid, day=today, note=note, channel=channel, msg_id=msg_id, created_at=now)
    recorded = insert_ignoring_duplicates(session, CheckIn, row) == 1
    days = recent_days(session, userid, today)
    existing_note = note if recorded else _note_of(session, userid, today)
    return CheckInResult(recorded, streak_of(days, today), month_count(days, today), existing_note)


_DAYS = select(CheckIn.day).where(CheckIn.userid == bindparam("userid"), CheckIn.day >= bindparam("since"),
                                   CheckIn.day <= bindparam("today"))


def recent_days(session: Session, userid: str, today: date) -> list[date]:
    since = min(today.replace(day=1), today - timedelta(days=STREAK_HORIZON_DAYS))
    rows = session.connection().execute(_DAYS, {"userid": userid, "since": since, "today": today}).scalars()
    return sorted(rows, reverse=True)


def streak_of(days: list[date], today: date) -> int:
    """Consecutive days ending today (or yesterday, if today has no check-in yet)."""
    seen = set(days)
    cursor = today if today in seen else today - timedelta(days=1)
    streak = 0
    while cursor in seen:
        streak += 1
        cursor -= timedelta(days=1)
    return streak


def month_count(days: list[date], today: date) -> int:
    return sum(1 for d in days if d.year == today.year and d.month == today.month)


def _note_of(session: Session, userid: str, day: date) -> str:
    return session.scalar(select(CheckIn.note).where(CheckIn.userid == userid, CheckIn.day == day)) or ""
