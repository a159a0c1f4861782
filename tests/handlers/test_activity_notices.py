"""活动通知 in each cohort's form, and 发布活动 from an activity pack, through the real encrypted callback;
what members receive is read back from the WeCom stand-in over loopback HTTP."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot import db, redis_store
from bot.models.activities import Activity
from bot.models.pushes import MemberPreference
from jobs.activities import send_activity_notice
from tests.conftest import SHANGHAI
from tests.factories import member
from tests.standin_http import app_on_standin, messages

MODULES = ["help", "activities", "activity_admin", "push_prefs"]
ONLINE = ["党史专题直播", "直播", "12-01 19:30", "https://live.example.cn/party-history", "全体", "不限", "1小时"]


@pytest.fixture
def app(tmp_path, fake_server, standin_url, clock):
    with app_on_standin(tmp_path, fake_server, standin_url, clock, MODULES) as app:
        yield app


@pytest.fixture
def staff(app):
    """One member per form the demo unit's push policy gives (content_packs/demo_unit/push_policy.yaml)."""
    session = db.get_session()
    return {
        "retired": member(session, "u_retired", name="周师傅", birth_year=1950, status="退休"),      # voice
        "senior": member(session, "u_senior", name="老赵", birth_year=1966),                         # voice
        "young": member(session, "u_young", name="小王", birth_year=1998),                           # text
        "office": member(session, "u_office", name="李调度", department="水情调度科", team=None,
                         post="调度员", post_category="调度管理", birth_year=1982),                    # news
        "frontline": member(session, "u_front", name="张巡查", birth_year=1988),                      # text
    }


def say(platform, text, user="admin01"):
    return platform.say(text, user=user, channel="app", chattype="single").text


def received(standin_url, userid) -> list[dict]:
    return [m for m in messages(standin_url, recipient=userid) if not m["dropped"]]


def kinds(standin_url, userid) -> list[str]:
    return [m["msgtype"] for m in received(standin_url, userid)]


def content(message: dict) -> str:
    return message["body"][message["msgtype"]]["content"]


def publish(platform, answers) -> str:
    say(platform, "发布活动")
    for answer in answers:
        say(platform, answer)
    return say(platform, "确认")


def only_activity() -> Activity:
    session = db.get_session()
    session.expire_all()
    [activity] = session.scalars(select(Activity)).all()
    return activity


def test_each_cohort_gets_the_notice_in_its_form_exactly_once(platform, staff, standin_url):
    done = publish(platform, ONLINE)
    assert "已通知 5 人" in done and "语音 2 人" in done and "图文卡片 1 人" in done and "文字 2 人" in done
    activity = only_activity()
    for userid in ("u_retired", "u_senior"):                 # voice parts, then one line of text
        *voices, line = received(standin_url, userid)
        assert voices and {m["msgtype"] for m in voices} == {"voice"} and line["msgtype"] == "text"
        assert "以上是语音《活动通知：党史专题直播》" in content(line)
        assert f"报名 {activity.id}" in content(line) and "https://live.example.cn/party-history" in content(line)
    card, line = received(standin_url, "u_office")
    article = card["body"]["news"]["articles"][0]
    assert card["msgtype"] == "news" and article["title"] == "活动通知：党史专题直播"
    assert article["url"] == "https://live.example.cn/party-history" and "12月01日" in article["description"]
    assert f"报名 {activity.id}" in content(line)
    for userid in ("u_young", "u_front"):
        [notice] = received(standin_url, userid)
        assert notice["msgtype"] == "markdown"
        assert "活动通知：党史专题直播" in content(notice) and f"报名 {activity.id}" in content(notice)
        assert "19:30" in content(notice) and "已读" not in content(notice)   # not a content push to rate
    before = {userid: len(received(standin_url, userid)) for userid in staff_ids(staff)}
    send_activity_notice(activity_id=activity.id)            # a retry or a second run of the job
    assert {userid: len(received(standin_url, userid)) for userid in staff_ids(staff)} == before


def staff_ids(staff) -> list[str]:
    return [m.userid for m in staff.values()]


def test_a_members_own_form_wins_and_do_not_disturb_leaves_him_out(platform, staff, standin_url, clock):
    session = db.get_session()
    session.add(MemberPreference(userid="u_retired", muted=False, form="text", updated_at=clock()))
    session.add(MemberPreference(userid="u_young", muted=True, form=None, updated_at=clock()))
    session.commit()
    done = publish(platform, ONLINE)
    assert "已通知 4 人" in done and "1 人开启了免打扰" in done
    assert kinds(standin_url, "u_retired") == ["markdown"]
    assert kinds(standin_url, "u_young") == []


def test_an_offline_activity_without_a_link_has_no_card_so_the_office_reads_text(platform, staff, standin_url):
    publish(platform, ["库区清淤实践", "实践体验", "12-02 09:00", "二号码头", "调度管理", "10", "3小时"])
    assert kinds(standin_url, "u_office") == ["markdown"]
    assert kinds(standin_url, "u_young") == []                # not in the audience


