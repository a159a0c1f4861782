"""Cohort rules: the default file, boundary ages, several cohorts at once, custom rules and bad files."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from bot import cohorts
from bot.cohorts import DEFAULT_RULES, load_rules
from bot.models import Member, OrgUnit
from bot.sqlutil import IN_CHUNK

TODAY = date(2026, 6, 1)


def person(*, birth_year=1980, status="在职", post_category="综合管理", post="综合文秘岗",
           department="后勤保障科", team=None) -> Member:
    """A member that never touches the database: rules only read attributes."""
    return Member(userid="p", name="某人", birth_year=birth_year, status=status, post=post,
                  post_category=post_category, department=OrgUnit(name=department, kind="department"),
                  team=OrgUnit(name=team, kind="team") if team else None)


@pytest.fixture(scope="module")
def rules():
    return load_rules(DEFAULT_RULES)


def test_default_rules_in_file_order(rules):
    assert rules.names == ["青年", "临退休", "退休", "工程运维", "调度管理"]


@pytest.mark.parametrize(("birth_year", "expected"), [
    (1991, ["青年"]),      # 35
    (1990, []),            # 36
    (1972, []),            # 54
    (1971, ["临退休"]),    # 55
])
def test_boundary_ages(rules, birth_year, expected):
    assert rules.cohorts_of(person(birth_year=birth_year), today=TODAY) == expected


def test_age_is_the_year_of_today_minus_birth_year(rules):
    # born late in 1991 or not, 2026 makes them 35
    assert rules.cohorts_of(person(birth_year=1991), today=datetime(2026, 1, 1, 8, 0)) == ["青年"]
    assert rules.cohorts_of(person(birth_year=1991), today=date(2027, 12, 31)) == []


def test_a_member_can_be_in_several_cohorts(rules):
    assert rules.cohorts_of(person(birth_year=1995, post_category="工程运维"), today=TODAY) == ["青年", "工程运维"]
    assert rules.cohorts_of(person(birth_year=1968, post_category="调度管理"), today=TODAY) == ["临退休", "调度管理"]


def test_retirees_are_only_retirees(rules):
    retired = person(birth_year=1955, status="退休", post_category="工程运维")
    assert rules.cohorts_of(retired, today=TODAY) == ["退休"]


def test_no_birth_year_means_no_age_cohort(rules):
    assert rules.cohorts_of(person(birth_year=None, post_category="工程运维"), today=TODAY) == ["工程运维"]


def test_rules_on_department_team_and_post(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("""
cohorts:
  - name: 一线巡查
    when: {team: [大坝巡查班组, 防汛抢险班组], status: 在职}
  - name: 机关
    when: {department: [领导班子, 后勤保障科]}
  - name: 闸门
    when: {post: 闸门运行岗}
  - name: 全体
    when: {}
