"""Responsibility lists (责任清单) and target letters (目标责任书): the unit's YAML, who answers for what, who confirmed."""
from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import yaml
from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from bot import roles
from bot.models import Member, OrgUnit, RoleGrant, TargetLetterConfirmation
from bot.models.core import MemberStatus, OrgKind
from bot.sqlutil import insert_ignoring_duplicates

EXTENSION = "szzs.responsibilities"
FILENAME = "responsibilities.yaml"
POST = "post"
# pydantic's wording for the mistakes people make most when editing the file by hand
_MESSAGES = {
    "missing": "缺少此项", "extra_forbidden": "不认识这一项（拼写错误？）", "string_type": "应为文字",
    "string_too_short": "不能为空", "string_too_long": "不能超过 {max_length} 个字",
    "too_short": "至少要有 {min_length} 条", "list_type": "应为列表（每行以 - 开头）",
    "dict_type": "应为一组 键: 值", "model_type": "应为一组 键: 值",
    "string_pattern_mismatch": "只能用英文小写字母、数字和下划线，且以字母开头",
}


class Level(str, Enum):
    """Where someone sits in the chain of responsibility; order is top-down."""

    LEADERSHIP = "leadership"    # a member of the leadership team (领导班子)
    DEPARTMENT = "department"    # leads a department
    TEAM = "team"                # leads a team


# ---- the file, as pydantic checks it ----

_Name = Annotated[str, Field(min_length=1, max_length=32)]
_Title = Annotated[str, Field(min_length=1, max_length=100)]
_Text = Annotated[str, Field(min_length=1, max_length=200)]


class _Goal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    title: _Title


