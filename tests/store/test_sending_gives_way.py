"""A bulk batch's transaction gives way to an urgent message (in process, SQLite): the urgent message sent while a
routine batch is being stored is stored first, the batch is stored again from the start afterwards, and in the end
each message is stored, queued and logged once, on an unbroken channel and an unbroken log."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from accord.directory.officers import Officer
from accord.domain.drafts import MessageDraft
from accord.exchange import sending
from accord.exchange.sending import Queued
from accord.ledger.events import tree_root
from accord.ledger.tree import node_hash
from accord.node import Node
from accord.store.engine import urgent_writer_waiting
from accord.store.tables import events, ledger_head, messages, outbox
from tests.integration.nodes import draft


def _root_of(leaves: list[bytes]) -> bytes:
    """RFC 9162's Merkle tree hash, computed from the leaves alone."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(_root_of(leaves[:split]), _root_of(leaves[split:]))


def test_an_urgent_message_sent_while_a_batch_is_stored_goes_first_and_the_batch_is_stored_once(
    canada: tuple[Node, Officer], monkeypatch: pytest.MonkeyPatch
) -> None:
    node, officer = canada
    batch = [MessageDraft(**draft(title=f"Consignee {n}")) for n in range(sending._SLICE + 10)]
    urgent: list[Queued] = []
    urgent_thread: list[threading.Thread] = []
    slices_stored: list[int] = []
    queue_slice = sending._queue_slice

    def send_urgent() -> None:
        urgent.extend(sending.send_messages(node, officer, [MessageDraft(**draft(priority="urgent"))]))

    def slice_then_urgent(*args: Any, **kwargs: Any) -> list[Queued]:
        conn: Connection = args[1]
        stored = queue_slice(*args, **kwargs)
        slices_stored.append(len(stored))
        if not urgent_thread:  # the batch's first slice is stored: an officer sends an urgent message now
            urgent_thread.append(threading.Thread(target=send_urgent))
            urgent_thread[0].start()
            deadline = time.monotonic() + 10
            while not urgent_writer_waiting(conn):
                assert time.monotonic() < deadline, "the urgent message never waited for the lock"
                time.sleep(0.005)
        return stored

    monkeypatch.setattr(sending, "_queue_slice", slice_then_urgent)
    queued = sending.send_messages(node, officer, batch)
    urgent_thread[0].join(10)

    # The batch's first slice was stored, then rolled back for the urgent message (its one); then the whole batch.
    assert slices_stored == [sending._SLICE, 1, sending._SLICE, 10]
    [first] = urgent
    assert first.channel_seq is not None
    assert all(q.channel_seq is not None and q.channel_seq > first.channel_seq for q in queued)
    with node.engine.connect() as conn:
        ids = [q.message.id for q in [first, *queued]]
        stored = conn.execute(select(messages.c.id, messages.c.channel_seq).where(messages.c.direction == "outgoing"))
        seqs = {row.id: row.channel_seq for row in stored}
        assert sorted(seqs) == sorted(ids)
        assert sorted(seqs.values()) == list(range(first.channel_seq, first.channel_seq + len(ids)))
        assert conn.scalar(select(func.count()).select_from(outbox)) == len(ids)
        created = conn.scalars(select(events.c.refs).where(events.c.type == "message.created")).all()
        assert len(created) == len(ids)  # nothing logged of the attempt given up
        # The log is unbroken: leaves 0..size-1, and its root is the one its leaves make.
        size = int(conn.scalar(select(ledger_head.c.size)) or 0)
        leaves = [bytes(h) for h in conn.scalars(select(events.c.leaf_hash).order_by(events.c.id))]
        assert list(conn.scalars(select(events.c.id).order_by(events.c.id))) == list(range(size))
        assert tree_root(conn, size) == _root_of(leaves)
