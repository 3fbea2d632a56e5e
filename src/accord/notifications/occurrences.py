"""What happened that someone may have to hear of, read from the ledger (every state change is a leaf, appended in
the transaction that made it) and from the received messages whose deadline draws near."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
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


Leaf = Row[*tuple[Any, ...]]  # a row of `events`: its id, type and refs at least

# The leaves `_occurrence` may tell of (a test holds the two together): the notifier reads only these, a drained
# backlog leaves thousands of others.
TOLD_OF = frozenset(
    {
        EventType.ENVELOPE_RECEIVED,
        EventType.POLICY_DECIDED,
        EventType.REVIEW_DECIDED,
        EventType.WORKPLAN_PROPOSED,
        EventType.LEDGER_ALARM,
    }
)


def occurrences_in(node: Node, conn: Connection, events: Sequence[Leaf]) -> list[Occurrence]:
    """The occurrences the ledger's new leaves record, in ledger order (each leaf: its id, type and refs)."""
    parsed = [(event, orjson.loads(event.refs)) for event in events]
    received = _ReceivedRows.read(
        conn, [str(refs.get("ref")) for event, refs in parsed if _received_message(event, refs)]
    )
    found: list[Occurrence] = []
    for event, refs in parsed:
        occurrence = _occurrence(node, conn, event, refs, received)
        if occurrence is not None:
            found.append(occurrence)
    return found


def _received_message(event: Leaf, refs: dict[str, Any]) -> bool:
    return bool(event.type == EventType.ENVELOPE_RECEIVED and refs.get("kind") == OutboxKind.MESSAGE)


def _occurrence(
    node: Node, conn: Connection, event: Leaf, refs: dict[str, Any], received: _ReceivedRows
) -> Occurrence | None:
    match event.type:
        case EventType.ENVELOPE_RECEIVED if refs.get("kind") == OutboxKind.MESSAGE:
            return _received(received, str(refs.get("ref")))
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


@dataclass(frozen=True, slots=True)
class _ReceivedRows:
    """The received messages a run of leaves names, and who asked for those that answer a request: read in two
    queries per 500, not two per message (a drained backlog brings thousands at once)."""

    incoming: dict[str, Row[Any]]
    requesters: dict[str, str | None]  # an outgoing request's id → the officer who sent it

    @classmethod
    def read(cls, conn: Connection, message_ids: Sequence[str]) -> _ReceivedRows:
        incoming = {row.id: row for row in _messages(conn, message_ids, Direction.INCOMING)}
        asked = [row.in_reply_to for row in incoming.values() if row.in_reply_to]
        requesters = {row.id: row.sender_officer for row in _messages(conn, asked, Direction.OUTGOING)}
        return cls(incoming, requesters)


def _messages(conn: Connection, message_ids: Sequence[str], direction: Direction) -> list[Row[Any]]:
    wanted = list(dict.fromkeys(message_ids))
    rows: list[Row[Any]] = []
    for first in range(0, len(wanted), 500):
        chunk = wanted[first : first + 500]
        rows += conn.execute(select(messages).where(messages.c.id.in_(chunk), messages.c.direction == direction))
    return rows


def _received(received: _ReceivedRows, message_id: str) -> Occurrence | None:
    row = received.incoming.get(message_id)
    if row is None:
        return None
    requester = received.requesters.get(row.in_reply_to) if row.in_reply_to else None
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
