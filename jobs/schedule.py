"""Everything that runs on a schedule, and the one-minute tick `rq cron` enqueues.

The tick looks at every minute since the last tick (catching up at most CRON_CATCH_UP_MINUTES
after downtime), and enqueues each due entry once per due minute, or only for the last one when the
entry is ``latest_only``: a Redis marker per (entry, minute) makes a restarted cron, a second tick or a
retried tick harmless.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from croniter import croniter
from flask import current_app

from bot import clock, keys, redis_store
from bot.tasks import app_job, get_jobs

DEFAULT_CATCH_UP_MINUTES = 120
DONE_MARKER_TTL = 8 * 24 * 3600


@dataclass(frozen=True)
class Entry:
    name: str
    cron: str                  # in the unit's time zone (Asia/Shanghai)
    job: Callable              # called as job(due="<ISO minute>", **kwargs)
    kwargs: dict = field(default_factory=dict)
    # a look at the present state (the failure alert): after a gap, only the last due minute is enqueued
    latest_only: bool = False


def entries() -> tuple[Entry, ...]:
    """What runs when; read inside the tick's app context, so entries may depend on settings."""
    from jobs.activities import activity_reminder_entries
    from jobs.alerts import alert_admins_of_failures, warn_admins_of_calendar_end
    from jobs.closed_loop import configured_nudge_day, nudge_members_behind, send_month_end_reports
    from jobs.pushes import cohort_push_entries
    from jobs.reminders import remind_unchecked_members
    from jobs.surveys import survey_reminder_entries

    reminder_at = current_app.config.get("CHECKIN_REMINDER_TIME", "16:30")
    return (
        Entry("delivery-failure-alerts", "*/10 * * * *", alert_admins_of_failures, latest_only=True),
        # every minute while an upcoming activity still has a reminder to send (day before, 30 min before)
        *activity_reminder_entries(Entry),
        # every day: the job itself skips weekends and holidays and runs on 调休 workdays
        Entry("checkin-reminders", daily_at(reminder_at), remind_unchecked_members),
        # the first of each month: is the holiday calendar about to run out?
        Entry("calendar-coverage", "5 9 1 * *", warn_admins_of_calendar_end),
        # from MIDMONTH_NUDGE_DAY on: the job nudges on the first workday of those days only
        Entry("midmonth-nudge", f"0 9 {configured_nudge_day()}-31 * *", nudge_members_behind),
        # the first of each month: feedback on the month that ended
        Entry("month-end-reports", "30 8 1 * *", send_month_end_reports),
        # one per cohort schedule in push_policy.yaml (a Mon–Fri cron means the unit's workdays)
        *cohort_push_entries(Entry),
        # one per survey reminder time (survey.yaml: days before the last day, at HH:MM)
        *survey_reminder_entries(Entry),
    )


def daily_at(hhmm: str) -> str:
    """The cron expression for every day at ``hhmm`` ("16:30" → "30 16 * * *").

    Raises:
        ValueError: ``hhmm`` is not a time of day written HH:MM.
    """
    hour, _, minute = hhmm.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ValueError(f"not a time of day (HH:MM): {hhmm!r}")
    return f"{int(minute)} {int(hour)} * * *"


@app_job
def tick() -> list[str]:
    """Enqueue every entry due since the last tick (a ``latest_only`` one for its last due minute only);
    returns the job ids enqueued."""
    now = clock.now().replace(second=0, microsecond=0)
    redis = redis_store.get_redis()
    window = timedelta(minutes=current_app.config.get("CRON_CATCH_UP_MINUTES", DEFAULT_CATCH_UP_MINUTES))
    last = redis.get(keys.CRON_LAST_TICK)
    start = now if last is None else max(datetime.fromisoformat(last.decode()) + timedelta(minutes=1), now - window)
    scheduled = entries()                  # read once: activity and survey entries come from SQL
    enqueued = []
    latest: dict[str, tuple[Entry, datetime]] = {}
    minute = start
    while minute <= now:
        for entry in scheduled:
            if not croniter.match(entry.cron, minute.replace(tzinfo=None)):
                continue
            if entry.latest_only:
                latest[entry.name] = (entry, minute)
            else:
                enqueued += _enqueue_once(redis, entry, minute)
        minute += timedelta(minutes=1)
    for entry, minute in latest.values():
        enqueued += _enqueue_once(redis, entry, minute)
    redis.set(keys.CRON_LAST_TICK, now.isoformat())
    return enqueued


def _enqueue_once(redis, entry: Entry, minute: datetime) -> list[str]:
    """Enqueue ``entry`` for ``minute`` unless it was already (a Redis marker per entry and minute)."""
    stamp = f"{minute:%Y%m%d%H%M}"
    marker = keys.CRON_DONE.format(name=entry.name, minute=stamp)
    if not redis.set(marker, 1, nx=True, ex=DONE_MARKER_TTL):
        return []
    job_id = f"cron-{entry.name}-{stamp}"
    try:
        get_jobs().enqueue(entry.job, job_id=job_id, due=minute.isoformat(), **entry.kwargs)
    except Exception:
        redis.delete(marker)     # the next tick tries again
        raise
    return [job_id]
