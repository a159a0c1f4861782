"""The sliding-window limiter: windows, waits, all-or-nothing across limits, batches and costs; each test
runs on fakeredis and on a real Valkey (its Lua is what production runs)."""
from __future__ import annotations

import fakeredis
import pytest

from bot import keys
from bot.ratelimit import Limit, acquire, acquire_many, member_limits

T0 = 1_800_000_000.0


@pytest.fixture(params=["fakeredis", "valkey"])
def redis(request):
    return fakeredis.FakeRedis() if request.param == "fakeredis" else request.getfixturevalue("valkey")


def take(redis, now, **kw):
    return acquire(redis, "webhook", "k1", limit=kw.get("limit", 20), window_s=60, now=now,
                   cost=kw.get("cost", 1))


def test_limit_slots_per_window_then_wait_for_the_oldest(redis):
    assert [take(redis, T0 + i) for i in range(20)] == [0.0] * 20
    assert take(redis, T0 + 30) == pytest.approx(30.0)      # oldest (T0) leaves the window at T0+60
    assert take(redis, T0 + 59.5) == pytest.approx(0.5)
    assert take(redis, T0 + 60) == 0.0                       # T0 has left; one slot
    assert take(redis, T0 + 60.5) == pytest.approx(0.5)      # next to leave is T0+1


def test_refused_calls_take_no_slot(redis):
    for i in range(3):
        take(redis, T0 + i, limit=3)
    for _ in range(10):
        assert take(redis, T0 + 10, limit=3) > 0
    assert take(redis, T0 + 60, limit=3) == 0.0


def test_subjects_and_scopes_are_independent(redis):
    for _ in range(2):
        acquire(redis, "webhook", "a", limit=2, window_s=60, now=T0)
    assert acquire(redis, "webhook", "a", limit=2, window_s=60, now=T0) > 0
    assert acquire(redis, "webhook", "b", limit=2, window_s=60, now=T0) == 0
    assert acquire(redis, "other", "a", limit=2, window_s=60, now=T0) == 0


def test_cost_takes_several_slots_at_once(redis):
    assert take(redis, T0, limit=5, cost=3) == 0
    assert take(redis, T0 + 1, limit=5, cost=3) == pytest.approx(59.0)   # needs T0's entries gone
    assert take(redis, T0 + 1, limit=5, cost=2) == 0
    with pytest.raises(ValueError):
        take(redis, T0, limit=5, cost=6)


def test_member_limits_minute_and_hour_together(redis):
    limits = member_limits(1000002)
    for minute in range(34):                # 30 per minute, 34 minutes → 1000 in the hour… almost
        now = T0 + minute * 60
        waits = acquire_many(redis, limits, ["u1"], now=now, cost=30 if minute < 33 else 10)
        assert waits == {"u1": 0.0}
    # 1000 sent within the hour: the minute window has room, the hour window does not
    later = T0 + 34 * 60
    wait = acquire_many(redis, limits, ["u1"], now=later)["u1"]
    assert wait == pytest.approx(T0 + 3600 - later)
    # and the refused call took no slot (all or nothing): the minute window still has room for 30
    assert acquire_many(redis, limits[:1], ["u1"], now=later + 1, cost=30) == {"u1": 0.0}


def test_limits_of_different_scopes_count_separately(redis):
    a, b = Limit("a", 2, 60), Limit("b", 3, 60)
    assert acquire_many(redis, (b,), ["u1"], now=T0, cost=3) == {"u1": 0.0}                  # "b" is full
    assert acquire_many(redis, (a,), ["u1"], now=T0, cost=2) == {"u1": 0.0}                  # "a" had room
    assert acquire_many(redis, (a, b), ["u1"], now=T0 + 1)["u1"] == pytest.approx(59.0)       # now both are full


def test_the_shorter_window_counts_only_its_own_sends(redis):
    limits = (Limit("m", 3, 60), Limit("m", 5, 3600))
    assert acquire_many(redis, limits, ["u1"], now=T0, cost=3) == {"u1": 0.0}
    assert acquire_many(redis, limits, ["u1"], now=T0 + 30)["u1"] == pytest.approx(30.0)   # minute full
    assert acquire_many(redis, limits, ["u1"], now=T0 + 61, cost=2) == {"u1": 0.0}         # minute empty again
    # 5 in the hour: the wait is for T0's sends to leave the hour, though the minute has room
    assert acquire_many(redis, limits, ["u1"], now=T0 + 200)["u1"] == pytest.approx(3400.0)


def test_a_subject_keeps_only_its_longest_window_of_sends(redis):
    limits = member_limits(1)
    for minute in range(0, 600, 7):         # one push every 7 minutes for ten hours
        assert acquire_many(redis, limits, ["u1"], now=T0 + minute * 60) == {"u1": 0.0}
    kept = redis.zrange(keys.RATE.format(scope="app1", subject="u1"), 0, -1, withscores=True)
    assert 0 < len(kept) <= 30       # trimmed to the last hour whenever it reached the smallest limit


def test_batch_checks_each_subject(redis):
    limits = (Limit("m", 2, 60),)
    acquire_many(redis, limits, ["a", "b"], now=T0, cost=2)
    waits = acquire_many(redis, limits, ["a", "b", "c"], now=T0 + 10)
    assert waits == {"a": pytest.approx(50.0), "b": pytest.approx(50.0), "c": 0.0}


def test_keys_expire_after_the_window(redis):
    take(redis, T0)
    ttl = redis.pttl(keys.RATE.format(scope="webhook", subject="k1"))
    assert 60_000 < ttl <= 61_000
