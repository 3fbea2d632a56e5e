"""Claiming the outbox: urgent rows leave in a batch of their own, so a full batch of routine traffic never carries
them; a channel whose peer does not answer holds what is queued on it; on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, select, update

from accord.domain.messages import Priority
from accord.exchange.outbox import (
    URGENT_RANK,
    ChannelHold,
    OutboxEntry,
    OutboxKind,
    channel_due,
    claim_due,
    enqueue,
    held_channels,
    hold_channel,
    release_channel,
)
from accord.store.engine import make_engine
from accord.store.migrate import migrate
from accord.store.tables import outbox
from tests.conftest import DatabaseFactory


def fresh(databases: DatabaseFactory) -> Engine:
    url = databases.new_url("outbox")
    migrate(url)
    return make_engine(url)


def entries(priority: Priority, count: int, first: int) -> list[OutboxEntry]:
    return [OutboxEntry(OutboxKind.MESSAGE, f"m-{first + n}", priority.outbox_rank, "{}") for n in range(count)]


def queued(databases: DatabaseFactory, *groups: tuple[Priority, int]) -> Engine:
    """A fresh outbox with, in this order, each group's count of rows of its priority (ids m-0, m-1, …)."""
    engine = fresh(databases)
    first = 0
    with engine.begin() as conn:
        for priority, count in groups:
            enqueue(conn, "ca-node-1", "in-node-1", entries(priority, count, first))
            first += count
    return engine


def test_urgent_rows_are_claimed_alone_before_routine_ones_queued_earlier(databases: DatabaseFactory) -> None:
    engine = queued(databases, (Priority.ROUTINE, 5), (Priority.URGENT, 2), (Priority.IMMEDIATE, 1))
    claims = [[item.ref_id for item in claim_due(engine, "ca-node-1", "in-node-1", 200, 60)] for _ in range(4)]
    assert claims == [["m-7"], ["m-5", "m-6"], ["m-0", "m-1", "m-2", "m-3", "m-4"], []]
    engine.dispose()


def test_the_urgent_lane_claims_immediate_and_urgent_rows_and_leaves_routine_ones(databases: DatabaseFactory) -> None:
    engine = queued(databases, (Priority.ROUTINE, 3), (Priority.URGENT, 1), (Priority.IMMEDIATE, 1))
    claims = [
        [item.ref_id for item in claim_due(engine, "ca-node-1", "in-node-1", 200, 60, max_rank=URGENT_RANK)]
        for _ in range(3)
    ]
    assert claims == [["m-4"], ["m-3"], []]
    assert [item.ref_id for item in claim_due(engine, "ca-node-1", "in-node-1", 200, 60)] == ["m-0", "m-1", "m-2"]
    engine.dispose()


def test_rows_queued_while_the_channel_is_held_wait_with_it_until_the_peer_answers(databases: DatabaseFactory) -> None:
    """A peer that does not answer holds its channel: what is queued meanwhile is not tried batch by batch (each
    attempt signs and logs every envelope it carries), it waits with the rows already held and leaves with them."""
    engine = queued(databases, (Priority.ROUTINE, 3))
    [first] = [[item.ref_id for item in claim_due(engine, "ca-node-1", "in-node-1", 200, 60)]]
    assert first == ["m-0", "m-1", "m-2"]
    due = datetime.now(UTC) + timedelta(seconds=30)
    with engine.begin() as conn:
        release_leases_in(conn)
        hold_channel(conn, "ca-node-1", "in-node-1", due, "peer unreachable: connection refused")
        enqueue(conn, "ca-node-1", "in-node-1", entries(Priority.ROUTINE, 2, 3) + entries(Priority.URGENT, 1, 5))
        enqueue(conn, "ca-node-1", "other-node", entries(Priority.ROUTINE, 1, 6))  # another peer's channel: not held
        assert channel_due(conn, "ca-node-1", "in-node-1", datetime.now(UTC)) == due
        # What a delivery round reads first: until the hold ends it claims nothing for the peer, without looking.
        assert held_channels(conn, "ca-node-1") == {
            "in-node-1": ChannelHold(due, "peer unreachable: connection refused")
        }
    # Nor does a claim that looks: the hold is the channel's, not written on each row that waits.
    assert claim_due(engine, "ca-node-1", "in-node-1", 200, 60) == []
    assert [item.ref_id for item in claim_due(engine, "ca-node-1", "other-node", 200, 60)] == ["m-6"]
    with engine.connect() as conn:
        waiting = dict(
            conn.execute(
                select(outbox.c.ref_id, outbox.c.next_attempt_at).where(outbox.c.peer_node_id == "in-node-1")
            ).all()
        )
    assert all(at < due for at in waiting.values()), "the hold is not written on the rows"

    # The peer announces itself (or answers a batch): the channel is released and what is queued next is due at once.
    with engine.begin() as conn:
        release_channel(conn, "ca-node-1", "in-node-1")
        assert held_channels(conn, "ca-node-1") == {}
        enqueue(conn, "ca-node-1", "in-node-1", entries(Priority.ROUTINE, 1, 7))
        now = datetime.now(UTC)
        assert channel_due(conn, "ca-node-1", "in-node-1", now) == now
    # Everything that waited is due at once, in priority order, with what is queued now.
    claimed = [[item.ref_id for item in claim_due(engine, "ca-node-1", "in-node-1", 200, 60)] for _ in range(2)]
    assert claimed == [["m-5"], ["m-0", "m-1", "m-2", "m-3", "m-4", "m-7"]]
    engine.dispose()


