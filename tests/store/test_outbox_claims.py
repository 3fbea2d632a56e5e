"""Claiming the outbox: urgent rows leave in a batch of their own, so a full batch of routine traffic never carries
them, on both backends."""

from __future__ import annotations

from sqlalchemy import Engine

from accord.domain.messages import Priority
from accord.exchange.outbox import URGENT_RANK, OutboxEntry, OutboxKind, claim_due, enqueue
from accord.store.engine import make_engine
from accord.store.migrate import migrate
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
    claims = [[item.ref_id for item in claim_due(engine, "in-node-1", 200, 60)] for _ in range(4)]
    assert claims == [["m-7"], ["m-5", "m-6"], ["m-0", "m-1", "m-2", "m-3", "m-4"], []]
    engine.dispose()


def test_the_urgent_lane_claims_immediate_and_urgent_rows_and_leaves_routine_ones(databases: DatabaseFactory) -> None:
    engine = queued(databases, (Priority.ROUTINE, 3), (Priority.URGENT, 1), (Priority.IMMEDIATE, 1))
    claims = [[item.ref_id for item in claim_due(engine, "in-node-1", 200, 60, max_rank=URGENT_RANK)] for _ in range(3)]
    assert claims == [["m-4"], ["m-3"], []]
    assert [item.ref_id for item in claim_due(engine, "in-node-1", 200, 60)] == ["m-0", "m-1", "m-2"]
    engine.dispose()
