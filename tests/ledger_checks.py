"""A check several test suites share: a node's ledger is whole and every stored hash is right."""

from __future__ import annotations

from sqlalchemy import Engine, select

from accord.ledger.events import leaf_bytes, leaf_record, tree_root
from accord.ledger.tree import MemoryTree, leaf_hash
from accord.store.tables import events, ledger_head


def assert_ledger_intact(engine: Engine) -> int:
    """Indexes 0..n-1 with no gap, each leaf hash recomputed from its row, the stored tree's root equal to the
    root of those leaves; returns n."""
    with engine.connect() as conn:
        size = int(conn.execute(select(ledger_head.c.size)).scalar_one())
        rows = conn.execute(select(events).order_by(events.c.id)).all()
        stored_root = tree_root(conn, size)
    assert [row.id for row in rows] == list(range(size)), "the ledger has a gap or rows beyond its head"
    hashes = []
    for row in rows:
        expected = leaf_hash(leaf_bytes(leaf_record(row.id, row.at, row.type, row.actor, row.refs, row.payload_sha256)))
        assert bytes(row.leaf_hash) == expected, f"leaf {row.id} does not match its row"
        hashes.append(expected)
    assert MemoryTree.from_leaf_hashes(hashes).root(size) == stored_root
    return size