def test_a_hold_that_has_ended_holds_nothing(databases: DatabaseFactory) -> None:
    engine = queued(databases, (Priority.ROUTINE, 1))
    with engine.begin() as conn:
        hold_channel(conn, "ca-node-1", "in-node-1", datetime.now(UTC) - timedelta(seconds=1), "peer unreachable")
        enqueue(conn, "ca-node-1", "in-node-1", entries(Priority.ROUTINE, 1, 1))
    assert [item.ref_id for item in claim_due(engine, "ca-node-1", "in-node-1", 200, 60)] == ["m-0", "m-1"]
    engine.dispose()


def release_leases_in(conn: Connection) -> None:
    conn.execute(update(outbox).values(lease_until=None))


def test_a_hold_is_never_shortened_by_a_later_failure_with_a_shorter_backoff(databases: DatabaseFactory) -> None:
    """Two workers fail at once: one with rows tried often (a long backoff), one with rows queued since (short)."""
    engine = queued(databases, (Priority.ROUTINE, 2))
    long, short = datetime.now(UTC) + timedelta(seconds=60), datetime.now(UTC) + timedelta(seconds=1)
    with engine.begin() as conn:
        hold_channel(conn, "ca-node-1", "in-node-1", long, "peer unreachable")
        hold_channel(conn, "ca-node-1", "in-node-1", short, "peer unreachable")
        assert channel_due(conn, "ca-node-1", "in-node-1", datetime.now(UTC)) == long
        assert held_channels(conn, "ca-node-1") == {"in-node-1": ChannelHold(long, "peer unreachable")}
    engine.dispose()


def test_a_failed_probe_writes_the_hold_alone_however_many_rows_wait(databases: DatabaseFactory) -> None:
    """Each failed probe of a held channel moves the hold and its error: one row written, whatever waits (rewriting
    every waiting row held the store's writer for seconds at a backlog of tens of thousands)."""
    engine = queued(databases, (Priority.ROUTINE, 2_000))
    with engine.begin() as conn:
        before = conn.execute(select(outbox.c.id, outbox.c.next_attempt_at, outbox.c.last_error)).all()
        for n in range(3):
            until = datetime.now(UTC) + timedelta(seconds=30 * (n + 1))
            hold_channel(conn, "ca-node-1", "in-node-1", until, f"peer unreachable: try {n}")
        assert conn.execute(select(outbox.c.id, outbox.c.next_attempt_at, outbox.c.last_error)).all() == before
        assert held_channels(conn, "ca-node-1") == {"in-node-1": ChannelHold(until, "peer unreachable: try 2")}
    assert claim_due(engine, "ca-node-1", "in-node-1", 200, 60) == []
    with engine.begin() as conn:
        release_channel(conn, "ca-node-1", "in-node-1")
        assert held_channels(conn, "ca-node-1") == {}
    assert len(claim_due(engine, "ca-node-1", "in-node-1", 200, 60)) == 200, "released: what waited is due at once"
    engine.dispose()
