"""The call line: calls go out one at a time, in order, while the caller carries on; a stop skips the rest."""
from __future__ import annotations

import threading
import time

import pytest

from bot.call_line import NOT_RUN, CallLine


def test_calls_run_one_at_a_time_in_order_while_the_caller_goes_on():
    running, seen, overlaps = [], [], []
    lock = threading.Lock()

    def call(n):
        with lock:
            running.append(n)
            if len(running) > 1:
                overlaps.append(tuple(running))
        time.sleep(0.02)
        with lock:
            running.remove(n)
            seen.append(n)
        return n * 10

    with CallLine() as line:
        started = time.monotonic()
        futures = [line.submit(call, n) for n in range(5)]
        submitted_after = time.monotonic() - started      # the caller did not wait for any call
        assert [f.result() for f in futures] == [0, 10, 20, 30, 40]
    assert seen == [0, 1, 2, 3, 4] and overlaps == []
    assert submitted_after < 0.02


def test_a_call_that_stops_the_line_keeps_the_queued_ones_from_running():
    ran = []
    gate = threading.Event()

    def first(line):
        gate.wait(5)
        ran.append("first")
        line.stop()
        return "stopped"

    with CallLine() as line:
        futures = [line.submit(first, line), line.submit(ran.append, "second"), line.submit(ran.append, "third")]
        gate.set()
        assert [f.result() for f in futures] == ["stopped", NOT_RUN, NOT_RUN]
    assert ran == ["first"]


def test_leaving_on_an_error_skips_what_has_not_started():
    ran = []
    gate = threading.Event()
    threading.Timer(0.1, gate.set).start()         # the call in flight ends only after the error
    with pytest.raises(RuntimeError):
        with CallLine() as line:
            line.submit(gate.wait, 5)
            later = line.submit(ran.append, "later")
            raise RuntimeError("the caller's bookkeeping failed")
    assert later.result() is NOT_RUN and ran == []
