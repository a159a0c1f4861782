"""Speak as a member: one real encrypted callback to the bot's own endpoint, built by the terminal client.

The page never talks to /wecom/* itself; the web process plays WeCom with bot/terminal_client.py's
callback builder and session (the same code as `python -m bot say`) and hands back the decrypted reply.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from bot.config import DEMO_GROUP_ID
from bot.simulator import render
from bot.terminal_client import (CallbackSession, ClientError, Target, callback_plaintext, chat_names, demo_name,
                                 say_over_longconn)

CHANNELS = ("aibot", "robot", "app", "longconn")


@dataclass(frozen=True)
class Said:
    """What came back for one message: the reply bubble (None for an empty 200) or a problem."""

    reply: dict | None = None
    error: str | None = None


def say(settings: dict, *, user: str, text: str, channel: str, group: bool) -> Said:
    """Send ``text`` as ``user`` through ``channel``, in the demo group or one-to-one.

    Args:
        settings: the app's config (port, demo credentials, webhooks).
        user: the sender's userid.
        text: what the member typed (the group's @思政助手 is added by the callback builder).
        channel: ``aibot``, ``robot``, ``app`` or ``longconn``.
        group: True for the demo work group, False for the member's one-to-one chat.

    Returns:
        The decrypted reply as a bubble, or the problem in one Chinese line.
    """
    if channel not in CHANNELS:
        return Said(error="未知的通道，请选择智能机器人、群机器人、自建应用或长连接。")
    if channel == "app" and group:
        return Said(error="自建应用只收一对一消息：在群里请选择智能机器人或群机器人。")
    chat = DEMO_GROUP_ID if group else user
    if channel == "longconn":
        return _say_over_longconn(settings, user=user, text=text, chat=chat if group else None)
    target = Target(base=f"http://127.0.0.1:{settings['PORT']}", channel=channel, user=user, group=group, chat=chat)
    plaintext = callback_plaintext(target, text, name=demo_name(user) or user, settings=settings)
    session = CallbackSession(target, settings)
    try:
        reply = session.post(plaintext)
        if channel == "aibot":
            reply = session.finish_stream(reply, msgid=json.loads(plaintext)["msgid"])
    except ClientError as exc:
        return Said(error=str(exc))
    return Said(reply=render.passive_reply(reply) if reply else None)


def _say_over_longconn(settings: dict, *, user: str, text: str, chat: str | None) -> Said:
    """The smart bot's long connection: the stand-in's WebSocket side carries the message to the bot."""
    try:
        replies = say_over_longconn(f"http://127.0.0.1:{settings['PORT']}", user, text, chat=chat)
    except ClientError as exc:
        return Said(error=str(exc))
    return Said(reply=render.markdown_bubble("\n\n".join(replies)) if replies else None)


def group_names(settings: dict) -> frozenset[str]:
    """The demo group's chat id and every group name that shares its webhook (how pushes name it)."""
    return chat_names(settings, DEMO_GROUP_ID)
