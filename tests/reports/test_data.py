"""Who may see which report, and the month's figures against the hand-worked data set in conftest.py."""
from __future__ import annotations

from datetime import date

import pytest

from bot import db
from bot.acl import Role
from handlers._services import reports
from handlers._services.dates import Period

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), "2026 年 11 月")


def scope_of(userid):
    return reports.report_scope_for(db.get_session(), userid)


def report_for(userid, period=NOVEMBER, department=None):
    return reports.monthly_report(db.get_session(), scope_of(userid), period, department=department)


def names(report):
    return [m.name for m in report.members]


def test_an_admin_sees_the_whole_unit(office):
    scope = scope_of("admin01")
    assert scope.role is Role.ADMIN and scope.label == "水库管理所"
    report = report_for("admin01")
    assert report.unit_kind == "部门"
    assert [(u.name, u.people) for u in report.units] == [("工程管理科", 4), ("水情调度科", 1), ("后勤保障科", 2)]


def test_a_department_head_sees_his_department_by_team(office):
    scope = scope_of("head1")
    assert scope.role is Role.LEADER and scope.label == "工程管理科"
    report = report_for("head1")
    assert report.unit_kind == "班组"
    assert [(u.name, u.people) for u in report.units] == [("科室直属", 1), ("大坝巡查班组", 2), ("防汛抢险班组", 1)]
    assert "水情一" not in names(report) and "管理员" not in names(report)


def test_a_team_leader_sees_only_his_team(office):
    assert scope_of("patrol1").label == "工程管理科 / 大坝巡查班组"
    report = report_for("patrol1")
    assert sorted(names(report)) == sorted(["巡查一", "巡查二"])
    assert [(u.name, u.people) for u in report.units] == [("大坝巡查班组", 2)]


@pytest.mark.parametrize("userid", ["patrol2", "old1", "nobody"])
def test_members_and_strangers_get_no_scope(office, userid):
    assert scope_of(userid) is None


def test_a_leader_cannot_reach_outside_his_unit(office):
    with pytest.raises(reports.ReportError, match="不在您负责的范围内"):
        report_for("head1", department="水情调度科")
    with pytest.raises(reports.ReportError, match="不在您负责的范围内"):
        report_for("patrol1", department="防汛抢险班组")
    assert names(report_for("head1", department="防汛抢险班组")) == ["抢险一"]


def test_an_admin_narrows_to_one_department(office):
    report = report_for("admin01", department="水情调度科")
    assert report.scope_label == "水情调度科" and names(report) == ["水情一"]


@pytest.mark.parametrize("department, message", [("不存在科", "没有找到"), ("工程管理科/不存在班组", "没有找到")])
def test_unknown_departments_are_explained(office, department, message):
    with pytest.raises(reports.ReportError, match=message):
        report_for("admin01", department=department)


def test_a_month_not_yet_begun_and_a_non_month_are_refused(office):
    with pytest.raises(reports.ReportError, match="还没有开始"):
        report_for("admin01", Period(date(2026, 12, 1), date(2026, 12, 31), "2026 年 12 月"))
    with pytest.raises(reports.ReportError, match="自然月"):
        report_for("admin01", Period(date(2026, 11, 23), date(2026, 11, 29), "本周"))


def test_each_members_figures(office):
    rows = {m.userid: m for m in report_for("admin01").members}
    patrol1, patrol2, flood1, water1 = rows["patrol1"], rows["patrol2"], rows["flood1"], rows["water1"]
    assert (patrol1.self_minutes, patrol1.vouched_minutes, patrol1.study_minutes) == (120, 30, 150)   # not October's
    assert (patrol1.checkin_days, patrol1.quiz_answers, patrol1.quiz_right) == (5, 3, 2)
    assert (patrol1.activities_signed_up, patrol1.activities_attended) == (0, 0)                      # #2 was October
    assert patrol2.reached and patrol2.study_minutes == 480
    assert (patrol2.activities_signed_up, patrol2.activities_attended) == (1, 1)
    assert (flood1.activities_signed_up, flood1.activities_attended) == (1, 0)
    assert (water1.activities_signed_up, water1.quiz_answers, water1.quiz_right) == (0, 1, 0)          # cancelled
    assert rows["old1"].goal_minutes == 120 and rows["admin01"].goal_minutes == 480


def test_study_hours_per_department(office):
    units = {u.name: u for u in report_for("admin01").units}
    assert (units["工程管理科"].study_minutes, units["工程管理科"].reached) == (150 + 480 + 90, 1)
    assert units["工程管理科"].average_minutes == pytest.approx(720 / 4)
    assert units["水情调度科"].study_minutes == 180 and units["后勤保障科"].goal_minutes == 480 + 120


def test_check_in_rate_by_day(office):
    report = report_for("admin01")
    assert report.as_of == date(2026, 11, 25) and len(report.days) == 25 == report.days_counted
    by_day = {d.day.day: d for d in report.days}
    # 6 at work (old1 is retired); flood1 on leave 11-02 and 11-03
    assert [(by_day[d].checked_in, by_day[d].people) for d in (1, 2, 3, 4, 24, 25)] == \
        [(0, 6), (2, 5), (2, 5), (1, 6), (1, 6), (1, 6)]
    assert by_day[3].rate == pytest.approx(2 / 5)


def test_awareness_per_topic_counts_the_year_so_far(office):
    report = report_for("admin01")
    assert report.awareness_period.first == date(2026, 1, 1)
    # 6 active members; 水法 (p1, p2): patrol1 and head1 right; 防洪法 (p2, p3): patrol1 (p3)
    assert [(t.topic, t.knowing, t.people) for t in report.topics] == [("水法", 2, 6), ("防洪法", 1, 6)]
    team = report_for("patrol1")
    assert [(t.topic, t.knowing, t.people) for t in team.topics] == [("水法", 1, 2), ("防洪法", 1, 2)]


def test_last_month_is_counted_to_its_end(office):
    october = reports.month_period("上月", today=date(2026, 11, 25))
    report = report_for("admin01", october)
    assert report.as_of == date(2026, 10, 31) and len(report.days) == 31
    rows = {m.userid: m for m in report.members}
    assert rows["patrol1"].self_minutes == 300 and rows["patrol1"].checkin_days == 1
    assert (rows["patrol1"].activities_signed_up, rows["patrol1"].activities_attended) == (1, 1)


def test_month_words(office):
    today = date(2026, 11, 25)
    assert reports.month_period(None, today=today) == NOVEMBER
    assert reports.month_period("2026-10", today=today).first == date(2026, 10, 1)
    with pytest.raises(reports.ReportError, match="看不懂月份"):
        reports.month_period("13月", today=today)
