"""The demo clock: one offset in Redis that every process of a demo run sees, moved only forward,
installed by create_app in demo mode only; timers and the scheduler's tick follow it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import fakeredis
import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

from bot import clock, create_app, db, democlock
from bot.config import load_settings
from bot.simulator import timeline
from bot.tasks import DEFAULT, get_jobs
from tests.conftest import make_settings


def demo_settings(tmp_path, **overrides) -> dict:
    settings = load_settings({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    assert settings["DEMO_MODE"]
    settings.update(TESTING=True, **overrides)
    return settings


def noted_job(**kwargs) -> str:
    return "ran"


@pytest.fixture
def server():
    return fakeredis.FakeServer()


@pytest.fixture
def demo_app(tmp_path, server):
    app = create_app(demo_settings(tmp_path, RQ_IS_ASYNC=True), redis=fakeredis.FakeRedis(server=server))
    with app.app_context():
        db.create_all(app)
        yield app


def close_to(moment: datetime, expected: datetime) -> bool:
    return abs((moment - expected).total_seconds()) < 5


def test_demo_time_starts_as_real_time_and_every_process_sees_it_move(demo_app, tmp_path, server):
    assert close_to(clock.now(demo_app), datetime.now(timezone.utc))
    worker = create_app(demo_settings(tmp_path / "worker"), redis=fakeredis.FakeRedis(server=server))
    democlock.advance(fakeredis.FakeRedis(server=server), 3 * 3600)
    expected = datetime.now(timezone.utc) + timedelta(hours=3)
    assert close_to(clock.now(demo_app), expected) and close_to(clock.now(worker), expected)
    democlock.reset(fakeredis.FakeRedis(server=server))
    assert close_to(clock.now(worker), datetime.now(timezone.utc))


def test_a_real_tenant_never_uses_the_demo_offset(tmp_path, server):
    democlock.advance(fakeredis.FakeRedis(server=server), 24 * 3600)
    app = create_app(make_settings(tmp_path), redis=fakeredis.FakeRedis(server=server))
    assert not app.config["DEMO_MODE"]
    assert close_to(clock.now(app), datetime.now(timezone.utc))


@pytest.mark.parametrize("seconds", [0, -60, democlock.MAX_OFFSET_SECONDS + 1])
def test_the_clock_only_moves_forward_and_at_most_a_year(seconds):
    redis = fakeredis.FakeRedis()
    with pytest.raises(ValueError):
        democlock.advance(redis, seconds)
    assert democlock.offset_seconds(redis) == 0


def test_timers_fire_by_demo_time_not_by_real_time(demo_app, server):
    redis = fakeredis.FakeRedis(server=server)
    get_jobs().enqueue(noted_job, job_id="timer-1", at=clock.now() + timedelta(minutes=30))
    queue, registry = Queue(DEFAULT, connection=redis), ScheduledJobRegistry(DEFAULT, connection=redis)
    timeline.state(demo_app)                      # the page's poll hands over what is due
    assert "timer-1" not in queue.job_ids and registry.count == 1
    timeline.step(demo_app, 29)
    timeline.state(demo_app)
    assert "timer-1" not in queue.job_ids and registry.count == 1
    timeline.step(demo_app, 2)
    timeline.state(demo_app)
    assert "timer-1" in queue.job_ids and registry.count == 0

def test_a_step_runs_the_tick_for_every_minute_it_passes(demo_app):
    minutes_to_reminder = timeline.state(demo_app).minutes_to(demo_app.config["CHECKIN_REMINDER_TIME"])
    enqueued = []
    while minutes_to_reminder > 0:
        step = min(timeline.STEP_MINUTES, minutes_to_reminder)
        enqueued += timeline.step(demo_app, step)
        minutes_to_reminder -= step
    due = clock.now().replace(second=0, microsecond=0)
    assert f"cron-checkin-reminders-{due:%Y%m%d%H%M}" in enqueued
    # the tick's catch-up window bounds a step: a longer one would skip minutes
    with pytest.raises(ValueError):
        timeline.step(demo_app, timeline.STEP_MINUTES + 1)

