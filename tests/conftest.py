"""Shared fixtures: storage backends (SQLite and the real PostgreSQL server), throw-away databases and copies of
them, the markers every test gets from its parameters, and the hypothesis profiles."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from _pytest.nodeid import NodeId
from hypothesis import settings
from sqlalchemy.engine import make_url

from accord.store.migrate import migrate
from tests.integration.launcher import NodeLauncher

PG_ADMIN_DSN = os.environ.get("ACCORD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = os.environ.get("ACCORD_TEST_BACKENDS", "sqlite,postgresql").split(",")
POSTGRESQL = "postgresql"

# Test suites make hundreds of officer accounts: new password hashes at argon2's least cost (a node verifies with the
# cost stored in each hash, so nothing else changes). Set ACCORD_PASSWORD_HASHING=production to test at full cost.
os.environ.setdefault("ACCORD_PASSWORD_HASHING", "test")

# `ci` (the default): every example, no per-example deadline (the machines are shared, timings are not the point).
# `dev`: a quick loop, few examples. Chosen with HYPOTHESIS_PROFILE.
settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`postgres` on every test that runs on the PostgreSQL backend (whichever fixture chose it), so that
    `-m "not postgres"` is the SQLite-only loop. For `--dist loadgroup`, one group per module and backend: a worker
    takes a module's tests on one backend together and sets its pair up once, and the two halves of a long module
    run side by side. The `slow` modules first, so that the workers start on the longest work rather than end with
    one of them alone on it. A `spread` module's tests each take minutes: they go out one by one."""
    for item in items:
        backend = _backend_of(item)
        if backend == POSTGRESQL:
            item.add_marker(pytest.mark.postgres)
        if item.get_closest_marker("spread") is not None:
            group = item.nodeid  # minutes per test: each may go to either worker, at the cost of its own set-up
        else:
            group = item.nodeid.split("::")[0] + (f"::{backend}" if backend else "")
        item.add_marker(pytest.mark.xdist_group(group))
    # Stable: a module's tests stay in order. Run with `--no-loadscope-reorder`: xdist otherwise hands out the groups
    # with the most tests first, which puts the one-test `spread` groups, the longest, at the end.
    items.sort(key=lambda item: (item.get_closest_marker("spread") is None, item.get_closest_marker("slow") is None))


@pytest.hookimpl(tryfirst=True)  # before an xdist worker reports its items
def pytest_collection_finish(session: pytest.Session) -> None:
    """pytest-xdist 3.8 names an item's group in its id by setting `_nodeid`, which pytest 9.2 no longer reads (an
    item's id is `_id`): without this, `--dist loadgroup` hands the tests out one by one, and a module's pair is set
    up on every worker that gets one of its tests."""
    for item in session.items:
        grouped = item.__dict__.get("_nodeid")
        if isinstance(grouped, str) and grouped != item.nodeid:
            item._id = NodeId.parse(grouped)


def _backend_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    backends = {str(value) for value in callspec.params.values()} & set(BACKENDS) if callspec else set()
    return backends.pop() if len(backends) == 1 else None


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

    def new_migrated_url(self, label: str) -> str:
        """`new_url`, with every shipped migration applied: a copy of this process's migrated database on the backend
        (made by `migrate` on its first use), for the tests that set up nodes in process by the dozen and test
        something other than the migrations (tests/store/test_migrations.py runs them on a new database)."""
        return self.copy_url(_migrated_template(self.backend), label)

    def copy_url(self, source_url: str, label: str) -> str:
        """A new database holding what `source_url` holds: a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on
        PostgreSQL (which needs nobody connected to the source: callers copy databases no process has open)."""
        if self.backend == "sqlite":
            copy = self.new_url(label)
            with (
                closing(sqlite3.connect(str(make_url(source_url).database))) as source,
                closing(sqlite3.connect(str(make_url(copy).database))) as target,
            ):
                source.backup(target)  # consistent whatever the source's WAL still holds
            Path(str(make_url(copy).database)).chmod(0o600)  # a node refuses a database others may read
            return copy
        source_name = make_url(source_url).database
        name = f"accord_test_{label}_{uuid.uuid4().hex[:10]}".lower().replace("-", "_")
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            _wait_until_unused(conn, str(source_name))
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source_name}"')
        self.created.append(name)
        return str(make_url(source_url).set(database=name))

    def drop_all(self) -> None:
        """Drop the databases made here, in the background: DROP DATABASE waits for a checkpoint, and the next test
        need not wait for that. The session waits for every drop before it ends."""
        if not self.created:
            return
        names, self.created = self.created, []
        dropping = threading.Thread(target=_drop_databases, args=(names,), name="drop-databases")
        dropping.start()
        _DROPPING.append(dropping)


_DROPPING: list[threading.Thread] = []
_MIGRATED: dict[str, str] = {}  # backend → this process's migrated template database
_MIGRATED_LOCK = threading.Lock()
# The templates: the SQLite file here, removed as the session ends; the PostgreSQL database, dropped then.
_MIGRATED_FILES = Path(tempfile.mkdtemp(prefix="accord-migrated-"))
_TEMPLATES = {backend: DatabaseFactory(backend, _MIGRATED_FILES) for backend in ("sqlite", POSTGRESQL)}


def _migrated_template(backend: str) -> str:
    with _MIGRATED_LOCK:
        if backend not in _MIGRATED:
            url = _TEMPLATES[backend].new_url("migrated")
            migrate(url)
            _MIGRATED[backend] = url
        return _MIGRATED[backend]


def _drop_databases(names: list[str]) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_sessionfinish() -> None:
    for dropping in _DROPPING:
        dropping.join()
    _drop_databases(_TEMPLATES[POSTGRESQL].created)
    shutil.rmtree(_MIGRATED_FILES, ignore_errors=True)


def _wait_until_unused(conn: psycopg.Connection[tuple[object, ...]], name: str, timeout_s: float = 10.0) -> None:
    """A closed connection's server process may take a moment to leave; until it has, the database is no template."""
    deadline = time.monotonic() + timeout_s
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
    while (row := conn.execute(query, (name,)).fetchone()) is not None and row[0] != 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"database {name} still has {row[0]} connections after {timeout_s} s; cannot copy it")
        time.sleep(0.02)


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


@pytest.fixture(scope="session")
def launcher() -> Iterator[NodeLauncher]:
    """This test process's launcher of `accord` processes (nodes, and commands run against them)."""
    started = NodeLauncher()
    yield started
    started.close()


@pytest.fixture(params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseFactory]:
    factory = databases_for(str(request.param), tmp_path)
    yield factory
    factory.drop_all()
