"""Activities defined in packs (kind ``activity``, activities.yaml): finding one an admin named and
turning it into what the 发布活动 dialogue would have gathered, ready for its confirm step."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from bot.cohorts import CohortRules
from content_packs import Pack, get_packs
from content_packs.activity_schema import ActivityDefinition
from handlers._services import activity_parse


@dataclass(frozen=True)
class PackActivity:
    pack: Pack
    definition: ActivityDefinition

    @property
    def ref(self) -> str:
        return f"{self.pack.id}/{self.definition.id}"


def all_pack_activities(app: Flask | None = None) -> list[PackActivity]:
    """Every activity of every activity pack, by pack id, then in file order."""
    packs = sorted((p for p in get_packs(app).values() if p.kind == "activity"), key=lambda p: p.id)
    return [PackActivity(pack, definition) for pack in packs for definition in pack.activities]


def find_pack_activity(ref: str, app: Flask | None = None) -> PackActivity | None:
    """An activity by id (``flood-drill`` or ``<pack>/flood-drill``), by title, or by a part of its
    title only one activity has."""
    ref = unicodedata.normalize("NFKC", ref or "").strip().strip("《》「」<>\"")
    found = all_pack_activities(app)
    for candidate in found:
        if ref in (candidate.definition.id, candidate.ref, candidate.definition.title):
            return candidate
    partial = [c for c in found if ref and ref in c.definition.title]
    return partial[0] if len(partial) == 1 else None


def start_of(definition: ActivityDefinition, when_text: str, *, now: datetime) -> datetime:
    """The start: the time written in the command, else the pack's, which must still be ahead.

    Raises:
        ValueError: no time anywhere, an unreadable one, or one that has passed (in Chinese).
    """
    if when_text.strip():
        return activity_parse.parse_time(when_text, now=now)
    if definition.starts is None:
        raise ValueError(f"活动包里的「{definition.title}」没有写时间，请在命令后面写上，"
                         f"如「发布活动 {definition.id} 明天 15:00」。")
    start = definition.starts.replace(tzinfo=now.tzinfo)
    if start <= now:
        raise ValueError(f"活动包里「{definition.title}」的时间 {start:%Y-%m-%d %H:%M} 已经过去了，"
                         f"请在命令后面写新的时间，如「发布活动 {definition.id} 明天 15:00」。")
    return start


def dialogue_data(session: Session, definition: ActivityDefinition, start: datetime, *,
                  rules: CohortRules) -> dict:
    """The dialogue's answers for ``definition`` (handlers/activity_admin.py reads them the same way).

    Raises:
        ValueError: the audience names a department or team the roster does not have (in Chinese).
    """
    labels, shown = activity_parse.resolve_audience(session, list(definition.audience), rules=rules)
    return {"title": definition.title, "kind": definition.kind, "practice": definition.counts_as_practice,
            "starts_at": start.isoformat(), "when": f"{start:%Y-%m-%d %H:%M}",
            "place": definition.place or "", "link": definition.link or "",
            "audience": labels, "audience_shown": shown, "capacity": definition.capacity,
            "minutes": definition.minutes, "note": definition.description or ""}
