"""The activity satisfaction survey: one invitation SATISFACTION_AFTER the start to registrants and
attendees (through the cron tick, the real outbound path and the stand-in), the 问卷 flow asking about
that activity, and 活动统计 showing the average, the number of answers and comments."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot import db
from bot.models.activities import Activity
from handlers._services import activities
from jobs import schedule
from jobs.activities import SATISFACTION_AFTER, expect_reminders, invite_to_satisfaction_survey
from tests.conftest import SHANGHAI
from tests.factories import member
from tests.standin_http import app_on_standin, messages

MODULES = ["help", "activities", "activity_admin", "surveys"]
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=SHANGHAI)        # no other survey open
START = NOW + timedelta(hours=1)


@pytest.fixture
def app(tmp_path, fake_server, standin_url, clock):
    clock.set(NOW)
    with app_on_standin(tmp_path, fake_server, standin_url, clock, MODULES) as app:
        yield app


@pytest.fixture
def activity(app, clock) -> Activity:
    session = db.get_session()
    for userid in ("u001", "u002", "u003", "u004", "u005"):
        member(session, userid)
    activity = Activity(title="大坝岁修实践", kind="实践体验", online=False, place="大坝管理房", audience=["全体"],
                        starts_at=START.astimezone(timezone.utc), capacity=None, seats_taken=0,
                        counts_as_practice=True, study_minutes=60, created_by="admin01", created_at=clock())
    session.add(activity)
    session.flush()
    for userid in ("u001", "u002", "u004"):
        activities.register(session, activity, userid, now=clock())
    activities.cancel(session, activity, "u004", now=clock())          # cancelled: not asked
    activities.mark_attended(session, activity, "u003", now=START)     # walked in: asked
    session.commit()
    expect_reminders(activity)                                           # as 发布活动 does
    return activity


def say(platform, text, user="u001"):
    return platform.say(text, user=user, channel="app", chattype="single").text


def invitations_to(url, userid) -> list[str]:
    return [m["body"]["text"]["content"] for m in messages(url, recipient=userid)
            if "活动问卷" in m["body"]["text"]["content"]]


def tick_at(clock, when: datetime) -> list[str]:
    clock.set(when)
    return schedule.tick()


def test_registrants_and_attendees_are_invited_once(app, activity, clock, standin_url):
    due = START + SATISFACTION_AFTER
    assert not any("satisfaction" in job for job in tick_at(clock, due - timedelta(minutes=5)))   # idle: no scan
    tick_at(clock, due - timedelta(minutes=1))                           # scanned, nothing due yet
    assert all(invitations_to(standin_url, u) == [] for u in ("u001", "u002", "u003"))
    assert "cron-activity-satisfaction-202606101200" in tick_at(clock, due)
    tick_at(clock, due)                                                  # a second tick in the same minute
    tick_at(clock, due + timedelta(minutes=1))
    assert invite_to_satisfaction_survey(due=due.isoformat()) == 1       # a re-run: the push id holds
    for userid in ("u001", "u002", "u003"):
        [invitation] = invitations_to(standin_url, userid)
        assert "「大坝岁修实践」" in invitation and "问卷" in invitation
    assert invitations_to(standin_url, "u004") == [] and invitations_to(standin_url, "u005") == []
    assert not any("satisfaction" in job for job in tick_at(clock, due + timedelta(minutes=5)))


def test_survey_names_the_activity_and_stats_show_average_count_and_comments(platform, activity, clock):
    assert "暂无问卷结果" in say(platform, "活动统计 1", user="admin01")
    clock.set(START + timedelta(minutes=30))
    assert "没有需要您填写的问卷" in say(platform, "问卷")           # not before SATISFACTION_AFTER
    clock.set(START + SATISFACTION_AFTER + timedelta(minutes=10))
    first = say(platform, "问卷")
    assert "您对「大坝岁修实践」整体满意吗" in first and "第 1/3 题" in first
    assert "第 2/3 题" in say(platform, "4")
    assert "先填到这里" in say(platform, "取消")                         # interrupted …
    assert "第 2/3 题" in say(platform, "问卷")                           # … and resumed where it stopped
    say(platform, "演练流程讲得很清楚")
    assert "填写完成" in say(platform, "跳过")
    assert "没有需要您填写的问卷" in say(platform, "问卷")               # answered once per activity

    for reply in ("问卷", "2分", "跳过", "希望安排在上午"):
        say(platform, reply, user="u002")
    assert "没有需要您填写的问卷" in say(platform, "问卷", user="u004")  # cancelled
    assert "没有需要您填写的问卷" in say(platform, "问卷", user="u005")  # never registered

    stats = say(platform, "活动统计 1", user="admin01")
    assert "满意度：3.0 分（2 人评价）" in stats
    assert "· 意见：希望安排在上午" in stats and "· 意见：演练流程讲得很清楚" in stats
    assert activities.satisfaction(db.get_session(), 1).average == 3.0


def test_comments_are_capped_at_three(platform, activity, clock):
    clock.set(START + SATISFACTION_AFTER)
    for userid in ("u001", "u002", "u003"):
        for reply in ("问卷", "5", f"{userid} 收获很大", f"{userid} 建议多办"):
            say(platform, reply, user=userid)
    stats = say(platform, "活动统计 1", user="admin01")
    assert "满意度：5.0 分（3 人评价）" in stats
    assert stats.count("· 意见：") == 3 and "u003 建议多办" in stats      # the newest first


def test_survey_expires_after_the_answer_window(platform, activity, clock):
    clock.set(START + timedelta(days=15))
    assert "没有需要您填写的问卷" in say(platform, "问卷")
