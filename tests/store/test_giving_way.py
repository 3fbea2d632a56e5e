"""A bulk write gives way to urgent writers: begun by `write_giving_way`, it is rolled back at a `give_way` point while
an urgent writer of the process waits for SQLite's lock, and begun again once the urgent writers are through; what
it stores in the end is stored once. It gives way a bounded number of times, then runs to its end whoever waits;
it never gives way to itself, to routine writers, or on PostgreSQL (whose writers do not wait for each other)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, Engine, text

from accord.store import engine as store_engine
from accord.store.engine import give_way, make_engine, urgent_writer_waiting, urgent_writes, write_giving_way
from tests.conftest import PG_ADMIN_DSN, postgres_reachable

WAIT_S = 10.0


def _stored(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [str(who) for who in conn.execute(text("SELECT who FROM log ORDER BY n")).scalars()]


def _urgent_writer(engine: Engine, who: str) -> threading.Thread:
    def write() -> None:
        with urgent_writes(), engine.begin() as conn:
            conn.execute(text("INSERT INTO log (who) VALUES (:who)"), {"who": who})

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_bulk_write_gives_way_to_an_urgent_writer_and_is_stored_once_after_it(engine: Engine) -> None:
    attempts: list[int] = []
    urgent: list[threading.Thread] = []

    def bulk(conn: Connection) -> str:
        attempts.append(len(attempts) + 1)
        conn.execute(text("INSERT INTO log (who) VALUES ('bulk, first half')"))
        if len(attempts) == 1:
            urgent.append(_urgent_writer(engine, "urgent"))
            _until(lambda: urgent_writer_waiting(conn))
        give_way(conn)
        conn.execute(text("INSERT INTO log (who) VALUES ('bulk, second half')"))
        return "stored"

    assert write_giving_way(engine, bulk) == "stored"
    urgent[0].join(WAIT_S)
    assert attempts == [1, 2]
    assert _stored(engine) == ["urgent", "bulk, first half", "bulk, second half"]


def test_a_bulk_write_gives_way_a_bounded_number_of_times_then_runs_to_its_end(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_engine, "_GIVE_WAY_TIMES", 3)
    attempts: list[int] = []
    urgent: list[threading.Thread] = []

    def bulk(conn: Connection) -> None:
        attempts.append(len(attempts) + 1)
        urgent.append(_urgent_writer(engine, f"urgent {len(attempts)}"))
        _until(lambda: urgent_writer_waiting(conn))
        give_way(conn)  # the fourth time it is not cut short, with an urgent writer waiting all the same
        conn.execute(text("INSERT INTO log (who) VALUES ('bulk')"))

    write_giving_way(engine, bulk)
    for thread in urgent:
        thread.join(WAIT_S)
    assert attempts == [1, 2, 3, 4]
    assert _stored(engine) == ["urgent 1", "urgent 2", "urgent 3", "bulk", "urgent 4"]


def test_a_write_gives_way_neither_to_routine_writers_nor_within_urgent_work(engine: Engine) -> None:
    routine_waiting = threading.Event()
    routine: list[threading.Thread] = []

    def routine_writer() -> None:
        routine_waiting.set()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO log (who) VALUES ('routine')"))

    def bulk(conn: Connection) -> None:
        conn.execute(text("INSERT INTO log (who) VALUES ('bulk')"))
        if not routine:
            routine.append(threading.Thread(target=routine_writer))
            routine[0].start()
            routine_waiting.wait(WAIT_S)
            time.sleep(0.1)  # at the gate, behind this write
        give_way(conn)

    write_giving_way(engine, bulk)
    routine[0].join(WAIT_S)
    assert _stored(engine) == ["bulk", "routine"]

    def urgent_bulk(conn: Connection) -> None:
        conn.execute(text("INSERT INTO log (who) VALUES ('urgent bulk')"))
        waiting = _urgent_writer(engine, "another urgent")
        _until(lambda: urgent_writer_waiting(conn))
        give_way(conn)  # urgent work does not give way: the other urgent writer waits its turn
        waiting_threads.append(waiting)

    waiting_threads: list[threading.Thread] = []
    with urgent_writes():
        write_giving_way(engine, urgent_bulk)
    waiting_threads[0].join(WAIT_S)
    assert _stored(engine) == ["bulk", "routine", "urgent bulk", "another urgent"]


def test_what_fails_otherwise_is_rolled_back_and_not_tried_again(engine: Engine) -> None:
    attempts: list[int] = []

    def failing(conn: Connection) -> None:
        attempts.append(1)
        conn.execute(text("INSERT INTO log (who) VALUES ('half')"))
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        write_giving_way(engine, failing)
    assert attempts == [1]
    assert _stored(engine) == []


def test_a_give_way_point_outside_such_a_write_does_nothing(engine: Engine) -> None:
    urgent: list[threading.Thread] = []
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO log (who) VALUES ('plain write')"))
        urgent.append(_urgent_writer(engine, "urgent"))
        _until(lambda: urgent_writer_waiting(conn))
        give_way(conn)
    urgent[0].join(WAIT_S)
    assert _stored(engine) == ["plain write", "urgent"]


@pytest.mark.postgres
def test_on_postgresql_a_bulk_write_runs_once_without_giving_way() -> None:
    postgres_reachable()
    engine = make_engine(PG_ADMIN_DSN.replace("postgresql://", "postgresql+psycopg://", 1))
    attempts: list[int] = []

    def bulk(conn: Connection) -> int:
        attempts.append(1)
        assert conn.info.get(store_engine._GIVES_WAY) is None
        give_way(conn)
        return int(conn.execute(text("SELECT 1")).scalar_one())

    try:
        assert write_giving_way(engine, bulk) == 1
    finally:
        engine.dispose()
    assert attempts == [1]
