"""Org queries: find members and units, walk the unit → department → team tree, name a member's place."""
from __future__ import annotations

import unicodedata

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from bot.models import Member, OrgUnit
from bot.models.core import MemberStatus, OrgKind

PATH_SEPARATOR = " / "


def find_member(session: Session, userid: str) -> Member | None:
    """The member with this WeCom userid, or None."""
    return session.get(Member, userid.strip()) if userid and userid.strip() else None


def members_named(session: Session, name: str) -> list[Member]:
    """Members whose name is exactly ``name`` (names can repeat; callers decide what to do)."""
    return list(session.scalars(select(Member).where(Member.name == name)))


def units_under(session: Session, org_unit_id: int) -> set[int]:
    """The ids of a unit and all its descendants; empty when the unit does not exist.

    Args:
        session: the SQL session.
        org_unit_id: any org unit (unit, department or team).
    """
    if session.get(OrgUnit, org_unit_id) is None:
        return set()
    found = {org_unit_id}
    frontier = {org_unit_id}
    while frontier:     # the tree is three levels deep, so this is at most three small queries
        frontier = set(session.scalars(select(OrgUnit.id).where(OrgUnit.parent_id.in_(frontier)))) - found
        found |= frontier
    return found


def units_within(session: Session, roots: set[int]) -> set[int]:
    """The given units and everything below them."""
    return {unit for root in roots for unit in units_under(session, root)}


def root_units(session: Session) -> set[int]:
    """The top of the tree (the unit itself)."""
    return set(session.scalars(select(OrgUnit.id).where(OrgUnit.parent_id.is_(None))))


def members_in(session: Session, org_unit_id: int, *, status: str | None = None) -> list[Member]:
    """Members whose department or team lies in the unit's subtree, ordered by userid.

    Args:
        session: the SQL session.
        org_unit_id: the unit, department or team.
        status: only members with this status (在职 or 退休) when given.
    """
    ids = units_under(session, org_unit_id)
    if not ids:
        return []
    query = select(Member).where(or_(Member.department_id.in_(ids), Member.team_id.in_(ids)))
    if status is not None:
        query = query.where(Member.status == status)
    return list(session.scalars(query.order_by(Member.userid)))


def active_userids() -> Select:
    """A SELECT of everyone on the roster still at work: who rankings and rates count."""
    return select(Member.userid).where(Member.status == MemberStatus.ACTIVE.value)


def active_userids_within(session: Session, roots: set[int]) -> Select:
    """``active_userids`` limited to members of these units (and the units under them)."""
    units = units_within(session, roots)
    return active_userids().where(or_(Member.department_id.in_(units), Member.team_id.in_(units)))


def only(userid: str) -> Select:
    """The same kind of SELECT for one member (his own figures through the same queries)."""
    return select(Member.userid).where(Member.userid == userid)


def find_unit_by_name(session: Session, name: str) -> list[OrgUnit]:
    """Departments and teams with this name, oldest first.

    A team name may repeat across departments, so every match is returned; write
    ``部门/班组`` (e.g. ``工程管理科/大坝巡查班组``) to pick the team of one department.
    """
    parts = [part.strip() for part in _normalize(name).split("/")]
    if not all(parts) or len(parts) > 2:
        return []
    if len(parts) == 2:
        departments = _named(session, parts[0], OrgKind.DEPARTMENT)
        teams = _named(session, parts[1], OrgKind.TEAM)
        return [team for team in teams if team.parent_id in {d.id for d in departments}]
    query = select(OrgUnit).where(OrgUnit.name == parts[0],
                                  OrgUnit.kind.in_((OrgKind.DEPARTMENT.value, OrgKind.TEAM.value)))
    return list(session.scalars(query.order_by(OrgUnit.id)))


def org_path(member: Member) -> str:
    """Where a member sits, e.g. ``工程管理科 / 大坝巡查班组`` (just the department without a team)."""
    if member.team is None:
        return member.department.name
    return f"{member.department.name}{PATH_SEPARATOR}{member.team.name}"


def unit_path(unit: OrgUnit) -> str:
    """A unit's place below the root, e.g. ``工程管理科 / 大坝巡查班组``; the root is its own name."""
    names = [unit.name]
    while unit.parent is not None and unit.parent.kind != OrgKind.UNIT.value:
        unit = unit.parent
        names.append(unit.name)
    return PATH_SEPARATOR.join(reversed(names))


def _named(session: Session, name: str, kind: OrgKind) -> list[OrgUnit]:
    query = select(OrgUnit).where(OrgUnit.name == name, OrgUnit.kind == kind.value)
    return list(session.scalars(query.order_by(OrgUnit.id)))


def _normalize(name: str) -> str:
    # the roster stores names NFKC-folded, so look them up the same way
    return unicodedata.normalize("NFKC", name or "").strip()
