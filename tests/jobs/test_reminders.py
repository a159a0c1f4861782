"""The check-in reminder: who gets it, on which days, once, through the real outbound path to the stand-in."""
from datetime import date, datetime, timezone

import pytest
from rq import SimpleWorker

from bot import create_app, db, tasks
from bot.models import CheckIn, Leave
from jobs import schedule
from jobs.reminders import remind_unchecked_members
from tests import factories
from tests.conftest import SHANGHAI, make_settings
from tests.standin_http import messages


def at(day: date, hour=16, minute=30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def run_at(clock, when: datetime) -> int:
    """What the tick does at ``when``: the job runs with that minute as ``due``."""
    clock.set(when)
    return remind_unchecked_members(due=when.isoformat())


def check_in(session, userid: str, day: date) -> None:
    session.add(CheckIn(userid=userid, day=day, note="", channel="app", msg_id=f"m-{userid}-{day}",
                        created_at=datetime.now(timezone.utc)))
    session.commit()


def leave(session, userid: str, start: date, end: date) -> None:
    session.add(Leave(userid=userid, start_day=start, end_day=end, reason="年假", recorded_by="admin01",
                      created_at=datetime.now(timezone.utc)))
    session.commit()


def reminded(url: str) -> list[str]:
    return sorted(m["recipient"] for m in messages(url, via="app"))


WEDNESDAY = date(2026, 11, 25)


def test_only_active_members_not_checked_in_and_not_on_leave_are_reminded(sender, standin_url, clock):
    session = db.get_session()
    for userid in ("u001", "u002", "u003", "u004", "u005", "u006"):
        factories.member(session, userid)
    factories.member(session, "r001", name="老李", status="退休")
    check_in(session, "u001", WEDNESDAY)
    check_in(session, "u002", date(2026, 11, 24))              # yesterday's check-in does not count
    leave(session, "u003", date(2026, 11, 23), WEDNESDAY)      # the last day of a leave
    leave(session, "u004", date(2026, 11, 26), date(2026, 11, 27))   # a leave starting tomorrow

    assert run_at(clock, at(WEDNESDAY)) == 4
    assert reminded(standin_url) == ["u002", "u004", "u005", "u006"]
    content = messages(standin_url, recipient="u005")[0]["body"]["text"]["content"]
    assert "打卡" in content and "发送「打卡」" in content


def test_running_twice_the_same_day_reminds_once(sender, standin_url, clock):
    factories.member(db.get_session(), "u001")
    assert run_at(clock, at(WEDNESDAY)) == 1
    assert run_at(clock, at(WEDNESDAY, 16, 45)) == 0
    assert reminded(standin_url) == ["u001"]


def test_the_next_workday_reminds_again(sender, standin_url, clock):
    factories.member(db.get_session(), "u001")
    run_at(clock, at(WEDNESDAY))
    assert run_at(clock, at(date(2026, 11, 26))) == 1
    assert reminded(standin_url) == ["u001", "u001"]


@pytest.mark.parametrize("day", [date(2026, 10, 1), date(2026, 10, 5), date(2026, 11, 28), date(2026, 11, 29)],
                         ids=["national-day", "national-day-week", "saturday", "sunday"])
def test_days_off_send_nothing(sender, standin_url, clock, day):
    factories.member(db.get_session(), "u001")
    assert run_at(clock, at(day)) == 0
    assert messages(standin_url) == []


@pytest.mark.parametrize("day", [date(2026, 10, 10), date(2026, 9, 20)], ids=["saturday", "sunday"])
def test_a_make_up_weekend_workday_reminds(sender, standin_url, clock, day):
    factories.member(db.get_session(), "u001")
    assert run_at(clock, at(day)) == 1
    assert reminded(standin_url) == ["u001"]


def test_a_reminder_run_after_midnight_is_dropped(sender, standin_url, clock):
    factories.member(db.get_session(), "u001")
    clock.set(at(date(2026, 11, 26), 0, 5))                    # the queue was stuck overnight
    assert remind_unchecked_members(due=at(WEDNESDAY).isoformat()) == 0
    assert messages(standin_url) == []


def test_everyone_checked_in_sends_nothing(sender, standin_url, clock):
    session = db.get_session()
    factories.member(session, "u001")
    check_in(session, "u001", WEDNESDAY)
    assert run_at(clock, at(WEDNESDAY)) == 0
    assert messages(standin_url) == []


# -- the tick --------------------------------------------------------------------------------------

@pytest.fixture
def queued_app(tmp_path, redis_client, clock):
    # jobs are queued, not run inline, so the test sees exactly what the tick enqueued
    app = create_app(make_settings(tmp_path, RQ_IS_ASYNC=True, CHECKIN_REMINDER_TIME="17:05"),
                     redis=redis_client, clock=clock)
    with app.app_context():
        db.create_all(app)
        yield app


def test_the_tick_enqueues_the_reminder_once_at_the_configured_minute(queued_app, clock):
    clock.set(at(WEDNESDAY, 17, 4))
    assert schedule.tick() == []
    clock.set(at(WEDNESDAY, 17, 5))
    assert schedule.tick() == ["cron-checkin-reminders-202611251705"]
    assert schedule.tick() == []
    queue = tasks.get_jobs(queued_app).queue(tasks.DEFAULT)
    assert queue.get_job_ids() == ["cron-checkin-reminders-202611251705"]
    assert queue.fetch_job("cron-checkin-reminders-202611251705").kwargs == {"due": "2026-11-25T17:05:00+08:00"}


def test_the_tick_fires_on_days_off_too_and_the_job_decides(queued_app, clock):
    clock.set(at(date(2026, 10, 1), 17, 5))
    assert schedule.tick() == ["cron-checkin-reminders-202610011705"]


def test_the_enqueued_reminder_queues_one_send(queued_app, clock, redis_client):
    factories.member(db.get_session(), "u001")
    clock.set(at(WEDNESDAY, 17, 5))
    schedule.tick()
    jobs = tasks.get_jobs(queued_app)
    SimpleWorker([jobs.queue(tasks.DEFAULT)], connection=redis_client).work(burst=True)
    sends = [jobs.queue(tasks.OUTBOX).fetch_job(i) for i in jobs.queue(tasks.OUTBOX).get_job_ids()]
    assert [(s.kwargs["push_id"], s.kwargs["userids"]) for s in sends] == [("checkin-reminder-2026-11-25", ["u001"])]


def test_the_default_reminder_time_is_half_past_four(tmp_path, redis_client, clock):
    app = create_app(make_settings(tmp_path, RQ_IS_ASYNC=True), redis=redis_client, clock=clock)
    with app.app_context():
        db.create_all(app)           # the tick also reads the surveys and activities stored in SQL
        clock.set(at(WEDNESDAY, 16, 30))
        assert "cron-checkin-reminders-202611251630" in schedule.tick()


@pytest.mark.parametrize("hhmm, cron", [("16:30", "30 16 * * *"), ("08:05", "5 8 * * *"), ("0:00", "0 0 * * *")])
def test_daily_at(hhmm, cron):
    assert schedule.daily_at(hhmm) == cron


@pytest.mark.parametrize("hhmm", ["24:00", "16:60", "1630", "16:3a", ""])
def test_daily_at_refuses_what_is_not_a_time(hhmm):
    with pytest.raises(ValueError):
        schedule.daily_at(hhmm)
