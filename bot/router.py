"""Command registry: handler modules declare commands in a CommandGroup; create_app merges them."""
from __future__ import annotations

import difflib
import importlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask, current_app

from bot import nlp
from bot.acl import Role, Where
from bot.flows import Flow
from bot.textnorm import command_key

EXTENSION = "szzs.router"
_NAME_OK = re.compile(r"^\S{1,16}$")
# polite openings people put before a command: "请打卡", "我要打卡", "帮我看看我的"
_FILLERS = re.compile(r"^(?:请|麻烦|帮我|我要|我想|我来|给我)\s*")


class DuplicateCommand(RuntimeError):
    """Two commands claim the same name or alias; raised at start, never resolved silently."""


class ArgError(ValueError):
    """A command argument is missing or malformed; the message is shown with the usage line."""


@dataclass(frozen=True)
class Arg:
    name: str                          # Python keyword passed to the handler
    label: str = ""                    # shown to users
    type: Callable[[str], Any] = str   # raises ValueError with a Chinese message on bad input
    required: bool = True
    rest: bool = False                 # swallow the remaining text
    help: str = ""

    @property
    def shown(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class Command:
    name: str
    func: Callable
    summary: str
    args: tuple[Arg, ...] = ()
    aliases: tuple[str, ...] = ()
    role: Role = Role.MEMBER
    where: Where = Where.ANY
    group: str = ""
    example: str = ""

    @property
    def audited(self) -> bool:
        """Leaders' and admins' commands go to the audit log (who, what, when, result)."""
        return self.role >= Role.LEADER

    def usage(self) -> str:
        parts = [f"<{a.shown}>" if a.required else f"[{a.shown}]" for a in self.args]
        return " ".join([self.name, *parts])


@dataclass
class CommandGroup:
    """The commands and event handlers of one handler module."""

    name: str
    title: str
    commands: list[Command] = field(default_factory=list)
    events: dict[str, Callable] = field(default_factory=dict)
    listeners: list[Callable] = field(default_factory=list)
    init_hooks: list[Callable] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)

    def command(self, name: str, *, summary: str, args=(), aliases=(), role: Role = Role.MEMBER,
                where: Where = Where.ANY, example: str = "") -> Callable:
        for word in (name, *aliases):
            if not _NAME_OK.match(word):
                raise ValueError(f"command name {word!r}: no spaces, at most 16 characters")

        def decorator(func: Callable) -> Callable:
            self.commands.append(Command(name, func, summary, tuple(args), tuple(aliases), role, where,
                                         self.name, example))
            return func

        return decorator

    def listener(self, func: Callable) -> Callable:
        """Register ``func(ctx, text) -> Reply | None`` for text that is no command; None declines."""
        self.listeners.append(func)
        return func

    def on_init(self, func: Callable) -> Callable:
        """Register ``func(app)``, run by create_app: load and validate the module's data at start."""
        self.init_hooks.append(func)
        return func

    def flow(self, flow: Flow) -> Flow:
        """Register a multi-turn conversation (bot/flows.py) so the pipeline can resume it by name."""
        self.flows.append(flow)
        return flow

    def on_event(self, *event_types: str) -> Callable:
        def decorator(func: Callable) -> Callable:
            for event_type in event_types:
                self.events[event_type] = func
            return func

        return decorator


