"""The closed loop's feedback jobs, through the real outbound path to the stand-in, with the clock moved by hand.

November 2026 has 21 working days. The 15th is a Sunday, so the mid-month nudge comes on Monday the
16th, when 11 working days have begun (the 16th included) and 11 are left. The default goal is 8 hours.
"""
from datetime import date, datetime

import pytest

from bot import create_app, db, org, roles, tasks
from bot.models import CheckIn, Leave
from bot.models.study import StudySource
from handlers._services import study
from handlers._services.goals import Month
from jobs import schedule
from jobs.closed_loop import configured_nudge_day, nudge_day, nudge_members_behind, send_month_end_reports
from tests import factories
from tests.conftest import SHANGHAI, make_settings
from tests.standin_http import messages

NUDGE_DAY = date(2026, 11, 16)
DECEMBER_FIRST = date(2026, 12, 1)


@pytest.fixture
def office(sender, clock):
    """Two departments, two teams in the first; a team leader, a department head, an admin, a retiree."""
    session = db.get_session()
    factories.member(session, "patrol1", name="巡查一", department="工程管理科", team="大坝巡查班组")
    factories.member(session, "patrol2", name="巡查二", department="工程管理科", team="大坝巡查班组")
    factories.member(session, "flood1", name="抢险一", department="工程管理科", team="防汛抢险班组")
    factories.member(session, "head1", name="科长甲", department="工程管理科", team=None, post="科长")
    factories.member(session, "water1", name="水情一", department="水情调度科", team="水情监测班组")
    factories.member(session, "admin01", name="管理员", department="后勤保障科", team=None, post="综合文秘岗")
    factories.member(session, "old1", name="老王", department="后勤保障科", team=None, status="退休",
                     birth_year=1955)
    team = org.find_unit_by_name(session, "大坝巡查班组")[0]
    dept = org.find_unit_by_name(session, "工程管理科")[0]
    roles.grant(session, "patrol1", roles.LEADER, org_unit_id=team.id, by="test", at=clock())
    roles.grant(session, "head1", roles.LEADER, org_unit_id=dept.id, by="test", at=clock())
    session.commit()
    return {"team": team.id, "department": dept.id, "root": dept.parent_id}


