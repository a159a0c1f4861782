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


def office_with_leaders(session, now: datetime) -> None:
    """A small office: 工程管理科 (patrol1 and patrol2 in 大坝巡查班组, flood1 in 防汛抢险班组, head1 the
    科长), 水情调度科 (water1, 调度管理) and 后勤保障科 (the retiree old1 and admin01); patrol1 leads the
    大坝巡查班组 and head1 the department."""
    from bot import org, roles

    member(session, "patrol1", name="巡查一", department="工程管理科", team="大坝巡查班组")
    member(session, "patrol2", name="巡查二", department="工程管理科", team="大坝巡查班组")
    member(session, "flood1", name="抢险一", department="工程管理科", team="防汛抢险班组")
    member(session, "head1", name="科长甲", department="工程管理科", team=None, post="科长")
    member(session, "water1", name="水情一", department="水情调度科", team="水情监测班组", post="水情监测岗",
           post_category="调度管理")
    member(session, "old1", name="老王", department="后勤保障科", team=None, post="", status="退休", birth_year=1955)
    member(session, "admin01", name="管理员", department="后勤保障科", team=None, post="综合文秘岗",
           post_category="综合管理")
    team = org.find_unit_by_name(session, "大坝巡查班组")[0]
    dept = org.find_unit_by_name(session, "工程管理科")[0]
    roles.grant(session, "patrol1", roles.LEADER, org_unit_id=team.id, by="test", at=now)
    roles.grant(session, "head1", roles.LEADER, org_unit_id=dept.id, by="test", at=now)
