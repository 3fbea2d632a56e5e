"""What happened that someone may have to hear of, read from the ledger (every state change is a leaf, appended in
the transaction that made it) and from the received messages whose deadline draws near."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select

from accord.domain.messages import Amendment, DeliveryState, Direction
from accord.domain.notification_rules import NotificationRule, Trigger
from accord.exchange.outbox import OutboxKind
from accord.exchange.review import deciders_of
from accord.ledger.events import EventType
from accord.node import Node
from accord.store.tables import messages, workplan_proposals


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One thing to tell of. `subject` names it, so that nobody is told of it twice under one rule; `facts` is what
    a notice says of it (never a message's content)."""

    trigger: Trigger
    subject: str
    facts: dict[str, Any]
    message: Row[Any] | None = None  # the message it is about: need-to-know decides who hears of it
    agency: str | None = None  # the agency it concerns (a received message's recipient)
    named: str | None = None  # the officer it names: the recipient, or the requester a response answers
    roles: frozenset[str] = frozenset()  # the roles that may act on it (reviewers at the hold's level)
    excluded: tuple[str, ...] = field(default=())  # usernames never told (four eyes on a hold)

    @property
    def kind(self) -> str | None:
        return self.message.kind if self.message is not None else None

    @property
    def priority(self) -> str | None:
        return self.message.priority if self.message is not None else None


def message_facts(row: Row[Any]) -> dict[str, Any]:
    """What a notice may say of a message, whatever its marking: what and how pressing, between whom, by when."""
    return {
        "message": row.id,
        "kind": row.kind,
        "priority": row.priority,
        "focus_area": row.focus_area,
        "sender_agency": row.sender_agency,
        "recipient_agency": row.recipient_agency,
        "deadline": row.deadline.isoformat() if row.deadline else None,
    }


def occurrences_in(node: Node, conn: Connection, events: Sequence[Row[Any]]) -> list[Occurrence]:
    """The occurrences the ledger's new leaves record, in ledger order."""
    found: list[Occurrence] = []
    for event in events:
        refs = json.loads(event.refs)
        occurrence = _occurrence(node, conn, event, refs)
        if occurrence is not None:
            found.append(occurrence)
    return found


def _occurrence(node: Node, conn: Connection, event: Row[Any], refs: dict[str, Any]) -> Occurrence | None:
    match event.type:
        case EventType.ENVELOPE_RECEIVED if refs.get("kind") == OutboxKind.MESSAGE:
            return _received(conn, str(refs.get("ref")))
        case EventType.POLICY_DECIDED if refs.get("verdict") == "review":
            return _held(conn, str(refs.get("message")))
        case EventType.REVIEW_DECIDED if refs.get("action") == "escalate":
            return _held(conn, str(refs.get("message")))
        case EventType.WORKPLAN_PROPOSED:
            return _proposed(node, conn, str(refs.get("proposal")))
        case EventType.LEDGER_ALARM:
            facts = {"alarm": refs.get("kind"), "origin": refs.get("origin")}
            return Occurrence(Trigger.LEDGER_ALARM, f"leaf-{event.id}", facts)
    return None


def _message(conn: Connection, message_id: str, direction: Direction) -> Row[Any] | None:
    return conn.execute(select(messages).where(messages.c.id == message_id, messages.c.direction == direction)).first()


def _received(conn: Connection, message_id: str) -> Occurrence | None:
    row = _message(conn, message_id, Direction.INCOMING)
    if row is None:
        return None
    requester = None
    if row.in_reply_to:
        asked = _message(conn, row.in_reply_to, Direction.OUTGOING)
        requester = asked.sender_officer if asked is not None else None
    return Occurrence(
        Trigger.MESSAGE_RECEIVED,
        row.id,
        message_facts(row),
        row,
        row.recipient_agency,
        requester if row.kind == "response" else row.recipient_officer,
    )


def _held(conn: Connection, message_id: str) -> Occurrence | None:
    """A hold still waiting (one decided meanwhile needs nobody), for those who may decide it at its level."""
    row = _message(conn, message_id, Direction.OUTGOING)
    if row is None or row.state != DeliveryState.HELD:
        return None
    deciders = deciders_of(conn, row)
    facts = message_facts(row) | {"level": deciders.level}
    return Occurrence(
        Trigger.DISCLOSURE_HELD,
        f"{row.id}@{deciders.level}",
        facts,
        row,
        row.sender_agency,
        roles=frozenset(role.value for role in deciders.roles),
        excluded=deciders.excluded,
    )


def _proposed(node: Node, conn: Connection, proposal_id: str) -> Occurrence | None:
    """A proposal of the other side's (ours wait on the other side's coordinators, not ours)."""
    row = conn.execute(select(workplan_proposals).where(workplan_proposals.c.id == proposal_id)).first()
    if row is None or row.party == node.party.value:
        return None
    facts = {"proposal": row.id, "item": row.code, "item_kind": row.kind, "party": row.party}
    return Occurrence(Trigger.PROPOSAL_RECEIVED, row.id, facts)


def approaching_deadlines(conn: Connection, rule: NotificationRule, now: datetime) -> list[Occurrence]:
    """Received messages under `rule` still unanswered (and not withdrawn) whose deadline draws near, not yet past."""
    assert rule.deadline is not None
    m = messages.c
    query = select(messages).where(
        m.direction == Direction.INCOMING.value,
        m.deadline.is_not(None),
        m.deadline > now,
        m.deadline <= now + timedelta(hours=rule.deadline.at_most_hours),  # no warning comes earlier
        m.answered_at.is_(None),
        m.amendment.is_(None) | (m.amendment == Amendment.CORRECTED.value),
    )
    if rule.kinds:
        query = query.where(m.kind.in_([kind.value for kind in rule.kinds]))
    found = []
    for row in conn.execute(query).all():
        if rule.deadline.warn_at(row.received_at or row.created_at, row.deadline) <= now:
            found.append(
                Occurrence(
                    Trigger.DEADLINE_APPROACHING,
                    row.id,
                    message_facts(row),
                    row,
                    row.recipient_agency,
                    row.recipient_officer,
                )
            )
    return found
