"""Small SQL helpers that differ per dialect (SQLite and PostgreSQL)."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_duplicates(session: Session, model, row: dict) -> int:
    """INSERT … ON CONFLICT DO NOTHING in one statement; returns 1 if inserted, 0 if a unique key existed."""
    dialect = session.get_bind().dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]
    result = session.execute(insert(model).values(**row).on_conflict_do_nothing())
    return result.rowcount
