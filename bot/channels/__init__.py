"""Inbound channels: each adapter reads its envelope, parses the plaintext into an Inbound,
and renders a Reply in its own passive-reply format."""
from __future__ import annotations

from typing import Protocol

from bot.messages import Inbound, Reply


class Channel(Protocol):
    name: str
    json_envelope: bool

    def receive_id(self, config: dict) -> str: ...
    def read_envelope(self, body: bytes) -> str: ...
    def parse(self, plaintext: str) -> Inbound | None: ...
    def render(self, reply: Reply, inbound: Inbound, config: dict) -> str: ...


def fit_bytes(text: str, limit: int, suffix: str = "…") -> str:
    """Cut ``text`` so its UTF-8 form fits ``limit`` bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(suffix.encode("utf-8"))
    return data[:room].decode("utf-8", errors="ignore") + suffix


def all_channels() -> dict[str, Channel]:
    from bot.channels import aibot, app, robot

    return {"aibot": aibot.CHANNEL, "robot": robot.CHANNEL, "app": app.CHANNEL}
