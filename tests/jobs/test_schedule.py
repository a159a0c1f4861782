"""The one-minute tick: due entries enqueued exactly once, missed minutes caught up within the window."""
from datetime import datetime, timedelta

import pytest

from bot import create_app, db, keys, tasks
from jobs import schedule
from tests.conftest import SHANGHAI, make_settings


@pytest.fixture
def queued_app(tmp_path, redis_client, clock):
    # jobs are queued, not run inline, so the test sees exactly what the tick enqueued
    app = create_app(make_settings(tmp_path, RQ_IS_ASYNC=True, CRON_CATCH_UP_MINUTES=60),
                     redis=redis_client, clock=clock)
    with app.app_context():
        db.create_all(app)
        yield app


def queued_ids(app) -> list[str]:
    return tasks.get_jobs(app).queue(tasks.DEFAULT).get_job_ids()


def at(hour, minute):
    return datetime(2026, 11, 25, hour, minute, tzinfo=SHANGHAI)


def test_first_tick_enqueues_what_is_due_this_minute(queued_app, clock):
    clock.set(at(9, 30))
    assert schedule.tick() == ["cron-delivery-failure-alerts-202611250930"]
    assert queued_ids(queued_app) == ["cron-delivery-failure-alerts-202611250930"]


def test_a_second_tick_in_the_same_minute_enqueues_nothing(queued_app, clock):
    clock.set(at(9, 30))
    schedule.tick()
    assert schedule.tick() == []
    assert len(queued_ids(queued_app)) == 1


def test_a_restarted_cron_that_lost_its_last_tick_does_not_repeat(queued_app, clock, redis_client):
    clock.set(at(9, 30))
    schedule.tick()
    redis_client.delete(keys.CRON_LAST_TICK)
    assert schedule.tick() == []


def every_ten_minutes(monkeypatch) -> None:
    """One entry, every ten minutes, that wants each missed run (as a reminder does)."""
    entry = schedule.Entry("every-ten", "*/10 * * * *", schedule.tick)
    monkeypatch.setattr(schedule, "entries", lambda: (entry,))


def test_missed_minutes_are_caught_up_once(queued_app, clock, monkeypatch):
    every_ten_minutes(monkeypatch)
    clock.set(at(9, 31))
    schedule.tick()
    clock.set(at(10, 5))                       # the system was down from 9:32 to 10:04
    assert schedule.tick() == [f"cron-every-ten-20261125{t}" for t in ("0940", "0950", "1000")]
    assert schedule.tick() == []


def test_after_a_gap_the_failure_alert_runs_once_for_the_last_due_minute(queued_app, clock):
    clock.set(at(9, 31))
    schedule.tick()
    clock.set(at(10, 5))                       # it looks at what failed since the last alert: once is enough
    assert schedule.tick() == ["cron-delivery-failure-alerts-202611251000"]
    assert schedule.tick() == []


def test_catch_up_is_limited_to_the_window(queued_app, clock, monkeypatch):
    every_ten_minutes(monkeypatch)
    clock.set(at(5, 0))
    schedule.tick()
    clock.set(at(10, 5))                       # five hours down; the window is 60 minutes
    caught = schedule.tick()
    assert caught[0].endswith("202611250910") and caught[-1].endswith("202611251000")
    assert len(caught) == 6


def test_non_matching_minutes_enqueue_nothing(queued_app, clock):
    clock.set(at(9, 31))
    assert schedule.tick() == []
    clock.set(at(9, 31) + timedelta(minutes=1))
    assert schedule.tick() == []
