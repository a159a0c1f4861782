"""`python -m bot longconn`: the long-connection process role, one per bot.

Exit codes: 0 stopped by a signal; 2 configuration error or the login was refused too often;
3 another instance took over (``disconnected_event``) or already holds this bot's lock.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from concurrent.futures import Executor, ThreadPoolExecutor

from flask import Flask
from redis import Redis

from bot import redis_store
from bot.keys import LONGCONN_LOCK
from bot.longconn import relay
from bot.longconn.client import LinkSettings, LongconnClient, Outcome
from bot.longconn.connection import NotSent
from bot.longconn.inbound import InboundHandler
from bot.runner import pid_alive

log = logging.getLogger(__name__)

LOCK = LONGCONN_LOCK
LOCK_SECONDS = 60
EXIT_CODES = {Outcome.STOPPED: 0, Outcome.LOGIN_REFUSED: 2, Outcome.KICKED: 3}
HANDLER_THREADS = 4


def link_settings(config) -> LinkSettings:
    """The client's settings from the app config (``LONGCONN_*`` timings only tests change)."""
    timings = {name: config[key] for name, key in (
        ("ping_interval", "LONGCONN_PING_SECONDS"), ("backoff_base", "LONGCONN_BACKOFF_BASE_SECONDS"),
        ("backoff_max", "LONGCONN_BACKOFF_MAX_SECONDS"), ("ack_timeout", "LONGCONN_ACK_SECONDS"))
        if config.get(key)}
    return LinkSettings(url=config["WECOM_LONGCONN_URL"], bot_id=config["WECOM_BOT_ID"],
                        secret=config["WECOM_BOT_SECRET"], **timings)


def build_client(app: Flask, executor: Executor, settings: LinkSettings | None = None) -> LongconnClient:
    """A client whose callbacks go through the pipeline (handlers run on ``executor``)."""
    handler: list[InboundHandler] = []

    async def on_callback(conn, frame) -> None:
        await handler[0](conn, frame)

    client = LongconnClient(settings or link_settings(app.config), on_callback=on_callback)
    handler.append(InboundHandler(app, client, executor=executor))
    return client


async def serve(app: Flask, client: LongconnClient) -> Outcome:
    """Hold the bot's connection until kicked, refused or stopped; meanwhile relay the send jobs."""
    redis = redis_store.get_redis(app)
    lock = asyncio.create_task(_keep_lock(redis, client))

    async def send(frame):
        conn = client.connection
        if conn is None:
            raise NotSent("not connected")
        return await conn.request(frame)

    relaying = asyncio.create_task(relay.serve_requests(redis, client.settings.bot_id,
                                                        is_connected=lambda: client.connection is not None, send=send))
    try:
        return await client.run()
    finally:
        relaying.cancel()
        lock.cancel()
        redis.delete(LOCK.format(bot_id=client.settings.bot_id))


async def _keep_lock(redis: Redis, client: LongconnClient) -> None:
    key = LOCK.format(bot_id=client.settings.bot_id)
    while True:
        redis.set(key, _holder(), ex=LOCK_SECONDS)
        await asyncio.sleep(LOCK_SECONDS / 3)


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def main(argv: list[str]) -> int:
    """Build the app from the environment and hold the connection; see the module docstring for exit codes."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s longconn %(levelname)s %(message)s")
    from bot import create_app
    from bot.config import ConfigError

    try:
        app = create_app()
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
    if not app.config.get("WECOM_BOT_ID"):
        print("配置错误 / configuration error: WECOM_BOT_ID and WECOM_BOT_SECRET are not set", file=sys.stderr)
        return 2
    if not claim_lock(redis_store.get_redis(app), app.config["WECOM_BOT_ID"]):
        return 3
    return asyncio.run(_run_until_signal(app))


def claim_lock(redis: Redis, bot_id: str) -> bool:
    """Take this bot's lock, or say who holds it; a holder on this machine that no longer runs is replaced."""
    key = LOCK.format(bot_id=bot_id)
    if redis.set(key, _holder(), ex=LOCK_SECONDS, nx=True):
        return True
    holder = (redis.get(key) or b"").decode()
    host, _, pid = holder.rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid)):
        redis.set(key, _holder(), ex=LOCK_SECONDS)      # left by a killed process on this machine
        return True
    log.error("another long-connection process (%s) already holds bot %s; not starting a second one",
              holder, bot_id)
    return False


async def _run_until_signal(app: Flask) -> int:
    executor = ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="longconn-handler")
    client = build_client(app, executor)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, client.stop)
    try:
        outcome = await serve(app, client)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    log.info("long connection stopped: %s", outcome.value)
    return EXIT_CODES[outcome]