def test_an_offline_activity_may_give_a_detail_page_after_the_place(platform, staff, standin_url):
    publish(platform, ["库区清淤实践", "实践体验", "12-02 09:00", "二号码头 https://example.org/desilt", "调度管理",
                       "10", "3小时"])
    activity = only_activity()
    assert (activity.place, activity.link) == ("二号码头", "https://example.org/desilt")
    card, _ = received(standin_url, "u_office")
    assert card["body"]["news"]["articles"][0]["url"] == "https://example.org/desilt"


def test_a_second_confirm_of_the_same_dialogue_publishes_nothing(platform, staff, standin_url, app):
    say(platform, "发布活动")
    for answer in ONLINE:
        say(platform, answer)
    redis = redis_store.get_redis(app)
    [key] = [k for k in redis.keys("*flow*")]
    at_confirm = redis.get(key)                  # what a racing second message read
    assert "活动已发布" in say(platform, "确认")
    redis.set(key, at_confirm)
    assert "刚刚已经发布过了，没有重复发布" in say(platform, "确认")
    assert activity_count() == 1 and kinds(standin_url, "u_young") == ["markdown"]


# -- from a pack ---------------------------------------------------------------------------------------

def activity_count() -> int:
    return db.get_session().scalar(select(func.count()).select_from(Activity))


def test_publish_from_the_pack_by_id_checks_then_publishes_with_the_description(platform, staff, standin_url):
    summary = say(platform, "发布活动 flood-forecast-talk")
    assert "已从活动包《水库管理所活动》载入「汛限水位与水情测报经验谈」" in summary
    assert "时间：2026-12-10 19:30" in summary and "链接：https://example.org/szzs/live/flood-forecast-talk" in summary
    assert "说明：水情调度科的老调度员" in summary and activity_count() == 0
    done = say(platform, "确认")
    assert "活动已发布" in done and "已通知 5 人" in done
    activity = only_activity()
    assert (activity.kind, activity.online, activity.audience, activity.capacity, activity.counts_as_practice) == \
        ("专题分享", True, ["全体"], None, False)
    assert activity.start == datetime(2026, 12, 10, 19, 30, tzinfo=SHANGHAI)
    [notice] = received(standin_url, "u_young")
    assert "老调度员讲三十年来" in content(notice)
    assert kinds(standin_url, "u_office") == ["news", "text"]


def test_publish_from_the_pack_by_title_with_the_audience_and_detail_page(platform, staff, standin_url):
    say(platform, "发布活动 汛前防汛应急演练")
    assert "活动已发布" in say(platform, "确认")
    activity = only_activity()
    assert activity.audience == ["人群:工程运维", "人群:调度管理", "人群:青年"] and activity.capacity == 40
    assert activity.counts_as_practice and activity.study_minutes == 120
    assert activity.link == "https://example.org/szzs/activities/flood-drill" and activity.place.startswith("溢洪道")
    assert kinds(standin_url, "u_retired") == []               # not in the drill's audience
    assert kinds(standin_url, "u_office") == ["news", "text"]
    page = say(platform, f"活动 {activity.id}", user="u_young")
    assert "模拟库水位超汛限" in page and "详情：https://example.org/szzs/activities/flood-drill" in page


def test_a_pack_activity_without_a_time_takes_it_from_the_command(platform, staff):
    asked = say(platform, "发布活动 库区清淤")
    assert "没有写时间" in asked and "发布活动 desilting 明天 15:00" in asked
    assert "已经过去了" in say(platform, "发布活动 desilting 昨天 9:00")
    summary = say(platform, "发布活动 desilting 明天 上午9点")
    assert "时间：2026-11-26 09:00" in summary and "地点：库尾清淤作业点" in summary
    assert "活动已发布" in say(platform, "确认")
    assert only_activity().start == datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)


def test_a_pack_time_that_has_passed_asks_for_a_new_one(platform, staff, clock):
    clock.set(datetime(2026, 12, 11, 9, 0, tzinfo=SHANGHAI))
    reply = say(platform, "发布活动 flood-forecast-talk")
    assert "已经过去了" in reply and "请在命令后面写新的时间" in reply and activity_count() == 0


def test_unknown_activity_lists_what_the_packs_have_and_cancel_stores_nothing(platform, staff, standin_url):
    reply = say(platform, "发布活动 跳广场舞")
    assert "活动包里没有「跳广场舞」" in reply and "flood-drill（汛前防汛应急演练）" in reply
    say(platform, "发布活动 flood-drill")
    assert "已取消发布" in say(platform, "取消")
    assert activity_count() == 0 and messages(standin_url) == []


def test_another_publish_command_at_the_summary_replaces_it(platform, staff):
    say(platform, "发布活动 flood-drill")
    summary = say(platform, "发布活动 desilting 12-03 09:00")
    assert "载入「库区清淤实践体验」" in summary and "时间：2026-12-03 09:00" in summary
    say(platform, "确认")
    assert only_activity().title == "库区清淤实践体验"


def test_going_back_from_a_pack_activity_changes_the_study_time(platform, staff):
    say(platform, "发布活动 flood-drill")
    assert "学习时长" in say(platform, "上一步")
    assert "签到后计学习 1.5 小时" in say(platform, "90分钟")
    say(platform, "确认")
    assert only_activity().study_minutes == 90


def test_members_may_not_publish_from_a_pack(platform, staff):
    assert "管理员" in say(platform, "发布活动 flood-drill", user="u_young")
    assert activity_count() == 0
