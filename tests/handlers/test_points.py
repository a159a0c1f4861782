"""积分 and 排行 through the real callback path, on records written directly; the clock is Wed 2026-11-25.

Default rules (content_packs/demo_unit/points.yaml): 打卡 2/day; study 1 per 30 min, at most 8/day;
right answer 1 each, at most 10/day; activity 5 each, at most 10/day.
"""
from __future__ import annotations

import itertools
import shutil
from datetime import date, datetime, time
from pathlib import Path

import fakeredis
import pytest

from bot import create_app, db, org, roles
from bot.models import CheckIn, QuizAnswer, StudyLog
from bot.models.quiz import Outcome, QuizMode
from bot.models.study import StudySource
from handlers._services import points
from handlers._services.dates import period_named
from tests.conftest import SHANGHAI, make_settings
from tests.factories import member

TODAY = date(2026, 11, 25)
_ids = itertools.count(1)


@pytest.fixture
def office(app, clock):
    """工程管理科: 4 active people (and a team leader among them); 水情调度科: 1; 后勤保障科: admin + a retiree."""
    session = db.get_session()
    member(session, "patrol1", name="巡查一", department="工程管理科", team="大坝巡查班组")
    member(session, "patrol2", name="巡查二", department="工程管理科", team="大坝巡查班组")
    member(session, "flood1", name="抢险一", department="工程管理科", team="防汛抢险班组")
    member(session, "head1", name="科长甲", department="工程管理科", team=None, post="科长")
    member(session, "water1", name="水情一", department="水情调度科", team="水情监测班组")
    member(session, "old1", name="老王", department="后勤保障科", team=None, status="退休", birth_year=1955)
    member(session, "admin01", name="管理员", department="后勤保障科", team=None)
    team = org.find_unit_by_name(session, "大坝巡查班组")[0]
    roles.grant(session, "patrol1", roles.LEADER, org_unit_id=team.id, by="test", at=clock())
    session.commit()


def say(platform, text, user):
    return platform.say(text, channel="app", chattype="single", user=user).text


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=SHANGHAI)


def checkin(userid, day=TODAY):
    db.get_session().add(CheckIn(userid=userid, day=day, note="", channel="app", msg_id=f"m{next(_ids)}",
                                 created_at=at(day)))


def studied(userid, minutes, day=TODAY, source=StudySource.SELF, ref=None, revoked=False):
    db.get_session().add(StudyLog(userid=userid, day=day, minutes=minutes, topic="", source=source.value,
                                  source_ref=ref or f"ref{next(_ids)}", text="", recorded_by=userid,
                                  created_at=at(day), revoked_at=at(day) if revoked else None))


def answered(userid, outcome=Outcome.RIGHT, day=TODAY, session_ref=None, question="quiz_water_policy/q1"):
    db.get_session().add(QuizAnswer(userid=userid, question_ref=question, pack_version=1, mode=QuizMode.DAILY.value,
                                    session_ref=session_ref or f"s{next(_ids)}", outcome=outcome.value, reply="",
                                    seconds=5.0, day=day, answered_at=at(day)))


def test_each_kind_is_capped_per_day(platform, office):
    checkin("patrol2")
    studied("patrol2", 200)                                          # 200 + 100 = 300 min = 10 blocks → cap 8
    studied("patrol2", 100, source=StudySource.QUIZ)
    studied("patrol2", 600, revoked=True)                            # revoked: nothing
    studied("patrol2", 45, day=date(2026, 11, 24))                   # one full block: 1
    for _ in range(12):                                              # 12 right → cap 10
        answered("patrol2")
    answered("patrol2", Outcome.WRONG)
    answered("patrol2", Outcome.SKIPPED)
    for ref in ("activity:1", "activity:2", "activity:3"):          # 3 × 5 = 15 → cap 10
        studied("patrol2", 60, source=StudySource.ACTIVITY, ref=ref)
    db.get_session().commit()
    reply = say(platform, "积分", "patrol2")
    assert "巡查二 · 2026 年 11 月积分：31 分" in reply
    assert "打卡 2 分 · 学习 9 分 · 答题 10 分 · 活动 10 分" in reply


def test_the_same_question_in_two_sessions_counts_twice_within_the_cap(app, office):
    answered("patrol2", session_ref="daily:1")
    answered("patrol2", session_ref="review:1")
    db.get_session().commit()
    period = period_named(None, today=TODAY)
    earned = points.points_of(db.get_session(), points.get_rules(), period, org.only("patrol2"))
    assert earned["patrol2"] == points.Points(quiz_right=2)


def test_periods_are_local_calendar_days(platform, office):
    checkin("patrol2", date(2026, 10, 31))          # last month
    checkin("patrol2", date(2026, 11, 22))          # Sunday: this month, last week
    checkin("patrol2", date(2026, 11, 23))          # Monday: this week
    db.get_session().commit()
    assert "积分：2 分" in say(platform, "积分 上月", "patrol2")
    assert "积分：4 分" in say(platform, "积分", "patrol2")
    assert "本周（11-23 起）积分：2 分" in say(platform, "积分 本周", "patrol2")


def test_my_place_in_my_department(platform, office):
    checkin("patrol1")
    studied("flood1", 120)                        # 4 points
    studied("patrol2", 60)                        # 2 points, tied with patrol1
    studied("water1", 600)                        # another department: not in the ranking
    db.get_session().commit()
    reply = say(platform, "我的积分", "patrol2")
    assert "在工程管理科（4 人）中排第 2 名" in reply
    assert "在工程管理科（4 人）中排第 2 名" in say(platform, "积分", "patrol1")
    assert "排第 4 名" in say(platform, "积分", "head1")