class CommandRegistry:
    """All commands of an app, looked up by normalised name or alias."""

    def __init__(self) -> None:
        self.groups: list[CommandGroup] = []
        self.events: dict[str, Callable] = {}
        self.listeners: list[Callable] = []
        self.flows: dict[str, Flow] = {}
        self._by_key: dict[str, Command] = {}
        self._prefix_keys: list[str] = []
        self._words: dict[str, set[str]] = {}       # command name → words of its name and summary

    def include(self, group: CommandGroup) -> None:
        for cmd in group.commands:
            for word in (cmd.name, *cmd.aliases):
                key = command_key(word)
                if key in self._by_key:
                    other = self._by_key[key]
                    raise DuplicateCommand(f"command {key!r} is claimed by both {other.group} and {cmd.group}")
                self._by_key[key] = cmd
            self._words[cmd.name] = set(nlp.words(" ".join((cmd.name, *cmd.aliases, cmd.summary))))
        for event_type, func in group.events.items():
            if event_type in self.events:
                raise DuplicateCommand(f"event {event_type!r} is handled twice")
            self.events[event_type] = func
        self.listeners += group.listeners
        for flow in group.flows:
            if flow.name in self.flows:
                raise DuplicateCommand(f"flow {flow.name!r} is registered twice")
            self.flows[flow.name] = flow
        self.groups.append(group)
        # longest first, so "取消报名" wins over "取消" when people type without a space
        self._prefix_keys = sorted((k for k in self._by_key if len(k) >= 2), key=len, reverse=True)

    def find(self, word: str) -> Command | None:
        return self._by_key.get(command_key(word))

    def match(self, text: str) -> tuple[Command | None, str]:
        """Split normalised text into (command, rest); (None, text) when nothing matches."""
        for candidate in (text, _FILLERS.sub("", text)):
            head, _, rest = candidate.partition(" ")
            cmd = self.find(head)
            if cmd is not None:
                return cmd, rest.strip()
            lowered = candidate.lower()
            for key in self._prefix_keys:
                if lowered.startswith(key):
                    return self._by_key[key], candidate[len(key):].strip()
        return None, text

    def suggestions(self, text: str, limit: int = 3) -> list[Command]:
        """Commands the user probably meant: close spellings first, then names inside the text."""
        head = command_key(text.partition(" ")[0])
        found: list[Command] = []
        for key in difflib.get_close_matches(head, list(self._by_key), n=6, cutoff=0.34):
            found.append(self._by_key[key])
        found += [cmd for key, cmd in self._by_key.items() if len(key) >= 2 and key in text.lower()]
        found += self._by_shared_words(text)
        unique = list(dict.fromkeys(found))
        return unique[:limit]

    def _by_shared_words(self, text: str) -> list[Command]:
        """Commands whose name or summary shares words with a free sentence ("怎么查看我的信息")."""
        asked = set(nlp.words(text))
        scored = []
        for cmd in self.commands():
            shared = len(asked & self._words[cmd.name])
            if shared:
                scored.append((-shared, cmd.name, cmd))
        return [cmd for *_, cmd in sorted(scored, key=lambda item: item[:2])]

    def commands(self) -> list[Command]:
        return [cmd for group in self.groups for cmd in group.commands]


def bind_args(args: tuple[Arg, ...], rest: str) -> dict[str, Any]:
    """Turn the text after the command into keyword arguments, or raise ArgError."""
    tokens = rest.split() if rest else []
    values: dict[str, Any] = {}
    for index, arg in enumerate(args):
        if arg.rest:
            raw = " ".join(tokens[index:])
            tokens = tokens[:index]
        else:
            raw = tokens[index] if index < len(tokens) else ""
        if not raw:
            if arg.required:
                raise ArgError(f"缺少「{arg.shown}」。")
            values[arg.name] = None
            continue
        try:
            values[arg.name] = arg.type(raw)
        except ValueError as exc:
            # our own parsers explain in Chinese; a builtin like int() would leak English
            message = str(exc) if _is_chinese(str(exc)) else f"填写有误：{raw}"
            raise ArgError(f"「{arg.shown}」{message}") from None
    if not any(a.rest for a in args) and len(tokens) > len(args):
        extra = " ".join(tokens[len(args):])
        raise ArgError(f"多了内容「{extra}」，这个命令用不上。")
    return values


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def init_app(app: Flask, modules: list[str] | tuple[str, ...] | None = None) -> None:
    """Import each handler module by name and merge its ``group``; unknown names fail at start.

    A bare name is a module of ``handlers/``; a dotted name is imported as it is (tests use that).
    """
    if modules is None:
        from handlers import ENABLED_BY_DEFAULT

        modules = ENABLED_BY_DEFAULT
    registry = CommandRegistry()
    for name in modules:
        module = importlib.import_module(name if "." in name else f"handlers.{name}")
        group = getattr(module, "group", None)
        if not isinstance(group, CommandGroup):
            raise RuntimeError(f"handlers.{name} has no CommandGroup named 'group'")
        registry.include(group)
    app.extensions[EXTENSION] = registry
    for group in registry.groups:
        for hook in group.init_hooks:
            hook(app)


def get_registry(app: Flask | None = None) -> CommandRegistry:
    return (app or current_app).extensions[EXTENSION]
