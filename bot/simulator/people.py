"""The member picker: everyone on the roster, grouped by department and team, with cohorts and role."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot import cohorts, roles
from bot.acl import ROLE_NAMES
from bot.models import Member, OrgUnit

DIRECT = "部门直属"        # members of a department who sit in no team


def roster_tree(session: Session, *, today: date, config_admins: tuple[str, ...]) -> list[dict]:
    """Departments in org order, each with its teams (direct members first) and their members.

    Returns:
        ``[{"name", "teams": [{"name", "members": [{"userid", "name", "post", "status", "cohorts", "role"}]}]}]``
    """
    rules = cohorts.get_rules()
    members = session.scalars(select(Member).options(joinedload(Member.department), joinedload(Member.team))
                              .order_by(Member.userid)).unique().all()
    order = {unit_id: n for n, unit_id in enumerate(session.scalars(select(OrgUnit.id).order_by(OrgUnit.id)))}
    departments: dict[int, dict] = {}
    for member in sorted(members, key=lambda m: (order.get(m.department_id, 0), order.get(m.team_id or 0, -1))):
        department = departments.setdefault(member.department_id, {"name": member.department.name, "teams": {}})
        team_name = member.team.name if member.team else DIRECT
        team = department["teams"].setdefault(team_name, {"name": team_name, "members": []})
        standing = roles.resolve(session, member.userid, on_roster=True, config_admins=config_admins)
        team["members"].append({
            "userid": member.userid, "name": member.name, "post": member.post, "status": member.status,
            "cohorts": rules.cohorts_of(member, today=today), "role": ROLE_NAMES[standing.role],
        })
    return [{"name": d["name"], "teams": list(d["teams"].values())} for d in departments.values()]
