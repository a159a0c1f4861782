"""帮助: every command a person may use is listed, the list fits one WeCom message, details on request."""
import re

from bot import db
from bot.acl import Role
from bot.router import get_registry
from tests.factories import member

WECOM_TEXT_LIMIT = 2048


def test_an_admin_sees_every_command_within_one_message(app, platform):
    member(db.get_session(), "admin01", name="周管理")
    text = platform.say("帮助", channel="app", chattype="single", user="admin01").text
    assert len(text.encode("utf-8")) <= WECOM_TEXT_LIMIT and not text.endswith("…")
    for cmd in get_registry(app).commands():
        assert cmd.name in text, cmd.name
    assert "竞赛（群里用）" in text            # a group-only command is listed with where to use it


def test_a_member_is_not_shown_leader_or_admin_commands(app, platform):
    member(db.get_session(), "u001")
    text = platform.say("帮助", channel="app", chattype="single").text
    names = {cmd.name for cmd in get_registry(app).commands() if cmd.role >= Role.LEADER}
    listed = set(re.split(r"[【】、\n]", text))
    assert not names & listed
    assert "打卡" in listed


def test_help_for_one_command_gives_usage_and_example(app, platform):
    member(db.get_session(), "u001")
    text = platform.say("帮助 学习", channel="app", chattype="single").text
    assert "用法：学习" in text and "例如：" in text
