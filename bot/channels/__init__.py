"""Inbound channels: each adapter reads its envelope, parses the plaintext into an Inbound,
and renders a Reply in its own passive-reply format."""
from __future__ import annotations

from typing import Protocol

from bot import safexml
from bot.messages import Inbound, Reply
from bot.wecom.crypto import CallbackRejected


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


def read_xml_envelope(body: bytes) -> str:
    """The ``Encrypt`` value of an XML callback envelope (robot and app), parsed without DTDs."""
    try:
        encrypt = safexml.text_of(safexml.parse(body), "Encrypt")
    except safexml.BadXml as exc:
        raise CallbackRejected(f"bad XML envelope: {exc}") from None
    if not encrypt:
        raise CallbackRejected("no Encrypt element")
    return encrypt


def parse_xml_plaintext(plaintext: str):
    """The decrypted XML message as an element tree; a DOCTYPE or malformed XML is refused."""
    try:
        return safexml.parse(plaintext.encode("utf-8"))
    except safexml.BadXml as exc:
        raise CallbackRejected(f"bad XML message: {exc}") from None


def cdata(text: str) -> str:
    """Wrap text in CDATA; a literal "]]>" would end the section early, so it is split across two."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def all_channels() -> dict[str, Channel]:
    from bot.channels import aibot, app, robot

    return {"aibot": aibot.CHANNEL, "robot": robot.CHANNEL, "app": app.CHANNEL}