def test_retirees_see_their_points_without_a_place(platform, office):
    checkin("old1")
    db.get_session().commit()
    reply = say(platform, "积分", "old1")
    assert "积分：2 分" in reply and "不参加排名" in reply


def test_department_ranking_is_size_neutral(platform, office):
    # 工程管理科: 4 people × 4 points = 16 in all, 4 on average
    # 水情调度科: 1 person × 6 points = 6 in all, 6 on average → first despite the smaller sum
    # 后勤保障科: the admin has 1 point; the retiree's 8 are not counted (not active) → 1 on average
    for userid in ("patrol1", "patrol2", "flood1", "head1"):
        studied(userid, 120)
    studied("water1", 180)
    studied("admin01", 30)
    studied("old1", 240)
    db.get_session().commit()
    reply = say(platform, "排行", "patrol2")
    assert "1. 水情调度科 6 分（1 人）" in reply
    assert "2. 工程管理科 4 分（4 人）" in reply
    assert "3. 后勤保障科 1 分（1 人）" in reply
    assert "老王" not in reply


def test_department_average_counts_members_without_points(platform, office):
    studied("patrol1", 240)                        # 8 points, the only one in 工程管理科 with any
    studied("water1", 90)                          # 3 points
    db.get_session().commit()
    reply = say(platform, "排行", "patrol2")
    # 8 / 4 people = 2 < 3
    assert reply.index("1. 水情调度科 3 分") < reply.index("2. 工程管理科 2 分")


def test_top_ten_with_shared_places(platform, office, app):
    session = db.get_session()
    for n in range(12):
        member(session, f"x{n:02}", name=f"职工{n:02}", department="综合科", team=None)
        studied(f"x{n:02}", 30 * (12 - n))           # x00: 12 blocks → cap 8; x01: 11 → 8; x02: 10 → 8; x03: 9 → 8
    session.commit()
    reply = say(platform, "排行榜 本月 全体", "patrol2")
    assert "2026 年 11 月积分排行 · 全体（前 10 名）" in reply
    assert "1. 职工00（综合科）8 分" in reply and "1. 职工03（综合科）8 分" in reply
    assert "5. 职工04（综合科）8 分" not in reply and "1. 职工04（综合科）8 分" in reply   # 8 blocks: also 8
    assert "6. 职工05（综合科）7 分" in reply and "10. 职工09（综合科）3 分" in reply
    assert "职工10" not in reply and "职工11" not in reply


def test_own_department_board(platform, office):
    studied("patrol1", 60)
    studied("water1", 120)
    db.get_session().commit()
    reply = say(platform, "排行 部门 本周", "patrol2")
    assert "本周（11-23 起）积分排行 · 工程管理科" in reply
    assert "1. 巡查一（工程管理科）2 分" in reply and "水情一（" not in reply


def test_nobody_has_points_yet(platform, office):
    reply = say(platform, "排行", "patrol2")
    assert "还没有人得分" in reply and "部门排名" in reply


def test_a_team_leader_may_name_his_team_only(platform, office):
    studied("patrol2", 60)
    studied("flood1", 60)
    db.get_session().commit()
    reply = say(platform, "排行 大坝巡查班组", "patrol1")
    assert "积分排行 · 工程管理科 / 大坝巡查班组" in reply and "巡查二" in reply and "抢险一（" not in reply
    assert "不在您负责的范围内" in say(platform, "排行 防汛抢险班组", "patrol1")
    assert "积分排行 · 防汛抢险班组" not in say(platform, "排行 防汛抢险班组", "patrol1")


def test_members_may_not_name_a_department(platform, office):
    reply = say(platform, "排行 水情调度科", "patrol2")
    assert "负责人权限" in reply and "积分排行 ·" not in reply


def test_admin_may_name_any_department(platform, office):
    studied("water1", 60)
    db.get_session().commit()
    assert "1. 水情一（水情调度科）2 分" in say(platform, "排行 水情调度科", "admin01")


@pytest.mark.parametrize("text, expected", [
    ("积分 明年", "看不懂「明年」"),
    ("排行 本周 上月", "只写一个时间"),
    ("排行 没有这个科", "看不懂「没有这个科」"),
])
def test_bad_words_get_a_clear_answer(platform, office, text, expected):
    assert expected in say(platform, text, "patrol2")


def test_the_demo_rules_file_is_valid_and_matches_the_documented_numbers():
    rules = points.load_rules(Path("content_packs/demo_unit/points.yaml"))
    assert (rules.checkin.points, rules.checkin.daily_cap) == (2, 2)
    assert (rules.study.points, rules.study.per_minutes, rules.study.daily_cap) == (1, 30, 8)
    assert (rules.quiz_right.points, rules.quiz_right.daily_cap) == (1, 10)
    assert (rules.activity.points, rules.activity.daily_cap) == (5, 10)


@pytest.mark.parametrize("text, expected", [
    ("study: {points: 1, per_minutes: 0, daily_cap: 8}\n", "study.per_minutes：应不小于 1"),
    ("checkin: {points: 2}\n", "checkin.daily_cap：缺少此项"),
    ("quizz: {points: 1, daily_cap: 3}\n", "quizz："),
    ("checkin: [1, 2\n", "不是有效的 YAML"),
])
def test_a_broken_rules_file_stops_the_start(tmp_path, clock, text, expected):
    unit_dir = tmp_path / "unit"
    shutil.copytree("content_packs/demo_unit", unit_dir)
    (unit_dir / "points.yaml").write_text(text, "utf-8")
    with pytest.raises(ValueError) as caught:
        create_app(make_settings(tmp_path, UNIT_DIR=str(unit_dir)), redis=fakeredis.FakeRedis(), clock=clock)
    assert str(unit_dir / "points.yaml") in str(caught.value) and expected in str(caught.value)
