"""Alembic environment: the URL comes from the bot's settings (or -x url=…)."""
from alembic import context
from sqlalchemy import event

from bot.config import load_settings
from bot.db import make_engine
from bot.models import Base

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url") \
        or load_settings()["DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(database_url())
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        _prepare_sqlite(engine)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          transactional_ddl=True)    # all pending migrations commit together, or none does
        with context.begin_transaction():
            if sqlite:
                _drop_leftover_batch_tables(connection)
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration would leave rows pointing at nothing: {broken[:5]}")
    engine.dispose()


def _drop_leftover_batch_tables(connection) -> None:
    """A batch migration that failed before migrations were one transaction left its copy behind, and the
    copy blocks the next try; it only ever held rows of the table it was copying, which is still there."""
    leftovers = connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_alembic\\_tmp\\_%' ESCAPE '\\'")
    for (name,) in leftovers.fetchall():
        connection.exec_driver_sql(f'DROP TABLE "{name}"')


def _prepare_sqlite(engine) -> None:
    """SQLite, for this migration engine only:

    * batch mode (``render_as_batch``) alters a table by copying it and dropping the old one, which fails
      while foreign keys are enforced and other rows point at it (an activity with registrations). They are
      off while migrating, and every reference is checked before the migration commits.
    * Python's sqlite3 commits each CREATE/DROP on its own, so a migration failing half-way would leave its
      half behind (alembic's ``_alembic_tmp_<table>``) and every later start would fail on it. Here the
      driver leaves transactions alone and each is opened with BEGIN: a failed upgrade changes nothing.
    """
    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):       # after bot.db's own pragmas
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")     # only outside a transaction

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
