"""Outgoing message values (text, markdown, news, image, file, voice, and a series of them sent as one
delivery) and how long ones are split."""
from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, fields
from typing import ClassVar, Iterator, Mapping, Sequence

TEXT_LIMIT = 2048               # bytes, text for groups and apps
GROUP_MARKDOWN_LIMIT = 4096     # bytes, webhook markdown
APP_MARKDOWN_LIMIT = 2048       # bytes, app markdown
MAX_ARTICLES = 8                # news articles per message
GROUP, APP = "group", "app"


@dataclass(frozen=True)
class Message:
    """Base of the message values; ``to_dict``/``from_dict`` give a JSON-safe form for job kwargs."""

    msgtype: ClassVar[str] = ""
    _binary: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict:
        data = asdict(self, dict_factory=lambda items: {k: _plain(v) for k, v in items})
        for name in self._binary:
            data[name] = base64.b64encode(data[name]).decode("ascii")
        return {"msgtype": self.msgtype, **data}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Message":
        """Rebuild a message from ``to_dict`` output.

        Raises:
            ValueError: unknown ``msgtype``.
        """
        kind = _KINDS.get(data.get("msgtype", ""))
        if kind is None:
            raise ValueError(f"unknown msgtype {data.get('msgtype')!r}")
        values = {f.name: data[f.name] for f in fields(kind) if f.name in data}
        for name in kind._binary:
            values[name] = base64.b64decode(values[name])
        return kind._build(values)

    @classmethod
    def _build(cls, values: dict) -> "Message":
        return cls(**values)


@dataclass(frozen=True)
class Text(Message):
    content: str
    mentioned: tuple[str, ...] = ()   # userids to @ in a group (or "@all"); ignored for members
    msgtype: ClassVar[str] = "text"

    @classmethod
    def _build(cls, values: dict) -> "Text":
        return cls(values["content"], tuple(values.get("mentioned") or ()))


@dataclass(frozen=True)
class Markdown(Message):
    content: str
    msgtype: ClassVar[str] = "markdown"


@dataclass(frozen=True)
class Article:
    title: str
    url: str
    description: str = ""
    picurl: str = ""


@dataclass(frozen=True)
class News(Message):
    articles: tuple[Article, ...]
    msgtype: ClassVar[str] = "news"

    @classmethod
    def _build(cls, values: dict) -> "News":
        return cls(tuple(a if isinstance(a, Article) else Article(**a) for a in values["articles"]))


@dataclass(frozen=True)
class Image(Message):
    data: bytes                        # JPG or PNG, ≤2 MB for groups
    msgtype: ClassVar[str] = "image"
    _binary: ClassVar[tuple[str, ...]] = ("data",)


@dataclass(frozen=True)
class File(Message):
    filename: str
    data: bytes
    msgtype: ClassVar[str] = "file"
    _binary: ClassVar[tuple[str, ...]] = ("data",)


@dataclass(frozen=True)
class Voice(Message):
    data: bytes                        # AMR, ≤2 MB, ≤60 s
    filename: str = "voice.amr"
    msgtype: ClassVar[str] = "voice"
    _binary: ClassVar[tuple[str, ...]] = ("data",)


@dataclass(frozen=True)
class Series(Message):
    """Messages that reach each recipient one after another as one delivery, e.g. a pushed voice clip and
    the line of text after it: the ledger keeps one row per recipient for all of them, and a send job sends
    them all to a batch of members before booking the next batch."""

    messages: tuple[Message, ...]
    msgtype: ClassVar[str] = "series"

    @classmethod
    def of(cls, messages: Sequence[Message]) -> Message:
        """The one message that sends ``messages`` in order: the message itself when there is only one."""
        return messages[0] if len(messages) == 1 else cls(tuple(messages))

    def to_dict(self) -> dict:
        return {"msgtype": self.msgtype, "messages": [message.to_dict() for message in self.messages]}

    @classmethod
    def _build(cls, values: dict) -> "Series":
        return cls(tuple(Message.from_dict(message) for message in values["messages"]))


def _plain(value):
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value


_KINDS: dict[str, type[Message]] = {k.msgtype: k for k in (Text, Markdown, News, Image, File, Voice, Series)}


# -- splitting -----------------------------------------------------------------------------------

def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` at line boundaries into pieces of at most ``limit`` UTF-8 bytes.

    A single line longer than the limit is cut between characters. Newlines at a cut are dropped,
    and pieces that would be blank are skipped; a short text comes back unchanged.
    """
    if len(text.encode("utf-8")) <= limit:
        return [text]
    pieces: list[str] = []
    current, size = "", 0
    for line in _byte_bounded_lines(text, limit):
        line_size = len(line.encode("utf-8"))
        if size + line_size > limit:
            pieces.append(current)
            current, size = "", 0
        current, size = current + line, size + line_size
    pieces.append(current)
    return [p.rstrip("\n") for p in pieces if p.strip()]


def _byte_bounded_lines(text: str, limit: int) -> Iterator[str]:
    for line in text.splitlines(keepends=True):
        while len(line.encode("utf-8")) > limit:
            cut = len(line.encode("utf-8")[:limit].decode("utf-8", "ignore"))
            yield line[:cut]
            line = line[cut:]
        yield line


def split_message(message: Message, channel: str) -> list[Message]:
    """The messages actually sent for ``message`` on ``channel`` (``GROUP`` or ``APP``)."""
    if isinstance(message, Series):
        return [part for one in message.messages for part in split_message(one, channel)]
    if isinstance(message, Text):
        chunks = split_text(message.content, TEXT_LIMIT)
        return [Text(chunk, message.mentioned if i == 0 else ()) for i, chunk in enumerate(chunks)]
    if isinstance(message, Markdown):
        limit = GROUP_MARKDOWN_LIMIT if channel == GROUP else APP_MARKDOWN_LIMIT
        return [Markdown(chunk) for chunk in split_text(message.content, limit)]
    if isinstance(message, News) and len(message.articles) > MAX_ARTICLES:
        arts = message.articles
        return [News(arts[i:i + MAX_ARTICLES]) for i in range(0, len(arts), MAX_ARTICLES)]
    return [message]
