"""学习 and 撤销 through the real encrypted callback path: exact minutes, caps, undo, re-sends."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot import db
from bot.models import StudyLog
from bot.models.study import StudySource
from handlers._services import study
from tests.conftest import SHANGHAI, TEST_CORP_ID
from tests.factories import member
from tests.platform import messages


@pytest.fixture
def zhang(app):
    return member(db.get_session(), "u001", name="张三")


def logs(active_only=True) -> list[tuple[int, str, str]]:
    session = db.get_session()
    session.expire_all()
    query = select(StudyLog).order_by(StudyLog.id)
    if active_only:
        query = query.where(StudyLog.revoked_at.is_(None))
    return [(row.minutes, row.topic, row.source) for row in session.scalars(query)]


PHRASINGS = [
    ("学习 2小时", 120, ""),
    ("学习 1.5h 防汛政策", 90, "防汛政策"),
    ("学习 90分钟", 90, ""),
    ("学习 半小时 水利精神", 30, "水利精神"),
    ("学习 一个半小时", 90, ""),
    ("学了两个钟头", 120, ""),
    ("今天学习了2个小时的防汛知识", 120, "防汛知识"),
    # collected: how people at the office actually write it
    ("学习 45min", 45, ""),
    ("学习 1小时20分钟", 80, ""),
    ("学习 三刻钟", 45, ""),
    ("学习 两小时半", 150, ""),
    ("学习了40分钟党章", 40, "党章"),
    ("学了半个小时的大坝安全知识", 30, "大坝安全知识"),
    ("学习 2h", 120, ""),
    ("学习 二十分钟 防汛应急预案", 20, "防汛应急预案"),
    ("学习 十五分钟", 15, ""),
    ("学习 1 小时", 60, ""),
    ("学习 2.5小时 水情测报规范", 150, "水情测报规范"),
    ("／学习　１小时", 60, ""),
    ("@思政助手 学习 一小时二十分 溢洪道操作规程", 80, "溢洪道操作规程"),
]


@pytest.mark.parametrize("text, minutes, topic", PHRASINGS)
def test_each_phrasing_records_the_exact_minutes(platform, zhang, text, minutes, topic):
    reply = platform.say(text, channel="app", chattype="single")
    assert "已记录" in reply.text, reply.text
    assert logs() == [(minutes, topic, StudySource.SELF.value)]


@pytest.mark.parametrize("text", ["学习 很久", "学习 2天", "学习 2", "学习 0分钟", "学习 30小时"])
def test_unreadable_duration_gets_the_usage_and_records_nothing(platform, zhang, text):
    reply = platform.say(text, channel="app", chattype="single")
    assert "用法：学习" in reply.text and "学习 2小时" in reply.text
    assert logs() == []


def test_bare_command_gets_the_usage(platform, zhang):
    reply = platform.say("学习", channel="app", chattype="single")
    assert "用法：学习" in reply.text
    assert logs() == []


def test_self_reports_are_capped_per_day(platform, zhang):
    platform.say("学习 3小时", channel="app", chattype="single")
    second = platform.say("学习 2小时", channel="app", chattype="single")
    assert "只计入了 1 小时" in second.text
    third = platform.say("学习 1小时", channel="app", chattype="single")
    assert "上限" in third.text
    assert [m for m, _, _ in logs()] == [180, 60]


def test_vouched_time_is_not_capped_and_reports_show_both(platform, zhang, app, clock):
    study.record_vouched(db.get_session(), userid="u001", day=clock().date(), minutes=300,
                         source=StudySource.QUIZ, ref="quiz:1", topic="答题", recorded_by="system", now=clock())
    db.get_session().commit()
    platform.say("学习 4小时", channel="app", chattype="single")
    reply = platform.say("进度", channel="app", chattype="single")
    assert "自报 4，系统记录 5" in reply.text and "9 / 8 小时" in reply.text


def test_vouched_time_counts_once_per_source(app, zhang, clock):
    session = db.get_session()
    args = dict(userid="u001", day=clock().date(), minutes=30, source=StudySource.ACTIVITY, ref="activity:7",
                topic="防汛演练", recorded_by="system", now=clock())
    assert study.record_vouched(session, **args) is True
    assert study.record_vouched(session, **args) is False


def test_undo_takes_back_the_latest_self_report_of_today(platform, zhang, clock):
    platform.say("学习 1小时", channel="app", chattype="single")
    clock.set(clock() + timedelta(minutes=5))
    platform.say("学习 2小时 防汛政策", channel="app", chattype="single")
    reply = platform.say("撤销", channel="app", chattype="single")
    assert "已撤销" in reply.text and "2 小时" in reply.text and "防汛政策" in reply.text
    assert logs() == [(60, "", "self")]
    platform.say("撤销", channel="app", chattype="single")
    assert logs() == []
    assert "没有可以撤销" in platform.say("撤销", channel="app", chattype="single").text


def test_undo_leaves_yesterday_alone(platform, zhang, clock):
    clock.set(datetime(2026, 11, 24, 20, 0, tzinfo=SHANGHAI))
    platform.say("学习 1小时", channel="app", chattype="single")
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI))
    assert "没有可以撤销" in platform.say("撤销", channel="app", chattype="single").text
    assert logs() == [(60, "", "self")]


def test_a_resent_callback_records_once(platform, zhang):
    plaintext = messages.app_text("学习 2小时", corp_id=TEST_CORP_ID, msg_id=4242)
    first = platform.deliver("app", plaintext)
    second = platform.deliver("app", plaintext)
    assert first.text == second.text
    assert logs() == [(120, "", "self")]


def test_a_sentence_without_study_is_not_taken_for_one(platform, zhang):
    reply = platform.say("今天天气不错", channel="app", chattype="single")
    assert "没太明白" in reply.text
    assert logs() == []
