"""Dial out, subscribe, keep the link alive, reconnect with backoff; stop when another copy takes over.

Login failures (a refused subscribe, e.g. 853000) are counted apart from drops: WeCom rate-limits
resubscribing, so after ``max_login_failures`` in a row the client stops instead of hammering.
A ``disconnected_event`` means another process subscribed with the same bot: reconnecting would make
the two kick each other forever, so the client stops and says so (wecom-longconn.md §4).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import Enum
from typing import Awaitable, Callable

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidURI, WebSocketException

from bot.longconn import frames
from bot.longconn.connection import Connection, ConnectionLost
from bot.longconn.frames import Frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkSettings:
    """How the client talks to the server; tests shorten every interval."""

    url: str
    bot_id: str
    secret: str
    ping_interval: float = 30.0
    max_missed_pings: int = 2
    subscribe_timeout: float = 10.0
    ack_timeout: float = 5.0
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    max_login_failures: int = 5


class Outcome(str, Enum):
    KICKED = "kicked"                 # another instance subscribed with this bot
    LOGIN_REFUSED = "login_refused"   # too many refused subscribes in a row
    STOPPED = "stopped"               # asked to stop


class LoginRefused(Exception):
    def __init__(self, errcode: int | None, errmsg: str):
        super().__init__(f"errcode={errcode} {errmsg}")
        self.errcode = errcode


def backoff(attempt: int, base: float, cap: float) -> float:
    """``base × 2^(attempt-1)``, at most ``cap``: 1, 2, 4, 8, 16, 30, 30 … seconds by default."""
    return min(cap, base * 2 ** max(attempt - 1, 0))


class LongconnClient:
    """Keeps exactly one subscribed connection while running.

    Args:
        settings: URL, credentials and timings.
        on_callback: ``async (connection, frame)`` for each message or event frame.
        sleep: the backoff sleep (tests record the delays).
    """

    def __init__(self, settings: LinkSettings, *, on_callback: Callable[[Connection, Frame], Awaitable[None]],
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.settings = settings
        self._on_callback = on_callback
        self._sleep = sleep
        self.connection: Connection | None = None
        self.connected = asyncio.Event()
        self.logins = 0                   # successful subscribes
        self.login_failures = 0           # refused subscribes, in all
        self.drops = 0                    # connections lost or never opened
        self.delays: list[float] = []
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()
        if self.connection is not None:
            self.connection.abort()

    async def run(self) -> Outcome:
        """Connect and reconnect until kicked, refused too often, or stopped."""
        failures_in_a_row = logins_refused_in_a_row = 0
        while not self._stopping.is_set():
            try:
                kicked = await self._session()
                failures_in_a_row = logins_refused_in_a_row = 0
                if kicked:
                    log.error("long connection: bot %s was taken over by another connection (disconnected_event); "
                              "another copy of this bot is running — stopping this one instead of fighting it",
                              self.settings.bot_id)
                    return Outcome.KICKED
                if self._stopping.is_set():
                    break
                self.drops += 1
                log.warning("long connection: link to %s lost; reconnecting", self.settings.url)
            except LoginRefused as exc:
                self.login_failures += 1
                logins_refused_in_a_row += 1
                log.error("long connection: subscribe refused (%s): check WECOM_BOT_ID and WECOM_BOT_SECRET "
                          "(the long-connection secret, not the callback token)", exc)
                if logins_refused_in_a_row >= self.settings.max_login_failures:
                    log.error("long connection: %d refused logins in a row, giving up", logins_refused_in_a_row)
                    return Outcome.LOGIN_REFUSED
            except (OSError, asyncio.TimeoutError, WebSocketException, ConnectionLost) as exc:
                if isinstance(exc, InvalidURI):
                    raise
                self.drops += 1
                log.warning("long connection: cannot reach %s (%s: %s)", self.settings.url, type(exc).__name__, exc)
            failures_in_a_row += 1
            delay = backoff(failures_in_a_row, self.settings.backoff_base, self.settings.backoff_max)
            self.delays.append(delay)
            await self._wait_or_stop(delay)
        return Outcome.STOPPED

    async def _session(self) -> bool:
        """One connection from dial to close; True when it ended by ``disconnected_event``."""
        s = self.settings
        # protocol pings off: WeCom's gateway answers them badly (§4); the JSON ping keeps the link alive
        async with connect(s.url, ping_interval=None, ping_timeout=None, proxy=None, open_timeout=s.subscribe_timeout,
                           close_timeout=2, max_size=1 << 20) as ws:
            conn = Connection(ws, on_callback=self._on_callback, ack_timeout=s.ack_timeout)
            reader = asyncio.create_task(conn.read_loop())    # reading before subscribing, to see the ack
            try:
                await self._subscribe(conn)
                self.connection = conn
                self.connected.set()
                self.logins += 1
                log.info("long connection: subscribed as bot %s at %s", s.bot_id, s.url)
                heartbeat = asyncio.create_task(conn.heartbeat(s.ping_interval, s.max_missed_pings))
                try:
                    await reader
                finally:
                    heartbeat.cancel()
            finally:
                self.connected.clear()
                if self.connection is conn:
                    self.connection = None
                reader.cancel()
                if conn.kicked or self._stopping.is_set():
                    await conn.close()
            return conn.kicked

    async def _subscribe(self, conn: Connection) -> None:
        ack = await conn.request(frames.subscribe(self.settings.bot_id, self.settings.secret),
                                 self.settings.subscribe_timeout)
        if ack.errcode != frames.OK:
            raise LoginRefused(ack.errcode, ack.errmsg)

    async def _wait_or_stop(self, delay: float) -> None:
        stop = asyncio.create_task(self._stopping.wait())
        pause = asyncio.create_task(self._sleep(delay))
        await asyncio.wait({stop, pause}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        pause.cancel()

    async def wait_connected(self, timeout: float) -> Connection | None:
        """The current open, subscribed connection, waiting up to ``timeout`` s for one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            conn = self.connection
            if conn is not None and not conn.closed:
                return conn
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(0.05)
