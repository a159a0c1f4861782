"""Migrations and models agree: upgrading an empty database gives exactly the tables the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot import migrate
from bot.db import make_engine
from bot.models import Base


def test_upgrade_head_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrade_twice_is_harmless(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    migrate.upgrade(url)
    migrate.upgrade(url)


def _at_0005_with_a_registration(tmp_path, *, activity_exists: bool = True) -> str:
    """A database as revision 0005 left it, holding a member registered for an activity (the registration
    points at no activity when ``activity_exists`` is False)."""
    import sqlite3

    from alembic import command

    path = tmp_path / "old.sqlite"
    command.upgrade(migrate.alembic_config(f"sqlite:///{path}"), "0005")
    db = sqlite3.connect(path)

    def insert(table: str, **values) -> None:
        for _, column, kind, not_null, _, primary in db.execute(f"PRAGMA table_info({table})").fetchall():
            if column not in values and not_null and not primary:
                values[column] = 0 if kind.upper() in ("INTEGER", "BOOLEAN") else "2026-11-01 00:00:00"
        db.execute(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                   list(values.values()))

    insert("org_units", id=1, name="水库管理所", kind="unit")
    insert("members", userid="u1", name="张三", department_id=1, status="在职")
    if activity_exists:
        insert("activities", id=7, title="防汛演练", audience="[]")
    insert("activity_registrations", activity_id=7, userid="u1", status="registered")
    db.commit()
    db.close()
    return f"sqlite:///{path}"


def test_upgrading_keeps_registrations_although_their_activities_table_is_rebuilt(tmp_path):
    url = _at_0005_with_a_registration(tmp_path)
    migrate.upgrade(url)                      # 0006 rebuilds activities (batch mode) under its registrations
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT activity_id, userid FROM activity_registrations").all() == [(7, "u1")]
        assert conn.exec_driver_sql("SELECT id, publish_key FROM activities").all() == [(7, None)]
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1            # the app's engine enforces them
    engine.dispose()


def test_a_failed_upgrade_changes_nothing(tmp_path):
    import pytest

    url = _at_0005_with_a_registration(tmp_path, activity_exists=False)     # a dangling reference
    with pytest.raises(RuntimeError, match="pointing at nothing"):
        migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0005"
        tables = {name for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "cohort_needs" not in tables and not any(name.startswith("_alembic_tmp") for name in tables)
    engine.dispose()


def test_the_copy_an_old_failed_upgrade_left_behind_does_not_block_the_next(tmp_path):
    import sqlite3

    url = _at_0005_with_a_registration(tmp_path)
    db = sqlite3.connect(tmp_path / "old.sqlite")
    db.execute("CREATE TABLE _alembic_tmp_activities (id INTEGER PRIMARY KEY, title VARCHAR(64))")   # as before the fix
    db.commit()
    db.close()
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() != "0005"
        assert conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name LIKE '%alembic_tmp%'").all() == []
        assert conn.exec_driver_sql("SELECT activity_id FROM activity_registrations").all() == [(7,)]
    engine.dispose()
