"""Survey reminders and 需求分析 reports, sent through the real outbound path to the stand-in."""
from __future__ import annotations

from datetime import datetime

import fakeredis
import pytest

from bot import db
from jobs import schedule
from jobs.surveys import remind_unfinished_respondents, survey_reminder_entries
from tests.conftest import SHANGHAI
from tests.factories import member
from tests.handlers.test_surveys import running, say
from tests.standin_http import messages


@pytest.fixture
def wired(tmp_path, clock, fake_server, standin_url):
    with running(tmp_path, clock, people=("u001", "u002", "u003"), redis=fakeredis.FakeRedis(server=fake_server),
                 WECOM_API_BASE=standin_url) as (app, platform):
        yield app, platform


def reminded(url: str) -> list[str]:
    return sorted(m["recipient"] for m in messages(url, via="app") if "问卷提醒" in str(m["body"]))


def test_reminder_goes_once_to_those_who_have_not_finished(wired, clock, standin_url, monkeypatch):
    app, platform = wired
    # the tick with only the survey entries: the push schedules check the real pack folder, not these test packs
    monkeypatch.setattr(schedule, "entries", lambda: tuple(survey_reminder_entries(schedule.Entry)))
    say(platform, "问卷", user="u001")
    for answer in ("A", "A", "1", "学习防汛", "跳过"):
        say(platform, answer, user="u001")
    say(platform, "问卷", user="u003")
    say(platform, "B", user="u003")                     # started, not finished

    entries = survey_reminder_entries(schedule.Entry)
    assert [(e.name, e.cron) for e in entries] == [("survey-reminder-needs_test-202612080900", "0 9 8 12 *")]
    clock.set(datetime(2026, 12, 8, 8, 59, tzinfo=SHANGHAI))
    assert not any("survey-reminder" in j for j in schedule.tick())
    clock.set(datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI))
    assert schedule.tick() == ["cron-survey-reminder-needs_test-202612080900-202612080900"]
    assert reminded(standin_url) == ["u002", "u003"]
    text = messages(standin_url, recipient="u002")[-1]["body"]["text"]["content"]
    assert "《测试问卷t》将于 12月10日 截止" in text and "发送「问卷」" in text

    assert schedule.tick() == []                         # the same minute again: nothing
    remind_unfinished_respondents(due="2026-12-08T09:00:00+08:00", survey_id="needs_test",
                                  remind_at="2026-12-08T09:00:00+08:00")          # a re-run of the job
    clock.set(datetime(2026, 12, 8, 9, 1, tzinfo=SHANGHAI))
    schedule.tick()
    assert reminded(standin_url) == ["u002", "u003"]


def test_no_reminder_at_another_time_or_after_the_survey_closed(wired, clock, standin_url):
    assert remind_unfinished_respondents(due="2027-12-08T09:00:00+08:00", survey_id="needs_test",
                                         remind_at="2026-12-08T09:00:00+08:00") == 0      # next year's same day
    assert remind_unfinished_respondents(due="2026-12-08T09:05:00+08:00", survey_id="needs_test",
                                         remind_at="2026-12-08T09:00:00+08:00") == 0
    assert reminded(standin_url) == []


def test_needs_analysis_runs_as_a_job_and_reports_to_the_admin(wired, clock, standin_url):
    app, platform = wired
    session = db.get_session()
    member(session, "y001", name="小王", birth_year=1998, post_category="综合管理", department="办公室", team=None)
    member(session, "r001", name="老刘", birth_year=1966, post_category="综合管理", department="办公室", team=None)
    texts = {"y001": "希望多讲职业规划和技能培训", "r001": "经验传承，搞好传帮带"}
    for userid, text in texts.items():
        say(platform, "问卷", user=userid)
        for answer in ("A", "A", "3", text, "跳过"):
            say(platform, answer, user=userid)
    say(platform, "反馈 希望多讲讲职业规划", user="y001")
    assert "管理员" in say(platform, "需求分析 needs_test")
    queued = say(platform, "需求分析 needs_test", user="admin01")
    assert "已开始分析《测试问卷t》" in queued
    report = messages(standin_url, recipient="admin01")[-1]["body"]["text"]["content"]
    assert "需求分析 · 《测试问卷t》" in report and "问卷问答 2 条、意见反馈 1 条" in report
    assert "【青年】" in report and "职业规划（→职业发展）" in report and "【临退休】" in report
    assert "代表性回答：“希望多讲" in report and "【临退休】高频词：暂无" in report   # one mention is no need yet
    assert "刚刚已经开始了" in say(platform, "需求分析 needs_test", user="admin01")   # same minute: not twice
    assert len(messages(standin_url, recipient="admin01")) == 1


def test_needs_by_cohort_gives_topics_per_cohort(wired):
    from handlers._services.needs import needs_by_cohort

    app, platform = wired
    session = db.get_session()
    member(session, "y001", name="小王", birth_year=1998, post_category="综合管理")
    for userid in ("y001", "u002"):
        say(platform, "问卷", user=userid)
        for answer in ("A", "A", "3", "职业规划和防汛知识" if userid == "y001" else "闸门操作培训", "跳过"):
            say(platform, answer, user=userid)
    say(platform, "反馈 职业规划讲座", user="y001")
    say(platform, "反馈 闸门操作实操", user="u002")
    topics = needs_by_cohort(session, "needs_test")
    assert topics["青年"][0] == "职业发展" and "闸门运行" in topics["工程运维"]
    with pytest.raises(KeyError):
        needs_by_cohort(session, "nope")
