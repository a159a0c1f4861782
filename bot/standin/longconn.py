"""The long-connection side of the stand-in: a strict loopback fake of ``wss://openws.work.weixin.qq.com``.

It behaves as wecom-longconn.md §12 says: the first frame must subscribe (853000 for bad credentials,
then close); pings are acked (a test can stop that); messages and events are pushed with fresh server
req_ids; replies are accepted only on a message req_id of the same connection (846605 otherwise), one
stream is closed by ``finish`` or by the reply window (846608), ``text`` replies are refused (40008);
welcomes only on an ``enter_chat`` req_id within 5 s; ``aibot_send_msg`` only to chats that have spoken
(93006), 30/min and 1000/h per conversation counted with replies (45009, chosen); frames before the
subscribe ack get 846609; a second subscribe sends the older connection ``disconnected_event`` and closes it.
Media go through the chunked upload trio (bot/standin/longconn_media.py); a voice, image or file send
must name a media_id it handed out, and the accepted message keeps the bytes (``media_bytes``).

``LongconnStandin`` runs the asyncio server on its own thread and offers a thread-safe API to tests,
the stand-in's HTTP endpoint (bot/standin/longconn_http.py through Redis) and the terminal client.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Callable

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from bot.standin import codes
from bot.standin import longconn_wire as wire
from bot.standin.longconn_wire import Frame
from bot.standin.longconn_media import LongconnMedia, MediaUploads

log = logging.getLogger(__name__)

SUBSCRIBE_WAIT_S = 10
WELCOME_WINDOW_S = 5
REPLY_WINDOW_S = 6 * 60
SEND_MSGTYPES = frozenset({"markdown", "template_card", "file", "image", "voice", "video"})
MEDIA_MSGTYPES = frozenset({"file", "image", "voice", "video"})
REPLY_MSGTYPES = frozenset({"stream", "markdown", "template_card", "stream_with_template_card",
                            "file", "image", "voice", "video"})


@dataclass
class Issued:
    """A req_id the server pushed: which chat it came from and when, and what kind of frame."""

    kind: str                  # "message" or the event type
    chatid: str
    at: float


@dataclass
class Reply:
    """What the bot answered on one req_id, or pushed with aibot_send_msg."""

    req_id: str
    cmd: str
    chatid: str
    msgtype: str
    text: str
    media_id: str = ""          # a voice, image or file message: the uploaded media it named


@dataclass
class _Conn:
    ws: ServerConnection
    subscribed: bool = False
    issued: dict[str, Issued] = field(default_factory=dict)
    streams: dict[str, dict] = field(default_factory=dict)     # stream id → {"content", "finished", "req_id"}


class LongconnStandin:
    """A fake WeCom long-connection server on loopback.

    Args:
        bot_id, secret: the credentials it accepts.
        reply_window_s: after this long a req_id's stream is closed (846608).
        clock: seconds, monotonic (tests may move it).
        record: called with each accepted reply or push (the stand-in's message log).
        save_media: ``save(kind, filename, data) → media_id`` to keep finished uploads elsewhere too.
    """

    def __init__(self, *, bot_id: str, secret: str, reply_window_s: float = REPLY_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic, record: Callable[[Reply], None] | None = None,
                 save_media: Callable[[str, str, bytes], str] | None = None):
        self.bot_id, self.secret = bot_id, secret
        self.reply_window_s = reply_window_s
        self.clock = clock
        self.record = record
        self.ack_pings = True
        self.subscribes = 0            # accepted subscriptions
        self.refused = 0               # 853000 answers
        self.kicked = 0                # older connections sent disconnected_event
        self.received: list[Frame] = []
        self.replies: list[Reply] = []
        self.refusals: list[tuple[str, int]] = []     # (cmd, errcode) of every refused frame
        self.violations: list[str] = []
        self.uploads = MediaUploads(lambda: self.clock(), save_media)
        self._conns: list[_Conn] = []
        self._spoken: set[str] = set()
        self._sends: dict[str, deque] = defaultdict(deque)
        self._faults: dict[str, deque] = defaultdict(deque)
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server = None
        self.url = ""

    # -- life cycle (thread-safe) ------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0 = any free port) from a background thread; returns the ws:// URL."""
        ready = threading.Event()

        async def open_server():
            return await serve(self._session, host, port, ping_interval=None, max_size=1 << 20)

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._server = self._loop.run_until_complete(open_server())
                self.url = f"ws://{host}:{self._server.sockets[0].getsockname()[1]}"
            finally:
                ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="longconn-standin", daemon=True)
        self._thread.start()
        ready.wait(10)
        if not self.url:
            raise RuntimeError(f"the long-connection stand-in could not listen on {host}:{port}")
        return self.url

    def stop(self) -> None:
        if self._loop is None or not self._loop.is_running():
            return

        async def close() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    # -- what tests and the simulator do --------------------------------------------------------

    def say(self, userid: str, text: str, *, chatid: str | None = None, chattype: str = "single",
            msgid: str | None = None) -> str:
        """Push a text message from ``userid`` (group when ``chatid`` is given); returns its req_id."""
        group = chatid is not None and chattype == "group"
        body = {"msgid": msgid or uuid.uuid4().hex, "aibotid": self.bot_id, "chattype": "group" if group else "single",
                "from": {"userid": userid}, "msgtype": "text",
                "text": {"content": f"@思政助手 {text}" if group else text}}
        if group:
            body["chatid"] = chatid
        return self._call(self._push(wire.MSG_CALLBACK, body, kind="message",
                                     chatid=chatid if group else userid))

    def event(self, userid: str, eventtype: str, *, chatid: str | None = None) -> str:
        """Push an ``aibot_event_callback`` (e.g. ``enter_chat``); returns its req_id."""
        body = {"msgid": uuid.uuid4().hex, "aibotid": self.bot_id, "chattype": "group" if chatid else "single",
                "from": {"userid": userid}, "msgtype": "event", "event": {"eventtype": eventtype}}
        if chatid:
            body["chatid"] = chatid
        return self._call(self._push(wire.EVENT_CALLBACK, body, kind=eventtype, chatid=chatid or userid))

    def wait_replies(self, req_id: str, timeout: float = 5.0) -> list[Reply]:
        """Replies on ``req_id`` once there is one (only a final stream, markdown or welcome is kept)."""
        return self._wait(lambda: [r for r in self.replies if r.req_id == req_id], timeout, done=bool)

    def wait_sent(self, count: int = 1, timeout: float = 5.0, chatid: str | None = None) -> list[Reply]:
        """The accepted ``aibot_send_msg`` pushes, once there are at least ``count``."""
        return self._wait(lambda: [r for r in self.replies if r.cmd == wire.SEND
                                   and (chatid is None or r.chatid == chatid)], timeout,
                          done=lambda found: len(found) >= count)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        return bool(self._wait(lambda: predicate() or None, timeout, done=bool))

    def _wait(self, collect, timeout, *, done):
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = collect()
                if done(found) or time.monotonic() >= deadline:
                    return found
                self._changed.wait(max(0.0, deadline - time.monotonic()))

    def media_bytes(self, media_id: str) -> LongconnMedia | None:
        """The file a media message named, as the member would receive it."""
        return self.uploads.media.get(media_id)

    def fail_next(self, cmd: str, errcode: int) -> None:
        """Answer the next ``cmd`` frame with ``errcode`` instead of handling it."""
        self._faults[cmd].append(errcode)

    def kick(self) -> None:
        """Tell the current connection another instance took over, then close it."""
        self._call(self._kick_all())

    @property
    def live_connections(self) -> int:
        return sum(1 for c in self._conns if c.subscribed)

    # -- the server -------------------------------------------------------------------------------

    async def _session(self, ws: ServerConnection) -> None:
        conn = _Conn(ws)
        try:
            first = await asyncio.wait_for(ws.recv(), SUBSCRIBE_WAIT_S)
            if not await self._subscribe(conn, first):
                return
            async for raw in ws:
                await self._handle(conn, raw)
        except (ConnectionClosed, asyncio.TimeoutError):
            pass
        finally:
            conn.subscribed = False
            if conn in self._conns:
                self._conns.remove(conn)
            self._notify()

    async def _subscribe(self, conn: _Conn, raw) -> bool:
        try:
            frame = wire.read(raw)
        except wire.Unreadable as exc:
            self.violations.append(f"first frame unreadable: {exc}")
            await conn.ws.close(1002, "bad frame")
            return False
        self._log(frame)
        if frame.cmd != wire.SUBSCRIBE:
            await self._answer(conn, frame, wire.NOT_SUBSCRIBED, "aibot websocket not subscribed")
            await conn.ws.close(1008, "subscribe first")
            return False
        body = frame.body or {}
        if body.get("bot_id") != self.bot_id or body.get("secret") != self.secret:
            self.refused += 1
            await self._answer(conn, frame, wire.BAD_CREDENTIALS, "invalid bot_id or secret (standin)")
            await conn.ws.close(1008, "invalid bot_id or secret")
            return False
        await self._kick_all()
        conn.subscribed = True
        self._conns.append(conn)
        self.subscribes += 1
        await self._answer(conn, frame, wire.OK, "ok")
        return True

    async def _kick_all(self) -> None:
        for old in list(self._conns):
            old.subscribed = False
            self._conns.remove(old)
            self.kicked += 1
            event = {"msgid": uuid.uuid4().hex, "aibotid": self.bot_id, "msgtype": "event",
                     "event": {"eventtype": "disconnected_event"}}
            try:
                await old.ws.send(Frame(wire.server_req_id(), wire.EVENT_CALLBACK, event).to_text())
                await old.ws.close(1000, "another connection subscribed")
            except ConnectionClosed:
                pass

    async def _handle(self, conn: _Conn, raw) -> None:
        try:
            frame = wire.read(raw)
        except wire.Unreadable as exc:
            self.violations.append(f"unreadable frame: {exc}")
            return
        self._log(frame)
        if not conn.subscribed:
            await self._answer(conn, frame, wire.NOT_SUBSCRIBED, "aibot websocket not subscribed")
            return
        if self._faults[frame.cmd]:
            await self._answer(conn, frame, self._faults[frame.cmd].popleft(), "scripted by test")
            return
        if frame.cmd == wire.PING:
            if frame.body is not None:
                self.violations.append("ping carried a body")
            if self.ack_pings:
                await self._answer(conn, frame, wire.OK, "ok")
            return
        upload_step = {wire.UPLOAD_INIT: self.uploads.init, wire.UPLOAD_CHUNK: self.uploads.chunk,
                       wire.UPLOAD_FINISH: self.uploads.finish}.get(frame.cmd)
        if upload_step is not None:
            code, detail, body = upload_step(frame.body or {})
            await self._answer(conn, frame, code, detail, body)
            return
        handler = {wire.RESPOND: self._respond, wire.RESPOND_WELCOME: self._welcome,
                   wire.SEND: self._send}.get(frame.cmd)
        if handler is None:
            self.violations.append(f"unknown cmd {frame.cmd!r}")
            await self._answer(conn, frame, codes.INVALID_PARAMETER, "unknown cmd (standin)")
            return
        code, detail = handler(conn, frame)
        await self._answer(conn, frame, code, detail)

    def _respond(self, conn: _Conn, frame: Frame) -> tuple[int, str]:
        issued = conn.issued.get(frame.req_id)
        if issued is None or issued.kind != "message":
            return wire.INVALID_REQ_ID, "invalid req_id: not a message of this connection"
        body = frame.body or {}
        msgtype = body.get("msgtype")
        if msgtype not in REPLY_MSGTYPES:
            return wire.INVALID_MSGTYPE, f"invalid message type {msgtype!r}"
        if self.clock() - issued.at > self.reply_window_s:
            return wire.STREAM_CLOSED, "reply window over"
        if msgtype == "stream":
            return self._stream(conn, frame, issued, body.get("stream") or {})
        content = (body.get(msgtype) or {}).get("content", "") if isinstance(body.get(msgtype), dict) else ""
        return self._accept(Reply(frame.req_id, frame.cmd, issued.chatid, msgtype, str(content)))

    def _stream(self, conn: _Conn, frame: Frame, issued: Issued, stream: dict) -> tuple[int, str]:
        stream_id, content = stream.get("id"), stream.get("content", "")
        if not isinstance(stream_id, str) or not stream_id or not isinstance(content, str):
            return codes.INVALID_PARAMETER, "stream.id and stream.content are required"
        if len(content.encode("utf-8")) > wire.CONTENT_LIMIT:
            return codes.CONTENT_TOO_LONG, "stream content over 20480 bytes"
        state = conn.streams.setdefault(stream_id, {"finished": False, "req_id": frame.req_id})
        if state["finished"] or state["req_id"] != frame.req_id:
            return wire.STREAM_CLOSED, "stream already finished"
        state["finished"] = bool(stream.get("finish"))
        if not state["finished"]:
            return wire.OK, "ok"            # a snapshot; only the final text is a reply
        return self._accept(Reply(frame.req_id, frame.cmd, issued.chatid, "stream", content))

    def _welcome(self, conn: _Conn, frame: Frame) -> tuple[int, str]:
        issued = conn.issued.get(frame.req_id)
        if issued is None or issued.kind != "enter_chat":
            return wire.INVALID_REQ_ID, "invalid req_id: not an enter_chat event of this connection"
        if self.clock() - issued.at > WELCOME_WINDOW_S:
            return wire.INVALID_REQ_ID, "welcome later than 5 s"
        body = frame.body or {}
        if body.get("msgtype") not in ("text", "template_card"):
            return wire.INVALID_MSGTYPE, "welcome must be text or template_card"
        text = str((body.get("text") or {}).get("content", "")) if isinstance(body.get("text"), dict) else ""
        return self._accept(Reply(frame.req_id, frame.cmd, issued.chatid, body["msgtype"], text), limit=False)

    def _send(self, conn: _Conn, frame: Frame) -> tuple[int, str]:
        body = frame.body or {}
        chatid, msgtype = body.get("chatid"), body.get("msgtype")
        if not isinstance(chatid, str) or chatid not in self._spoken:
            return wire.INVALID_CHATID, "invalid chatid: this chat never messaged the bot"
        if msgtype not in SEND_MSGTYPES:
            return wire.INVALID_MSGTYPE, f"invalid message type {msgtype!r}"
        part = body.get(msgtype) if isinstance(body.get(msgtype), dict) else {}
        content = str(part.get("content", ""))
        if msgtype == "markdown" and (not content or len(content.encode("utf-8")) > wire.CONTENT_LIMIT):
            return codes.CONTENT_TOO_LONG, "markdown.content empty or over 20480 bytes"
        media_id = part.get("media_id", "") if msgtype in MEDIA_MSGTYPES else ""
        if msgtype in MEDIA_MSGTYPES and not self.uploads.usable(media_id, msgtype):
            return codes.INVALID_MEDIA_ID, f"invalid media_id: not a {msgtype} uploaded over this bot's socket, or expired"
        return self._accept(Reply(frame.req_id, frame.cmd, chatid, msgtype, content, media_id))

    def _accept(self, reply: Reply, *, limit: bool = True) -> tuple[int, str]:
        if limit and not wire.take_slot(self._sends[reply.chatid], self.clock()):
            return wire.FREQ_LIMIT, "over 30 messages a minute or 1000 an hour in this conversation"
        self.replies.append(reply)
        if self.record is not None:
            self.record(reply)
        return wire.OK, "ok"

    async def _push(self, cmd: str, body: dict, *, kind: str, chatid: str) -> str:
        conn = self._conns[-1] if self._conns else None
        if conn is None:
            raise RuntimeError("no bot is connected to the long-connection stand-in")
        req_id = wire.server_req_id()
        conn.issued[req_id] = Issued(kind, chatid, self.clock())
        if kind == "message":
            self._spoken.add(chatid)
        await conn.ws.send(Frame(req_id, cmd, body).to_text())
        return req_id

    async def _answer(self, conn: _Conn, frame: Frame, code: int, detail: str, body: dict | None = None) -> None:
        if code != wire.OK:
            self.refusals.append((frame.cmd, code))
        try:
            await conn.ws.send(Frame(frame.req_id, body=body, errcode=code, errmsg=detail).to_text())
        except ConnectionClosed:
            pass
        self._notify()

    def _log(self, frame: Frame) -> None:
        self.received.append(frame)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()


def reply_record(reply: Reply) -> dict:
    """A reply as JSON for the HTTP endpoint and the message log."""
    record = {"req_id": reply.req_id, "cmd": reply.cmd, "chatid": reply.chatid, "msgtype": reply.msgtype,
              "text": reply.text}
    # the part shaped as the bot sent it (``{content}`` or ``{media_id}``), as the HTTP stand-in records
    # messages, so the simulator shows the text and plays the voice
    record[reply.msgtype] = {"media_id": reply.media_id} if reply.media_id else {"content": reply.text}
    return record
