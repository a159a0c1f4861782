"""Factories for stored rows; keyword defaults for everything so tests state only what matters."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from bot.models import Member, OrgUnit


def org_unit(session, name: str, *, kind: str, parent: OrgUnit | None = None) -> OrgUnit:
    parent_id = parent.id if parent else None
    found = session.scalar(select(OrgUnit).where(OrgUnit.name == name, OrgUnit.parent_id.is_(parent_id)
                                                 if parent_id is None else OrgUnit.parent_id == parent_id))
    if found:
        return found
    unit = OrgUnit(name=name, kind=kind, parent_id=parent_id)
    session.add(unit)
    session.flush()
    return unit


def member(session, userid: str = "u001", *, name: str = "张三", department: str = "工程管理科",
           team: str | None = "大坝巡查班组", post: str = "大坝巡查岗", post_category: str = "工程运维",
           birth_year: int = 1990, status: str = "在职") -> Member:
    root = org_unit(session, "水库管理所", kind="unit")
    dept = org_unit(session, department, kind="department", parent=root)
    team_row = org_unit(session, team, kind="team", parent=dept) if team else None
    row = Member(userid=userid, name=name, department_id=dept.id, team_id=team_row.id if team_row else None,
                 post=post, post_category=post_category, birth_year=birth_year, status=status,
                 updated_at=datetime.now(timezone.utc))
    session.add(row)
    session.commit()
    return row
