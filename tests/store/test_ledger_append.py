"""Ledger appends: atomic with the change they record, gap-free and consistent under concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, insert, select

from accord.ledger.events import EventType, append_event, append_events, event_row, tree_root
from accord.ledger.proofs import StoredTree
from accord.ledger.tree import MemoryTree, inclusion_proof, verify_inclusion
from accord.store.engine import make_engine
from accord.store.migrate import migrate
from accord.store.tables import blobs, events, ledger_head
from tests.conftest import DatabaseFactory
from tests.ledger_checks import assert_ledger_intact


def fresh(databases: DatabaseFactory) -> Engine:
    url = databases.new_url("ledger")
    migrate(url)
    return make_engine(url)


def test_an_append_and_the_change_it_records_commit_or_roll_back_together(databases: DatabaseFactory) -> None:
    engine = fresh(databases)
    try:
        with pytest.raises(RuntimeError), engine.begin() as conn:
            conn.execute(
                insert(blobs).values(
                    sha256="a" * 64, size=1, media_type="text/plain", origin="local", stored_at=datetime.now(UTC)
                )
            )
            append_event(conn, EventType.ATTACHMENT_STORED, "tester", {"sha256": "a" * 64})
            raise RuntimeError("the process dies before commit")
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(blobs)) == 0
            assert conn.scalar(select(func.count()).select_from(events)) == 0
            assert conn.scalar(select(ledger_head.c.size)) == 0
        with engine.begin() as conn:
            logged = append_event(conn, EventType.ATTACHMENT_STORED, "tester", {"sha256": "b" * 64})
        assert logged.indexes == [0], "a rolled-back append leaves no hole in the numbering"
        assert_ledger_intact(engine)
    finally:
        engine.dispose()


def test_concurrent_writers_get_gap_free_indexes_and_one_consistent_tree(databases: DatabaseFactory) -> None:
    engine = fresh(databases)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for n in range(25):
                rows = [
                    event_row(EventType.MESSAGE_READ, name, {"message": f"{name}-{n}-{k}"}) for k in range(1 + n % 3)
                ]
                with engine.begin() as conn:
                    append_events(conn, rows)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        size = assert_ledger_intact(engine)
        assert size == 6 * sum(1 + n % 3 for n in range(25))
    finally:
        engine.dispose()


def test_stored_tree_gives_the_same_root_and_proofs_as_a_tree_built_from_the_leaves(
    databases: DatabaseFactory,
) -> None:
    engine = fresh(databases)
    try:
        for batch in range(13):
            with engine.begin() as conn:
                append_events(conn, [event_row(EventType.MESSAGE_READ, "t", {"n": batch * 10 + k}) for k in range(7)])
        with engine.connect() as conn:
            hashes = [bytes(h) for h in conn.scalars(select(events.c.leaf_hash).order_by(events.c.id))]
            memory = MemoryTree.from_leaf_hashes(hashes)
            for size in (1, 2, 7, 8, 33, 64, 90, 91):
                assert tree_root(conn, size) == memory.root(size)
                for index in (0, size // 2, size - 1):
                    proof = inclusion_proof(StoredTree(conn), index, size)
                    assert proof == inclusion_proof(memory, index, size)
                    verify_inclusion(hashes[index], index, size, proof, memory.root(size))
    finally:
        engine.dispose()