""", "utf-8")
    rules = load_rules(path)
    patroller = person(department="工程管理科", team="大坝巡查班组", post="大坝巡查岗")
    assert rules.cohorts_of(patroller, today=TODAY) == ["一线巡查", "全体"]
    assert rules.cohorts_of(person(), today=TODAY) == ["机关", "全体"]
    assert rules.cohorts_of(person(department="工程管理科", post="闸门运行岗"), today=TODAY) == ["闸门", "全体"]


def test_members_of(rules):
    young, old = person(birth_year=2000), person(birth_year=1960)
    assert rules.members_of("青年", [young, old], today=TODAY) == [young]
    with pytest.raises(KeyError):
        rules.members_of("不存在", [young], today=TODAY)


@pytest.mark.parametrize(("text", "fragment"), [
    ("cohorts:\n  - name: 青年\n    when: {age_max: 三十五}\n", "「青年」有误：when.age_max"),
    ("cohorts:\n  - name: 青年\n    when: {age: 35}\n", "「青年」有误：when.age"),
    ("cohorts:\n  - name: 青年\n    when: {status: 离职}\n", "状态只能是"),
    ("cohorts:\n  - name: 青年\n", "「青年」有误：when"),
    ("cohorts:\n  - when: {status: 在职}\n", "第 1 条规则有误：name"),
    ("cohorts:\n  - name: 老年\n    when: {age_min: 60, age_max: 50}\n", "age_min（60）大于 age_max（50）"),
    ("cohorts:\n  - {name: 甲, when: {}}\n  - {name: 甲, when: {}}\n", "第 2 条规则「甲」与前面的规则重名"),
    ("cohorts:\n  - name: 青年\n    when: {team: []}\n", "when.team"),
    ("cohorts: [\n", "不是有效的 YAML"),
    ("- name: 青年\n", "顶层应只有一个 cohorts"),
    ("cohorts: []\n", "cohorts 列表是空的"),
])
def test_malformed_rules_name_the_file_and_the_rule(tmp_path, text, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ValueError) as caught:
        load_rules(path)
    assert str(path) in str(caught.value) and fragment in str(caught.value)


def test_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="无法读取人群规则文件"):
        load_rules(tmp_path / "nope.yaml")


def test_init_app_loads_default_or_configured_rules(app, tmp_path):
    cohorts.init_app(app)
    assert cohorts.get_rules().names == load_rules(DEFAULT_RULES).names

    path = tmp_path / "rules.yaml"
    path.write_text("cohorts:\n  - {name: 全体, when: {}}\n", "utf-8")
    app.config["COHORT_RULES"] = str(path)
    cohorts.init_app(app)
    assert cohorts.get_rules(app).names == ["全体"]


def test_init_app_fails_on_a_bad_file(app, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("cohorts:\n  - {name: 甲}\n", "utf-8")
    app.config["COHORT_RULES"] = str(path)
    with pytest.raises(ValueError, match="bad.yaml"):
        cohorts.init_app(app)


def test_the_sql_condition_selects_exactly_who_match_selects(app, tmp_path):
    """Every cohort of the default rules, and a rule on department/team/post, over the 60-member demo roster."""
    from sqlalchemy import select

    from bot import db
    from bot.demo import load_demo_unit

    session = db.get_session()
    today = datetime(2026, 11, 25)
    load_demo_unit(session, now=today)
    custom = tmp_path / "rules.yaml"
    custom.write_text("cohorts:\n  - name: 坝上\n    when: {department: 工程管理科, post: [大坝巡查岗, 闸门运行岗]}\n"
                      "  - name: 调度班\n    when: {team: 水情监测班组, age_min: 30}\n", encoding="utf-8")
    members = list(session.scalars(select(Member)))
    for rules in (load_rules(DEFAULT_RULES), load_rules(custom)):
        for name in rules.names:
            by_python = {m.userid for m in rules.members_of(name, members, today=today)}
            by_sql = set(session.scalars(select(Member.userid).where(rules.clause([name], today=today))))
            assert by_sql == by_python, name
            assert by_python, f"{name} selects nobody in the demo roster: the comparison would prove nothing"
        everyone_in_any = {m.userid for m in members if rules.cohorts_of(m, today=today)}
        by_member = {m.userid: tuple(rules.cohorts_of(m, today=today)) for m in members}
        # a few ids are looked up with IN lists; many (here with ids on no roster) by one pass
        two_lists = sorted(by_member) + [f"gone{n}" for n in range(IN_CHUNK)]
        many = sorted(by_member) + [f"gone{n}" for n in range(cohorts.IN_LISTS * IN_CHUNK)]
        for asked in (sorted(by_member)[:7], two_lists, many):
            expected = {u: by_member[u] for u in asked if by_member.get(u)}
            assert rules.memberships(session, asked, today=today) == expected
        assert set(session.scalars(select(Member.userid).where(rules.clause(rules.names, today=today)))) == everyone_in_any
    assert set(session.scalars(select(Member.userid).where(load_rules(DEFAULT_RULES).clause([], today=today)))) == set()


def test_others_are_the_members_at_work_in_no_cohort(app, clock):
    from sqlalchemy import select

    from bot import db
    from bot.cohorts import DEFAULT_RULES, OTHERS, load_rules
    from bot.models import Member
    from tests.factories import member

    session = db.get_session()
    member(session, "young", birth_year=2000)                                         # 青年
    member(session, "clerk", post_category="综合管理", birth_year=1980)               # in no cohort
    member(session, "gone", post_category="综合管理", birth_year=1980, status="离职")  # not at work
    unknown = member(session, "unknown_age", post_category="综合管理")
    unknown.birth_year = None                                                         # no age rule can claim him
    session.commit()
    rules = load_rules(DEFAULT_RULES)
    assert rules.knows(OTHERS) and not rules.knows("少年")
    found = session.scalars(select(Member.userid).where(rules.clause([OTHERS], today=clock().date())))
    assert sorted(found) == ["clerk", "unknown_age"]
