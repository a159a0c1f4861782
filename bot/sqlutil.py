"""Small SQL helpers: dialect-specific statements, built once and reused on hot paths.

A statement object reused with bound parameters is compiled once and served from SQLAlchemy's
cache; building a new ``insert(...).values(...)`` per request costs more than SQLite's own work.
"""
from __future__ import annotations

from functools import cache
from typing import Iterator

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@cache
def _insert_ignoring(model, dialect: str):
    return _INSERTS[dialect](model).on_conflict_do_nothing()


def insert_ignoring_duplicates(session: Session, model, row: dict) -> int:
    """INSERT … ON CONFLICT DO NOTHING in one statement; returns 1 if inserted, 0 if a unique key existed."""
    connection = session.connection()
    return connection.execute(_insert_ignoring(model, connection.dialect.name), row).rowcount


@cache
def _insert_ignoring_returning(model, column, dialect: str):
    return _INSERTS[dialect](model).on_conflict_do_nothing().returning(column)


def inserted_ignoring_duplicates(session: Session, model, rows: list[dict], *, returning) -> list:
    """INSERT … ON CONFLICT DO NOTHING RETURNING ``returning`` for many rows in one statement;
    returns that column of the rows actually inserted (those hitting a unique key are left out)."""
    if not rows:
        return []
    connection = session.connection()
    statement = _insert_ignoring_returning(model, returning, connection.dialect.name)
    return list(connection.execute(statement, rows).scalars())


# ids per IN (...) clause: well under SQLite's limit on bound variables
IN_CHUNK = 500


def chunks(items: list, size: int = IN_CHUNK) -> Iterator[list]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
