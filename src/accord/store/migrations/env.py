"""Alembic environment: migrates the database named in the config (set by accord.store.migrate)."""

from __future__ import annotations

from alembic import context

from accord.store.engine import make_engine
from accord.store.search import is_index_object
from accord.store.tables import metadata

url = context.config.get_main_option("sqlalchemy.url")
assert url is not None
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        # The stores' own full-text indexes are made by a migration, never declared in tables.py.
        include_name=lambda name, kind, _parents: not (kind in ("table", "index") and is_index_object(name)),
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
