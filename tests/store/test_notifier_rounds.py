"""The notifier's round, in process on both backends: whom to tell is worked out on a read snapshot and only the
notices are stored under the writer's lock; a round whose position another notifier moved meanwhile stores nothing;
no one is told twice of one subject under one rule, within a round or across rounds; and whether someone was told
is found through an index, not a scan of every notification made."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from accord.bootstrap import init_node
from accord.config import load_settings, write_node_file
from accord.directory.officers import Role, create_officer
from accord.domain.parties import Party
from accord.ledger.alarms import AlarmKind, raise_alarm
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.notifications import worker
from accord.notifications.occurrences import occurrences_in
from accord.notifications.recording import plan_notifications, store_notifications
from accord.store.tables import events, notifications, notifier_state
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PASSWORD


@pytest.fixture
def node(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Node]:
    write_node_file(tmp_path, "127.0.0.1", 9, None)
    opened = init_node(load_settings(tmp_path, database_url=databases.new_migrated_url("notifier")), Party.CA)
    for username in ("ca.ops.one", "ca.ops.two"):
        create_officer(opened, username, PASSWORD, "Operator", "RCMP", frozenset({Role.OPERATOR}))
    worker.notify_new_events(opened)  # the notifier starts following the ledger at its present end
    yield opened
    opened.close()


def alarms(node: Node, count: int, first: int = 0) -> None:
    for n in range(first, first + count):
        raise_alarm(node.engine, node.node_id, "accord/in-node-1", AlarmKind.SPLIT_VIEW, f"roots {n}", {"n": n})


def made(node: Node) -> list[tuple[str, str, str]]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(notifications.c.officer_id, notifications.c.rule, notifications.c.subject))
        return sorted((row.officer_id, row.rule, row.subject) for row in rows)


def position(node: Node) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(notifier_state.c.next_event)).scalar_one())


def test_each_alarm_is_told_to_each_operator_once_however_often_the_notifier_runs(node: Node) -> None:
    alarms(node, 5)
    assert worker.notify_new_events(node) == 5
    told = made(node)
    assert len(told) == 10 and len(set(told)) == 10  # two operators, five alarms
    assert worker.notify_new_events(node) == 0
    with node.engine.begin() as conn:  # the position set back, as after a restore: the same leaves read again
        conn.execute(update(notifier_state).values(next_event=position(node) - 5))
    assert worker.notify_new_events(node) == 5
    assert made(node) == told


def test_a_round_reads_at_most_its_limit_and_the_next_goes_on_from_there(node: Node) -> None:
    alarms(node, 7)
    start = position(node)
    assert worker.notify_new_events(node, limit=4) == 4
    assert position(node) == start + 4
    assert worker.notify_new_events(node, limit=4) == 3
    assert len(made(node)) == 14


def test_leaves_no_notice_is_about_are_not_read_but_the_position_moves_past_them(node: Node) -> None:
    with node.engine.begin() as conn:
        for n in range(6):
            append_event(conn, EventType.ACCESS_DENIED, "ca.ops.one", {"message": f"m-{n}"})
    alarms(node, 2)
    start = position(node)
    assert worker.notify_new_events(node, limit=4) == 4  # four leaves of no concern to anyone
    assert position(node) == start + 4 and made(node) == []
    assert worker.notify_new_events(node, limit=4) == 4  # two more, then the two alarms
    assert position(node) == start + 8 and len(made(node)) == 4
    assert worker.notify_new_events(node, limit=4) == 0


def test_a_round_stores_nothing_when_another_notifier_moved_the_position_meanwhile(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    alarms(node, 3)
    start = position(node)
    planned_by_the_other = plan_of(node, start)

    def plan_while_another_notifier_finishes(*args: Any, **kwargs: Any) -> Any:
        planned = plan_notifications(*args, **kwargs)
        with node.engine.begin() as conn:  # the other notifier stores the same leaves' notices and moves on
            store_notifications(node, conn, planned_by_the_other, node.clock.now())
            conn.execute(update(notifier_state).values(next_event=start + 3))
        return planned

    monkeypatch.setattr(worker, "plan_notifications", plan_while_another_notifier_finishes)
    assert worker.notify_new_events(node) == 0
    assert position(node) == start + 3
    told = made(node)
    assert len(told) == 6 and len(set(told)) == 6


def plan_of(node: Node, start: int) -> Any:
    with node.engine.connect() as conn:
        rows = conn.execute(select(events).where(events.c.id >= start).order_by(events.c.id)).all()
        return plan_notifications(node, conn, occurrences_in(node, conn, rows))


def test_one_subject_twice_in_a_round_is_told_once(node: Node) -> None:
    alarms(node, 2)
    start = position(node)
    planned = plan_of(node, start)
    with node.engine.begin() as conn:
        assert store_notifications(node, conn, [*planned, *planned], node.clock.now()) == 4
        assert store_notifications(node, conn, planned, node.clock.now()) == 0
    assert len(made(node)) == 4


def test_whether_someone_was_told_is_found_through_an_index(node: Node) -> None:
    if node.engine.dialect.name != "sqlite":
        with node.engine.connect() as conn:
            indexes = conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'notifications' AND indexname = "
                "'ix_notifications_subject'"
            ).scalar_one()
        assert "(subject, rule)" in indexes
        return
    path = node.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT officer_id, rule, subject FROM notifications WHERE subject IN (?, ?)",
            ("leaf-1", "leaf-2"),
        ).fetchall()
    assert any("USING INDEX ix_notifications_subject" in str(row[-1]) for row in plan), plan
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(notifications)).scalar_one() == 0


def test_no_leaf_the_notifier_passes_over_could_have_been_told_of(node: Node) -> None:
    """`TOLD_OF` is what the notifier reads: every other kind of leaf gives no occurrence, whatever its refs."""
    from collections import namedtuple

    from accord.notifications import occurrences

    leaf = namedtuple("leaf", "id type refs")
    refs = {"kind": "message", "ref": "m-1", "verdict": "review", "action": "escalate", "message": "m-1"}
    nothing_received = occurrences._ReceivedRows({}, {})
    with node.engine.connect() as conn:
        for event_type in set(EventType) - occurrences.TOLD_OF:
            row: Any = leaf(1, event_type.value, "{}")
            assert occurrences._occurrence(node, conn, row, refs, nothing_received) is None, event_type
