"""Bulk work gives way: an item of it (a draft screened, an envelope signed, an arrival screened) waits while another
thread of the process does urgent work (an urgent writer waiting for SQLite's lock included), runs alone among the
process's bulk items, and is never stopped for longer than its limit; it never waits for its own thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import Engine, text

from accord.store import engine as store_engine
from accord.store.engine import bulk_item, urgent_writes

WAIT_S = 10.0  # a test that should not see the limit sets it long: the order it checks is then not a race


Holder = tuple[threading.Thread, threading.Event, list[str]]


def _holding(block: Callable[[], AbstractContextManager[object]]) -> Holder:
    """A thread inside `block` until the returned event is set; `order` records when it left."""
    inside, release, order = threading.Event(), threading.Event(), list[str]()

    def hold() -> None:
        with block():
            inside.set()
            release.wait(WAIT_S)
            order.append("held")

    thread = threading.Thread(target=hold)
    thread.start()
    assert inside.wait(5)
    return thread, release, order


def _bulk(order: list[str], name: str = "bulk") -> threading.Thread:
    def item() -> None:
        with bulk_item():
            order.append(name)

    thread = threading.Thread(target=item)
    thread.start()
    return thread


def test_a_bulk_item_waits_while_another_thread_does_urgent_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_engine, "_GIVE_WAY_S", WAIT_S)
    holder, release, order = _holding(urgent_writes)
    bulk = _bulk(order)
    time.sleep(0.3)
    assert order == []  # still waiting
    release.set()
    holder.join(5)
    bulk.join(5)
    assert order == ["held", "bulk"]


def test_a_bulk_item_waits_while_another_thread_writes_and_an_urgent_writer_goes_before_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another thread holds SQLite's writer lock, bulk items wait, so that the writer (which lets go of the
    interpreter at every row) has it to itself and lets the other writers in sooner; an urgent writer waiting for the
    lock goes before them."""
    monkeypatch.setattr(store_engine, "_GIVE_WAY_S", WAIT_S)
    holder, release, order = _holding(engine.begin)
    bulk = _bulk(order)
    time.sleep(0.3)
    assert order == []  # waiting for the routine writer

    def urgent_writer() -> None:
        with urgent_writes(), engine.begin() as conn:
            conn.execute(text("INSERT INTO log (who) VALUES ('urgent')"))
            order.append("urgent")

    urgent = threading.Thread(target=urgent_writer)
    urgent.start()
    time.sleep(0.3)  # waiting for the routine writer's lock
    assert order == []
    release.set()
    for thread in (holder, urgent, bulk):
        thread.join(5)
    assert order == ["held", "urgent", "bulk"]


def test_a_bulk_item_beside_a_writer_waits_no_longer_than_its_limit(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_engine, "_GIVE_WAY_S", 0.05)
    holder, release, order = _holding(engine.begin)
    _bulk(order).join(5)
    assert order == ["bulk"]  # went on while the write still held
    release.set()
    holder.join(5)
    assert order == ["bulk", "held"]


def test_a_writer_s_own_bulk_items_do_not_wait_for_it(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_engine, "_GIVE_WAY_S", WAIT_S)
    started = time.monotonic()
    with engine.begin() as conn, bulk_item():
        conn.execute(text("INSERT INTO log (who) VALUES ('own item')"))
    assert time.monotonic() - started < 1.0


def test_a_bulk_item_waits_no_longer_than_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_engine, "_GIVE_WAY_S", 0.05)
    holder, release, order = _holding(urgent_writes)
    started = time.monotonic()
    _bulk(order).join(5)
    try:
        assert order == ["bulk"]  # ran while the urgent work still lasted
        assert time.monotonic() - started < 3
    finally:
        release.set()
        holder.join(5)


def test_one_bulk_item_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_engine, "_GIVE_WAY_S", WAIT_S)
    holder, release, order = _holding(bulk_item)
    second = _bulk(order, "second")
    time.sleep(0.3)
    assert order == []
    release.set()
    holder.join(5)
    second.join(5)
    assert order == ["held", "second"]


def test_an_item_waits_for_its_turn_no_longer_than_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """An item that never ends (it waits for something the next one holds) does not stop the next for good."""
    monkeypatch.setattr(store_engine, "_TURN_WAIT_S", 0.2)
    holder, release, order = _holding(bulk_item)
    try:
        _bulk(order, "second").join(5)
        assert order == ["second"]
    finally:
        release.set()
        holder.join(5)


def test_work_given_way_to_never_waits_for_itself(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bulk items within urgent work, within a write, within a bulk item, and a write within a bulk item: none waits
    (each would wait the whole limit, or for ever, if it waited for its own thread)."""
    monkeypatch.setattr(store_engine, "_GIVE_WAY_S", WAIT_S)
    started = time.monotonic()
    with urgent_writes(), bulk_item():
        pass
    with engine.begin() as conn, bulk_item():
        conn.execute(text("INSERT INTO log (who) VALUES ('in a write')"))
    with bulk_item(), bulk_item():
        pass
    with bulk_item(), engine.begin() as conn:
        conn.execute(text("INSERT INTO log (who) VALUES ('write in an item')"))
    assert time.monotonic() - started < 2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log")).scalar_one() == 2


def test_a_writer_that_runs_bulk_items_does_not_wait_for_an_item_waiting_for_its_lock(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item that writes waits for the writer's lock while it has the bulk turn; the writer holding the lock runs
    bulk items of its own: it must not wait for that turn (the two would wait for each other for ever). (The item
    first waits its limit for the writer, as every bulk item beside a writer does, then takes the turn.)"""
    monkeypatch.setattr(store_engine, "_GIVE_WAY_S", 0.05)
    holder_inside, item_waiting, order = threading.Event(), threading.Event(), list[str]()

    def writer() -> None:
        with engine.begin() as conn:
            holder_inside.set()
            assert item_waiting.wait(5)
            time.sleep(0.2)  # the item has the turn and waits for this lock
            with bulk_item():
                conn.execute(text("INSERT INTO log (who) VALUES ('writer')"))
                order.append("writer's item")

    def item_that_writes() -> None:
        with bulk_item():
            item_waiting.set()
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO log (who) VALUES ('item')"))
                order.append("item's write")

    first = threading.Thread(target=writer)
    first.start()
    assert holder_inside.wait(5)
    second = threading.Thread(target=item_that_writes)
    second.start()
    for thread in (first, second):
        thread.join(10)
    assert order == ["writer's item", "item's write"]


def test_a_failing_item_or_urgent_block_lets_the_others_go(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_engine, "_GIVE_WAY_S", WAIT_S)
    for block in (bulk_item, urgent_writes):
        with pytest.raises(RuntimeError), block():
            raise RuntimeError("failed")
    started = time.monotonic()
    order: list[str] = []
    _bulk(order).join(5)
    assert order == ["bulk"]
    assert time.monotonic() - started < 2
