"""Activity reminders: the day before and 30 minutes before, to registrants only, once each, through the
cron tick and the real outbound path to the stand-in, with the injected clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot import db
from bot.models.activities import Activity
from handlers._services import activities
from jobs import schedule
from jobs.activities import expect_reminders, send_due_activity_reminders
from tests.conftest import SHANGHAI
from tests.factories import member
from tests.standin_http import messages

START = datetime(2026, 11, 27, 15, 0, tzinfo=SHANGHAI)


def setup_activity(clock) -> Activity:
    session = db.get_session()
    for userid in ("u001", "u002", "u003", "u004"):
        member(session, userid)
    activity = Activity(title="库区清淤体验", kind="实践体验", online=False, place="库尾码头", audience=["全体"],
                        starts_at=START.astimezone(timezone.utc), capacity=2, seats_taken=0, counts_as_practice=True,
                        study_minutes=60, created_by="admin01", created_at=clock())
    session.add(activity)
    session.flush()
    for userid in ("u001", "u002", "u003", "u004"):
        activities.register(session, activity, userid, now=clock())       # u003 and u004 wait
    activities.cancel(session, activity, "u002", now=clock())            # u003 moves up, u004 still waits
    session.commit()
    expect_reminders(activity)                                           # as 发布活动 does
    return activity


def reminders_to(url, userid) -> list[str]:
    return [m["body"]["text"]["content"] for m in messages(url, recipient=userid)
            if "活动提醒" in m["body"]["text"]["content"]]


def tick_at(clock, when: datetime) -> list[str]:
    clock.set(when)
    return schedule.tick()


def test_each_reminder_reaches_registrants_once_even_when_the_tick_runs_twice(sender, standin_url, clock):
    setup_activity(clock)
    assert "cron-activity-reminders-202611261400" in tick_at(clock, START - timedelta(hours=25))
    tick_at(clock, START - timedelta(hours=24, minutes=1))               # scanned, nothing due yet
    assert [reminders_to(standin_url, u) for u in ("u001", "u003")] == [[], []]
    tick_at(clock, START - timedelta(hours=24))
    tick_at(clock, START - timedelta(hours=24))                           # a second tick in the same minute
    tick_at(clock, START - timedelta(hours=23, minutes=59))
    for userid in ("u001", "u003"):
        [day_before] = reminders_to(standin_url, userid)
        assert "明天开始" in day_before and "库尾码头" in day_before and "签到 1 " in day_before
    assert reminders_to(standin_url, "u002") == [] and reminders_to(standin_url, "u004") == []

    tick_at(clock, START - timedelta(minutes=30))
    tick_at(clock, START - timedelta(minutes=29))
    for userid in ("u001", "u003"):
        assert len(reminders_to(standin_url, userid)) == 2
        assert "30 分钟后开始" in reminders_to(standin_url, userid)[1]
    assert reminders_to(standin_url, "u004") == []
    assert not any("activity" in job for job in tick_at(clock, START + timedelta(minutes=1)))   # started: no scan


def test_a_lost_sent_mark_does_not_send_again(sender, standin_url, clock):
    """A restart after the push went out but before the mark was committed: the push id still holds."""
    activity = setup_activity(clock)
    clock.set(START - timedelta(minutes=30))
    assert send_due_activity_reminders(due=clock().isoformat()) == 1
    session = db.get_session()
    session.get(Activity, activity.id).soon_sent_at = None
    session.get(Activity, activity.id).day_before_sent_at = None
    session.commit()
    send_due_activity_reminders(due=clock().isoformat())
    assert len(reminders_to(standin_url, "u001")) == 1 and len(reminders_to(standin_url, "u003")) == 1


def test_a_late_publication_skips_the_day_before_reminder(sender, standin_url, clock):
    setup_activity(clock)
    clock.set(START - timedelta(minutes=20))             # published (or the system back up) 20 minutes before
    send_due_activity_reminders(due=clock().isoformat())
    [only] = reminders_to(standin_url, "u001")
    assert "30 分钟后开始" in only
