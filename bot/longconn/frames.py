"""The long connection's JSON frames: ``{cmd?, headers.req_id, body?, errcode?, errmsg?}`` (wecom-longconn.md §2)."""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

SUBSCRIBE = "aibot_subscribe"
PING = "ping"
MSG_CALLBACK = "aibot_msg_callback"
MSG_CALLBACK_OLD = "aibot_callback"          # an older name for the message push, seen in one client
EVENT_CALLBACK = "aibot_event_callback"
RESPOND = "aibot_respond_msg"
RESPOND_WELCOME = "aibot_respond_welcome_msg"
SEND = "aibot_send_msg"
UPLOAD_INIT = "aibot_upload_media_init"
UPLOAD_CHUNK = "aibot_upload_media_chunk"
UPLOAD_FINISH = "aibot_upload_media_finish"

OK = 0
BAD_CREDENTIALS = 853000         # invalid bot_id or secret
INVALID_REQ_ID = 846605          # stale after a reconnect, or an event's req_id used for a reply
STREAM_CLOSED = 846608           # the stream can no longer be updated
NOT_SUBSCRIBED = 846609          # sent before the subscribe ack, or the server dropped the subscription
INVALID_CHATID = 93006
INVALID_MSGTYPE = 40008
FREQ_LIMIT = 45009               # chosen: the doc names no code for the per-conversation limit
# a reply that cannot be given on its req_id any more goes out as a proactive message instead
FALL_BACK_TO_SEND = frozenset({INVALID_REQ_ID, STREAM_CLOSED})

MARKDOWN_LIMIT = 20480           # bytes, markdown and stream content


class BadFrame(ValueError):
    """Not a JSON object with ``headers.req_id``."""


@dataclass(frozen=True)
class Frame:
    """One frame as read or to be written. An ack has no ``cmd`` and echoes the request's ``req_id``."""

    req_id: str
    cmd: str = ""
    body: dict | None = None
    errcode: int | None = None
    errmsg: str = ""

    @property
    def is_ack(self) -> bool:
        return not self.cmd

    def encode(self) -> str:
        data: dict = {}
        if self.cmd:
            data["cmd"] = self.cmd
        data["headers"] = {"req_id": self.req_id}
        if self.body is not None:          # a ping carries no body at all (§4: "body": {} caused drops)
            data["body"] = self.body
        if self.errcode is not None:
            data["errcode"], data["errmsg"] = self.errcode, self.errmsg
        return json.dumps(data, ensure_ascii=False)


def decode(raw: str | bytes) -> Frame:
    """Parse one text frame.

    Raises:
        BadFrame: not JSON, not an object, or no ``headers.req_id``.
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadFrame("not JSON") from None
    headers = data.get("headers") if isinstance(data, dict) else None
    req_id = headers.get("req_id") if isinstance(headers, dict) else None
    if not isinstance(req_id, str) or not req_id:
        raise BadFrame("no headers.req_id")
    body = data.get("body")
    errcode = data.get("errcode")
    return Frame(req_id=req_id, cmd=str(data.get("cmd") or ""), body=body if isinstance(body, dict) else None,
                 errcode=errcode if isinstance(errcode, int) else None, errmsg=str(data.get("errmsg") or ""))


def new_req_id(prefix: str) -> str:
    """A fresh request id shaped like the official SDK's: ``<prefix>_<ms>_<random>``."""
    return f"{prefix}_{int(time.time() * 1000)}_{secrets.token_hex(4)}"


def subscribe(bot_id: str, secret: str) -> Frame:
    return Frame(req_id=new_req_id(SUBSCRIBE), cmd=SUBSCRIBE, body={"bot_id": bot_id, "secret": secret})


def ping() -> Frame:
    return Frame(req_id=new_req_id(PING), cmd=PING)


def respond(req_id: str, body: dict) -> Frame:
    """A reply on the inbound message's own req_id."""
    return Frame(req_id=req_id, cmd=RESPOND, body=body)


def respond_welcome(req_id: str, body: dict) -> Frame:
    """The welcome on the ``enter_chat`` event's req_id."""
    return Frame(req_id=req_id, cmd=RESPOND_WELCOME, body=body)


def send_msg(chatid: str, content: str, *, chat_type: int | None = None) -> Frame:
    """A proactive markdown message; ``chat_type`` 1 = one-to-one, 2 = group (§7: optional, sent when known)."""
    body: dict = {"chatid": chatid, "msgtype": "markdown", "markdown": {"content": content}}
    if chat_type:
        body["chat_type"] = chat_type
    return Frame(req_id=new_req_id(SEND), cmd=SEND, body=body)


def send_media(chatid: str, msgtype: str, media_id: str, *, chat_type: int | None = None) -> Frame:
    """A proactive voice, image or file message: ``{msgtype: {media_id}}`` from the socket's upload (§7)."""
    body: dict = {"chatid": chatid, "msgtype": msgtype, msgtype: {"media_id": media_id}}
    if chat_type:
        body["chat_type"] = chat_type
    return Frame(req_id=new_req_id(SEND), cmd=SEND, body=body)


def upload_init(kind: str, filename: str, total_size: int, total_chunks: int, md5: str) -> Frame:
    body = {"type": kind, "filename": filename, "total_size": total_size, "total_chunks": total_chunks, "md5": md5}
    return Frame(req_id=new_req_id(UPLOAD_INIT), cmd=UPLOAD_INIT, body=body)


def upload_chunk(upload_id: str, chunk_index: int, base64_data: str) -> Frame:
    body = {"upload_id": upload_id, "chunk_index": chunk_index, "base64_data": base64_data}
    return Frame(req_id=new_req_id(UPLOAD_CHUNK), cmd=UPLOAD_CHUNK, body=body)


def upload_finish(upload_id: str) -> Frame:
    return Frame(req_id=new_req_id(UPLOAD_FINISH), cmd=UPLOAD_FINISH, body={"upload_id": upload_id})
