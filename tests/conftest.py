"""Shared fixtures: storage backends (SQLite and the real PostgreSQL server) and throw-away databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

PG_ADMIN_DSN = os.environ.get("ACCORD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = os.environ.get("ACCORD_TEST_BACKENDS", "sqlite,postgresql").split(",")


class DatabaseFactory:
    """Makes a fresh database URL per call on one backend; PostgreSQL databases are dropped afterwards."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.created: list[str] = []

    def new_url(self, label: str) -> str:
        if self.backend == "sqlite":
            path = self.tmp_path / f"{label}-{uuid.uuid4().hex[:8]}.sqlite3"
            return f"sqlite:///{path}"
        name = f"accord_test_{label}_{uuid.uuid4().hex[:10]}".lower().replace("-", "_")
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        admin = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_DSN)
        host, port, user = admin.get("host", "127.0.0.1"), admin.get("port", "5432"), admin.get("user", "postgres")
        return f"postgresql+psycopg://{user}@{host}:{port}/{name}"

    def drop_all(self) -> None:
        if not self.created:
            return
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_reachable() -> None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_DSN} ({exc}); start it, or run with "
            "ACCORD_TEST_BACKENDS=sqlite to test the embedded store only"
        )


def databases_for(backend: str, root: Path) -> DatabaseFactory:
    """Throw-away databases on `backend`; a PostgreSQL server that does not answer fails the test with what to do."""
    if backend == "postgresql":
        postgres_reachable()
    return DatabaseFactory(backend, root)


@pytest.fixture(params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseFactory]:
    factory = databases_for(str(request.param), tmp_path)
    yield factory
    factory.drop_all()
