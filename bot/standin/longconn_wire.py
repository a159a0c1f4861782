"""The long connection as the WeCom side sees it (wecom-longconn.md §2, §12, §13): command names, the
codes the server answers with, and reading and writing its JSON frames. Written from the spec for the
stand-in, apart from the bot's own client (bot/longconn/frames.py), so a mistake there is caught here.
"""
from __future__ import annotations

import json
import secrets
import time
from collections import deque
from dataclasses import dataclass

from bot.standin import codes

# commands (§2)
SUBSCRIBE = "aibot_subscribe"
PING = "ping"
MSG_CALLBACK = "aibot_msg_callback"
EVENT_CALLBACK = "aibot_event_callback"
RESPOND = "aibot_respond_msg"
RESPOND_WELCOME = "aibot_respond_welcome_msg"
SEND = "aibot_send_msg"
UPLOAD_INIT = "aibot_upload_media_init"
UPLOAD_CHUNK = "aibot_upload_media_chunk"
UPLOAD_FINISH = "aibot_upload_media_finish"

# what the server answers (§13)
OK = codes.OK
BAD_CREDENTIALS = 853000            # invalid bot_id or secret
INVALID_REQ_ID = 846605             # not a message req_id of this connection (stale, or an event's)
STREAM_CLOSED = 846608              # the stream can no longer be updated
NOT_SUBSCRIBED = 846609             # "aibot websocket not subscribed"
INVALID_CHATID = 93006
INVALID_MSGTYPE = codes.INVALID_MSGTYPE
FREQ_LIMIT = codes.FREQ_LIMIT       # chosen: the spec names no code for the per-conversation limit
CONTENT_LIMIT = 20480               # bytes of markdown or stream content
# 30 a minute and 1000 an hour: messages per conversation (§7), and uploads per bot (§8)
RATE_LIMITS = ((30, 60.0), (1000, 3600.0))


class Unreadable(ValueError):
    """A frame the server cannot read: not a JSON object, or no ``headers.req_id``."""


@dataclass(frozen=True)
class Frame:
    """One frame on the socket; an ack carries no ``cmd`` and the request's ``req_id``."""

    req_id: str
    cmd: str = ""
    body: dict | None = None
    errcode: int | None = None
    errmsg: str = ""

    def to_text(self) -> str:
        out: dict = {"headers": {"req_id": self.req_id}}
        if self.cmd:
            out["cmd"] = self.cmd
        if self.body is not None:
            out["body"] = self.body
        if self.errcode is not None:
            out.update(errcode=self.errcode, errmsg=self.errmsg)
        return json.dumps(out, ensure_ascii=False)


def read(raw: str | bytes) -> Frame:
    """The frame in ``raw``; a ``body`` that is not an object is kept as missing (a ping has none)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Unreadable("not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("headers"), dict):
        raise Unreadable("no headers")
    req_id = data["headers"].get("req_id")
    if not isinstance(req_id, str) or not req_id:
        raise Unreadable("no headers.req_id")
    body = data.get("body")
    return Frame(req_id, str(data.get("cmd") or ""), body if isinstance(body, dict) else None)


def take_slot(times: deque, now: float) -> bool:
    """Record one more event at ``now`` in ``times`` unless ``RATE_LIMITS`` are reached (then False)."""
    if any(sum(1 for t in times if now - t < window) >= limit for limit, window in RATE_LIMITS):
        return False
    times.append(now)
    while now - times[0] > RATE_LIMITS[-1][1]:
        times.popleft()
    return True


def server_req_id() -> str:
    """A req_id for a frame the server pushes."""
    return f"srv_{int(time.time() * 1000)}_{secrets.token_hex(4)}"
