"""反馈 and 反馈列表 through the real encrypted callback path."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import db
from bot.models.surveys import Feedback
from tests.handlers.test_surveys import running, say


def test_feedback_is_stored_acknowledged_and_listed_newest_first(tmp_path, clock):
    with running(tmp_path, clock, people=("u001", "u002")) as (app, platform):
        assert "收到您的反馈，谢谢" in say(platform, "反馈 希望多讲讲防汛应急预案的实际操作")
        clock.set(clock.at + timedelta(minutes=5))
        assert "收到您的反馈" in say(platform, "提建议 推送时间改到午休", user="u002")
        row = db.get_session().scalar(select(Feedback).where(Feedback.userid == "u001"))
        assert (row.text, row.cohorts, row.department) == ("希望多讲讲防汛应急预案的实际操作", "工程运维", "工程管理科")
        assert "管理员" in say(platform, "反馈列表")
        listing = say(platform, "反馈列表", user="admin01")
        lines = listing.splitlines()
        assert lines[0] == "最近 2 条意见反馈（新的在前）："
        assert lines[1] == "11-25 09:35 李四·工程管理科：推送时间改到午休"
        assert lines[2] == "11-25 09:30 张三·工程管理科：希望多讲讲防汛应急预案的实际操作"
        assert say(platform, "反馈列表 1", user="admin01").splitlines()[1:] == [lines[1]]


def test_empty_or_overlong_feedback_changes_nothing(tmp_path, clock):
    with running(tmp_path, clock) as (app, platform):
        assert "缺少「内容」" in say(platform, "反馈")
        assert "最多 500 个字" in say(platform, "反馈 " + "长" * 501)
        assert "应为 1–30 之间的数字" in say(platform, "反馈列表 99", user="admin01")
        assert db.get_session().scalars(select(Feedback)).all() == []
        assert say(platform, "反馈列表", user="admin01") == "还没有收到意见反馈。"
