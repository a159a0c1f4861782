"""The bench roster: a fresh migrated SQLite file with N generated members, handed out once each."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bench.callbacks import CallbackRequest, RobotCallbacks
from bot import migrate
from bot.db import make_engine
from bot.models import CheckIn, Member, OrgUnit

INSERT_BATCH = 5000


def userid_of(index: int) -> str:
    return f"bench{index:05d}"


def name_of(index: int) -> str:
    return f"测试{index:05d}"


def prepare_database(url: str, count: int) -> None:
    """Migrate ``url`` to head and insert ``count`` members (bench00001…) in one unit/department/team."""
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            department_id, team_id = _org_tree(session)
            now = datetime.now(timezone.utc)
            rows = ({"userid": userid_of(i), "name": name_of(i), "department_id": department_id,
                     "team_id": team_id, "post": "测试岗", "updated_at": now} for i in range(1, count + 1))
            # executemany in batches: one INSERT per row through the ORM would take minutes for 60 000
            for batch in _batched(rows, INSERT_BATCH):
                session.execute(insert(Member), batch)
            session.commit()
    finally:
        engine.dispose()


def count_checkins(url: str) -> int:
    """Rows in the checkins table (each one a successful first check-in)."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(CheckIn))
    finally:
        engine.dispose()


class MemberPool:
    """Hands out each generated member once, so every request is that member's first check-in today."""

    def __init__(self, callbacks: RobotCallbacks, size: int):
        self._callbacks = callbacks
        self._next = 1
        self.size = size

    @property
    def left(self) -> int:
        return self.size - self._next + 1

    def take(self, count: int) -> list[CallbackRequest]:
        """Fresh check-in callbacks for the next ``count`` members, stamped now."""
        if count > self.left:
            raise RuntimeError(f"bench roster exhausted: wanted {count} more members, {self.left} left")
        first, self._next = self._next, self._next + count
        return [self._callbacks.checkin(userid_of(i), name_of(i), f"bench-msg-{i:05d}")
                for i in range(first, first + count)]


def _org_tree(session: Session) -> tuple[int, int]:
    unit = OrgUnit(name="基准测试管理处", kind="unit")
    department = OrgUnit(name="基准测试科", kind="department", parent=unit)
    team = OrgUnit(name="基准测试班", kind="team", parent=department)
    session.add_all([unit, department, team])
    session.flush()
    return department.id, team.id


def _batched(rows, size: int):
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
