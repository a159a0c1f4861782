"""The channel-independent message types: what handlers receive (Inbound) and return (Reply)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Kind(str, Enum):
    TEXT = "text"
    EVENT = "event"
    OTHER = "other"        # images, files, stream refreshes …: acknowledged, not answered


class ChatType(str, Enum):
    GROUP = "group"
    SINGLE = "single"


@dataclass(frozen=True)
class Inbound:
    """One message or event from any channel, normalised.

    ``chat_id`` is the group id in a group, the sender's userid one-to-one. ``route`` holds what the
    channel needs to answer later (webhook_url, response_url, stream id …), opaque to handlers.
    """

    channel: str
    msg_id: str
    kind: Kind
    sender_id: str
    sender_name: str = ""
    chat_id: str = ""
    chat_type: ChatType = ChatType.SINGLE
    text: str = ""
    event: str = ""
    route: dict = field(default_factory=dict)

    @property
    def is_group(self) -> bool:
        return self.chat_type is ChatType.GROUP


@dataclass(frozen=True)
class Reply:
    """What a handler answers; each channel renders it in its own passive-reply format."""

    text: str
    markdown: bool = False
    mention: tuple[str, ...] = ()
