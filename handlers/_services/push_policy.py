"""The channel policy: which form of an item each member gets, how fast voice is read, and when cohorts are pushed.

The unit's ``push_policy.yaml`` (in ``UNIT_DIR``) lists cohort rules in order of precedence: a member in
several cohorts is treated by the first rule naming one of them, so he gets one message per push. The file
is read and checked once at start (an on_init hook); every problem is reported as ``file:line: field: message``
and stops the start, like an invalid content pack.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from croniter import croniter
from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from bot import cohorts as cohort_rules
from bot.cohorts import OTHERS
from content_packs import get_packs
from content_packs.loader import display, read_yaml
from content_packs.schema import FORMS, Pack, PushItem, Slug, describe

FILE_NAME = "push_policy.yaml"
EXTENSION = "szzs.push_policy"
DEFAULT_VOICE_WPM = 150          # bot.voice's default; retirees may be given a slower rate per cohort
DEFAULT_READ_MINUTES = 5         # study minutes a 已读 credits when the item does not say
FORM_NAMES = {"text": "文字", "news": "图文卡片", "video": "视频链接", "voice": "语音", "image": "图片"}
MIN_WPM, MAX_WPM = 80, 250       # outside this espeak is either a drawl or a gabble


class PolicyError(ValueError):
    """push_policy.yaml is invalid; ``errors`` holds every problem, one ``file:line: …`` line each."""

    def __init__(self, errors: Iterable[str]):
        self.errors = list(errors)
        super().__init__(f"推送策略有 {len(self.errors)} 处错误：\n" + "\n".join(self.errors))


def _forms(value: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [form for form in value if form not in FORMS]
    if unknown:
        raise ValueError(f"不认识的形式「{'、'.join(unknown)}」，可用：{'、'.join(FORMS)}")
    if len(set(value)) != len(value):
        raise ValueError("同一种形式写了两次")
    return value


class CohortRule(BaseModel):
    """One cohort's forms, best first; the first one an item has is sent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cohort: str = Field(min_length=1)
    forms: tuple[str, ...] = Field(min_length=1)
    voice_wpm: StrictInt | None = Field(default=None, ge=MIN_WPM, le=MAX_WPM)

    _check_forms = field_validator("forms")(_forms)


@dataclass(frozen=True)
class CohortSchedule:
    """A cohort's recurring push: a cron line in the unit's time zone and the push packs it draws from."""

    cohort: str
    cron: str
    packs: tuple[str, ...]


class _ScheduleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cohort: str = Field(min_length=1)
    cron: str = Field(min_length=1)
    packs: tuple[Slug, ...] = Field(min_length=1)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        fields = value.split()
        # five fields only: croniter also takes seconds and years, which nobody means in this file
        if len(fields) != 5 or not croniter.is_valid(value):
            raise ValueError(f"「{value}」不是有效的 cron 表达式，应为 5 段：分 时 日 月 星期，例如 30 12 * * 1-5")
        return " ".join(fields)


class _PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    voice_wpm: StrictInt = Field(default=DEFAULT_VOICE_WPM, ge=MIN_WPM, le=MAX_WPM)
    read_minutes: StrictInt = Field(default=DEFAULT_READ_MINUTES, ge=1, le=120)
    default: tuple[str, ...] = Field(default=("text",), min_length=1)
    cohorts: tuple[CohortRule, ...] = ()
    schedules: tuple[_ScheduleEntry, ...] = ()

    _check_default = field_validator("default")(_forms)


@dataclass(frozen=True)
class Policy:
    """The loaded policy: ``rules`` in precedence order, the default forms, voice rates, schedules, and the
    study minutes a 已读 credits for an item that does not set its own."""

    rules: tuple[CohortRule, ...]
    default_forms: tuple[str, ...]
    voice_wpm: int
    schedules: list[CohortSchedule]
    source: str = ""
    read_minutes: int = DEFAULT_READ_MINUTES

    def rule_for(self, cohorts: Sequence[str]) -> CohortRule | None:
        """The rule that decides for a member in ``cohorts``: the first in file order; None = the default."""
        mine = set(cohorts)
        return next((rule for rule in self.rules if rule.cohort in mine), None)

    def choose(self, item: PushItem, cohorts: Sequence[str], preferred: str | None) -> str:
        """The form to send ``item`` in to a member in ``cohorts`` who asked for ``preferred`` (or None).

        A preferred form the item has wins; otherwise the member's rule (or the default) in its order;
        an item with none of those forms goes in the first form it has (FORMS order), never nowhere.
        """
        if preferred in item.forms:
            return preferred
        rule = self.rule_for(cohorts)
        wanted = rule.forms if rule else self.default_forms
        return next((form for form in wanted if form in item.forms), item.forms[0])

    def voice_wpm_for(self, cohorts: Sequence[str]) -> int:
        """Words per minute for voice sent to a member in ``cohorts`` (slower for older listeners)."""
        rule = self.rule_for(cohorts)
        return rule.voice_wpm if rule and rule.voice_wpm else self.voice_wpm


