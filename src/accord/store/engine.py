"""Engines for the embedded SQLite default (WAL) and for PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, create_engine, event, select

_WRITER = "accord_writer"
_GATE = "accord_gate"  # a write transaction's connection: the gate its thread took, if it took one
_GIVES_WAY = "accord_gives_way"  # a write transaction's connection: it may be cut short at `give_way` points (True)
_T = TypeVar("_T")
_BUSY_TIMEOUT_S = 30
_GATE_WAIT_S = _BUSY_TIMEOUT_S


class _Precedence:
    """Who in this process goes first for the interpreter. CPython runs one thread at a time, and a thread that gives
    up its turn (for every statement it sends the database, every request it reads) waits behind each thread that
    wants one: beside four threads screening bulk batches, a routine 500-row transaction held SQLite's writer lock
    ten times longer than alone while an urgent message waited for it, and the urgent message's own work crawled. So
    bulk work runs as items (`bulk_item`): one item at a time in the process, and none while another thread does
    urgent work (an urgent writer waiting for the lock included) or holds SQLite's writer lock: the writer then has
    the interpreter to itself and lets the others in sooner."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._urgent: dict[int, int] = {}  # thread → depth
        self._turn = threading.Lock()
        self._thread = threading.local()
        self._writers = 0  # threads in a write transaction

    @contextmanager
    def urgent(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._condition:
            self._urgent[me] = self._urgent.get(me, 0) + 1
        try:
            yield
        finally:
            with self._condition:
                self._urgent[me] -= 1
                if not self._urgent[me]:
                    del self._urgent[me]
                    self._condition.notify_all()

    def is_urgent(self) -> bool:
        return threading.get_ident() in self._urgent

    @contextmanager
    def writing(self) -> Iterator[None]:
        """This thread holds SQLite's writer lock: a bulk item it runs must not wait (for the urgent writer waiting
        for this very lock, or for the turn of an item that waits for it)."""
        self._thread.writing = getattr(self._thread, "writing", 0) + 1
        outermost = self._thread.writing == 1
        if outermost:
            with self._condition:
                self._writers += 1
        try:
            yield
        finally:
            self._thread.writing -= 1
            if outermost:
                with self._condition:
                    self._writers -= 1
                    self._condition.notify_all()

    @contextmanager
    def bulk_item(self, limit_s: float) -> Iterator[None]:
        me = threading.get_ident()
        writing = getattr(self._thread, "writing", 0) > 0
        if me in self._urgent or writing or getattr(self._thread, "in_item", False):
            yield  # within this thread's own urgent work, within its write, or an item within an item
            return
        self._give_way(me, limit_s)
        # Bounded too: an item that waits for something a thread waiting for the turn holds (a pooled connection, a
        # lock of the caller's) goes on without the turn rather than waiting for ever.
        turn = self._turn.acquire(timeout=_TURN_WAIT_S)
        self._thread.in_item = True
        try:
            yield
        finally:
            self._thread.in_item = False
            if turn:
                self._turn.release()

    def _give_way(self, me: int, limit_s: float) -> None:
        # Also while another thread writes: SQLite lets go of the interpreter at every row it steps, and a writer
        # that then waited for a bulk item's turn at each (a slice of 50 drafts: 33–47 ms of its CPU in 190–280 ms)
        # held the writer's lock, which every other writer waits for, several times longer than its work.
        if not self._urgent and not self._writers:  # (read unlocked: a stale answer costs one item's turn at most)
            return
        deadline = time.monotonic() + limit_s
        with self._condition:
            while self._urgent.keys() - {me} or self._writers:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._condition.wait(left)


_PRECEDENCE = _Precedence()
# An item of bulk work waits at most this long for the work it gives way to, and for its turn: it is never stopped
# for good.
_GIVE_WAY_S = 0.05
_TURN_WAIT_S = 1.0


def bulk_item() -> AbstractContextManager[None]:
    """One item of bulk work (a draft screened, an envelope signed, an arrival screened): it waits (up to 50 ms) while
    another thread of this process does urgent work or writes to SQLite, and runs alone among the bulk items of this
    process, so that the threads that must not wait get their turns promptly."""
    return _PRECEDENCE.bulk_item(_GIVE_WAY_S)


def urgent_writes() -> AbstractContextManager[None]:
    """Urgent work: writes this thread begins in this block go before the writes other threads are waiting to begin,
    so that an urgent message is not stored behind a queue of bulk batches (SQLite only: one writer at a time;
    PostgreSQL's writers do not wait for each other), and bulk work gives way while it lasts."""
    return _PRECEDENCE.urgent()


class _WriterGate:
    """One SQLite writer at a time within this process, waiting on a condition rather than in SQLite's busy handler
    (which polls, sleeping up to 100 ms between tries, and favours no one): a writer that is let in begins at once,
    and urgent writers are let in before the others waiting. Other processes (a CLI command) still meet the busy
    handler."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._holder: int | None = None
        self._urgent_waiting = 0

    def urgent_waiting(self) -> bool:
        return self._urgent_waiting > 0  # (read unlocked: a stale answer moves a give-way point by one)

    @contextmanager
    def held(self) -> Iterator[bool]:
        """Whether this thread took the gate (not when the thread holds it already, or waited as long as SQLite)."""
        me = threading.get_ident()
        if self._holder == me:  # a write begun inside a write: SQLite's own lock decides, as without the gate
            yield False
            return
        urgent = _PRECEDENCE.is_urgent()
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
            yield False
            return
        try:
            yield True
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
    with gate.held() as took, _PRECEDENCE.writing(), engine.connect() as conn:
        conn.info[_WRITER] = True
        if took:
            conn.info[_GATE] = gate
        try:
            with conn.begin():
                yield conn
        finally:
            for key in (_WRITER, _GATE, _GIVES_WAY):
                conn.info.pop(key, None)


class _GaveWay(Exception):
    """A bulk write cut short at a `give_way` point for an urgent writer of its process: rolled back, run again."""


# A bulk write gives way at most this many times; then it runs to its end whoever waits. Each time costs the work
# done so far, so urgent traffic delays bulk work, it never stops it.
_GIVE_WAY_TIMES = 8


def write_giving_way(engine: Engine, work: Callable[[Connection], _T]) -> _T:
    """`work(conn)` in a write transaction that urgent writers of this process need not wait for: at each of the
    work's `give_way` points, while an urgent writer waits for SQLite's lock (an urgent message's own store, the
    urgent lane's claim), the transaction is rolled back and the work begun again once the urgent writers are
    through. A writer is not interrupted otherwise, and a bulk batch of 500 drafts held the lock for 0.2–0.5 s
    under load: every urgent message that came meanwhile waited for all of it. `work` must be safe to begin again:
    it writes only through `conn` and changes nothing it is given. Nothing changes on PostgreSQL (its writers do
    not wait for each other) nor for urgent work."""
    for _attempt in range(_GIVE_WAY_TIMES):
        try:
            with engine.begin() as conn:
                if _GATE in conn.info and not _PRECEDENCE.is_urgent():
                    conn.info[_GIVES_WAY] = True
                return work(conn)
        except _GaveWay:
            continue  # the gate lets the urgent writers waiting in before this one
    with engine.begin() as conn:
        return work(conn)


def give_way(conn: Connection) -> None:
    """A point where a write begun by `write_giving_way` stops for an urgent writer waiting; elsewhere nothing."""
    if conn.info.get(_GIVES_WAY) and urgent_writer_waiting(conn):
        raise _GaveWay


def urgent_writer_waiting(conn: Connection) -> bool:
    """Whether, while this connection's transaction holds SQLite's writer lock, an urgent writer of the process waits
    for it (never on PostgreSQL)."""
    gate: _WriterGate | None = conn.info.get(_GATE)
    return gate is not None and gate.urgent_waiting()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def any_row(engine: Engine, column: ColumnElement[Any], *where: ColumnElement[bool]) -> bool:
    """Whether a row matches, read on a snapshot. A claim asks this first: with nothing to claim, its round takes no
    write lock (on SQLite, `engine.begin()` takes the file's, BEGIN IMMEDIATE)."""
    with engine.connect() as conn:
        return conn.execute(select(column).where(*where).limit(1)).first() is not None


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
