"""`flask --app bot db upgrade`: apply Alembic migrations (the Procfile's release step)."""
import click
from flask import current_app
from flask.cli import AppGroup

from bot import migrate

db_cli = AppGroup("db", help="数据库迁移 / database migrations")


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """把数据库升级到最新结构 / bring the database to the newest schema."""
    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("数据库已是最新结构 / database is up to date.")
