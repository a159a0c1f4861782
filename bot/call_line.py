"""One slow call at a time on a helper thread, while the caller's thread does the bookkeeping.

A push to 5 000 members is five ``message/send`` calls of 1 000 members. Each waits for WeCom's
round trip; claiming the next batch in the ledger and taking its rate-limit slots costs our side
about as much again. A ``CallLine`` overlaps the two: the caller books batch n+1 (and settles batch
n-1) while batch n's call is in flight. The calls themselves still go out one after another, in the
order submitted, never two at once.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

NOT_RUN = object()       # what a call submitted after ``stop`` returns instead of running


class CallLine:
    """Use as a context manager; leaving it waits for every submitted call to finish or be skipped."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wecom-call")
        self._stopped = threading.Event()

    def submit(self, call: Callable, *args) -> Future:
        """Queue ``call(*args)`` after the calls already queued; its future holds the result."""
        return self._pool.submit(self._run, call, args)

    def stop(self) -> None:
        """Calls queued but not started will not run (their result is ``NOT_RUN``). A call may stop
        the line itself, e.g. after a failure that must not be followed by further sends."""
        self._stopped.set()

    def _run(self, call: Callable, args: tuple):
        if self._stopped.is_set():
            return NOT_RUN
        return call(*args)

    def __enter__(self) -> "CallLine":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.stop()
        self._pool.shutdown(wait=True)
