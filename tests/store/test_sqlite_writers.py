"""SQLite's one writer at a time: writers in a node process wait their turn at a gate rather than in SQLite's busy
handler, and an urgent writer (an urgent message, the urgent delivery lane) goes before the routine ones waiting."""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext
from pathlib import Path

from sqlalchemy import text

from accord.store.engine import make_engine, urgent_writes


def test_an_urgent_writer_goes_before_routine_writers_that_waited_longer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE log (n INTEGER PRIMARY KEY, who TEXT)"))
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with engine.begin() as conn:
            holding.set()
            release.wait(10)
            conn.execute(text("INSERT INTO log (who) VALUES ('first')"))
            order.append("first")

    def writer(name: str, urgent: bool) -> None:
        with urgent_writes() if urgent else nullcontext(), engine.begin() as conn:
            conn.execute(text("INSERT INTO log (who) VALUES (:who)"), {"who": name})
            order.append(name)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert holding.wait(5)
    for name, urgent in (("routine-1", False), ("routine-2", False), ("urgent", True)):
        thread = threading.Thread(target=writer, args=(name, urgent))
        thread.start()
        threads.append(thread)
        time.sleep(0.2)  # each is waiting before the next starts
    release.set()
    for thread in threads:
        thread.join(10)
    assert order[:2] == ["first", "urgent"]
    assert sorted(order[2:]) == ["routine-1", "routine-2"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log")).scalar_one() == 4
    engine.dispose()


def test_a_write_that_fails_lets_the_next_writer_in(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    done = threading.Event()

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
        done.set()

    threading.Thread(target=write).start()
    assert done.wait(5)
    engine.dispose()
