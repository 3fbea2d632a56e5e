"""Runs the Alembic migrations shipped in accord/store/migrations against a database URL."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, MetaData, String, Table, inspect, select

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


@cache
def shipped_head() -> str | None:
    """The newest migration this release ships (read once per process: the files do not change under it)."""
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


_ALEMBIC_VERSION = Table("alembic_version", MetaData(), Column("version_num", String(32), primary_key=True))


def database_revision(conn: Connection) -> str | None:
    """The migration the database was last brought to (None: never migrated). Read from Alembic's own table rather
    than through a migration context, which logs two lines each time: a readiness probe asks every few seconds."""
    if not inspect(conn).has_table(_ALEMBIC_VERSION.name):
        return None
    return conn.scalar(select(_ALEMBIC_VERSION.c.version_num))
