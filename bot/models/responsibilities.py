"""Target letters (目标责任书): a member's confirmation of one version of his responsibility list."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Base


class TargetLetterConfirmation(Base):
    __tablename__ = "target_letter_confirmations"
    # the digest names the exact list confirmed: when the list changes, a new confirmation is due
    __table_args__ = (UniqueConstraint("userid", "year", "list_digest", name="uq_target_letters_who_what"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[str] = mapped_column(ForeignKey("members.userid"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    list_digest: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
