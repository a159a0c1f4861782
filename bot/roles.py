"""Role resolution: BOT_ADMINS and stored grants decide whether someone is a member, leader or admin."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.acl import Role
from bot.models import RoleGrant

ADMIN = "admin"
LEADER = "leader"


@dataclass(frozen=True)
class Standing:
    role: Role
    leads: frozenset[int]     # org unit ids this person leads (departments or teams)


def resolve(session: Session, userid: str, *, on_roster: bool, config_admins: tuple[str, ...]) -> Standing:
    grants = session.execute(select(RoleGrant.role, RoleGrant.org_unit_id).where(RoleGrant.userid == userid)).all()
    leads = frozenset(unit for role, unit in grants if role == LEADER and unit is not None)
    if userid in config_admins or any(role == ADMIN for role, _ in grants):
        return Standing(Role.ADMIN, leads)
    if leads:
        return Standing(Role.LEADER, leads)
    return Standing(Role.MEMBER if on_roster else Role.GUEST, leads)


def grant(session: Session, userid: str, role: str, *, org_unit_id: int | None, by: str, at: datetime) -> bool:
    """Store a grant; False when it was already there."""
    exists = session.scalar(select(RoleGrant.id).where(
        RoleGrant.userid == userid, RoleGrant.role == role,
        RoleGrant.org_unit_id.is_(None) if org_unit_id is None else RoleGrant.org_unit_id == org_unit_id))
    if exists:
        return False
    session.add(RoleGrant(userid=userid, role=role, org_unit_id=org_unit_id, granted_by=by, granted_at=at))
    return True


def revoke(session: Session, userid: str, role: str, *, org_unit_id: int | None = None) -> int:
    """Remove grants of ``role`` (all units when org_unit_id is None); returns how many."""
    query = select(RoleGrant).where(RoleGrant.userid == userid, RoleGrant.role == role)
    if org_unit_id is not None:
        query = query.where(RoleGrant.org_unit_id == org_unit_id)
    rows = session.scalars(query).all()
    for row in rows:
        session.delete(row)
    return len(rows)
