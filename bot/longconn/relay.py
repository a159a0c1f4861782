"""From RQ workers to the one process that holds the socket: ``aibot_send_msg`` and uploads through Redis.

A worker pushes a request on the bot's relay list and waits for its answer. The longconn process
takes requests only while subscribed, sends each and answers with the ack's errcode. When no answer
comes in time the worker takes its request back (LREM): if it was still there nothing went out, so
the send is retryable; if the process had taken it, the outcome is unknown and, as everywhere in the
ledger, it is not sent again (at-most-once).

Requests are ``markdown`` (the default), ``media`` (``aibot_send_msg`` with ``{msgtype: {media_id}}``)
or ``upload`` (the chunked upload, answered with the media_id). An upload's bytes do not travel in the
request list: they wait under their own short-lived key, so the list stays small. An upload that got no
answer is simply retried: uploading twice sends nothing to anybody.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Awaitable, Callable

from redis import Redis

from bot.keys import LONGCONN_ANSWER, LONGCONN_REQUESTS, LONGCONN_UPLOAD_DATA
from bot.longconn import frames
from bot.longconn.connection import NotSent
from bot.longconn.frames import Frame
from bot.longconn.upload import CHUNK_BYTES, UploadRefused, upload_problem, upload_media
from bot.wecom.errors import RetryableWeComError, WeComError, error_for

log = logging.getLogger(__name__)

REQUESTS = LONGCONN_REQUESTS
ANSWER = LONGCONN_ANSWER
UPLOAD_DATA = LONGCONN_UPLOAD_DATA
ANSWER_TTL_SECONDS = 120
WAIT_SECONDS = 15.0
SECONDS_PER_CHUNK = 2.0       # extra wait an upload gets for each 512 KiB chunk
UNKNOWN = "unknown"           # sent (or maybe sent) but no ack: a message is never retried (an upload is)
MARKDOWN, MEDIA, UPLOAD = "markdown", "media", "upload"


class RelaySender:
    """The worker side (``bot.messenger.ConversationSender``)."""

    def __init__(self, redis: Redis, bot_id: str, *, wait_seconds: float = WAIT_SECONDS):
        self._redis = redis
        self._key = REQUESTS.format(bot_id=bot_id)
        self._wait = wait_seconds
        self.media_target = f"aibot:{bot_id}"      # media ids are the bot's own (bot.voice.media_id_for)

    def send_markdown(self, chatid: str, content: str, *, chat_type: int | None) -> None:
        """Send one markdown message through the longconn process.

        Raises:
            RetryableWeComError: the process did not take the request (not running, not connected),
                or WeCom answered with a retryable errcode.
            WeComError: WeCom refused it, or it was taken and no answer came (outcome unknown).
        """
        self._relay({"op": MARKDOWN, "chatid": chatid, "content": content, "chat_type": chat_type}, frames.SEND)

    def send_media(self, chatid: str, msgtype: str, media_id: str, *, chat_type: int | None) -> None:
        """Send a voice, image or file message by the media_id ``upload_media`` gave; raises as ``send_markdown``."""
        self._relay({"op": MEDIA, "chatid": chatid, "msgtype": msgtype, "media_id": media_id,
                     "chat_type": chat_type}, frames.SEND)

    def upload_media(self, kind: str, filename: str, data: bytes) -> str:
        """Upload through the longconn process's socket and return the media_id.

        Raises:
            WeComError: the media can never be uploaded (size), or WeCom refused it.
            RetryableWeComError: the process is not there, the link dropped, or WeCom is busy.
        """
        problem = upload_problem(kind, data)
        if problem:
            raise WeComError(None, problem, frames.UPLOAD_INIT)
        request_id = uuid.uuid4().hex
        data_key = UPLOAD_DATA.format(request_id=request_id)
        wait = self._wait + SECONDS_PER_CHUNK * -(-len(data) // CHUNK_BYTES)
        self._redis.set(data_key, data, ex=int(wait) + ANSWER_TTL_SECONDS)
        try:
            answer = self._relay({"op": UPLOAD, "kind": kind, "filename": filename, "data_key": data_key},
                                 frames.UPLOAD_INIT, request_id=request_id, wait=wait, unknown_retryable=True)
        finally:
            self._redis.delete(data_key)
        return answer["media_id"]

    def _relay(self, fields: dict, path: str, *, request_id: str | None = None, wait: float | None = None,
               unknown_retryable: bool = False) -> dict:
        request_id = request_id or uuid.uuid4().hex
        wait = wait or self._wait
        request = json.dumps({"id": request_id, **fields, "deadline": time.time() + wait - 1}, ensure_ascii=False)
        self._redis.rpush(self._key, request)
        got = self._redis.blpop([ANSWER.format(request_id=request_id)], timeout=wait)
        unknown = RetryableWeComError if unknown_retryable else WeComError
        if got is None:
            if self._redis.lrem(self._key, 1, request):
                raise RetryableWeComError(None, "the long connection is not running or not connected", path)
            raise unknown(None, "taken by the long connection but no answer came", path)
        answer = json.loads(got[1])
        if answer.get("errcode") == UNKNOWN:
            raise unknown(None, answer.get("errmsg", "no ack"), path)
        if answer.get("errcode"):
            raise error_for(answer["errcode"], answer.get("errmsg", ""), answer.get("path") or path)
        return answer


async def serve_requests(redis: Redis, bot_id: str, *, is_connected: Callable[[], bool],
                         send: Callable[[Frame], Awaitable[Frame]], poll_seconds: float = 1.0) -> None:
    """The longconn side: while connected, take requests one by one, send them, answer each."""
    key = REQUESTS.format(bot_id=bot_id)
    while True:
        if not is_connected():
            await asyncio.sleep(poll_seconds / 4)
            continue
        popped = await asyncio.to_thread(redis.blpop, [key], poll_seconds)
        if popped is None:
            continue
        request = json.loads(popped[1])
        answer = await _send_one(request, send, redis)
        reply_key = ANSWER.format(request_id=request["id"])
        with redis.pipeline() as pipe:
            pipe.rpush(reply_key, json.dumps(answer, ensure_ascii=False))
            pipe.expire(reply_key, ANSWER_TTL_SECONDS)
            await asyncio.to_thread(pipe.execute)


async def _send_one(request: dict, send: Callable[[Frame], Awaitable[Frame]], redis: Redis) -> dict:
    if time.time() > request["deadline"]:
        # the worker has stopped waiting and counts this as unknown: sending now could duplicate a retry
        return {"errcode": UNKNOWN, "errmsg": "request expired before it could be sent"}
    if request.get("op") == UPLOAD:
        return await _upload(request, send, redis)
    if request.get("op") == MEDIA:
        frame = frames.send_media(request["chatid"], request["msgtype"], request["media_id"],
                                  chat_type=request.get("chat_type"))
    else:
        frame = frames.send_msg(request["chatid"], request["content"], chat_type=request.get("chat_type"))
    try:
        ack = await send(frame)
    except NotSent:
        return {"errcode": -1, "errmsg": "the connection closed before sending"}
    except Exception as exc:  # noqa: BLE001 - any failure after the write may have delivered it
        log.warning("long connection: aibot_send_msg to %s got no ack (%s)", request["chatid"], type(exc).__name__)
        return {"errcode": UNKNOWN, "errmsg": f"no ack: {type(exc).__name__}"}
    if ack.errcode == frames.NOT_SUBSCRIBED:
        return {"errcode": -1, "errmsg": ack.errmsg}       # nothing delivered: retry after resubscribing
    return {"errcode": ack.errcode or 0, "errmsg": ack.errmsg}


async def _upload(request: dict, send: Callable[[Frame], Awaitable[Frame]], redis: Redis) -> dict:
    """Upload the bytes the worker left under ``data_key``; any failure to finish is worth another try."""
    data = await asyncio.to_thread(redis.get, request["data_key"])
    if data is None:
        return {"errcode": -1, "errmsg": "the upload's bytes are gone (the worker stopped waiting)"}
    try:
        media_id = await upload_media(send, request["kind"], request["filename"], data)
    except UploadRefused as exc:
        log.warning("long connection: upload of %s refused at %s (errcode=%s %s)", request["filename"], exc.cmd,
                    exc.errcode, exc.errmsg)
        return {"errcode": exc.errcode or -1, "errmsg": exc.errmsg, "path": exc.cmd}
    except Exception as exc:  # noqa: BLE001 - a half-done upload delivers nothing to anybody
        log.warning("long connection: upload of %s failed (%s)", request["filename"], type(exc).__name__)
        return {"errcode": -1, "errmsg": f"upload not finished: {type(exc).__name__}"}
    return {"errcode": 0, "errmsg": "ok", "media_id": media_id}
