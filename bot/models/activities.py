"""Activities (活动), online and offline: what was published, who registered or waits, who attended.

Seats are a counter on the activity (``seats_taken``) changed only by conditional UPDATEs, so two
registrations racing for the last seat cannot both get it (handlers/_services/activities.py).
Times are stored in UTC; SQLite hands them back naive, ``as_utc`` puts the zone back.
"""
from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Base


class RegistrationStatus(str, Enum):
    REGISTERED = "registered"   # holds a seat
    WAITING = "waiting"         # on the waiting list, moved up when a seat frees
    CANCELLED = "cancelled"     # 取消报名; may register again
    WALK_IN = "walk_in"         # signed in without registering (takes no seat)


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)          # the 编号 people type
    title: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))                       # 直播 … 实践体验
    online: Mapped[bool] = mapped_column(Boolean)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str] = mapped_column(String(200), default="")         # offline
    link: Mapped[str] = mapped_column(String(500), default="")          # online: to join; offline: a detail page
    replay_link: Mapped[str] = mapped_column(String(500), default="")
    # push_audience labels (全体 / 人群:青年 / 部门:工程管理科), resolved when asked: whoever is in them then
    audience: Mapped[list] = mapped_column(JSON, default=list)
    capacity: Mapped[int | None] = mapped_column(Integer)              # None: no limit
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    counts_as_practice: Mapped[bool] = mapped_column(Boolean, default=False)
    study_minutes: Mapped[int] = mapped_column(Integer, default=60)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    day_before_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    soon_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")            # the organiser's description, in notices
    # one per 发布活动 dialogue: a second 确认 racing the first (or replayed) cannot publish it twice
    publish_key: Mapped[str | None] = mapped_column(String(32), unique=True)

    @property
    def start(self) -> datetime:
        return as_utc(self.starts_at)

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.seats_taken)


class ActivityRegistration(Base):
    __tablename__ = "activity_registrations"
    __table_args__ = (UniqueConstraint("activity_id", "userid", name="uq_activity_registrations_member"),
                      Index("ix_activity_registrations_activity_status", "activity_id", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    userid: Mapped[str] = mapped_column(ForeignKey("members.userid"))
    status: Mapped[str] = mapped_column(String(16))
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))   # the waiting list's order
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def as_utc(value: datetime) -> datetime:
    """A stored time with its zone: SQLite returns naive UTC, PostgreSQL aware values."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
