"""A consistent copy of a live node's database and its way back: SQLite through its online backup API, PostgreSQL
through `pg_dump` (one snapshot transaction, custom format) and `pg_restore`."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from accord.backup.errors import BackupError, LiveNode
from accord.i18n import _
from accord.store.modes import sqlite_file

T = TypeVar("T")


class DatabaseKind(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


SNAPSHOT_NAMES = {DatabaseKind.SQLITE: "database/accord.sqlite3", DatabaseKind.POSTGRESQL: "database/accord.pgdump"}


def kind_of(database_url: str) -> DatabaseKind:
    name = make_url(database_url).drivername
    if name.startswith("sqlite"):
        return DatabaseKind.SQLITE
    if name.startswith("postgresql"):
        return DatabaseKind.POSTGRESQL
    raise BackupError(_("cannot back up a {name} database; Accord runs on SQLite or PostgreSQL").format(name=name))


def snapshot(database_url: str, out: Path, read: Callable[[Connection], T]) -> T:
    """Write a consistent copy of the live database to `out` while the node goes on writing; `read` is given the
    state the copy holds (a connection to the copy, or to the snapshot `pg_dump` copies); its answer is returned."""
    if kind_of(database_url) is DatabaseKind.SQLITE:
        source_path = sqlite_file(database_url)
        if source_path is None or not source_path.exists():
            raise BackupError(_("no SQLite database at {url}").format(url=database_url))
        # The online backup API copies page by page and restarts if a writer changes a page it copied: the copy is
        # one transaction's state, whatever the WAL holds.
        with closing(sqlite3.connect(source_path)) as source, closing(sqlite3.connect(out)) as target:
            source.backup(target)
        engine = create_engine(f"sqlite:///{out}")
        try:
            with engine.connect() as conn:
                return read(conn)
        finally:
            engine.dispose()
    # One REPEATABLE READ transaction exports its snapshot; pg_dump copies exactly that snapshot (--snapshot), and
    # `read` sees it too, so the manifest's ledger head is the dump's.
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                exported = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
                answer = read(conn)
                options = [
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={exported}",
                    f"--file={out}",
                ]
                _run_pg("pg_dump", options, database_url)
        return answer
    finally:
        engine.dispose()


def load(database_url: str, snapshot_path: Path) -> None:
    """Load a snapshot into the empty database at `database_url`."""
    if kind_of(database_url) is DatabaseKind.SQLITE:
        target_path = sqlite_file(database_url)
        assert target_path is not None
        target_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with closing(sqlite3.connect(snapshot_path)) as source, closing(sqlite3.connect(target_path)) as target:
            source.backup(target)
        target_path.chmod(0o600)
        return
    _run_pg(
        "pg_restore",
        ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"],
        database_url,
        str(snapshot_path),
    )


def require_empty(database_url: str) -> None:
    """Refuse a database that holds anything: a restore never overwrites."""
    if kind_of(database_url) is DatabaseKind.SQLITE:
        path = sqlite_file(database_url)
        if path is not None and path.exists() and path.stat().st_size > 0:
            raise LiveNode(
                _("the database file {path} exists; restore into a new file (move it away first)").format(path=path)
            )
        return
    engine = create_engine(database_url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise LiveNode(
            _("the database {url} holds {count} tables; restore into an empty database (createdb a new one)").format(
                url=_safe(database_url), count=len(tables)
            )
        )


def empty_again(database_url: str) -> None:
    """Undo a load that a later check refused: the database is left as it was found, empty."""
    if kind_of(database_url) is DatabaseKind.SQLITE:
        path = sqlite_file(database_url)
        if path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def _safe(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the PostgreSQL tools: the password in PGPASSWORD, never on a command line."""
    args = [f"--dbname={url.database}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run_pg(tool: str, options: list[str], database_url: str, *operands: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(
            _(
                "{tool} is not on PATH; install the PostgreSQL client (Debian: apt-get install postgresql-client)"
            ).format(tool=tool)
        )
    args, env = _libpq(make_url(database_url))
    done = subprocess.run([tool, *options, *args, *operands], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(
            _("{tool} failed on {url} (exit {code}): {stderr}").format(
                tool=tool, url=_safe(database_url), code=done.returncode, stderr=done.stderr.strip()[-600:]
            )
        )
