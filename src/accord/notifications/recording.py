"""Turn occurrences into notifications: each rule that covers one tells its audience in the app, and queues a mail
for those with an address when the rule mails and the node has a relay. Whom to tell is worked out by reads alone
(`plan_notifications`); the notices and their mail are stored in one transaction of the caller's
(`store_notifications`), so a notification is never lost between being made and being queued."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from uuid6 import uuid7

from accord.directory.officers import Officer
from accord.domain.notification_rules import Channel, NotificationRule
from accord.node import Node
from accord.notifications.audiences import active_officers, audience_of, muted_by, mutes
from accord.notifications.occurrences import Occurrence
from accord.notifications.rules import notification_rules
from accord.store.tables import notification_mail, notifications

_SUBJECTS_PER_QUERY = 500  # bound parameters per statement stay well under SQLite's limit


@dataclass(frozen=True, slots=True)
class Planned:
    """Whom a rule tells of an occurrence: its audience as the officers and their mutes stood when it was read."""

    rule: NotificationRule
    occurrence: Occurrence
    audience: tuple[Officer, ...]


def record_notifications(
    node: Node,
    conn: Connection,
    occurrences: Sequence[Occurrence],
    now: datetime,
    only: NotificationRule | None = None,
) -> int:
    """Notify everyone the rules (or the `only` one) name of each occurrence, at most once per officer, rule and
    subject; returns how many notifications were made."""
    return store_notifications(node, conn, plan_notifications(node, conn, occurrences, only), now)


def plan_notifications(
    node: Node, conn: Connection, occurrences: Sequence[Occurrence], only: NotificationRule | None = None
) -> list[Planned]:
    """Whom each rule (or the `only` one) that covers an occurrence tells of it; reads only, so a read snapshot
    serves."""
    if not occurrences:
        return []
    rules = notification_rules()
    staff = active_officers(node, conn)
    muted = mutes(conn)
    planned = []
    for occurrence in occurrences:
        for rule in (only,) if only is not None else rules.for_trigger(occurrence.trigger):
            if rule.covers(occurrence.kind, occurrence.priority):
                silenced = muted_by(muted, rule)
                audience = tuple(o for o in audience_of(node, rule, occurrence, staff) if o.id not in silenced)
                if audience:
                    planned.append(Planned(rule, occurrence, audience))
    return planned


def store_notifications(node: Node, conn: Connection, planned: Sequence[Planned], now: datetime) -> int:
    """In the caller's write transaction: each planned notice to each officer of its audience not yet told of its
    subject under its rule (here or earlier in `planned`); returns how many were made."""
    told = _told(conn, {p.occurrence.subject for p in planned})
    rows: list[dict[str, Any]] = []
    mail: list[dict[str, Any]] = []
    relay = node.settings.smtp_host is not None
    for p in planned:
        subject, message = p.occurrence.subject, p.occurrence.message
        facts = json.dumps(p.occurrence.facts, sort_keys=True)
        for officer in p.audience:
            if (officer.id, p.rule.id, subject) in told:
                continue
            told.add((officer.id, p.rule.id, subject))
            notification_id = str(uuid7())
            rows.append(
                {"id": notification_id, "officer_id": officer.id, "rule": p.rule.id, "subject": subject}
                | {"message_id": message.id if message is not None else None, "facts": facts, "created_at": now}
            )
            if relay and officer.email and Channel.EMAIL in p.rule.channels:
                mail.append(
                    {"notification_id": notification_id, "address": officer.email, "attempts": 0}
                    | {"next_attempt_at": now, "created_at": now}
                )
    if rows:
        conn.execute(insert(notifications), rows)
    if mail:
        conn.execute(insert(notification_mail), mail)
    return len(rows)


def _told(conn: Connection, subjects: set[str]) -> set[tuple[str, str, str]]:
    """(officer, rule, subject) of the notifications already made about `subjects`."""
    found: set[tuple[str, str, str]] = set()
    ordered = sorted(subjects)
    for first in range(0, len(ordered), _SUBJECTS_PER_QUERY):
        rows = conn.execute(
            select(notifications.c.officer_id, notifications.c.rule, notifications.c.subject).where(
                notifications.c.subject.in_(ordered[first : first + _SUBJECTS_PER_QUERY])
            )
        )
        found.update((row.officer_id, row.rule, row.subject) for row in rows)
    return found
