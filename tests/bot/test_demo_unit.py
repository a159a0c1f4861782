"""The demo unit: a full reservoir office roster with every cohort, department, team and role."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from bot import db, org, roles
from bot.cohorts import DEFAULT_RULES, load_rules
from bot.demo import DEMO_DIR, load_demo_unit
from bot.models import Member, OrgUnit, RoleGrant

DEPARTMENTS = {"领导班子", "工程管理科", "水情调度科", "后勤保障科"}
TEAMS = {"大坝巡查班组": "工程管理科", "防汛抢险班组": "工程管理科", "水情监测班组": "水情调度科"}


@pytest.fixture
def session(app, clock):
    session = db.get_session()
    load_demo_unit(session, now=clock())
    return session


def test_roster_file_has_chinese_headers():
    first_line = (DEMO_DIR / "roster.csv").read_text("utf-8").splitlines()[0]
    assert first_line == "工号,姓名,部门,班组,岗位,岗位类别,出生年份,状态,手机"


def test_about_sixty_members_with_an_admin(session):
    members = session.scalars(select(Member)).all()
    assert 55 <= len(members) <= 65
    assert org.find_member(session, "admin") is not None
    assert sum(m.status == "退休" for m in members) >= 6


def test_every_department_and_team_exists(session):
    root = session.scalars(select(OrgUnit).where(OrgUnit.kind == "unit")).one()
    assert root.name == "水库管理所"
    departments = session.scalars(select(OrgUnit).where(OrgUnit.kind == "department")).all()
    assert {d.name for d in departments} == DEPARTMENTS
    assert all(d.parent_id == root.id for d in departments)
    for team, department in TEAMS.items():
        [found] = org.find_unit_by_name(session, team)
        assert found.parent.name == department
        assert org.members_in(session, found.id), team


def test_every_default_cohort_has_members(session, clock):
    rules = load_rules(DEFAULT_RULES)
    sizes = Counter(name for member in session.scalars(select(Member))
                    for name in rules.cohorts_of(member, today=clock()))
    assert all(sizes[name] >= 3 for name in rules.names), sizes
    assert sizes["青年"] >= 10 and sizes["临退休"] >= 4


def test_roles_are_granted(session):
    standing = roles.resolve(session, "admin", on_roster=True, config_admins=())
    assert standing.role.name == "ADMIN"
    leaders = session.scalars(select(RoleGrant).where(RoleGrant.role == roles.LEADER)).all()
    led = {session.get(OrgUnit, grant.org_unit_id).name for grant in leaders}
    assert led == DEPARTMENTS | set(TEAMS)                  # every department and team has its leader
    assert all(org.find_member(session, grant.userid) for grant in leaders)
    patrol_leader = next(g for g in leaders if session.get(OrgUnit, g.org_unit_id).name == "大坝巡查班组")
    assert org.find_member(session, patrol_leader.userid).post == "班组长"


def test_loading_twice_changes_nothing(session, clock):
    grants_before = session.scalar(select(func.count()).select_from(RoleGrant))
    members_before = session.scalar(select(func.count()).select_from(Member))

    report = load_demo_unit(session, now=clock())

    assert (report.added, report.updated, report.unchanged) == (0, 0, members_before)
    assert session.scalar(select(func.count()).select_from(RoleGrant)) == grants_before
    assert session.scalar(select(func.count()).select_from(OrgUnit)) == 1 + len(DEPARTMENTS) + len(TEAMS)
