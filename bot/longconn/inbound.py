"""Message and event frames → the same Inbound, de-duplication and pipeline as the callbacks → replies.

The pipeline runs on a thread pool, never on the read loop. A message is answered with one
``aibot_respond_msg`` (a finished stream) on its own req_id; ``enter_chat`` gets its welcome with
``aibot_respond_welcome_msg``. A reply counts against the conversation's 30/min and 1000/h like a push;
over them it is queued as a send job instead. A req_id that is dead (846605, or the connection it came
on is gone) or a stream past its window (846608) falls back to ``aibot_send_msg``.
"""
from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import Executor
from dataclasses import dataclass, replace

from flask import Flask

from bot import clock, db, dedupe, flows, pipeline, redis_store
from bot.channels import aibot
from bot.longconn import frames, identity
from bot.longconn.client import LongconnClient
from bot.longconn.connection import Connection, ConnectionLost, NotSent
from bot.longconn.frames import Frame
from bot.longconn.outbound import GROUP, SINGLE, conversation_limits, enqueue_to_conversation
from bot.messages import ChatType, Inbound, Kind
from bot.outgoing import Text
from bot.ratelimit import acquire_many
from bot.wecom.crypto import CallbackRejected

log = logging.getLogger(__name__)

CHANNEL = "longconn"
CALLBACKS = frozenset({frames.MSG_CALLBACK, frames.MSG_CALLBACK_OLD, frames.EVENT_CALLBACK})
WELCOME_EVENTS = frozenset({"enter_chat"})
FALLBACK_WAIT_SECONDS = 10
# 846609: the subscription was lost (the connection reconnects); the reply is sent once more as a push
RETRY_AS_SEND = frames.FALL_BACK_TO_SEND | {frames.NOT_SUBSCRIBED}


@dataclass(frozen=True)
class Answer:
    inbound: Inbound
    body: dict          # the rendered reply body (a finished stream, or text for a welcome)
    text: str

    @property
    def chat_type(self) -> int:
        return GROUP if self.inbound.chat_type is ChatType.GROUP else SINGLE


def to_inbound(body: dict) -> Inbound | None:
    """Parse a callback body exactly as the smart-bot callback does; None when it is unusable."""
    try:
        inbound = aibot.CHANNEL.parse(json.dumps(body))
    except CallbackRejected as exc:
        log.warning("long connection: ignoring a callback frame (%s)", exc)
        return None
    return replace(inbound, channel=CHANNEL) if inbound and inbound.sender_id else None


def answer(app: Flask, body: dict) -> Answer | None:
    """Run the pipeline for the first delivery of a message id; None for duplicates and silence."""
    received = to_inbound(body)
    if received is None:
        return None
    with app.app_context():
        inbound = identity.resolve(app, db.get_session(), received)
        ran: list[str | None] = []

        def compute(flow_raw: bytes | None) -> str | None:
            reply = pipeline.handle(inbound, app, flow_raw=flow_raw)
            ran.append(reply.text if reply else None)
            # rendered as what arrived: a message is answered with a stream even when it became an event
            return aibot.CHANNEL.render(reply, received, app.config) if reply else None

        rendered = dedupe.once(redis_store.get_redis(app), CHANNEL, inbound.msg_id, compute,
                               also_get=flows.key_for(inbound))
    if not ran or not rendered:
        return None          # a re-delivered msgid was answered the first time: not again
    return Answer(received, json.loads(rendered), ran[0] or "")


class InboundHandler:
    """``on_callback`` of the client: answers each message or event off the read loop."""

    def __init__(self, app: Flask, client: LongconnClient, *, executor: Executor):
        self._app = app
        self._client = client
        self._executor = executor
        self._limits = conversation_limits(app.config["WECOM_BOT_ID"])

    async def __call__(self, conn: Connection, frame: Frame) -> None:
        if frame.cmd not in CALLBACKS or not frame.body:
            log.info("long connection: ignoring a %s frame", frame.cmd)
            return
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor, answer, self._app, frame.body)
        except Exception:
            log.exception("long connection: answering %s %s failed", frame.cmd, frame.req_id)
            return
        if result is None:
            return
        if result.inbound.kind is Kind.EVENT:
            if result.inbound.event in WELCOME_EVENTS:
                await self._welcome(conn, frame, result)
            return
        await self._reply(conn, frame, result)

    async def _welcome(self, conn: Connection, frame: Frame, result: Answer) -> None:
        try:
            ack = await conn.request(frames.respond_welcome(frame.req_id, result.body))
        except (asyncio.TimeoutError, ConnectionLost) as exc:
            log.warning("long connection: welcome for %s not acknowledged (%s)", result.inbound.chat_id, exc)
            return
        if ack.errcode:
            log.warning("long connection: welcome refused: errcode=%s %s", ack.errcode, ack.errmsg)

    async def _reply(self, conn: Connection, frame: Frame, result: Answer) -> None:
        loop = asyncio.get_running_loop()
        wait = await loop.run_in_executor(self._executor, self._take_slot, result.inbound.chat_id)
        if wait:
            log.info("long connection: %s over its message limits; the reply goes out as a send job",
                     result.inbound.chat_id)
            await loop.run_in_executor(self._executor, self._queue, result)
            return
        if self._client.connection is conn:
            try:
                ack = await conn.request(frames.respond(frame.req_id, result.body))
            except NotSent:
                ack = None
            except (asyncio.TimeoutError, ConnectionLost) as exc:
                # written but not acknowledged: it may have arrived, so it is not sent a second time
                log.warning("long connection: reply to %s not acknowledged (%s)", result.inbound.msg_id, exc)
                return
            if ack is not None and ack.errcode == frames.OK:
                return
            if ack is not None and ack.errcode not in RETRY_AS_SEND:
                log.error("long connection: reply to %s refused: errcode=%s %s",
                          result.inbound.msg_id, ack.errcode, ack.errmsg)
                return
        await self._fall_back(result)

    async def _fall_back(self, result: Answer) -> None:
        """The reply's req_id is dead: push the same text into the conversation instead."""
        frame = frames.send_msg(result.inbound.chat_id, result.text, chat_type=result.chat_type)
        for _attempt in range(2):      # a socket that closes before the write gets one more try on the next
            conn = await self._client.wait_connected(FALLBACK_WAIT_SECONDS)
            if conn is None:
                await asyncio.get_running_loop().run_in_executor(self._executor, self._queue, result)
                return
            try:
                ack = await conn.request(frame)
                break
            except NotSent:
                continue
            except (asyncio.TimeoutError, ConnectionLost) as exc:
                log.warning("long connection: fallback send to %s not acknowledged (%s)", result.inbound.chat_id, exc)
                return
        else:
            log.warning("long connection: fallback send to %s found no open connection", result.inbound.chat_id)
            return
        if ack.errcode:
            log.error("long connection: fallback send to %s refused: errcode=%s %s",
                      result.inbound.chat_id, ack.errcode, ack.errmsg)

    def _take_slot(self, chatid: str) -> float:
        now = clock.now(self._app).timestamp()
        return acquire_many(redis_store.get_redis(self._app), self._limits, [chatid], now=now)[chatid]

    def _queue(self, result: Answer) -> None:
        with self._app.app_context():
            enqueue_to_conversation(f"reply-{result.inbound.msg_id}", result.inbound.chat_id, Text(result.text),
                                    chat_type=result.chat_type)
