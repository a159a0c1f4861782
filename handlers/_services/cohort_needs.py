"""The needs each cohort stated, kept from the last 需求分析, and the content topics they point to.

需求分析 (jobs/surveys.py) stores each cohort's need topics (needs_topics.yaml names them); the
scheduled pushes' choice of the next item (push_pick.py) reads them back and prefers items whose
topics the needs point to (needs_content.yaml: need topic → item topics in the push packs).
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.models.surveys import CohortNeed

CONTENT = Path(__file__).with_name("needs_content.yaml")


@functools.cache
def load_content_map(path: Path = CONTENT) -> dict[str, tuple[str, ...]]:
    """need topic → the item topics it points to."""
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(t, str) for t in v) for k, v in data.items()):
        raise ValueError(f"{path}: 应为「需求主题: [条目主题, …]」的映射")
    return {need: tuple(topics) for need, topics in data.items()}


def content_topics(needs: Iterable[str], content_map: Mapping[str, tuple[str, ...]] | None = None) -> set[str]:
    """The item topics the need topics point to; a need topic not in the map points to itself."""
    mapping = load_content_map() if content_map is None else content_map
    return {topic for need in needs for topic in mapping.get(need, (need,))}


def store(session: Session, topics_by_cohort: Mapping[str, list[str]], *, cohorts: Iterable[str], survey_id: str,
          now: datetime) -> dict[str, list[str]]:
    """Replace the stored needs of every cohort the analysis covered (names that are no cohort are skipped).

    Returns:
        The need topics stored per cohort, best first (a cohort may now have none).
    """
    known = set(cohorts)
    stored = {name: list(topics) for name, topics in topics_by_cohort.items() if name in known}
    if stored:
        session.execute(delete(CohortNeed).where(CohortNeed.cohort.in_(list(stored))))
    for name, topics in stored.items():
        session.add_all(CohortNeed(cohort=name, topic=topic, rank=rank, survey_id=survey_id, analysed_at=now)
                        for rank, topic in enumerate(topics, start=1))
    session.flush()
    return stored


def wanted(session: Session, cohort: str) -> list[str]:
    """The cohort's stored need topics, best first; empty when no analysis covered it."""
    return list(session.scalars(select(CohortNeed.topic).where(CohortNeed.cohort == cohort)
                                .order_by(CohortNeed.rank, CohortNeed.id)))
