"""The shipped migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from accord.store.engine import make_engine
from accord.store.migrate import migrate
from accord.store.search import is_index_object
from accord.store.tables import metadata
from tests.conftest import DatabaseFactory


def test_migrations_match_declared_tables(databases: DatabaseFactory) -> None:
    url = databases.new_url("schema")
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            # What only a migration can make (the stores' own full-text indexes) is left out of the comparison.
            context = MigrationContext.configure(connection, opts={"include_name": _declarable})
            drift = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert drift == [], f"tables.py and the migrations disagree; add a migration: {drift}"


def _declarable(name: str | None, kind: str, parent_names: object) -> bool:
    return not (kind in ("table", "index") and is_index_object(name))


def test_migrating_twice_changes_nothing(databases: DatabaseFactory) -> None:
    url = databases.new_url("twice")
    migrate(url)
    migrate(url)
