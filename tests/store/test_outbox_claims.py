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


def test_urgent_rows_are_claimed_alone_before_routine_ones_queued_earlier(databases: DatabaseFactory) -> None:
    engine = fresh(databases)
    with engine.begin() as conn:
        enqueue(conn, "ca-node-1", "in-node-1", entries(Priority.ROUTINE, 5, 0))
        enqueue(conn, "ca-node-1", "in-node-1", entries(Priority.URGENT, 2, 5))
        enqueue(conn, "ca-node-1", "in-node-1", entries(Priority.IMMEDIATE, 1, 7))
    claims = [[item.ref_id for item in claim_due(engine, "in-node-1", 200, 60)] for _ in range(4)]
    assert claims == [["m-7"], ["m-5", "m-6"], ["m-0", "m-1", "m-2", "m-3", "m-4"], []]
    engine.dispose()


def test_the_urgent_lane_claims_immediate_and_urgent_rows_and_leaves_routine_ones(databases: DatabaseFactory) -> None:
    engine = fresh(databases)
    with engine.begin() as conn:
        enqueue(conn, "ca-node-1", "in-node-1", entries(Priority.ROUTINE, 3, 0))
        enqueue(conn, "ca-node-1", "in-node-1", entries(Priority.URGENT, 1, 3))
        enqueue(conn, "ca-node-1", "in-node-1", entries(Priority.IMMEDIATE, 1, 4))
    claims = [[item.ref_id for item in claim_due(engine, "in-node-1", 200, 60, max_rank=URGENT_RANK)] for _ in range(3)]
    assert claims == [["m-4"], ["m-3"], []]
    assert [item.ref_id for item in claim_due(engine, "in-node-1", 200, 60)] == ["m-0", "m-1", "m-2"]
    engine.dispose()
