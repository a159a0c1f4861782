"""Guided dialogues (发布活动, 新建问卷): one question per step, in a fixed order, over bot/flows.py.

Each step reads the answer with its taker (which raises ValueError with a Chinese reason, shown
before the same question again), 上一步 goes back one step, and steps that need more than one
answer (a confirm, a list of questions) are handled by their own function.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.flows import Flow, Turn
from bot.router import get_registry

BACK_WORDS = frozenset({"上一步", "返回", "返回上一步", "后退"})
CONFIRM_WORDS = frozenset({"确认", "确定", "发布", "确认发布", "创建", "是", "好", "好的", "对", "没问题", "ok"})

Ask = Callable[[str, dict], str]                # (step, data) -> the question
Taker = Callable[..., None]                     # (ctx, data, text) -> None, or ValueError
Special = Callable[..., Turn]                   # (ctx, data, text) -> Turn


def guided_flow(name: str, *, order: Sequence[str], ask: Ask, takers: Mapping[str, Taker],
                special: Mapping[str, Special], on_cancel: Callable) -> Flow:
    """A flow whose steps are ``order``: each handled by its taker, or by ``special`` (then the
    function decides the next step); every step but the first goes back on 上一步."""
    return Flow(name, {step: _step(step, order, ask, takers, special) for step in order}, on_cancel=on_cancel)


def _step(name: str, order: Sequence[str], ask: Ask, takers: Mapping[str, Taker], special: Mapping[str, Special]):
    def step(ctx, data: dict, text: str) -> Turn:
        word = text.strip()
        index = order.index(name)
        if word in BACK_WORDS:
            if index == 0:
                return Turn(f"已经是第一步了。{ask(name, data)}", name)
            return Turn(ask(order[index - 1], data), order[index - 1])
        if name in special:
            return special[name](ctx, data, word)
        try:
            takers[name](ctx, data, word)
        except ValueError as exc:
            return Turn(f"{exc}\n{ask(name, data)}", name)
        return Turn(ask(order[index + 1], data), order[index + 1])

    return step


def is_command(ctx, word: str) -> bool:
    """A command sent in the middle of a dialogue (帮助, 问卷结果 …): the router answers it and the step waits."""
    return get_registry(ctx.app).match(word)[0] is not None
