"""RQ plumbing: the only code that enqueues jobs, and the app context jobs run in."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask import Flask, current_app, has_app_context
from rq import Callback, Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import JobStatus

from bot import redis_store

EXTENSION = "szzs.jobs"
DEFAULT = "default"      # handlers' follow-up work, cron ticks
OUTBOX = "outbox"        # every WeCom send
QUEUES = (OUTBOX, DEFAULT)
# WeCom's -1/45009/45033 lift within a minute or so; keep trying for about ten minutes
DEFAULT_RETRY = Retry(max=5, interval=[5, 15, 60, 120, 300])


@dataclass(frozen=True)
class Enqueued:
    job_id: str
    duplicate: bool


class JobGateway:
    """Enqueues with one policy for ids, retries and TTLs; the only caller of ``Queue.enqueue*``."""

    def __init__(self, app: Flask):
        self._app = app
        self._queues: dict[str, Queue] = {}

    def queue(self, name: str = DEFAULT) -> Queue:
        if name not in self._queues:
            self._queues[name] = Queue(
                name, connection=redis_store.get_redis(self._app), is_async=self._app.config.get("RQ_IS_ASYNC", True)
            )
        return self._queues[name]

    def enqueue(self, func: Callable, *, job_id: str, queue: str = DEFAULT, at: datetime | None = None,
                retry: Retry | None = DEFAULT_RETRY, on_failure: Callable | None = None, **kwargs) -> Enqueued:
        """Enqueue ``func(**kwargs)`` once per ``job_id``, now or at ``at``.

        ``on_failure(job, connection, type, value, traceback)`` runs after every failed try;
        ``job.retries_left`` tells whether RQ will try again.
        """
        q = self.queue(queue)
        options = dict(job_id=job_id, retry=retry, failure_ttl=7 * 24 * 3600, result_ttl=24 * 3600,
                       description=f"{func.__module__}.{func.__name__}")
        if on_failure is not None:
            options["on_failure"] = Callback(on_failure)
        try:
            if at is None:
                job = q.enqueue(func, kwargs=kwargs, unique=True, **options)
            else:
                # enqueue_at() ignores unique=; schedule_job() honours it
                job = q.create_job(func, kwargs=kwargs, status=JobStatus.SCHEDULED, **options)
                q.schedule_job(job, at, unique=True)
        except DuplicateJobError:
            return Enqueued(job_id=job_id, duplicate=True)
        return Enqueued(job_id=job.id, duplicate=False)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = JobGateway(app)


def get_jobs(app: Flask | None = None) -> JobGateway:
    return (app or current_app).extensions[EXTENSION]


_worker_app: Flask | None = None


def app_job(func: Callable) -> Callable:
    """Run a job inside an app context; reuse the caller's context when there is one (tests)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        with worker_app().app_context():
            return func(*args, **kwargs)

    return wrapper


def worker_app() -> Flask:
    """The app a worker process runs jobs in: built once, lazily, from the environment."""
    global _worker_app
    if _worker_app is None:
        from bot import create_app

        _worker_app = create_app()
    return _worker_app
