"""Engines for the embedded SQLite default (WAL) and for PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

_WRITER = "accord_writer"
_BUSY_TIMEOUT_S = 30
_GATE_WAIT_S = _BUSY_TIMEOUT_S
_URGENT: ContextVar[bool] = ContextVar("accord_urgent_writes", default=False)


@contextmanager
def urgent_writes() -> Iterator[None]:
    """Writes begun in this block (this thread or task) go before the writes other threads are waiting to begin: an
    urgent message is not stored behind a queue of bulk batches. SQLite only (one writer at a time); PostgreSQL's
    writers do not wait for each other."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


class _WriterGate:
    """One SQLite writer at a time within this process, waiting on a condition rather than in SQLite's busy handler
    (which polls, sleeping up to 100 ms between tries, and favours no one): a writer that is let in begins at once,
    and urgent writers are let in before the others waiting. Other processes (a CLI command) still meet the busy
    handler."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._holder: int | None = None
        self._urgent_waiting = 0

    @contextmanager
    def held(self) -> Iterator[None]:
        me = threading.get_ident()
        if self._holder == me:  # a write begun inside a write: SQLite's own lock decides, as without the gate
            yield
            return
        urgent = _URGENT.get()
        deadline = time.monotonic() + _GATE_WAIT_S
        with self._condition:
            self._urgent_waiting += urgent
            try:
                while self._holder is not None or (not urgent and self._urgent_waiting):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._condition.wait(left)
                else:
                    self._holder = me
            finally:
                self._urgent_waiting -= urgent
        if self._holder != me:  # waited as long as SQLite would: its lock decides, and fails as it would
            yield
            return
        try:
            yield
        finally:
            with self._condition:
                self._holder = None
                self._condition.notify_all()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": _BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take it over so that `engine.begin()` (every write in
        # Accord) takes BEGIN IMMEDIATE and serialises writers up front instead of failing late with "database is
        # locked", while `engine.connect()` (reads only) takes a plain BEGIN: a WAL snapshot that blocks no writer.
        event.listen(engine, "begin", _sqlite_begin)
        engine.begin = partial(_begin_immediate, engine, _WriterGate())  # type: ignore[method-assign]
        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get(_WRITER) else "BEGIN")


@contextmanager
def _begin_immediate(engine: Engine, gate: _WriterGate) -> Iterator[Connection]:
    with gate.held(), engine.connect() as conn:
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
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
