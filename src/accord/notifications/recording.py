"""Turn occurrences into notifications: each rule that covers one tells its audience in the app, and queues a mail
for those with an address when the rule mails and the node has a relay; all in the caller's transaction, so a
notification is never lost between being decided and being queued."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select
from uuid6 import uuid7

from accord.directory.officers import Officer
from accord.domain.notification_rules import Channel, NotificationRule
from accord.node import Node
from accord.notifications.audiences import active_officers, audience_of, muted_by, mutes
from accord.notifications.occurrences import Occurrence
from accord.notifications.rules import notification_rules
from accord.store.tables import notification_mail, notifications


def record_notifications(
    node: Node,
    conn: Connection,
    occurrences: Sequence[Occurrence],
    now: datetime,
    only: NotificationRule | None = None,
) -> int:
    """Notify everyone the rules (or the `only` one) name of each occurrence, at most once per officer, rule and
    subject; returns how many notifications were made."""
    if not occurrences:
        return 0
    rules = notification_rules()
    staff = active_officers(node, conn)
    muted = mutes(conn)
    made = 0
    for occurrence in occurrences:
        for rule in (only,) if only is not None else rules.for_trigger(occurrence.trigger):
            if rule.covers(occurrence.kind, occurrence.priority):
                audience = audience_of(node, rule, occurrence, staff)
                made += _notify(node, conn, rule, occurrence, audience, muted_by(muted, rule), now)
    return made


def _notify(
    node: Node,
    conn: Connection,
    rule: NotificationRule,
    occurrence: Occurrence,
    audience: Sequence[Officer],
    muted: set[str],
    now: datetime,
) -> int:
    told = set(
        conn.execute(
            select(notifications.c.officer_id).where(
                notifications.c.rule == rule.id, notifications.c.subject == occurrence.subject
            )
        ).scalars()
    )
    fresh = [officer for officer in audience if officer.id not in muted and officer.id not in told]
    if not fresh:
        return 0
    made = [(str(uuid7()), officer) for officer in fresh]
    message_id = occurrence.message.id if occurrence.message is not None else None
    facts = json.dumps(occurrence.facts, sort_keys=True)
    conn.execute(
        insert(notifications),
        [
            {"id": notification_id, "officer_id": officer.id, "rule": rule.id, "subject": occurrence.subject}
            | {"message_id": message_id, "facts": facts, "created_at": now}
            for notification_id, officer in made
        ],
    )
    if Channel.EMAIL in rule.channels and node.settings.smtp_host is not None:
        mail = [
            {"notification_id": notification_id, "address": officer.email, "attempts": 0}
            | {"next_attempt_at": now, "created_at": now}
            for notification_id, officer in made
            if officer.email
        ]
        if mail:
            conn.execute(insert(notification_mail), mail)
    return len(made)
