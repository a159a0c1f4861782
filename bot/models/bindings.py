"""Sender bindings: a long-connection ``from.userid`` that is not a roster userid, tied to one by an admin."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Base


class BindingStatus(str, Enum):
    ASKED = "asked"             # told once how to bind; nothing requested yet
    PENDING = "pending"         # asked for a 工号, waiting for an admin
    CONFIRMED = "confirmed"     # an admin confirmed: messages count as the roster member's
    REJECTED = "rejected"       # an admin refused; the sender may ask again


class SenderBinding(Base):
    __tablename__ = "sender_bindings"

    external_id: Mapped[str] = mapped_column(String(128), primary_key=True)   # from.userid as WeCom sent it
    userid: Mapped[str | None] = mapped_column(String(64), index=True)        # the roster userid (工号) asked for
    status: Mapped[str] = mapped_column(String(16))
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str] = mapped_column(String(64), default="")
