"""The node's notifier, a background job of every node process: it follows the ledger from where it left off (the
position is in the database, claimed under a row lock, so processes share it), looks for deadlines drawing near, and
drains the mail outbox. Nothing here runs on an officer's request: a slow or absent relay holds up nobody."""

from __future__ import annotations

import threading
import time

import structlog
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from accord.domain.notification_rules import Trigger
from accord.node import Node
from accord.notifications.occurrences import TOLD_OF, approaching_deadlines, occurrences_in
from accord.notifications.recording import Planned, plan_notifications, record_notifications, store_notifications
from accord.notifications.relay import send_due_mail
from accord.notifications.rules import notification_rules
from accord.store.tables import events, ledger_head, notifier_state

log = structlog.get_logger("accord.notifications")

EVENT_BATCH = 500  # leaves read per round: the write transaction stores only their notices


def run_notifier(node: Node, stop: threading.Event) -> None:
    """Notify until `stop` is set."""
    scanned = float("-inf")
    while not stop.is_set():
        try:
            while notify_new_events(node) == EVENT_BATCH and not stop.is_set():
                pass
            if time.monotonic() - scanned >= node.settings.notify_deadline_scan_s:
                notify_deadlines(node)
                scanned = time.monotonic()
            send_due_mail(node)
        except (SQLAlchemyError, OSError) as exc:
            log.error("notification round failed; retrying", error=str(exc))
        stop.wait(node.settings.notify_poll_s)


def notify_new_events(node: Node, limit: int = EVENT_BATCH) -> int:
    """Notify of what the ledger's leaves since the last round record; returns how many leaves were read.

    The leaves are read, and whom to tell worked out, on a read snapshot; the write transaction only stores the
    notices and moves the position on, so that it holds the writer's lock for a few milliseconds. It stores nothing
    if another notifier (a process sharing a PostgreSQL database) moved the position meanwhile: the next round reads
    from where that one stopped."""
    state = notifier_state.c
    with node.engine.connect() as conn:  # a read first: an idle node takes no write lock every round
        newest = conn.execute(select(func.max(events.c.id))).scalar_one()
        position: int | None = conn.execute(select(state.next_event).where(state.id == 1)).scalar_one_or_none()
        last: int | None = None
        planned: list[Planned] = []
        if position is not None and newest is not None and newest >= position:
            # Leaves up to `newest` are committed (appends hold the ledger's head until they commit), so the range
            # read holds every leaf it will ever hold; only the kinds a notice can be about are read from it.
            last = min(newest, position + limit - 1)
            told_of = [event_type.value for event_type in TOLD_OF]
            rows = conn.execute(
                select(events.c.id, events.c.type, events.c.refs)
                .where(events.c.id.between(position, last), events.c.type.in_(told_of))
                .order_by(events.c.id)
            ).all()
            planned = plan_notifications(node, conn, occurrences_in(node, conn, rows))
    if position is None:
        _start_following(node)
        return 0
    if last is None:
        return 0
    first = position
    with node.engine.begin() as conn:
        start = conn.execute(select(state.next_event).where(state.id == 1).with_for_update()).scalar_one()
        if start != first:
            return 0
        store_notifications(node, conn, planned, node.clock.now())
        conn.execute(update(notifier_state).where(state.id == 1).values(next_event=last + 1))
    return last - first + 1


def notify_deadlines(node: Node) -> int:
    """Notify of every received message whose deadline is drawing near, once per rule and officer."""
    now = node.clock.now()
    made = 0
    with node.engine.begin() as conn:
        for rule in notification_rules().for_trigger(Trigger.DEADLINE_APPROACHING):
            made += record_notifications(node, conn, approaching_deadlines(conn, rule, now), now, only=rule)
    return made


def _start_following(node: Node) -> None:
    """A database whose notifier has no position yet starts at the ledger's present end."""
    with node.engine.begin() as conn:
        if conn.execute(select(notifier_state.c.id).where(notifier_state.c.id == 1)).first() is None:
            size = conn.execute(select(ledger_head.c.size).where(ledger_head.c.id == 1)).scalar_one_or_none()
            conn.execute(insert(notifier_state).values(id=1, next_event=size or 0))
