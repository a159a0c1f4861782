"""Binding a long-connection sender id to a roster member: ask once, request, admin decides (no chat text here)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import org
from bot.models import Member
from bot.models.bindings import BindingStatus, SenderBinding

ASKED, PENDING, CONFIRMED, REJECTED = (s.value for s in BindingStatus)


class Requested(str, Enum):
    OK = "ok"                     # now pending an admin's decision
    SAME = "same"                 # this very request is already pending
    NOT_ON_ROSTER = "not_on_roster"
    TAKEN = "taken"               # another account is already bound to that member


@dataclass(frozen=True)
class Pending:
    binding: SenderBinding
    name: str


def first_contact(session: Session, external_id: str, now: datetime) -> SenderBinding | None:
    """Record that the sender was told how to bind; None when they had been told (or asked) before."""
    if session.get(SenderBinding, external_id) is not None:
        return None
    return _asked(session, external_id, now)


def _asked(session: Session, external_id: str, now: datetime) -> SenderBinding:
    binding = SenderBinding(external_id=external_id, status=ASKED, asked_at=now, decided_by="")
    session.add(binding)
    return binding


def request(session: Session, external_id: str, userid: str, now: datetime) -> Requested:
    """The sender asks to be ``userid``; nothing changes unless that member exists and is free."""
    if org.find_member(session, userid) is None:
        return Requested.NOT_ON_ROSTER
    if is_taken(session, userid, other_than=external_id):
        return Requested.TAKEN
    binding = session.get(SenderBinding, external_id)
    if binding is None:
        binding = _asked(session, external_id, now)
    elif binding.status == PENDING and binding.userid == userid:
        return Requested.SAME
    binding.userid, binding.status, binding.requested_at = userid, PENDING, now
    binding.decided_at, binding.decided_by = None, ""
    return Requested.OK


def pending(session: Session) -> list[Pending]:
    """Requests waiting for an admin, oldest first, with the requested member's roster name."""
    rows = session.execute(
        select(SenderBinding, Member.name).join(Member, Member.userid == SenderBinding.userid)
        .where(SenderBinding.status == PENDING).order_by(SenderBinding.requested_at, SenderBinding.external_id))
    return [Pending(binding, name) for binding, name in rows]


def pending_for(session: Session, userid: str, external_id: str | None = None) -> list[SenderBinding]:
    query = select(SenderBinding).where(SenderBinding.status == PENDING, SenderBinding.userid == userid)
    if external_id:
        query = query.where(SenderBinding.external_id == external_id)
    return list(session.scalars(query.order_by(SenderBinding.requested_at)))


def decide(binding: SenderBinding, *, confirm: bool, by: str, now: datetime) -> None:
    binding.status = CONFIRMED if confirm else REJECTED
    binding.decided_at, binding.decided_by = now, by


def is_taken(session: Session, userid: str, *, other_than: str) -> bool:
    """Whether another account (not ``other_than``) is confirmed as ``userid`` already."""
    return session.scalar(select(SenderBinding.external_id).where(
        SenderBinding.userid == userid, SenderBinding.status == CONFIRMED,
        SenderBinding.external_id != other_than)) is not None
