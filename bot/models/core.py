"""Members, the org tree (unit → department → team), roles, unknown senders and the audit log."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models import Base


class OrgKind(str, Enum):
    UNIT = "unit"
    DEPARTMENT = "department"
    TEAM = "team"


class MemberStatus(str, Enum):
    ACTIVE = "在职"
    RETIRED = "退休"


class OrgUnit(Base):
    __tablename__ = "org_units"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_org_units_parent_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)

    parent: Mapped["OrgUnit | None"] = relationship(remote_side=[id])


class Member(Base):
    __tablename__ = "members"

    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    post: Mapped[str] = mapped_column(String(64), default="")
    post_category: Mapped[str] = mapped_column(String(32), default="")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8), default=MemberStatus.ACTIVE.value)
    phone: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    department: Mapped[OrgUnit] = relationship(foreign_keys=[department_id])
    team: Mapped[OrgUnit | None] = relationship(foreign_keys=[team_id])


class RoleGrant(Base):
    """A stored role: an admin (org_unit_id empty) or the leader of one department or team."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("userid", "role", "org_unit_id", name="uq_role_grants_who_what"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UnknownSender(Base):
    """Someone who wrote to the bot but is not on the roster, so an admin can add them."""

    __tablename__ = "unknown_senders"

    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(16))
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    times: Mapped[int] = mapped_column(Integer, default=1)
    last_text: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    """Who ran which admin command, when, and what came of it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    command: Mapped[str] = mapped_column(String(32))
    arguments: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
