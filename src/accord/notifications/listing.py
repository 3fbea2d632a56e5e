"""An officer's notifications in the app: newest first, a page at a time (keyset on the UUIDv7 id), the unread count
for the bell, marking read. Need-to-know is asked again when they are shown: a notice about a message the officer may
no longer read is not shown, nor counted."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from accord.directory.officers import Officer
from accord.domain.notification_rules import Trigger
from accord.errors import InvalidInput
from accord.exchange.mailbox import readable_rows
from accord.i18n import _
from accord.node import Node
from accord.notifications.errors import UnknownNotification
from accord.notifications.rules import notification_rules
from accord.notifications.texts import deadline_of, notice_text
from accord.store.tables import messages, notifications

MAX_PAGE = 200
MAX_COUNTED = 99  # the bell shows "99+" beyond


@dataclass(frozen=True, slots=True)
class ShownNotification:
    id: str
    rule: str
    trigger: Trigger
    headline: str
    details: tuple[str, ...]
    path: str
    deadline: datetime | None
    message_id: str | None
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class NotificationPage:
    items: list[ShownNotification]
    next_before: str | None  # the cursor of the next (older) page; None: this is the last
    unread: int


def list_notifications(
    node: Node, officer: Officer, *, before: str | None = None, limit: int = 50, unread_only: bool = False
) -> NotificationPage:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(_("limit is between 1 and {most}").format(most=MAX_PAGE))
    n = notifications.c
    query = select(notifications).where(n.officer_id == officer.id)
    if before:
        query = query.where(n.id < before)
    if unread_only:
        query = query.where(n.read_at.is_(None))
    with node.engine.connect() as conn:
        found = conn.execute(query.order_by(n.id.desc()).limit(limit + 1)).all()
        next_before = found[limit - 1].id if len(found) > limit else None
        rows = _visible(node, conn, officer, found[:limit])
        unread = _unread(node, conn, officer)
    rules = notification_rules()
    items = []
    for row in rows:
        rule = rules.rule(row.rule)
        if rule is None:
            continue
        facts = json.loads(row.facts)
        text = notice_text(rule.trigger, facts, node.agreement)
        items.append(
            ShownNotification(
                row.id,
                row.rule,
                rule.trigger,
                text.headline,
                text.details,
                text.path,
                deadline_of(facts),
                row.message_id,
                row.created_at,
                row.read_at,
            )
        )
    return NotificationPage(items, next_before, unread)


def unread_count(node: Node, officer: Officer) -> int:
    """How many unread notifications the officer may see (at most MAX_COUNTED + 1: the bell says "99+")."""
    with node.engine.connect() as conn:
        return _unread(node, conn, officer)


def _unread(node: Node, conn: Connection, officer: Officer) -> int:
    n = notifications.c
    rows = conn.execute(
        select(n.message_id)  # the bell on every page: what need-to-know asks, not the notices' facts
        .where(n.officer_id == officer.id, n.read_at.is_(None))
        .order_by(n.id.desc())
        .limit(MAX_COUNTED + 1)
    ).all()
    return len(_visible(node, conn, officer, rows))


def _visible(node: Node, conn: Connection, officer: Officer, rows: Sequence[Row[Any]]) -> list[Row[Any]]:
    """The notices whose message (if any) the officer may read now."""
    about = {row.message_id for row in rows if row.message_id}
    if not about:
        return list(rows)
    found = conn.execute(select(messages).where(messages.c.id.in_(about))).all()
    readable = {row.id for row in readable_rows(node, officer, found)}
    return [row for row in rows if row.message_id is None or row.message_id in readable]


def mark_read(node: Node, officer: Officer, notification_id: str) -> datetime:
    """Mark one of the officer's notifications read (again: no change); when it was read."""
    n = notifications.c
    now = node.clock.now()
    with node.engine.begin() as conn:
        row = conn.execute(select(n.read_at).where(n.id == notification_id, n.officer_id == officer.id)).first()
        if row is None:
            raise UnknownNotification(_("no notification {id} of yours").format(id=notification_id))
        if row.read_at is not None:
            read_at: datetime = row.read_at
            return read_at
        conn.execute(update(notifications).where(n.id == notification_id).values(read_at=now))
    return now


def mark_all_read(node: Node, officer: Officer) -> int:
    n = notifications.c
    with node.engine.begin() as conn:
        done = conn.execute(
            update(notifications)
            .where(n.officer_id == officer.id, n.read_at.is_(None))
            .values(read_at=node.clock.now())
        )
    return int(done.rowcount)