def at(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def log(userid: str, day: date, hours: float, source=StudySource.QUIZ) -> None:
    study.record_vouched(db.get_session(), userid=userid, day=day, minutes=round(hours * 60), source=source,
                         ref=f"test:{userid}:{day}:{hours}:{source.value}", topic="", recorded_by="test",
                         now=at(day, 12, 0))
    db.get_session().commit()


def log_self(userid: str, day: date, hours: float) -> None:
    study.record_self(db.get_session(), userid=userid, now=at(day, 12, 0), minutes=round(hours * 60), topic="",
                      text="学习", ref=f"self:{userid}:{day}", cap_minutes=240)
    db.get_session().commit()


def check_in(userid: str, day: date) -> None:
    db.get_session().add(CheckIn(userid=userid, day=day, note="", channel="app", msg_id=f"m-{userid}-{day}",
                                 created_at=at(day, 8, 0)))
    db.get_session().commit()


def leave(userid: str, start: date, end: date) -> None:
    db.get_session().add(Leave(userid=userid, start_day=start, end_day=end, reason="年假", recorded_by="head1",
                               created_at=at(start, 8, 0)))
    db.get_session().commit()


def texts(url: str, userid: str) -> list[str]:
    return [m["body"]["text"]["content"] for m in messages(url, recipient=userid)]


def recipients(url: str) -> list[str]:
    return sorted(m["recipient"] for m in messages(url, via="app"))


# -- the mid-month nudge ---------------------------------------------------------------------------

def nudge_at(clock, day: date) -> int:
    clock.set(at(day, 9, 0))
    return nudge_members_behind(due=at(day, 9, 0).isoformat())


@pytest.mark.parametrize("month, from_day, expected", [
    (date(2026, 11, 1), 15, date(2026, 11, 16)),      # the 15th is a Sunday
    (date(2026, 10, 1), 15, date(2026, 10, 15)),      # a Thursday
    (date(2026, 10, 1), 1, date(2026, 10, 8)),        # after the National Day holiday
    (date(2026, 11, 1), 28, date(2026, 11, 30)),      # the 28th and 29th are a weekend
    (date(2026, 2, 1), 28, date(2026, 2, 28)),        # a 调休 Saturday after the Spring Festival
])
def test_the_nudge_day_is_the_first_workday_from_the_configured_day(month, from_day, expected):
    assert nudge_day(Month.of(month), from_day) == expected


def test_a_member_behind_pace_is_nudged_with_what_is_left(office, standin_url, clock):
    log_self("patrol2", date(2026, 11, 3), 1)
    log("patrol2", date(2026, 11, 10), 1)              # 2 of 8 hours; 251 minutes are due by now
    log("patrol1", date(2026, 11, 12), 5)              # 5 hours: ahead of pace
    for userid in ("flood1", "head1", "water1", "admin01"):
        log(userid, date(2026, 11, 13), 4.5)          # 270 minutes: on pace

    assert nudge_at(clock, NUDGE_DAY) == 1
    assert recipients(standin_url) == ["patrol2"]
    text = texts(standin_url, "patrol2")[0]
    assert "巡查二" in text and "已学习 2 小时" in text and "8 小时的目标还差 6 小时" in text
    assert "还有 11 个工作日" in text and "约 33 分钟" in text      # 360 minutes over 11 days
    assert "学习 1小时 防汛政策" in text


def test_members_on_leave_today_and_retirees_are_not_nudged(office, standin_url, clock):
    leave("patrol2", date(2026, 11, 16), date(2026, 11, 18))
    leave("flood1", date(2026, 11, 9), date(2026, 11, 13))     # back today
    assert nudge_at(clock, NUDGE_DAY) == 5
    assert recipients(standin_url) == ["admin01", "flood1", "head1", "patrol1", "water1"]


def test_leave_later_in_the_month_shortens_the_days_left(office, standin_url, clock):
    leave("patrol2", date(2026, 11, 23), date(2026, 11, 27))   # five working days away
    nudge_at(clock, NUDGE_DAY)
    assert "还有 6 个工作日" in texts(standin_url, "patrol2")[0]


def test_the_nudge_goes_once_a_month(office, standin_url, clock):
    assert nudge_at(clock, NUDGE_DAY) == 6
    assert nudge_at(clock, NUDGE_DAY) == 0
    assert len(messages(standin_url)) == 6


@pytest.mark.parametrize("day", [date(2026, 11, 13), date(2026, 11, 15), date(2026, 11, 17)],
                         ids=["before", "the-sunday-15th", "after"])
def test_other_days_nudge_nobody(office, standin_url, clock, day):
    assert nudge_at(clock, day) == 0
    assert messages(standin_url) == []


def test_a_nudge_run_after_its_day_is_dropped(office, standin_url, clock):
    clock.set(at(date(2026, 11, 17), 0, 5))
    assert nudge_members_behind(due=at(NUDGE_DAY, 9, 0).isoformat()) == 0
    assert messages(standin_url) == []


def test_the_nudge_day_follows_the_setting(office, standin_url, clock, sender):
    sender.config["MIDMONTH_NUDGE_DAY"] = 20
    assert nudge_at(clock, NUDGE_DAY) == 0
    assert nudge_at(clock, date(2026, 11, 20)) == 6



@pytest.mark.parametrize("value", [0, 29, "15", True])
def test_a_nudge_day_every_month_cannot_have_is_refused(sender, value):
    sender.config["MIDMONTH_NUDGE_DAY"] = value
    with pytest.raises(ValueError, match="MIDMONTH_NUDGE_DAY"):
        configured_nudge_day()


# -- the month-end run -----------------------------------------------------------------------------

@pytest.fixture
def two_months(office):
    """October and November: who reached the goal when.

    patrol1 both months; patrol2 neither (escalated to the department head); flood1 only October;
    head1 neither (a department member: escalated to the admins); water1 only November;
    admin01 only November; old1 (retired) neither, and is never escalated.
    """
    for userid in ("patrol1", "flood1"):
        log(userid, date(2026, 10, 20), 8)
    log("patrol2", date(2026, 10, 21), 1, source=StudySource.ACTIVITY)   # a practice activity
    for userid in ("patrol1", "water1", "admin01"):
        log(userid, date(2026, 11, 20), 8)
    log_self("patrol2", date(2026, 11, 3), 1)
    log("patrol2", date(2026, 11, 10), 1)
    for day in (date(2026, 10, 30), date(2026, 11, 2), date(2026, 11, 30)):
        check_in("patrol2", day)
    return office


def month_end(clock, day=DECEMBER_FIRST, hour=8, minute=30) -> dict:
    clock.set(at(day, hour, minute))
    return send_month_end_reports(due=at(DECEMBER_FIRST, 8, 30).isoformat())


def test_each_member_gets_a_summary_of_the_month(two_months, standin_url, clock):
    month_end(clock)
    summary = texts(standin_url, "patrol2")[0]
    assert summary.startswith("【2026 年 11 月学习小结】巡查二")
    assert "学习时长：2 / 8 小时（自报 1，系统记录 1）" in summary
    assert "打卡：当月 2 次" in summary and "实践活动：本季度至今 1 / 1 次" in summary
    assert "还差 6 小时没有完成" in summary and "加油" in summary
    reached = texts(standin_url, "water1")[0]
    assert "学习时长：8 / 8 小时" in reached and "已完成 ✓" in reached and "打卡：当月 0 次" in reached
    assert "学习 半小时 防汛政策" in texts(standin_url, "flood1")[0]      # nothing in November: a first step
    retiree = texts(standin_url, "old1")[0]
    assert "学习时长：0 / 2 小时" in retiree and "实践活动：本季度至今 0 次" in retiree     # no activity goal


def test_the_month_end_run_twice_sends_one_set(two_months, standin_url, clock):
    first = month_end(clock)
    assert first == {"summaries": 7, "unit_reports": 2, "escalations": 2}
    count = len(messages(standin_url))
    assert count == 11
    assert month_end(clock, minute=45) == {"summaries": 0, "unit_reports": 0, "escalations": 0}
    assert len(messages(standin_url)) == count


def test_a_team_leader_gets_his_own_team_only(two_months, standin_url, clock):
    month_end(clock)
    report = next(t for t in texts(standin_url, "patrol1") if "学习情况 ·" in t)
    assert report.startswith("【2026 年 11 月学习情况 · 工程管理科 / 大坝巡查班组】")
    assert "达标率：1/2 人（50%），与上月（50%）持平" in report
    assert "人均学习：5 小时，较上月（4.5 小时）↑ 上升 0.5 小时" in report
    assert "· 巡查二：2 / 8 小时（差 6 小时）" in report
    for other in ("抢险一", "科长甲", "水情一", "班组排名"):
        assert other not in report


def test_a_department_head_gets_his_department_with_team_ranking(two_months, standin_url, clock):
    month_end(clock)
    report = next(t for t in texts(standin_url, "head1") if "学习情况 ·" in t)
    assert "达标率：1/4 人（25%），较上月（50%）↓ 下降 25 个百分点" in report
    assert "人均学习：2.5 小时，较上月（4.2 小时）↓ 下降 1.7 小时" in report      # 255 minutes shown as 4.2
    assert "未达标 3 人" in report and "抢险一：0 / 8 小时" in report and "科长甲" in report
    assert report.index("1. 大坝巡查班组") < report.index("2. 防汛抢险班组")
    assert "水情一" not in report


def test_reports_go_one_to_one_never_to_a_group(two_months, standin_url, clock):
    month_end(clock)
    assert {m["via"] for m in messages(standin_url)} == {"app"}


def test_two_months_behind_is_escalated_to_the_department_head(two_months, standin_url, clock):
    month_end(clock)
    escalation = next(t for t in texts(standin_url, "head1") if "连续两个月未达标" in t)
    assert escalation.startswith("【连续两个月未达标 · 工程管理科】") and "10 月、11 月连续两个月" in escalation
    assert "巡查二（工程管理科 / 大坝巡查班组）：11 月 2 / 8 小时，10 月 1 / 8 小时" in escalation
    assert "抢险一" not in escalation          # behind in November only
    assert "科长甲" not in escalation          # his own shortfall goes to the level above him


def test_a_department_members_shortfall_goes_to_the_admins(two_months, standin_url, clock):
    month_end(clock)
    escalation = next(t for t in texts(standin_url, "admin01") if "连续两个月未达标" in t)
    assert "科长甲（工程管理科）" in escalation
    assert "巡查二" not in escalation and "老王" not in escalation
    assert not any("连续两个月未达标" in t for t in texts(standin_url, "patrol1"))


def test_escalations_and_reports_name_the_unit_in_the_push_id(two_months, clock):
    from sqlalchemy import select

    from bot.models import Delivery

    month_end(clock)
    pushes = set(db.get_session().scalars(select(Delivery.push_id)))
    units = two_months
    assert pushes == {"month-summary-2026-11", f"unit-report-2026-11-{units['team']}",
                      f"unit-report-2026-11-{units['department']}", f"escalation-2026-11-{units['department']}",
                      f"escalation-2026-11-{units['root']}"}


def test_a_late_month_end_run_still_reports_the_month_before(two_months, standin_url, clock):
    month_end(clock, day=date(2026, 12, 2), hour=10)
    assert texts(standin_url, "patrol2")[0].startswith("【2026 年 11 月学习小结】")


# -- the tick --------------------------------------------------------------------------------------

@pytest.fixture
def queued_app(tmp_path, redis_client, clock):
    # jobs are queued, not run inline, so the test sees exactly what the tick enqueued
    app = create_app(make_settings(tmp_path, RQ_IS_ASYNC=True), redis=redis_client, clock=clock)
    with app.app_context():
        db.create_all(app)
        yield app


def month_end_ids(app) -> list[str]:
    return [i for i in tasks.get_jobs(app).queue(tasks.DEFAULT).get_job_ids() if "month-end" in i]


def test_the_tick_enqueues_the_month_end_run_once(queued_app, clock):
    clock.set(at(DECEMBER_FIRST, 8, 29))
    assert schedule.tick() == []
    clock.set(at(DECEMBER_FIRST, 8, 30))
    assert "cron-month-end-reports-202612010830" in schedule.tick()     # with the 10-minute failure alerts
    assert schedule.tick() == []
    assert month_end_ids(queued_app) == ["cron-month-end-reports-202612010830"]
    job = tasks.get_jobs(queued_app).queue(tasks.DEFAULT).fetch_job("cron-month-end-reports-202612010830")
    assert job.kwargs == {"due": "2026-12-01T08:30:00+08:00"}


def test_a_tick_missed_while_down_still_enqueues_it_once(queued_app, clock):
    clock.set(at(DECEMBER_FIRST, 8, 0))
    schedule.tick()
    clock.set(at(DECEMBER_FIRST, 8, 50))                    # down from 8:01 to 8:49
    assert "cron-month-end-reports-202612010830" in schedule.tick()
    assert schedule.tick() == []
    assert month_end_ids(queued_app) == ["cron-month-end-reports-202612010830"]


def test_the_tick_offers_the_nudge_from_the_configured_day(queued_app, clock):
    clock.set(at(date(2026, 11, 14), 9, 0))
    assert "cron-midmonth-nudge-202611140900" not in schedule.tick()
    clock.set(at(NUDGE_DAY, 9, 0))
    assert "cron-midmonth-nudge-202611160900" in schedule.tick()
    queued_app.config["MIDMONTH_NUDGE_DAY"] = 20
    clock.set(at(date(2026, 11, 17), 9, 0))
    assert "cron-midmonth-nudge-202611170900" not in schedule.tick()
