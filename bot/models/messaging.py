"""The delivery ledger: one row per (push, recipient), so nothing is ever sent twice."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Base


class DeliveryStatus(str, Enum):
    SENDING = "sending"     # claimed; if a worker dies here we do not know, so we never resend
    SENT = "sent"
    FAILED = "failed"


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("push_id", "recipient", name="uq_deliveries_push_recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[str] = mapped_column(String(128), index=True)
    recipient: Mapped[str] = mapped_column(String(128))   # "user:<userid>" or "group:<chat>"
    msgtype: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    errcode: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
