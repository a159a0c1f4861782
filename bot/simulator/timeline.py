"""The simulator's clock control: move the demo clock one step and run the scheduler's tick for it.

The page moves time in steps no longer than the tick's catch-up window, and waits for the queues to
drain between steps, so every scheduled push and reminder fires once and in order. The tick is the
same job `rq cron` enqueues each minute; it is named here, not imported, so bot/ needs nothing of jobs/.
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from rq import Queue
from rq.registry import StartedJobRegistry

from bot import clock, democlock, redis_store
from bot.tasks import QUEUES

TICK_JOB = "jobs.schedule:tick"      # the one-minute tick (jobs/cron.py registers the same function)
STEP_MINUTES = 120                   # the tick's catch-up window (CRON_CATCH_UP_MINUTES): no minute is skipped
WEEKDAYS = "一二三四五六日"
MORNING = "08:00"                    # where 到明早 8:00 stops


@dataclass(frozen=True)
class ClockState:
    now: datetime
    offset_seconds: float
    busy: int           # jobs waiting or running: the page waits for 0 before the next step

    def to_json(self) -> dict:
        return {"now": self.now.isoformat(), "label": f"{self.now:%Y-%m-%d} 周{WEEKDAYS[self.now.weekday()]} "
                                                      f"{self.now:%H:%M}",
                "offset_minutes": round(self.offset_seconds / 60), "busy": self.busy,
                "minutes_to_morning": self.minutes_to(MORNING)}

    def minutes_to(self, hhmm: str) -> int:
        """Whole minutes until the next ``hhmm`` in the unit's time zone (for 到明早 8:00)."""
        hour, minute = map(int, hhmm.split(":"))
        target = self.now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if target <= self.now:
            target += timedelta(days=1)
        return max(1, math.ceil((target - self.now).total_seconds() / 60))


def state(app: Flask) -> ClockState:
    """The demo time, after handing the worker any timers that are due by it."""
    redis = redis_store.get_redis(app)
    now = clock.now(app)
    democlock.release_due_jobs(redis, QUEUES, now)
    busy = sum(Queue(name, connection=redis).count + StartedJobRegistry(name, connection=redis).count
               for name in QUEUES)
    return ClockState(now=now, offset_seconds=democlock.offset_seconds(redis), busy=busy)


def step(app: Flask, minutes: int) -> list[str]:
    """Move the clock forward by ``minutes`` (1 … STEP_MINUTES) and run the tick for the minutes passed.

    Returns:
        The ids of the scheduled jobs the tick enqueued.

    Raises:
        ValueError: ``minutes`` is out of range, or the clock would run more than a year ahead.
    """
    if not 1 <= minutes <= STEP_MINUTES:
        raise ValueError(f"a step is 1 to {STEP_MINUTES} minutes")
    democlock.advance(redis_store.get_redis(app), minutes * 60)
    return _tick()()


def reset(app: Flask) -> None:
    democlock.reset(redis_store.get_redis(app))


def _tick():
    module, _, name = TICK_JOB.partition(":")
    return getattr(importlib.import_module(module), name)
