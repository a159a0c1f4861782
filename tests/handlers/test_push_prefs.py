"""免打扰 and 我要语音 / 我要文字 / 我要默认 through the real encrypted callback path, and the preferences service."""
from __future__ import annotations

import pytest

from bot import db
from bot.models.pushes import MemberPreference
from handlers._services import push_prefs
from tests.factories import member
from tests.handlers.test_push_policy import platform_for, push_app


@pytest.fixture
def running(tmp_path, clock):
    app = push_app(tmp_path, clock)
    with app.app_context():
        db.create_all(app)
        member(db.get_session(), "u001", name="张三")
        member(db.get_session(), "u002", name="李四")
        yield app, platform_for(app)


def say(platform, text, user="u001"):
    return platform.say(text, channel="app", chattype="single", user=user).text


def stored(userid="u001") -> tuple[bool, str | None] | None:
    session = db.get_session()
    session.expire_all()
    row = session.get(MemberPreference, userid)
    return None if row is None else (row.muted, row.form)


@pytest.mark.parametrize("text", ["免打扰 开", "免打扰开", "免打扰 开启", "开启免打扰", "打开免打扰", "不要推送",
                                  "不要推送了", "暂停推送", "／免打扰　开", "请开启免打扰"])
def test_every_way_of_muting_mutes(running, text):
    _, platform = running
    reply = say(platform, text)
    assert reply.startswith("已开启免打扰") and "恢复推送" in reply, reply
    assert stored() == (True, None)
    assert stored("u002") is None


@pytest.mark.parametrize("text", ["免打扰 关", "免打扰 关闭", "关闭免打扰", "取消免打扰", "恢复推送", "继续推送"])
def test_every_way_of_unmuting_unmutes(running, text):
    _, platform = running
    say(platform, "免打扰 开")
    reply = say(platform, text)
    assert reply.startswith("已关闭免打扰"), reply
    assert stored() == (False, None)


def test_muting_twice_says_so_and_bare_command_tells_the_state(running):
    _, platform = running
    assert "目前未开启" in say(platform, "免打扰")
    say(platform, "免打扰 开")
    assert say(platform, "免打扰 开").startswith("免打扰本来就是开启的")
    assert "目前已开启" in say(platform, "免打扰")
    assert stored() == (True, None)


@pytest.mark.parametrize("text", ["免打扰 明天", "免打扰 一会儿"])
def test_an_unclear_switch_is_explained_and_changes_nothing(running, text):
    _, platform = running
    reply = say(platform, text)
    assert reply.startswith("没看懂") and "免打扰 开" in reply and "免打扰 关" in reply
    assert stored() is None


@pytest.mark.parametrize("text, form, name", [("我要语音", "voice", "语音"), ("要语音", "voice", "语音"),
                                              ("听语音", "voice", "语音"), ("我要文字", "text", "文字"),
                                              ("看文字", "text", "文字"), ("文字推送", "text", "文字")])
def test_choosing_a_form(running, text, form, name):
    _, platform = running
    reply = say(platform, text)
    assert reply.startswith(f"好的，已设为优先{name}") and "我要默认" in reply, reply
    assert stored() == (False, form)


def test_back_to_the_default_and_mute_keeps_the_form(running):
    _, platform = running
    say(platform, "我要语音")
    say(platform, "免打扰 开")
    assert stored() == (True, "voice")
    assert say(platform, "我要默认").startswith("好的，推送形式已恢复为单位的默认安排")
    assert stored() == (True, None)
    assert say(platform, "恢复默认").startswith("您的推送形式本来就是单位的默认安排")


def test_extra_words_are_refused_and_change_nothing(running):
    _, platform = running
    reply = say(platform, "我要语音 快一点")
    assert "多了内容「快一点」" in reply
    assert stored() is None


def test_an_admin_not_on_the_roster_is_told_he_gets_no_pushes(running):
    _, platform = running
    assert say(platform, "我要语音", user="admin01").startswith("您不在职工名册中")
    assert say(platform, "免打扰 开", user="admin01").startswith("您不在职工名册中")
    assert stored("admin01") is None


def test_preferences_service_returns_only_members_who_set_something(running, clock):
    session = db.get_session()
    push_prefs.set_muted(session, "u001", True, now=clock())
    push_prefs.set_preferred_form(session, "u002", "voice", now=clock())
    session.commit()
    found = push_prefs.preferences(session, ["u001", "u002", "u003"])
    assert {userid: (row.muted, row.form) for userid, row in found.items()} == {"u001": (True, None),
                                                                                "u002": (False, "voice")}
    with pytest.raises(ValueError):
        push_prefs.set_preferred_form(session, "u001", "audio", now=clock())


def test_preferences_of_a_whole_province_in_one_lookup(running, clock):
    session = db.get_session()
    odd = ["u'0\"1", "u\\003", "王五", "u002"]     # quotes, a backslash and Chinese travel in the JSON array intact
    for userid in odd[:3]:
        member(session, userid, name="赵六")
    for userid in odd:
        push_prefs.set_muted(session, userid, True, now=clock())
    session.commit()
    asked = [f"p{i:05d}" for i in range(60_000)] + odd + ["u001"]
    assert sorted(push_prefs.preferences(session, asked)) == sorted(odd)
    assert push_prefs.preferences(session, []) == {}
