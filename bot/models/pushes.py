"""Content pushes (推送): what was pushed to whom, what each member already has, and what they said about it.

A push sends one item of a push pack (``item_ref`` = ``<pack id>/<item id>``, with the pack
version) to an audience, now or at a time. Per-recipient sending is recorded by the delivery
ledger under ``Push.ledger_id``, one row per recipient for all the messages of the push (a voice push
is its clips and a line of text, sent as one ``bot.outgoing.Series``); ``item_receipts`` remembers
which items a member has received, so a scheduled run picks the next one he has not.
"""
from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Base


class PushStatus(str, Enum):
    SCHEDULED = "scheduled"     # waiting for its time (预约)
    SENDING = "sending"         # fan-out jobs enqueued
    SENT = "sent"
    CANCELLED = "cancelled"     # 取消推送 before its time


class PushOrigin(str, Enum):
    ADMIN = "admin"             # 推送 by an admin
    SCHEDULE = "schedule"       # a cohort's scheduled run


class Push(Base):
    __tablename__ = "pushes"
    __table_args__ = (Index("ix_pushes_status_scheduled_for", "status", "scheduled_for"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)        # the 推送号 people type
    item_ref: Mapped[str] = mapped_column(String(160))
    pack_version: Mapped[int] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(200))                # as chosen: 青年 / 工程管理科 / 全体 / 人群:退休
    origin: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str] = mapped_column(Text, default="")             # e.g. the schedule run it belongs to

    @property
    def ledger_id(self) -> str:
        """The delivery ledger's push_id for this push. (Pushes sent before their messages went as one
        delivery have a ledger id per message, ``push-<id>-<n>``; this is message 0's, so they count alike.)"""
        return f"push-{self.id}-0"

    @property
    def ledger_pattern(self) -> str:
        """A SQL LIKE pattern matching the ledger ids of this push, also those of its messages before."""
        return f"push-{self.id}-%"


class ItemReceipt(Base):
    """A member received an item (in some form): scheduled runs do not send it to him again."""

    __tablename__ = "item_receipts"

    userid: Mapped[str] = mapped_column(ForeignKey("members.userid"), primary_key=True)
    item_ref: Mapped[str] = mapped_column(String(160), primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("pushes.id"))
    form: Mapped[str] = mapped_column(String(16))                     # text | news | video | voice | image
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MemberPreference(Base):
    """免打扰 and 我要语音 / 我要文字: a member's own say over pushes."""

    __tablename__ = "member_preferences"

    userid: Mapped[str] = mapped_column(ForeignKey("members.userid"), primary_key=True)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    form: Mapped[str | None] = mapped_column(String(16))              # preferred form; None = the policy decides
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PushFeedback(Base):
    """评价 (1–5, 👍 = 5, 👎 = 1) and 已读 of one member on one push."""

    __tablename__ = "push_feedback"
    __table_args__ = (UniqueConstraint("push_id", "userid", name="uq_push_feedback_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("pushes.id"), index=True)
    userid: Mapped[str] = mapped_column(ForeignKey("members.userid"))
    item_ref: Mapped[str] = mapped_column(String(160), index=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
