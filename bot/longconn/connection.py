"""One subscribed WebSocket: a read loop that never blocks, one writer, acks matched by req_id, pings.

Several reply frames may share one inbound req_id, and their acks differ only by order, so at most one
frame per req_id is in flight (wecom-longconn.md §2). Callbacks are handed to ``on_callback`` as tasks,
so the read loop keeps reading the acks of our own replies while a handler works.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from websockets.exceptions import ConnectionClosed

from bot.longconn import frames
from bot.longconn.frames import Frame

log = logging.getLogger(__name__)


class ConnectionLost(ConnectionError):
    """The socket closed (or was declared dead) while a request waited for its ack."""


class NotSent(ConnectionLost):
    """The socket was already closed: the frame was never written."""


class Connection:
    """Wraps a connected ``websockets`` client connection.

    Args:
        ws: the open connection (protocol-level pings off).
        on_callback: ``async (connection, frame)`` for every frame with a ``cmd``; run as a task.
        ack_timeout: seconds to wait for each ack.
    """

    def __init__(self, ws, *, on_callback: Callable[["Connection", Frame], Awaitable[None]], ack_timeout: float):
        self._ws = ws
        self._on_callback = on_callback
        self.ack_timeout = ack_timeout
        self._write_lock = asyncio.Lock()
        self._waiters: dict[str, asyncio.Future] = {}
        self._in_flight: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}
        self._tasks: set[asyncio.Task] = set()
        self._unacked_pings = 0
        self.kicked = False
        self.closed = False

    async def request(self, frame: Frame, timeout: float | None = None) -> Frame:
        """Send ``frame`` and return its ack; one frame per req_id at a time.

        Raises:
            ConnectionLost: the socket closed before the ack came.
            asyncio.TimeoutError: no ack within the timeout.
        """
        lock = self._in_flight.setdefault(frame.req_id, asyncio.Lock())
        self._users[frame.req_id] = self._users.get(frame.req_id, 0) + 1
        try:
            async with lock:
                return await self._send_and_wait(frame, timeout or self.ack_timeout)
        finally:
            self._users[frame.req_id] -= 1
            if not self._users[frame.req_id]:
                del self._users[frame.req_id], self._in_flight[frame.req_id]

    async def _send_and_wait(self, frame: Frame, timeout: float) -> Frame:
        if self.closed:
            raise NotSent("connection closed")
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[frame.req_id] = waiter
        try:
            async with self._write_lock:
                await self._ws.send(frame.encode())
            return await asyncio.wait_for(waiter, timeout)
        except ConnectionClosed:
            raise ConnectionLost("connection closed while sending") from None
        finally:
            self._waiters.pop(frame.req_id, None)

    async def read_loop(self) -> None:
        """Read until the socket closes; then fail every waiter and cancel nothing else."""
        try:
            async for raw in self._ws:
                self._dispatch(raw)
                if self.kicked:
                    break
        except ConnectionClosed:
            pass
        finally:
            self._lost()

    def _dispatch(self, raw) -> None:
        try:
            frame = frames.decode(raw)
        except frames.BadFrame as exc:
            log.warning("long connection: ignoring an unreadable frame (%s)", exc)
            return
        if frame.is_ack:
            waiter = self._waiters.get(frame.req_id)
            if waiter is not None and not waiter.done():
                waiter.set_result(frame)
            if frame.errcode == frames.NOT_SUBSCRIBED:
                # the server dropped our subscription while the socket stayed up: resubscribe on a new one
                log.warning("long connection: the server says we are not subscribed (846609); reconnecting")
                self.abort()
            return
        if frame.cmd == frames.EVENT_CALLBACK and _event_type(frame) == "disconnected_event":
            self.kicked = True
            return
        task = asyncio.get_running_loop().create_task(self._on_callback(self, frame))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _lost(self) -> None:
        self.closed = True
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(ConnectionLost("connection closed"))

    async def heartbeat(self, interval: float, max_missed: int) -> None:
        """Send a body-less ``ping`` every ``interval`` s; after ``max_missed`` unanswered, abort the socket."""
        while not self.closed:
            await asyncio.sleep(interval)
            if self._unacked_pings >= max_missed:
                log.warning("long connection: %d pings unanswered, treating the link as dead", self._unacked_pings)
                self.abort()
                return
            self._unacked_pings += 1
            task = asyncio.get_running_loop().create_task(self._ping(interval * (max_missed + 1)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _ping(self, timeout: float) -> None:
        try:
            ack = await self.request(frames.ping(), timeout)
        except (asyncio.TimeoutError, ConnectionLost):
            return
        if ack.errcode == frames.OK:
            self._unacked_pings = 0

    def abort(self) -> None:
        """Drop the TCP connection at once (no closing handshake with a peer that does not answer)."""
        self.closed = True
        transport = getattr(self._ws, "transport", None)
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        self.closed = True
        try:
            await asyncio.wait_for(self._ws.close(), 2)
        except (asyncio.TimeoutError, ConnectionClosed, OSError):
            self.abort()

    async def drain_tasks(self, timeout: float) -> None:
        """Let running handlers finish (their replies fall back to aibot_send_msg if the socket is gone)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)


def _event_type(frame: Frame) -> str:
    event = (frame.body or {}).get("event")
    return str(event.get("eventtype", "")) if isinstance(event, dict) else ""
