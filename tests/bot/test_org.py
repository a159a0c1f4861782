"""Org queries over an imported roster, and the `roles grant` / `members list` commands."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import cohorts, db, org
from bot.cli import register_cli
from bot.models import AuditEntry, OrgUnit, RoleGrant
from bot.roster import import_roster

ROWS = [
    ["工号", "姓名", "部门", "班组", "岗位", "岗位类别", "出生年份", "状态"],
    ["sunlijun", "孙立军", "工程管理科", "", "科长", "工程运维", 1976, "在职"],
    ["mayonggang", "马永刚", "工程管理科", "大坝巡查班组", "班组长", "工程运维", 1973, "在职"],
    ["zhangwei", "张伟", "工程管理科", "大坝巡查班组", "大坝巡查岗", "工程运维", 1991, "在职"],
    ["huangzhenguo", "黄振国", "工程管理科", "", "大坝巡查岗", "工程运维", 1955, "退休"],
    ["jianghongmei", "蒋红梅", "水情调度科", "", "科长", "调度管理", 1977, "在职"],
    ["lina", "李娜", "水情调度科", "水情监测班组", "水情监测岗", "调度管理", 1995, "在职"],
    # the same team name under another department: a different team
    ["qiuli", "邱丽", "水情调度科", "大坝巡查班组", "大坝巡查岗", "调度管理", 1990, "在职"],
]


@pytest.fixture
def session(app, clock):
    session = db.get_session()
    assert import_roster(session, ROWS, unit_name="水库管理所", now=clock()).ok
    return session


def unit(session, name) -> OrgUnit:
    [found] = org.find_unit_by_name(session, name)
    return found


def root(session) -> OrgUnit:
    return session.scalars(select(OrgUnit).where(OrgUnit.kind == "unit")).one()


def test_find_member(session):
    assert org.find_member(session, "zhangwei").name == "张伟"
    assert org.find_member(session, " lina ").name == "李娜"
    assert org.find_member(session, "nobody") is None
    assert org.find_member(session, "") is None


def test_units_under(session):
    engineering = unit(session, "工程管理科")
    patrol = unit(session, "工程管理科/大坝巡查班组")
    assert org.units_under(session, engineering.id) == {engineering.id, patrol.id}
    assert org.units_under(session, patrol.id) == {patrol.id}
    assert len(org.units_under(session, root(session).id)) == 6     # root, 2 departments, 3 teams
    assert org.units_under(session, 9999) == set()


def test_members_in(session):
    engineering = unit(session, "工程管理科")
    names = [m.userid for m in org.members_in(session, engineering.id)]
    assert names == ["huangzhenguo", "mayonggang", "sunlijun", "zhangwei"]
    assert [m.userid for m in org.members_in(session, engineering.id, status="退休")] == ["huangzhenguo"]
    assert [m.userid for m in org.members_in(session, unit(session, "水情监测班组").id)] == ["lina"]
    assert len(org.members_in(session, root(session).id)) == 7
    assert org.members_in(session, 9999) == []


def test_find_unit_by_name(session):
    assert [u.kind for u in org.find_unit_by_name(session, "工程管理科")] == ["department"]
    repeated = org.find_unit_by_name(session, "大坝巡查班组")
    assert sorted(org.unit_path(u) for u in repeated) == ["工程管理科 / 大坝巡查班组", "水情调度科 / 大坝巡查班组"]
    assert org.unit_path(unit(session, "水情调度科 / 大坝巡查班组")) == "水情调度科 / 大坝巡查班组"
    assert org.find_unit_by_name(session, " 水情监测班组 ")[0].name == "水情监测班组"
    assert org.find_unit_by_name(session, "水库管理所") == []          # the root is not a department
    assert org.find_unit_by_name(session, "不存在") == []
    assert org.find_unit_by_name(session, "a/b/c") == []


def test_org_path(session):
    assert org.org_path(org.find_member(session, "zhangwei")) == "工程管理科 / 大坝巡查班组"
    assert org.org_path(org.find_member(session, "sunlijun")) == "工程管理科"


def grant(app, *args):
    register_cli(app)
    return app.test_cli_runner().invoke(args=["roles", "grant", *args])


def test_cli_grant_admin_and_leader(app, session):
    assert grant(app, "lina", "admin").exit_code == 0
    result = grant(app, "mayonggang", "leader", "--unit", "工程管理科/大坝巡查班组")
    assert result.exit_code == 0, result.output

    grants = session.scalars(select(RoleGrant).order_by(RoleGrant.id)).all()
    patrol = unit(session, "工程管理科/大坝巡查班组")
    assert [(g.userid, g.role, g.org_unit_id, g.granted_by) for g in grants] == [
        ("lina", "admin", None, "cli"), ("mayonggang", "leader", patrol.id, "cli")]
    audit = session.scalars(select(AuditEntry)).all()
    assert [(a.actor, a.command, a.result) for a in audit] == [("cli", "roles grant", "ok")] * 2


def test_cli_grant_twice_changes_nothing(app, session):
    grant(app, "sunlijun", "leader", "--unit", "工程管理科")
    result = grant(app, "sunlijun", "leader", "--unit", "工程管理科")
    assert result.exit_code == 0 and "已有此角色" in result.output
    assert len(session.scalars(select(RoleGrant)).all()) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["nobody", "admin"], "名单中没有「nobody」"),
    (["lina", "leader"], "需要用 --unit"),
    (["lina", "leader", "--unit", "不存在"], "没有找到部门或班组「不存在」"),
    (["zhangwei", "leader", "--unit", "大坝巡查班组"], "请写成 部门/班组"),
    (["lina", "admin", "--unit", "工程管理科"], "管理员不分部门"),
])
def test_cli_grant_refusals(app, session, args, message):
    result = grant(app, *args)
    assert result.exit_code == 1 and message in result.output
    assert session.scalars(select(RoleGrant)).all() == []
    assert session.scalars(select(AuditEntry.result)).all() == ["rejected"]


def test_cli_members_list(app, session):
    register_cli(app)
    cohorts.init_app(app)
    runner = app.test_cli_runner()

    everyone = runner.invoke(args=["members", "list"])
    assert everyone.exit_code == 0 and "共 7 人" in everyone.output
    assert "zhangwei\t张伟\t工程管理科 / 大坝巡查班组\t大坝巡查岗\t在职\t1991\t青年、工程运维" in everyone.output

    young = runner.invoke(args=["members", "list", "--unit", "工程管理科", "--cohort", "青年"])
    assert young.exit_code == 0 and "共 1 人" in young.output and "zhangwei" in young.output

    assert runner.invoke(args=["members", "list", "--cohort", "老年"]).exit_code == 1
