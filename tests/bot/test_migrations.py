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
