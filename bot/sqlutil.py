"""Small SQL helpers: dialect-specific statements, built once and reused on hot paths.

A statement object reused with bound parameters is compiled once and served from SQLAlchemy's
cache; building a new ``insert(...).values(...)`` per request costs more than SQLite's own work.
"""
from __future__ import annotations

import json
from functools import cache
from typing import Iterator, Sequence

from sqlalchemy import JSON, String, bindparam, cast, func, select, true
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


# -- many rows that differ in one column: the values travel as one JSON array parameter ---------------
#
# Binding every row (SQLAlchemy's per-row parameter processing, a datetime formatted per row) costs more
# than SQLite's own work: a 1000-member ledger claim took 7 ms that way and 3.5 ms this way. A JSON
# array is also one bound parameter however long the list, so no IN (...) needs chunking.

VALUES_PARAM = "values"      # the name of the JSON array parameter (``json_values``)


def json_values(dialect: str):
    """A table with one row per string of the JSON array parameter ``values`` (``values_param``), in
    column ``value``; ``column.in_(select(json_values(d).c.value))`` matches a long list in one parameter."""
    param = bindparam(VALUES_PARAM, type_=String)
    if dialect == "postgresql":
        return func.json_array_elements_text(cast(param, JSON)).table_valued("value")
    return func.json_each(param).table_valued("value")


def in_values(column, dialect: str):
    """``column IN`` the strings of the JSON array parameter ``values`` (bind it with ``values_param``)."""
    return column.in_(select(json_values(dialect).c.value))


def values_param(values: Sequence[str]) -> dict[str, str]:
    """The bound parameter ``json_values`` reads."""
    return {VALUES_PARAM: json.dumps(list(values), ensure_ascii=False)}


@cache
def _insert_each_ignoring(model, column: str, same: tuple[str, ...], returning, dialect: str):
    values = json_values(dialect)
    table = model.__table__
    source = (select(values.c.value, *(bindparam(name, type_=table.c[name].type) for name in same))
              .select_from(values)
              .where(true()))      # SQLite: INSERT … SELECT needs a WHERE before ON CONFLICT
    statement = _INSERTS[dialect](model).from_select([column, *same], source).on_conflict_do_nothing()
    return statement if returning is None else statement.returning(returning)


def insert_each_ignoring_duplicates(session: Session, model, column: str, values: Sequence[str], *,
                                    same: dict, returning=None) -> list:
    """One INSERT … SELECT … ON CONFLICT DO NOTHING: a row per value of ``column``, the other columns
    ``same`` for every row; a row hitting a unique key is left out.

    Returns:
        With ``returning`` (a column), that column of the rows actually inserted; else ``[]``.
    """
    if not values:
        return []
    connection = session.connection()
    statement = _insert_each_ignoring(model, column, tuple(same), returning, connection.dialect.name)
    result = connection.execute(statement, {**same, **values_param(values)})
    return list(result.scalars()) if returning is not None else []


# ids per IN (...) clause: well under SQLite's limit on bound variables
IN_CHUNK = 500


def chunks(items: list, size: int = IN_CHUNK) -> Iterator[list]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