def _built_in() -> Policy:
    parsed = _PolicyFile()
    return Policy(parsed.cohorts, parsed.default, parsed.voice_wpm, [], source="（内置：全体文字，无定时推送）",
                  read_minutes=parsed.read_minutes)


def load_policy(path: str | Path, *, cohorts: Iterable[str], packs: Mapping[str, Pack]) -> Policy:
    """Read and check a policy file against the unit's cohort names and the loaded packs.

    Raises:
        PolicyError: with every problem found, each naming the file, line and field.
    """
    file = Path(path)
    errors: list[str] = []
    doc = read_yaml(file, errors)        # read_yaml only appends to the list it is given
    if doc is None:
        raise PolicyError(errors)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise PolicyError([f"{display(file)}:1: 应为一组 键: 值（voice_wpm、read_minutes、default、cohorts、schedules）"])

    def add(loc: tuple[Any, ...], message: str) -> None:
        where = _render(loc)
        errors.append(f"{display(file)}:{doc.line_of(loc)}: {where}: {message}" if where else
                      f"{display(file)}:{doc.line_of(loc)}: {message}")

    try:
        parsed = _PolicyFile.model_validate(data)
    except ValidationError as exc:
        for loc, message in describe(exc):
            add(loc, message)
        raise PolicyError(errors) from None
    _check_references(parsed, set(cohorts), packs, add)
    if errors:
        raise PolicyError(errors)
    schedules = [CohortSchedule(entry.cohort, entry.cron, tuple(entry.packs)) for entry in parsed.schedules]
    return Policy(parsed.cohorts, parsed.default, parsed.voice_wpm, schedules, source=str(file),
                  read_minutes=parsed.read_minutes)


def _check_references(parsed: _PolicyFile, known: set[str], packs: Mapping[str, Pack], add) -> None:
    """Cohorts must exist and appear once among the rules; scheduled packs must be loaded push packs."""
    available = "、".join(sorted(known))
    seen: set[str] = set()
    for index, rule in enumerate(parsed.cohorts):
        if rule.cohort not in known:
            add(("cohorts", index, "cohort"), f"没有人群「{rule.cohort}」，可用：{available}")
        elif rule.cohort in seen:
            add(("cohorts", index, "cohort"), f"人群「{rule.cohort}」写了两条规则，请合并为一条")
        seen.add(rule.cohort)
    for index, entry in enumerate(parsed.schedules):
        if entry.cohort not in known and entry.cohort != OTHERS:
            add(("schedules", index, "cohort"), f"没有人群「{entry.cohort}」，可用：{available}，"
                                                f"或「{OTHERS}」（不属于任何人群的在职职工）")
        for number, pack_id in enumerate(entry.packs):
            pack = packs.get(pack_id)
            if pack is None:
                add(("schedules", index, "packs", number), f"没有内容包「{pack_id}」")
            elif pack.kind != "push":
                add(("schedules", index, "packs", number), f"内容包「{pack_id}」是{pack.kind}类，不是推送包（push）")


def _render(loc: tuple[Any, ...]) -> str:
    """("cohorts", 2, "forms", 0) → "cohorts[2].forms[0]"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


BUILT_IN = _built_in()


def init_app(app: Flask) -> None:
    """Load ``<UNIT_DIR>/push_policy.yaml`` once at start; an invalid file stops the start.

    A unit without the file gets the built-in policy: everyone gets the text form and nothing is
    scheduled (admins can still push).

    Raises:
        PolicyError: the file is invalid (every problem, with file, line and field).
    """
    path = Path(app.config["UNIT_DIR"]) / FILE_NAME
    if not path.exists():
        app.extensions[EXTENSION] = BUILT_IN
        return
    names = cohort_rules.get_rules(app).names
    app.extensions[EXTENSION] = load_policy(path, cohorts=names, packs=get_packs(app))


def get_policy(app: Flask | None = None) -> Policy:
    """The app's policy, loaded at start by ``init_app`` (or on first use when no module registered the hook)."""
    app = app or current_app
    if EXTENSION not in app.extensions:
        init_app(app)
    return app.extensions[EXTENSION]
