"""活动 through the real encrypted callback path: the publish dialogue, 报名 and the waiting list,
sign-in codes, 回放 and 活动统计; pushes read back from the WeCom stand-in over loopback HTTP."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot import cohorts, db
from bot.models import CheckIn, Member, StudyLog
from bot.models.activities import Activity, ActivityRegistration
from bot.models.study import StudySource
from handlers._services import progress
from handlers._services.goals import get_goals
from tests.conftest import SHANGHAI
from tests.factories import member
from tests.standin_http import app_on_standin, messages

MODULES = ["help", "checkins", "study", "progress", "activities", "activity_admin"]


@pytest.fixture
def app(tmp_path, fake_server, standin_url, clock):
    with app_on_standin(tmp_path, fake_server, standin_url, clock, MODULES) as app:
        yield app


@pytest.fixture
def people(app):
    session = db.get_session()
    return [member(session, "u001", name="张三"), member(session, "u002", name="李四", department="办公室", team=None),
            member(session, "u003", name="王五", department="办公室", team=None)]


def say(platform, text, user="u001"):
    return platform.say(text, user=user, channel="app", chattype="single").text


def texts_to(url, userid) -> list[str]:
    """What the member read: text, or markdown (the text form of an activity notice)."""
    return [(m["body"].get("text") or m["body"]["markdown"])["content"] for m in messages(url, recipient=userid)]


def add_activity(clock, *, capacity=None, online=False, practice=True, audience=("全体",), hours_ahead=48,
                 minutes=90, title="防汛应急演练") -> Activity:
    session = db.get_session()
    activity = Activity(title=title, kind="直播" if online else "实践体验", online=online,
                        starts_at=(clock() + timedelta(hours=hours_ahead)).astimezone(timezone.utc),
                        place="" if online else "大坝管理房", link="https://live.example.cn/1" if online else "",
                        audience=list(audience), capacity=capacity, seats_taken=0, counts_as_practice=practice,
                        study_minutes=minutes, created_by="admin01", created_at=clock())
    session.add(activity)
    session.commit()
    return activity


def registrations(activity_id) -> dict[str, str]:
    session = db.get_session()
    session.expire_all()
    rows = session.scalars(select(ActivityRegistration).where(ActivityRegistration.activity_id == activity_id))
    return {row.userid: row.status for row in rows}


def activity_count() -> int:
    return db.get_session().scalar(select(func.count()).select_from(Activity))


# -- the publish dialogue ------------------------------------------------------------------------

GOOD = ["防汛应急演练", "防汛演练", "明天 下午3点", "大坝管理房二楼", "全体", "2", "1.5小时"]
BAD = [("这" * 41, "2–40 个字"), ("跳舞", "没看懂活动类型"), ("昨天 09:00", "已经过去了"), ("大", "2–200 个字"),
       ("后勤科", "没有找到人群或部门"), ("很多人", "1–1000"), ("很久", "学时请写")]


def test_publish_dialogue_re_asks_on_bad_input_at_each_step_and_publishes_on_confirm(platform, people, clock,
                                                                                     standin_url):
    assert "活动名称" in say(platform, "发布活动", user="admin01")
    for (bad, why), good in zip(BAD, GOOD):
        reply = say(platform, bad, user="admin01")
        assert why in reply, (bad, reply)
        say(platform, good, user="admin01")
    summary = say(platform, "随便", user="admin01")
    assert "没看懂" in summary and "请核对活动信息" in summary and "名额：2 人" in summary
    assert activity_count() == 0
    done = say(platform, "确认", user="admin01")
    assert "活动已发布" in done and "已通知 3 人" in done
    activity = db.get_session().scalar(select(Activity))
    start = datetime(2026, 11, 26, 15, 0, tzinfo=SHANGHAI)
    assert (activity.title, activity.kind, activity.online, activity.place, activity.capacity) == \
        ("防汛应急演练", "实践体验", False, "大坝管理房二楼", 2)
    assert (activity.start, activity.audience, activity.study_minutes, activity.counts_as_practice) == \
        (start, ["全体"], 90, True)
    for userid in ("u001", "u002", "u003"):
        [notice] = texts_to(standin_url, userid)
        assert "活动通知" in notice and f"报名 {activity.id}" in notice and "15:00" in notice


def test_online_activity_asks_for_a_link_and_go_back_changes_an_answer(platform, people):
    say(platform, "发布活动", user="admin01")
    for text in ("党史专题直播", "1", "12-01 09:00"):
        say(platform, text, user="admin01")
    assert "链接应以 http" in say(platform, "会议室", user="admin01")
    assert "面向哪些人" in say(platform, "https://live.example.cn/abc", user="admin01")
    assert "请发线上参加的链接" in say(platform, "上一步", user="admin01")
    assert "面向哪些人" in say(platform, "https://live.example.cn/xyz", user="admin01")
    for text in ("青年、办公室", "不限", "1小时"):
        say(platform, text, user="admin01")
    say(platform, "确认", user="admin01")
    activity = db.get_session().scalar(select(Activity))
    assert (activity.online, activity.link, activity.capacity, activity.counts_as_practice) == \
        (True, "https://live.example.cn/xyz", None, False)
    assert activity.audience == ["人群:青年", "部门:办公室"]


@pytest.mark.parametrize("steps_done", range(len(GOOD) + 1))
def test_cancel_at_any_step_stores_nothing_and_ends_the_dialogue(platform, people, standin_url, steps_done):
    say(platform, "发布活动", user="admin01")
    for text in GOOD[:steps_done]:
        say(platform, text, user="admin01")
    assert "已取消发布" in say(platform, "取消", user="admin01")
    assert activity_count() == 0 and messages(standin_url) == []
    assert "近期没有" in say(platform, "活动", user="u001")        # commands work again afterwards


def test_members_may_not_publish(platform, people):
    assert "管理员" in say(platform, "发布活动")
    assert "近期没有" in say(platform, "活动")


# -- listing and registering ----------------------------------------------------------------------

def test_list_shows_only_activities_for_the_member_with_seats_left(platform, people, clock):
    add_activity(clock, capacity=10, title="防汛应急演练")
    add_activity(clock, audience=("部门:办公室",), title="办公室读书会")
    add_activity(clock, hours_ahead=-2, title="已经结束的活动")
    reply = say(platform, "活动")
    assert "防汛应急演练" in reply and "剩余名额 10/10" in reply and "大坝管理房" in reply
    assert "办公室读书会" not in reply and "已经结束" not in reply
    assert "办公室读书会" in say(platform, "活动", user="u002")


@pytest.mark.parametrize("text", ["报名 1", "报名1", "报名 1 号", "我要报名 1", "报名第1个", "报名 #1"])
def test_everyday_phrasings_register(platform, people, clock, text):
    add_activity(clock)
    assert "报名成功" in say(platform, text)
    assert registrations(1) == {"u001": "registered"}


@pytest.mark.parametrize("text, says", [("报名 9", "没有您可以报名的编号为 9"), ("报名 abc", "活动编号应是数字"),
                                        ("报名", "缺少「编号」")])
def test_bad_registrations_change_nothing(platform, people, clock, text, says):
    add_activity(clock)
    assert says in say(platform, text)
    assert registrations(1) == {}


def test_not_in_the_audience_cannot_register(platform, people, clock):
    add_activity(clock, audience=("部门:办公室",))
    assert "没有您可以报名" in say(platform, "报名 1", user="u001")
    assert registrations(1) == {}


def test_full_activity_waits_and_a_cancellation_moves_the_first_waiting_up_with_a_push(platform, people, clock,
                                                                                      standin_url):
    add_activity(clock, capacity=1)
    assert "报名成功" in say(platform, "报名 1", user="u001")
    assert "候补，目前排第 1 位" in say(platform, "报名 1", user="u002")
    assert "候补，目前排第 2 位" in say(platform, "报名 1", user="u003")
    assert "已在" in say(platform, "报名 1", user="u002")
    assert "已取消" in say(platform, "取消报名 1", user="u001")
    assert registrations(1) == {"u001": "cancelled", "u002": "registered", "u003": "waiting"}
    [pushed] = texts_to(standin_url, "u002")
    assert "有空位了" in pushed and "防汛应急演练" in pushed
    assert texts_to(standin_url, "u003") == []
    assert "没有报名" in say(platform, "取消报名 1", user="u001")
    assert "名额已满" in say(platform, "活动", user="u001")
    assert db.get_session().get(Activity, 1).seats_taken == 1


# -- sign-in codes --------------------------------------------------------------------------------

def practice_count(userid) -> int:
    session = db.get_session()
    session.expire_all()
    person = session.get(Member, userid)
    return progress.measure(session, [person], day=datetime(2026, 11, 26).date(), goals=get_goals(),
                            rules=cohorts.get_rules())[0].activities


def study_logs() -> list[tuple[str, int, str, str]]:
    session = db.get_session()
    session.expire_all()
    return [(r.userid, r.minutes, r.source, r.source_ref) for r in session.scalars(select(StudyLog).order_by(StudyLog.id))]


def test_sign_in_codes_right_wrong_expired_and_repeated(platform, people, clock):
    add_activity(clock, hours_ahead=24, minutes=90)
    say(platform, "报名 1", user="u001")
    assert "签到从" in say(platform, "签到码 1", user="admin01")              # a day early: not yet
    clock.set(clock() + timedelta(hours=23, minutes=45))
    assert "还没有开始签到" in say(platform, "活动签到 1 1234")
    shown = say(platform, "签到码 1", user="admin01")
    code = shown.split("签到码：")[1][:4]
    assert code.isdigit() and f"签到 1 {code}" in shown
    assert say(platform, "签到码 1", user="admin01") == shown                 # the same code while valid
    wrong = f"{(int(code) + 1) % 10000:04d}"
    assert "签到码不对" in say(platform, f"活动签到 1 {wrong}")
    assert study_logs() == [] and practice_count("u001") == 0
    assert "签到成功" in say(platform, f"签到 1 {code}")          # 签到 with a number and code is the activity's
    assert db.get_session().scalar(select(func.count()).select_from(CheckIn)) == 0     # not a daily check-in
    assert "打卡成功" in say(platform, "签到")                                          # on its own it still is
    assert study_logs() == [("u001", 90, StudySource.ACTIVITY.value, "activity:1:u001")]
    assert practice_count("u001") == 1
    assert "已经签到过" in say(platform, f"活动签到 1 {code}")
    assert len(study_logs()) == 1 and practice_count("u001") == 1
    clock.set(clock() + timedelta(minutes=31))
    assert "已经过期" in say(platform, f"活动签到 1 {code}", user="u002")
    assert registrations(1) == {"u001": "registered"} and len(study_logs()) == 1


def test_a_non_practice_activity_credits_study_time_but_not_the_practice_goal(platform, people, clock):
    add_activity(clock, hours_ahead=0.25, online=True, practice=False, minutes=60)
    code = say(platform, "签到码 1", user="admin01").split("签到码：")[1][:4]
    assert "签到成功" in say(platform, f"活动签到 1 {code}", user="u002")
    assert [(u, m) for u, m, *_ in study_logs()] == [("u002", 60)]
    assert practice_count("u002") == 0


# -- replay and statistics ------------------------------------------------------------------------

def test_replay_goes_only_to_registrants_who_did_not_attend(platform, people, clock, standin_url):
    add_activity(clock, hours_ahead=0.25, online=True)
    for userid in ("u001", "u002"):
        say(platform, "报名 1", user=userid)
    code = say(platform, "签到码 1", user="admin01").split("签到码：")[1][:4]
    say(platform, f"活动签到 1 {code}", user="u001")
    assert "还没有开始" in say(platform, "回放 1 https://live.example.cn/replay/1", user="admin01")
    clock.set(clock() + timedelta(hours=2))
    assert "链接应以" in say(platform, "回放 1 replay", user="admin01")
    reply = say(platform, "回放 1 https://live.example.cn/replay/1", user="admin01")
    assert "发给 1 位" in reply
    assert texts_to(standin_url, "u001") == [] and texts_to(standin_url, "u003") == []
    [replay] = texts_to(standin_url, "u002")
    assert "https://live.example.cn/replay/1" in replay
    say(platform, "回放 1 https://live.example.cn/replay/1", user="admin01")
    assert len(texts_to(standin_url, "u002")) == 1                              # the same replay once
    assert db.get_session().get(Activity, 1).replay_link == "https://live.example.cn/replay/1"


def test_stats_by_department(platform, people, clock):
    add_activity(clock, hours_ahead=0.25, capacity=2)
    for userid in ("u001", "u002", "u003"):
        say(platform, "报名 1", user=userid)
    code = say(platform, "签到码 1", user="admin01").split("签到码：")[1][:4]
    say(platform, f"活动签到 1 {code}", user="u002")
    reply = say(platform, "活动统计 1", user="admin01")
    assert "报名 2 人，候补 1 人，签到 1 人" in reply
    assert "办公室：报名 1，候补 1，签到 1" in reply and "工程管理科：报名 1，候补 0，签到 0" in reply
    assert "满意度：暂无" in reply
    assert "【1】防汛应急演练" in say(platform, "活动统计", user="admin01")
    assert "管理员" in say(platform, "活动统计 1", user="u001")
