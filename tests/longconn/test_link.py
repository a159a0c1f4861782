"""The link itself, against the stand-in's WebSocket server on loopback: login, pings, reconnect, kick."""
from __future__ import annotations

import asyncio


from bot.standin import longconn_wire as wire
from bot.longconn.client import LinkSettings, LongconnClient, Outcome, backoff
from tests.longconn.conftest import BOT_ID, SECRET


def settings(url: str, **overrides) -> LinkSettings:
    values = dict(url=url, bot_id=BOT_ID, secret=SECRET, ping_interval=0.05, ack_timeout=1,
                  subscribe_timeout=2, backoff_base=0.01, backoff_max=0.05)
    values.update(overrides)
    return LinkSettings(**values)


async def ignore(_conn, _frame) -> None:
    return None


async def until(predicate, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


def test_login_succeeds_and_pings_are_bodyless_and_acked(wecom):
    async def scenario():
        client = LongconnClient(settings(wecom.url), on_callback=ignore)
        task = asyncio.create_task(client.run())
        await until(lambda: sum(f.cmd == wire.PING for f in wecom.received) >= 3)
        client.stop()
        assert await task is Outcome.STOPPED
        return client

    client = asyncio.run(scenario())
    assert (client.logins, client.login_failures, client.drops) == (1, 0, 0)
    assert wecom.subscribes == 1 and wecom.refused == 0
    assert wecom.violations == []            # no ping with a body, nothing unreadable
    assert all(f.body is None for f in wecom.received if f.cmd == wire.PING)


def test_a_wrong_secret_gets_853000_counted_as_login_failures_and_the_client_gives_up(wecom):
    async def scenario():
        client = LongconnClient(settings(wecom.url, secret="wrong", max_login_failures=3), on_callback=ignore)
        return client, await asyncio.wait_for(client.run(), 10)

    client, outcome = asyncio.run(scenario())
    assert outcome is Outcome.LOGIN_REFUSED
    assert (client.logins, client.login_failures, client.drops) == (0, 3, 0)
    assert wecom.refused == 3 and wecom.refusals == [(wire.SUBSCRIBE, wire.BAD_CREDENTIALS)] * 3


def test_unanswered_pings_make_the_client_reconnect(wecom):
    wecom.ack_pings = False

    async def scenario():
        client = LongconnClient(settings(wecom.url), on_callback=ignore)
        task = asyncio.create_task(client.run())
        await until(lambda: wecom.subscribes >= 2)
        client.stop()
        await task
        return client

    client = asyncio.run(scenario())
    assert client.drops >= 1 and client.logins >= 2 and client.login_failures == 0


def test_a_second_connection_kicks_the_first_and_the_first_stops(wecom):
    async def scenario():
        first = LongconnClient(settings(wecom.url), on_callback=ignore)
        first_run = asyncio.create_task(first.run())
        await until(lambda: wecom.subscribes == 1)
        second = LongconnClient(settings(wecom.url), on_callback=ignore)
        second_run = asyncio.create_task(second.run())
        outcome = await asyncio.wait_for(first_run, 5)
        await asyncio.sleep(0.3)           # several ping intervals: the second stays, nobody fights back
        assert wecom.subscribes == 2 and wecom.live_connections == 1 and second.connection is not None
        second.stop()
        await second_run
        return first, outcome

    first, outcome = asyncio.run(scenario())
    assert outcome is Outcome.KICKED and first.logins == 1
    assert wecom.kicked == 1


def test_a_dropped_link_reconnects_with_growing_backoff(wecom):
    async def scenario():
        client = LongconnClient(settings(wecom.url, backoff_base=0.02, backoff_max=0.08), on_callback=ignore)
        task = asyncio.create_task(client.run())
        await until(lambda: wecom.subscribes == 1)
        await asyncio.to_thread(wecom.stop)     # nobody answers any more: every dial fails
        await until(lambda: len(client.delays) >= 4)
        client.stop()
        await task
        return client

    client = asyncio.run(scenario())
    assert client.delays[:4] == [0.02, 0.04, 0.08, 0.08]
    assert client.login_failures == 0


def test_backoff_goes_from_one_second_to_thirty():
    assert [backoff(n, 1, 30) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
