"""Engines for the embedded SQLite default (WAL) and for PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

_WRITER = "accord_writer"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take it over so that `engine.begin()` (every write in
        # Accord) takes BEGIN IMMEDIATE and serialises writers up front instead of failing late with "database is
        # locked", while `engine.connect()` (reads only) takes a plain BEGIN: a WAL snapshot that blocks no writer.
        event.listen(engine, "begin", _sqlite_begin)
        engine.begin = partial(_begin_immediate, engine)  # type: ignore[method-assign]
        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get(_WRITER) else "BEGIN")


@contextmanager
def _begin_immediate(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.info[_WRITER] = True
        try:
            with conn.begin():
                yield conn
        finally:
            conn.info.pop(_WRITER, None)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
