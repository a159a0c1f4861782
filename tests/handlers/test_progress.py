"""进度, 部门进度, 统计 and 请假 through the real callback path, with the clock on 2026-11-25 (a Wednesday).

November 2026 has 21 working days; by the 25th, 18 have begun. The default goal is 8 hours.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot import db, org, roles
from bot.models import Leave
from bot.models.study import StudySource
from handlers._services import study
from handlers._services.goals import Month, prorated_minutes, workdays
from tests.factories import member

NOV = Month.of(date(2026, 11, 25))


@pytest.fixture
def office(app, clock):
    """Two departments, two teams in the first; a team leader, a department head, a member elsewhere."""
    session = db.get_session()
    member(session, "patrol1", name="巡查一", department="工程管理科", team="大坝巡查班组")
    member(session, "patrol2", name="巡查二", department="工程管理科", team="大坝巡查班组")
    member(session, "flood1", name="抢险一", department="工程管理科", team="防汛抢险班组")
    member(session, "head1", name="科长甲", department="工程管理科", team=None, post="科长")
    member(session, "water1", name="水情一", department="水情调度科", team="水情监测班组", post="水情监测岗")
    member(session, "old1", name="老王", department="后勤保障科", team=None, post="", status="退休", birth_year=1955)
    member(session, "admin01", name="管理员", department="后勤保障科", team=None, post="综合文秘岗")
    team = org.find_unit_by_name(session, "大坝巡查班组")[0]
    dept = org.find_unit_by_name(session, "工程管理科")[0]
    roles.grant(session, "patrol1", roles.LEADER, org_unit_id=team.id, by="test", at=clock())
    roles.grant(session, "head1", roles.LEADER, org_unit_id=dept.id, by="test", at=clock())
    session.commit()


def say(platform, text, user):
    return platform.say(text, channel="app", chattype="single", user=user).text


def log(userid, minutes, clock, source=StudySource.QUIZ, ref=None):
    study.record_vouched(db.get_session(), userid=userid, day=clock().date(), minutes=minutes, source=source,
                         ref=ref or f"test:{userid}:{minutes}", topic="", recorded_by="test", now=clock())
    db.get_session().commit()


def test_the_calendar_behind_the_numbers():
    assert workdays(NOV) == 21
    assert workdays(NOV, until=date(2026, 11, 25)) == 18


def test_progress_shows_hours_goal_and_pace(platform, office, clock):
    say(platform, "学习 2小时", "patrol2")
    reply = say(platform, "进度", "patrol2")
    assert "学习时长：2 / 8 小时" in reply
    # expected by now: 480 min × 18/21 = 411; behind 411 - 120 = 291 min = 4.85 h, shown as 4.8
    assert "按进度落后 4.8 小时" in reply and "还差 6 小时" in reply
    assert "实践活动：本季度 0 / 1 次" in reply and "尚未开始测评" in reply


def test_progress_when_done(platform, office, clock):
    log("patrol2", 8 * 60, clock)
    assert "本月目标已完成" in say(platform, "进度", "patrol2")


def test_leave_pro_rates_the_goal(platform, office, clock):
    say(platform, "请假 patrol2 11-02 11-13 年休假", "patrol1")        # 10 working days away
    reply = say(platform, "进度", "patrol2")
    goal = prorated_minutes(8, NOV, {date(2026, 11, d) for d in range(2, 14)})
    assert goal == round(480 * 11 / 21)
    assert f"0 / {round(goal / 60, 1):g} 小时" in reply and "请假 12 天" in reply


def test_retirees_have_their_own_goal(platform, office):
    assert "0 / 2 小时" in say(platform, "进度", "old1")


def test_activities_this_quarter_count_attendance(platform, office, clock):
    log("patrol2", 120, clock, source=StudySource.ACTIVITY, ref="activity:1")
    assert "实践活动：本季度 1 / 1 次" in say(platform, "进度", "patrol2")


def test_my_profile_includes_the_month_hours(platform, office):
    say(platform, "学习 1.5小时", "patrol2")
    assert "学习时长：1.5 / 8 小时" in say(platform, "我的", "patrol2")


def test_team_leader_sees_only_his_team(platform, office, clock):
    log("patrol2", 8 * 60, clock)
    reply = say(platform, "部门进度", "patrol1")
    assert "大坝巡查班组" in reply and "已达标 1/2 人" in reply
    assert "抢险一" not in reply and "水情一" not in reply


def test_department_head_sees_his_department_and_team_ranking(platform, office, clock):
    log("patrol2", 8 * 60, clock)
    reply = say(platform, "部门进度", "head1")
    assert "工程管理科" in reply and "已达标 1/4 人" in reply
    assert "班组排名" in reply and reply.index("1. 大坝巡查班组") < reply.index("2. 防汛抢险班组")
    assert "水情一" not in reply
    assert "抢险一" in reply            # behind pace, listed by name


def test_admin_sees_everything(platform, office):
    reply = say(platform, "部门进度", "admin01")
    assert "已达标 0/7 人" in reply


def test_member_asking_for_unit_progress_is_refused_politely(platform, office):
    reply = say(platform, "部门进度", "patrol2")
    assert "负责人权限" in reply


def test_statistics_table_by_department(platform, office, clock):
    log("water1", 3 * 60, clock)
    reply = say(platform, "统计", "admin01")
    assert "2026 年 11 月学习统计" in reply
    assert "水情调度科｜1｜0｜3｜0/3" in reply
    assert "合计｜7｜0｜" in reply


def test_statistics_for_last_month_and_one_department(platform, office):
    reply = say(platform, "统计 上月 工程管理科", "admin01")
    assert "2026 年 10 月学习统计（截至 10-31）" in reply
    assert "工程管理科｜4｜" in reply and "水情调度科" not in reply


def test_statistics_with_only_a_department(platform, office):
    assert "水情调度科｜1｜" in say(platform, "统计 水情调度科", "admin01")


@pytest.mark.parametrize("text, answer", [("统计 13月", "看不懂月份"), ("统计 2027-03", "还没有开始"),
                                          ("统计 本月 不存在科", "没有找到")])
def test_statistics_bad_arguments(platform, office, text, answer):
    assert answer in say(platform, text, "admin01")


def test_statistics_is_for_admins(platform, office):
    assert "管理员权限" in say(platform, "统计", "head1")


def test_leader_records_leave_in_his_unit_only(platform, office):
    assert "已登记 巡查二" in say(platform, "请假 巡查二 明天", "patrol1")
    assert "不在您负责的单位" in say(platform, "请假 water1 11-26", "patrol1")
    rows = db.get_session().scalars(select(Leave)).all()
    assert [(r.userid, r.start_day, r.end_day) for r in rows] == [("patrol2", date(2026, 11, 26), date(2026, 11, 26))]


@pytest.mark.parametrize("text, answer", [("请假 patrol2 11-31", "不是一个有效的日期"),
                                          ("请假 patrol2 下周", "看不懂日期"),
                                          ("请假 patrol2 11-20 11-10", "结束日期应在开始日期之后"),
                                          ("请假 nobody 11-20", "名册里没有")])
def test_leave_bad_input_changes_nothing(platform, office, text, answer):
    assert answer in say(platform, text, "admin01")
    assert db.get_session().scalars(select(Leave)).all() == []


def test_leave_list(platform, office):
    say(platform, "请假 patrol2 11-20 11-24 病假", "head1")
    assert "巡查二：11-20 至 11-24（病假）" in say(platform, "请假名单", "head1")


def test_leave_is_audited(platform, office):
    from bot.models import AuditEntry

    say(platform, "请假 巡查二 明天 事假", "patrol1")
    entry = db.get_session().scalars(select(AuditEntry)).one()
    assert (entry.actor, entry.command, entry.result) == ("patrol1", "请假", "ok")
    assert "巡查二 明天 事假" in entry.arguments


def test_admin_registers_group_study_as_vouched_time(platform, office):
    reply = say(platform, "登记学习 大坝巡查班组，水情一 1.5小时 防汛政策直播", "admin01")
    assert "已为 3 人登记「防汛政策直播」学习 1.5 小时" in reply
    assert "自报 0，系统记录 1.5" in say(platform, "进度", "patrol2")
    assert "自报 0，系统记录 1.5" in say(platform, "进度", "water1")
    assert "系统记录 0" in say(platform, "进度", "flood1")


def test_group_study_with_an_unknown_name_records_nothing(platform, office):
    reply = say(platform, "登记学习 巡查一,查无此人 1小时", "admin01")
    assert "找不到：查无此人" in reply
    assert "系统记录 0" in say(platform, "进度", "patrol1")


def test_group_study_is_for_admins(platform, office):
    assert "管理员权限" in say(platform, "登记学习 巡查二 1小时", "head1")
