"""推送 to groups (群 <chat>, 工作群, 本群): through the real callback, posted by the group robot webhook to the stand-in."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import db
from bot.models.pushes import ItemReceipt, MemberPreference, Push
from handlers import ENABLED_BY_DEFAULT
from jobs.pushes import fan_out
from tests.factories import member
from tests.platform.messages import DEMO_CHAT
from tests.standin_http import app_on_standin, GROUP, HOOK_KEY, control, messages

MODULES = tuple(dict.fromkeys((*ENABLED_BY_DEFAULT, "pushes")))
WORK_GROUP, WORK_KEY = "水库管理所工作群", "hook-key-0002"
# the work group is configured twice (name and chat id, one robot): 工作群 posts to it once
WEBHOOKS = {GROUP: HOOK_KEY, WORK_GROUP: WORK_KEY, DEMO_CHAT: WORK_KEY}


@pytest.fixture
def app(tmp_path, fake_server, standin_url, clock):
    control(standin_url, {"webhooks": {WORK_GROUP: WORK_KEY}})
    with app_on_standin(tmp_path, fake_server, standin_url, clock, MODULES, WECOM_GROUP_WEBHOOKS=WEBHOOKS) as app:
        yield app


@pytest.fixture
def staff(app, clock):
    session = db.get_session()
    young = member(session, "u_young", name="小王", birth_year=1998)
    session.add(MemberPreference(userid="u_young", muted=True, form=None, updated_at=clock()))
    session.commit()
    return young


def say(platform, text, user="admin01"):
    return platform.say(text, user=user, chattype="single", channel="app").text


def posts(standin_url, chat=None):
    return [m for m in messages(standin_url, via="webhook") if not m["dropped"] and chat in (None, m["chat"])]


def pushes():
    session = db.get_session()
    session.expire_all()
    return list(session.scalars(select(Push).order_by(Push.id)))


def test_a_group_push_posts_a_news_card_once_through_the_groups_webhook(app, platform, staff, standin_url):
    reply = say(platform, f"推送 群 {GROUP} duty-rules")
    [row] = pushes()
    assert f"推送号 {row.id}" in reply and f"「{GROUP}」群，共 1 个群" in reply and "图文卡片" in reply
    assert "免打扰不影响群消息" in reply
    assert row.audience == f"群:{GROUP}" and row.status == "sent"
    sent = posts(standin_url)
    assert [(m["via"], m["chat"], m["msgtype"]) for m in sent] == [("webhook", GROUP, "news"),
                                                                    ("webhook", GROUP, "text")]
    assert f"评价 {row.id} 1-5" in sent[1]["body"]["text"]["content"]
    # a group post is not a member's message: no one-to-one sends, no receipts, 免打扰 irrelevant
    assert [m for m in messages(standin_url) if m["via"] != "webhook"] == []
    assert db.get_session().scalars(select(ItemReceipt)).all() == []

    fan_out(push_id=row.id)                                 # a second run (retry, resumed worker) sends nothing
    assert len(messages(standin_url)) == 2

    report = say(platform, "推送记录").splitlines()
    assert report[1].startswith(f"{row.id}. ") and report[1].endswith("：送达 1 个群，失败 0 个群，待发 0 个群")


def test_work_groups_means_every_configured_group_once_per_robot(app, platform, staff, standin_url):
    reply = say(platform, "推送 工作群 policy-water-law-ownership")
    [row] = pushes()
    assert "全部工作群，共 2 个群" in reply and row.audience == "群:*"
    by_chat = {}
    for m in posts(standin_url):
        by_chat.setdefault(m["chat"], []).append(m["msgtype"])
    assert set(by_chat) == {GROUP, WORK_GROUP}
    assert by_chat[GROUP] == by_chat[WORK_GROUP] and by_chat[GROUP][0] in ("news", "markdown")
    before = len(messages(standin_url))
    fan_out(push_id=row.id)
    assert len(messages(standin_url)) == before
    assert say(platform, "推送记录").splitlines()[1].endswith("：送达 2 个群，失败 0 个群，待发 0 个群")


def test_this_group_targets_the_chat_the_command_came_from(app, platform, staff, standin_url):
    reply = platform.say("推送 本群 duty-rules", user="admin01", chattype="group", chat=DEMO_CHAT).text
    assert f"「{DEMO_CHAT}」群，共 1 个群" in reply
    assert [p.audience for p in pushes()] == [f"群:{DEMO_CHAT}"]
    # the stand-in knows the robot by its key, under the work group's name
    assert [m["msgtype"] for m in posts(standin_url, WORK_GROUP)] == ["news", "text"]


def test_a_timed_group_push_waits_for_its_job(app, platform, staff, standin_url, clock):
    reply = say(platform, f"推送 群 {GROUP} youth-mentor 明天 9:00")
    [row] = pushes()
    assert row.status == "scheduled" and "将于 2026-11-26 09:00 发送" in reply and posts(standin_url) == []
    assert "预约中" in say(platform, "推送记录")
    clock.set(clock() + timedelta(days=1))
    fan_out(push_id=row.id)
    assert [(m["chat"], m["msgtype"]) for m in posts(standin_url)][0] == (GROUP, "markdown")    # no news variant
    assert {m["chat"] for m in posts(standin_url)} == {GROUP} and pushes()[0].status == "sent"


@pytest.mark.parametrize("text, says", [
    ("推送 群 不存在的群 duty-rules", f"没有配置群「不存在的群」的群机器人，发不了。已配置的群：{GROUP}、{WORK_GROUP}、{DEMO_CHAT}"),
    ("推送 本群 duty-rules", "「本群」要在群里发送"),
    (f"推送 群 {GROUP}", "请写明推送什么"),
    (f"推送 群 {GROUP} 天文地理", "没有找到标题含「天文地理」的条目或内容包"),
])
def test_bad_group_pushes_are_refused_in_chinese(app, platform, staff, standin_url, text, says):
    reply = say(platform, text)
    assert says in reply, reply
    assert pushes() == [] and messages(standin_url) == []


def test_this_group_in_an_unconfigured_group_is_refused(app, platform, staff, standin_url):
    reply = platform.say("推送 本群 duty-rules", user="admin01", chattype="group", chat="wrkOtherChat").text
    assert "没有配置群「wrkOtherChat」的群机器人" in reply and GROUP in reply
    assert pushes() == [] and messages(standin_url) == []


def test_members_may_not_push_to_groups(app, platform, staff, standin_url):
    assert "管理员" in say(platform, f"推送 群 {GROUP} duty-rules", user="u_young")
    assert pushes() == [] and messages(standin_url) == []
