"""Multi-turn conversations (答题, 问卷, 发布活动 …): state in Redis per channel, chat and member.

A flow is a table of steps. Each step function gets the member's text and the flow's data (a
JSON-able dict it may change) and *returns* a ``Turn``: the reply and the next step, or ``END``.
A step that returns None declines the text: it is routed as usual (a command, say) and the flow
waits where it was. ``取消`` / ``退出`` end every flow; ``Flow.on_cancel`` says goodbye.

State lives in Redis under ``FLOW`` with the flow's TTL (never in process memory, so several
gunicorn workers and a restart see the same conversation). Saving is a compare-and-set on a
revision number: when two messages of one member race, the later save loses and its database
work is rolled back by the pipeline (``StaleFlow``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Mapping

from redis import Redis

from bot.keys import FLOW
from bot.messages import Inbound, Reply

END = "__end__"
CANCEL_WORDS = frozenset({"取消", "退出", "不做了", "算了"})
DEFAULT_TTL_SECONDS = 30 * 60


class StaleFlow(RuntimeError):
    """Another message of the same member moved the flow on while this one was being handled."""


@dataclass
class Turn:
    """What a step answers: the reply and where the conversation goes next."""

    reply: Reply | str | None
    next: str = END


StepFunc = Callable[..., "Turn | None"]        # (ctx, data: dict, text: str) -> Turn | None


@dataclass(frozen=True)
class Flow:
    """One kind of conversation; registered with ``CommandGroup.flow`` so it can be resumed by name."""

    name: str
    steps: Mapping[str, StepFunc]
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    on_cancel: Callable[..., Reply | str | None] | None = None    # (ctx, data) -> reply

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"flow {self.name!r} has no steps")


@dataclass
class FlowState:
    """A conversation in progress, as stored."""

    flow: str
    step: str
    data: dict = field(default_factory=dict)
    rev: int = 0

    def dumps(self) -> str:
        return json.dumps({"flow": self.flow, "step": self.step, "data": self.data, "rev": self.rev},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, raw: bytes | str | None) -> "FlowState | None":
        if not raw:
            return None
        try:
            value = json.loads(raw)
            return cls(value["flow"], value["step"], dict(value["data"]), int(value["rev"]))
        except (ValueError, KeyError, TypeError):
            return None     # unreadable (an older format): treated as no conversation


def key_for(inbound: Inbound) -> str:
    """The flow key of a member in a chat: one-to-one and each group are separate conversations."""
    return FLOW.format(channel=inbound.channel, chat_id=inbound.chat_id or inbound.sender_id,
                       user_id=inbound.sender_id)


def key_of(channel: str, chat_id: str, user_id: str) -> str:
    """The same key for jobs that act on a conversation later (a question's time limit)."""
    return FLOW.format(channel=channel, chat_id=chat_id or user_id, user_id=user_id)


# SET only when the stored revision is the one we read; nothing (or nothing readable) stored counts as -1
_SAVE = """
local current = redis.call('GET', KEYS[1])
local rev = -1
if current then rev = tonumber(string.match(current, '"rev"%s*:%s*(%-?%d+)%s*}%s*$')) or -1 end
if rev ~= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return 1
"""


def load(redis: Redis, key: str) -> FlowState | None:
    return FlowState.loads(redis.get(key))


def save(redis: Redis, key: str, state: FlowState | None, *, read_rev: int, ttl_seconds: int) -> None:
    """Store ``state`` (None deletes it) if the conversation is still at ``read_rev`` (-1: none).

    Raises:
        StaleFlow: another message changed it first.
    """
    payload = ""
    if state is not None:
        state.rev = read_rev + 1 if read_rev >= 0 else 0
        payload = state.dumps()
    if not redis.eval(_SAVE, 1, key, read_rev, payload, ttl_seconds):
        raise StaleFlow(key)


def is_cancel(text: str) -> bool:
    return text.strip() in CANCEL_WORDS


UNREAD = object()


class Conversation:
    """The member's flow in this chat as read for one message, and what to store when it is handled.

    Handlers call ``start``; the pipeline calls ``advance``/``end`` after a step and ``save``
    before committing the database, so a flow and the records it wrote move together.
    """

    def __init__(self, redis: Redis, key: str, flows_by_name: Mapping[str, Flow], raw=UNREAD):
        self._redis = redis
        self.key = key
        self._flows = flows_by_name
        self._raw = raw
        self._state: FlowState | None = None
        self._loaded = False
        self._changed = False

    @property
    def state(self) -> FlowState | None:
        if not self._loaded:
            raw = self._redis.get(self.key) if self._raw is UNREAD else self._raw
            self._state = FlowState.loads(raw)
            self._read_rev = self._state.rev if self._state is not None else -1
            if self._state is not None and self._state.flow not in self._flows:
                self._state, self._changed = None, True     # a flow that no longer exists: forget it
            self._loaded = True
        return self._state

    @property
    def flow(self) -> Flow | None:
        state = self.state
        return self._flows[state.flow] if state is not None else None

    def start(self, flow: Flow, step: str, data: dict | None = None) -> FlowState:
        """Begin ``flow`` at ``step`` (replacing any conversation this member had in this chat)."""
        if flow.name not in self._flows:
            raise KeyError(f"flow {flow.name!r} is not registered by any handler group")
        if step not in flow.steps:
            raise KeyError(f"flow {flow.name!r} has no step {step!r}")
        _ = self.state
        self._state, self._changed = FlowState(flow.name, step, dict(data or {})), True
        return self._state

    def advance(self, step: str) -> None:
        """Move to ``step`` (or end); the flow's data is stored with it even when the step stays."""
        if step == END:
            self.end()
            return
        state = self.state
        if state is None or step not in self._flows[state.flow].steps:
            raise KeyError(f"no step {step!r} in the current flow")
        state.step, self._changed = step, True

    def end(self) -> None:
        _ = self.state
        self._state, self._changed = None, True

    def save(self) -> None:
        """Store the conversation if anything changed. Raises StaleFlow when another message won."""
        if not self._changed:
            return
        ttl = self._flows[self._state.flow].ttl_seconds if self._state is not None else DEFAULT_TTL_SECONDS
        save(self._redis, self.key, self._state, read_rev=self._read_rev, ttl_seconds=ttl)
        self._changed = False
