"""The demo clock: real time plus an offset kept in Redis, so web, worker and cron agree on 'now'.

create_app installs it through bot/clock.py's injection point in demo mode only (no WeCom
credentials). The simulator page moves it forward; nothing in the product logic knows it exists.

RQ's own scheduler fires ``enqueue_at`` jobs (quiz timers, 预约 pushes) by the system clock, and
those jobs were scheduled in product time, so ``release_due_jobs`` enqueues the ones that are due
by the demo clock; with no offset both clocks agree and this changes nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from bot import keys, redis_store
from bot.clock import system_clock

OFFSET_KEY = keys.DEMO_CLOCK_OFFSET
MAX_OFFSET_SECONDS = 366 * 24 * 3600                        # a year of demo is plenty


class DemoClock:
    """'now' for an app in demo mode: the system clock moved forward by the shared offset."""

    def __init__(self, app: Flask):
        self._app = app

    def __call__(self) -> datetime:
        try:
            redis = redis_store.get_redis(self._app)
        except RuntimeError:          # no Redis configured (a CLI command on a bare config): real time
            return system_clock()
        return system_clock() + timedelta(seconds=offset_seconds(redis))


def offset_seconds(redis: Redis) -> float:
    """How many seconds the demo clock runs ahead of real time (0 when never moved)."""
    raw = redis.get(OFFSET_KEY)
    return float(raw) if raw else 0.0


def advance(redis: Redis, seconds: float) -> float:
    """Move the demo clock forward; returns the new offset.

    Raises:
        ValueError: ``seconds`` is not positive, or the clock would run more than a year ahead.
    """
    if not seconds > 0:
        raise ValueError("the demo clock only moves forward")
    if offset_seconds(redis) + seconds > MAX_OFFSET_SECONDS:
        raise ValueError("the demo clock runs at most a year ahead")
    return float(redis.incrbyfloat(OFFSET_KEY, seconds))


def reset(redis: Redis) -> None:
    """Back to real time."""
    redis.delete(OFFSET_KEY)


def release_due_jobs(redis: Redis, queue_names: tuple[str, ...], now: datetime) -> list[str]:
    """Enqueue scheduled jobs due by ``now`` (the demo clock), as RQ's scheduler does by real time.

    Returns:
        The ids of the jobs released.
    """
    released: list[str] = []
    timestamp = int(now.timestamp())
    for name in queue_names:
        registry = ScheduledJobRegistry(name, connection=redis)
        job_ids = registry.get_jobs_to_schedule(timestamp)
        if not job_ids:
            continue
        queue = Queue(name, connection=redis)
        with redis.pipeline() as pipe:
            for job_id, job in zip(job_ids, Job.fetch_many(job_ids, connection=redis)):
                if job is not None:
                    queue._enqueue_job(job, pipeline=pipe, at_front=job.should_enqueue_at_front())
                    released.append(job_id)
                registry.remove(job_id, pipeline=pipe)
            pipe.execute()
    return released