class _Duty(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    text: _Text
    serves: _Name


_Duties = Annotated[list[_Duty], Field(min_length=1)]


class _Levels(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    leadership: _Duties
    department: _Duties
    team: _Duties


class _SystemFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    version: _Name
    leadership_unit: _Title = "领导班子"
    unit_goals: Annotated[list[_Goal], Field(min_length=1)]
    levels: _Levels
    posts: Annotated[dict[str, _Duties], Field(min_length=1)]

    @field_validator("version", mode="before")
    @classmethod
    def _number_is_fine(cls, value: Any) -> Any:
        # `version: 2026` is a number to YAML; people mean the text
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @field_validator("leadership_unit")
    @classmethod
    def _fold_unit(cls, value: str) -> str:
        return _fold(value)

    @field_validator("posts")
    @classmethod
    def _fold_posts(cls, value: dict[str, list[_Duty]]) -> dict[str, list[_Duty]]:
        # the roster stores posts NFKC-folded; compare like with like
        folded: dict[str, list[_Duty]] = {}
        for post, duties in value.items():
            key = _fold(post)
            if not key or key in folded:
                raise ValueError(f"岗位名「{post}」为空或重复")
            folded[key] = duties
        return folded

    @model_validator(mode="after")
    def _goals_are_known(self) -> "_SystemFile":
        ids = [goal.id for goal in self.unit_goals]
        if len(set(ids)) != len(ids):
            raise ValueError(f"unit_goals：id 有重复（{'、'.join(ids)}）")
        for where, duty in self._duties():
            if duty.serves not in ids:
                raise ValueError(f"{where} → serves：没有 id 为「{duty.serves}」的单位目标"
                                 f"（unit_goals 中有：{'、'.join(ids)}）")
        return self

    def _duties(self) -> Iterable[tuple[str, _Duty]]:
        for level in Level:
            for number, duty in enumerate(getattr(self.levels, level.value), start=1):
                yield f"levels → {level.value} → 第 {number} 条", duty
        for post, duties in self.posts.items():
            for number, duty in enumerate(duties, start=1):
                yield f"posts → {post} → 第 {number} 条", duty


# ---- what the rest of the app uses ----

@dataclass(frozen=True)
class Goal:
    id: str
    title: str


@dataclass(frozen=True)
class Item:
    """One responsibility a member answers for, and the unit goal it serves."""

    text: str
    goal: Goal
    origin: str        # POST, or the Level value it comes with


@dataclass(frozen=True)
class ResponsibilitySystem:
    """The unit's goals and the items of every level and post, as loaded from one file."""

    version: str
    leadership_unit: str
    goals: tuple[Goal, ...]
    levels: dict[Level, tuple[Item, ...]]
    posts: dict[str, tuple[Item, ...]]
    source: str = ""

    def post_items(self, post: str | None) -> tuple[Item, ...]:
        return self.posts.get(_fold(post), ())

    def list_for(self, member: Member, levels: Collection[Level]) -> list[Item]:
        """The member's own items: his post's, then those of each level he holds, top-down."""
        items = list(self.post_items(member.post))
        for level in Level:
            if level in levels:
                items += self.levels[level]
        return items


@dataclass(frozen=True)
class MemberList:
    """What one member sees: his levels, his items and their digest."""

    member: Member
    levels: frozenset[Level]
    items: list[Item]

    @property
    def digest(self) -> str:
        return digest(self.items)


@dataclass(frozen=True)
class LetterStatus:
    confirmed_at: datetime | None     # when he confirmed his current list this year
    earlier_at: datetime | None       # his latest confirmation of an older list this year


@dataclass(frozen=True)
class Confirmation:
    recorded: bool                    # False: it was already there (or there was nothing to confirm)
    confirmed_at: datetime | None     # None: the member has no items, so nothing to confirm
    item_count: int


@dataclass(frozen=True)
class Pending:
    member: Member
    has_list: bool                    # False: his post has no items and he holds no level


def load_system(path: str | Path) -> ResponsibilitySystem:
    """Read and check a responsibilities file.

    Raises:
        ValueError: the file is not YAML, or a field is malformed (an item serving an unknown goal
            included); the message names the file and the field.
    """
    if not Path(path).exists():
        # a unit that has not written its lists yet: every member simply has none
        return ResponsibilitySystem(version="", leadership_unit="", goals=(),
                                    levels={level: () for level in Level}, posts={}, source=str(path))
    try:
        data = yaml.safe_load(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: 无法读取责任清单文件（{exc.strerror or exc}）") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: 不是有效的 YAML：{exc}") from None
    try:
        spec = _SystemFile.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{path}: {_describe(exc)}") from None
    goals = {goal.id: Goal(goal.id, goal.title) for goal in spec.unit_goals}

    def items(duties: list[_Duty], origin: str) -> tuple[Item, ...]:
        return tuple(Item(duty.text, goals[duty.serves], origin) for duty in duties)

    return ResponsibilitySystem(
        version=spec.version, leadership_unit=spec.leadership_unit, goals=tuple(goals.values()),
        levels={level: items(getattr(spec.levels, level.value), level.value) for level in Level},
        posts={post: items(duties, POST) for post, duties in spec.posts.items()}, source=str(path))


def init_app(app: Flask) -> None:
    """Load the unit's file now, so a bad file fails the start rather than the first message."""
    app.extensions[EXTENSION] = load_system(Path(app.config["UNIT_DIR"]) / FILENAME)


def get_system(app: Flask | None = None) -> ResponsibilitySystem:
    """The responsibility system of the app, loaded from ``UNIT_DIR`` on first use and then kept."""
    app = app or current_app
    if EXTENSION not in app.extensions:
        init_app(app)
    return app.extensions[EXTENSION]


def digest(items: Iterable[Item]) -> str:
    """A stable fingerprint of a list as its member sees it: any change to it means a new confirmation."""
    canonical = [[item.origin, item.goal.id, item.goal.title, item.text] for item in items]
    payload = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def levels_for(session: Session, system: ResponsibilitySystem, members: list[Member]) -> dict[str, frozenset[Level]]:
    """Each member's levels: 领导班子 membership, and the departments and teams he leads."""
    found: dict[str, set[Level]] = {m.userid: set() for m in members}
    for m in members:
        if _fold(m.department.name) == system.leadership_unit:
            found[m.userid].add(Level.LEADERSHIP)
    grants = session.execute(
        select(RoleGrant.userid, OrgUnit.kind, OrgUnit.name).join(OrgUnit, OrgUnit.id == RoleGrant.org_unit_id)
        .where(RoleGrant.role == roles.LEADER, RoleGrant.userid.in_(list(found))))
    for userid, kind, name in grants:
        if kind == OrgKind.TEAM.value:
            found[userid].add(Level.TEAM)
        elif kind == OrgKind.DEPARTMENT.value:
            # leading the leadership team is a leadership duty, not a department head's
            found[userid].add(Level.LEADERSHIP if _fold(name) == system.leadership_unit else Level.DEPARTMENT)
    return {userid: frozenset(levels) for userid, levels in found.items()}


def my_list(session: Session, system: ResponsibilitySystem, member: Member) -> MemberList:
    levels = levels_for(session, system, [member])[member.userid]
    return MemberList(member, levels, system.list_for(member, levels))


def letter_status(session: Session, userid: str, year: int, list_digest: str) -> LetterStatus:
    rows = session.execute(select(TargetLetterConfirmation.list_digest, TargetLetterConfirmation.confirmed_at)
                           .where(TargetLetterConfirmation.userid == userid, TargetLetterConfirmation.year == year)
                           .order_by(TargetLetterConfirmation.confirmed_at.desc())).all()
    current = next((at for found, at in rows if found == list_digest), None)
    earlier = next((at for found, at in rows if found != list_digest), None)
    return LetterStatus(current, earlier)


def confirm(session: Session, member: Member, now: datetime, *, system: ResponsibilitySystem) -> Confirmation:
    """Record that the member confirmed this year's letter for his current list; a repeat changes nothing."""
    mine = my_list(session, system, member)
    if not mine.items:
        return Confirmation(False, None, 0)
    row = dict(userid=member.userid, year=now.year, list_digest=mine.digest, confirmed_at=now)
    recorded = insert_ignoring_duplicates(session, TargetLetterConfirmation, row) == 1
    confirmed_at = letter_status(session, member.userid, now.year, mine.digest).confirmed_at
    return Confirmation(recorded, confirmed_at, len(mine.items))


def unconfirmed_in(session: Session, unit_ids: Collection[int] | None, year: int, *,
                   system: ResponsibilitySystem) -> list[Pending]:
    """Active members in the given org units (None: everyone) who have not confirmed their current list.

    Ordered by department, then team (the department's own people first), then userid.
    """
    query = (select(Member).where(Member.status == MemberStatus.ACTIVE.value)
             .options(selectinload(Member.department), selectinload(Member.team)))
    if unit_ids is not None:
        ids = list(unit_ids)
        query = query.where(or_(Member.department_id.in_(ids), Member.team_id.in_(ids)))
    members = list(session.scalars(query))
    levels = levels_for(session, system, members)
    confirmed = set(session.execute(
        select(TargetLetterConfirmation.userid, TargetLetterConfirmation.list_digest)
        .where(TargetLetterConfirmation.year == year, TargetLetterConfirmation.userid.in_(list(levels)))))
    pending = []
    for m in members:
        items = system.list_for(m, levels[m.userid])
        if (m.userid, digest(items)) not in confirmed:
            pending.append(Pending(m, bool(items)))
    return sorted(pending, key=lambda p: (p.member.department_id, p.member.team_id or 0, p.member.userid))


def _fold(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = " → ".join(f"第 {part + 1} 条" if isinstance(part, int) else str(part) for part in error["loc"])
        template = _MESSAGES.get(error["type"])
        message = template.format(**error.get("ctx", {})) if template else error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}：{message}" if where else message)
    return "；".join(parts)
