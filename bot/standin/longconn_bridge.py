"""`python -m bot standin-longconn`: the long-connection stand-in as a local process for demos.

It serves the WebSocket side on the loopback address of ``WECOM_LONGCONN_URL`` and takes the messages
``POST /standin/longconn/messages`` leaves in Redis, speaks them to the connected bot and hands back what
the bot answered. Every accepted reply and push is also written to the stand-in's message log
(``GET /standin/messages?via=longconn``); media the bot uploaded over the socket are kept with the HTTP
stand-in's (``GET /standin/media/<media_id>``), so the simulator plays a voice pushed to a conversation.
"""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from typing import Callable
from urllib.parse import urlsplit

from redis import Redis

from bot.standin.longconn import LongconnStandin, Reply, reply_record
from bot.standin.longconn_http import INBOX, OUTCOME
from bot.standin.store import key

log = logging.getLogger(__name__)

REPLY_WAIT_SECONDS = 5
OUTCOME_TTL_SECONDS = 60
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def answer(fake: LongconnStandin, message: dict, *, wait: float = REPLY_WAIT_SECONDS) -> dict:
    """Speak ``message`` to the bot; its replies on the req_id, or its fallback pushes to the same chat."""
    first_new = len(fake.replies)
    group = message.get("chattype") == "group"
    try:
        req_id = fake.say(message["userid"], message["text"], chatid=message.get("chatid") if group else None,
                          chattype=message.get("chattype") or "single")
    except RuntimeError as exc:
        return {"error": str(exc)}
    replies = fake.wait_replies(req_id, timeout=wait)
    chat = message["chatid"] if group else message["userid"]
    if not replies:     # a dead req_id: the answer came as aibot_send_msg
        replies = [r for r in fake.replies[first_new:] if r.chatid == chat and r.req_id != req_id]
    return {"req_id": req_id, "replies": [r.text for r in replies]}


def serve_inbox(fake: LongconnStandin, redis: Redis, stop: threading.Event, *, poll_seconds: float = 1.0) -> None:
    """Answer the HTTP endpoint's messages until ``stop`` is set."""
    while not stop.is_set():
        got = redis.blpop([key(INBOX)], timeout=poll_seconds)
        if got is None:
            continue
        message = json.loads(got[1])
        outcome_key = key(OUTCOME.format(id=message["id"]))
        with redis.pipeline() as pipe:
            pipe.rpush(outcome_key, json.dumps(answer(fake, message), ensure_ascii=False))
            pipe.expire(outcome_key, OUTCOME_TTL_SECONDS)
            pipe.execute()


def media_saver(app, bot_id: str) -> Callable[[str, str, bytes], str]:
    """Keep the bot's socket uploads with the HTTP stand-in's media (``GET /standin/media/<media_id>``)."""
    from bot.standin import store

    def save(kind: str, filename: str, data: bytes) -> str:
        with app.app_context():
            return store.save_media(kind, data, filename=filename, owner=f"aibot:{bot_id}").media_id

    return save


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s standin-longconn %(levelname)s %(message)s")
    from bot import create_app, redis_store
    from bot.config import ConfigError, load_settings
    from bot.standin import records

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
    url = urlsplit(settings.get("WECOM_LONGCONN_URL") or "")
    if not settings.get("WECOM_BOT_ID") or url.scheme != "ws" or url.hostname not in LOOPBACK or not url.port:
        print("长连接替身只在本机地址上运行 / the long-connection stand-in needs WECOM_BOT_ID, WECOM_BOT_SECRET "
              "and a ws://127.0.0.1:PORT WECOM_LONGCONN_URL", file=sys.stderr)
        return 2
    app = create_app(settings)

    def record(reply: Reply) -> None:
        with app.app_context():
            records.add_message(via="longconn", chat=reply.chatid, msgtype=reply.msgtype, body=reply_record(reply))

    fake = LongconnStandin(bot_id=settings["WECOM_BOT_ID"], secret=settings["WECOM_BOT_SECRET"], record=record,
                           save_media=media_saver(app, settings["WECOM_BOT_ID"]))
    fake.start(url.hostname, url.port)
    print(f"企业微信长连接替身 / long-connection stand-in: {fake.url}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        serve_inbox(fake, redis_store.get_redis(app), stop)
    finally:
        fake.stop()
    return 0
