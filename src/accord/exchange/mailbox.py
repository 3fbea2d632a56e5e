"""Inbox and outbox as an officer sees them: visibility by agency, filters, opening a message."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Row, and_, case, func, literal, or_, select, update
from uuid6 import uuid7

from accord.directory.officers import Officer
from accord.domain.handling import CommonLevel
from accord.domain.messages import OPENING_KINDS, DeliveryState, Direction, MessageKind, Priority
from accord.domain.search import MAX_QUERY_CHARS, MAX_QUERY_WORDS, SearchQuery, mentions, parse_query
from accord.errors import Forbidden, InvalidInput, NotFound
from accord.exchange.outbox import ChannelHold, OutboxEntry, OutboxKind, enqueue, held_channels
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.policy.engine import Reader
from accord.store.keyset import Page, Position, SortKey, read_page
from accord.store.search import message_search_for, searchable_texts
from accord.store.tables import messages, peers
from accord.store.types import UtcDateTime
from accord.trust.peers import peer_for_party

MAX_PAGE = 500  # messages on one page of a box, at most
_NOTICE_RANK = 1  # read notices overtake routine traffic: the sender is waiting to know

T = TypeVar("T")


class Box:
    INBOX = "inbox"
    OUTBOX = "outbox"


class MailboxSort(StrEnum):
    CREATED = "created"  # the newest first
    DEADLINE = "deadline"  # the nearest deadline first, messages without one last
    PRIORITY = "priority"  # immediate, urgent, routine; the oldest first within each
    FOCUS = "focus"  # by focus area code; the oldest first within each


_NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


def mailbox_order(sort: MailboxSort) -> SortKey:
    """The order of a mailbox listing: stable (it ends with the id), and what its page cursors continue."""
    columns = messages.c
    if sort is MailboxSort.DEADLINE:
        deadline = func.coalesce(columns.deadline, literal(_NO_DEADLINE, UtcDateTime()))
        return SortKey("messages/deadline", (deadline, columns.created_at, columns.id), descending=False)
    if sort is MailboxSort.PRIORITY:
        rank = case({p.value: p.outbox_rank for p in Priority}, value=columns.priority, else_=len(Priority))
        return SortKey("messages/priority", (rank, columns.created_at, columns.id), descending=False)
    if sort is MailboxSort.FOCUS:
        return SortKey("messages/focus", (columns.focus_area, columns.created_at, columns.id), descending=False)
    return SortKey("messages/created", (columns.created_at, columns.id))


@dataclass(frozen=True, slots=True)
class MailboxFilter:
    box: str
    focus_area: str | None = None
    state: DeliveryState | None = None
    overdue: bool | None = None
    case_id: str | None = None
    limit: int = 50
    after: Position | None = None  # where the page starts: the position of the previous page's last message
    kind: MessageKind | None = None
    priority: Priority | None = None
    q: str | None = None  # words to search for, as typed (accord.domain.search)
    sort: MailboxSort = MailboxSort.CREATED


def _own_clause(officer: Officer) -> Any:
    return or_(
        and_(messages.c.direction == Direction.OUTGOING.value, messages.c.sender_agency == officer.agency),
        _received_clause(officer),
    )


def _received_clause(officer: Officer) -> Any:
    """Received by the officer's agency, or forwarded to it or to the officer inside this state (a coarse match on
    the forward's JSON; the read policies decide on every row)."""
    return and_(
        messages.c.direction == Direction.INCOMING.value,
        or_(
            messages.c.recipient_agency == officer.agency,
            messages.c.forwarded_to.contains(f'"{officer.agency}"', autoescape=True),
            messages.c.forwarded_to.contains(f'"{officer.username}"', autoescape=True),
        ),
    )


def _overdue_clause(now: datetime) -> Any:
    return and_(
        messages.c.deadline.is_not(None),
        messages.c.deadline < now,
        messages.c.answered_at.is_(None),
        messages.c.amendment.is_(None) | (messages.c.amendment == "corrected"),
        messages.c.kind.in_([k.value for k in OPENING_KINDS]),
    )


def reader_for(node: Node, officer: Officer) -> Reader:
    return Reader(
        officer.username,
        node.party.value,
        officer.agency,
        tuple(sorted(officer.roles)),
        officer.clearance.rank,
        officer.focus_areas,
    )


def read_attributes(node: Node, row: Row[Any]) -> dict[str, Any]:
    """What the read policies decide on: who holds the message here, whose mail it is, and its markings."""
    handling = orjson.loads(row.content).get("handling", {})
    outgoing = row.direction == Direction.OUTGOING.value
    named = set(handling.get("named_recipients") or ())
    if row.recipient_officer:
        named.add(row.recipient_officer)
    forwarded = orjson.loads(row.forwarded_to or "{}")
    return {
        "holder_party": node.party.value,
        "direction": row.direction,
        "owner_agency": row.sender_agency if outgoing else row.recipient_agency,
        "focus_area": row.focus_area,
        "level": CommonLevel(handling.get("level", CommonLevel.TOP_SECRET.value)).rank,
        "tlp": handling.get("tlp", "RED"),
        "caveats": list(handling.get("caveats") or ()),
        "named_readers": sorted(named),
        "forwarded_agencies": sorted(forwarded.get("agencies") or ()),
        "forwarded_readers": sorted(forwarded.get("officers") or ()),
    }


def readable_rows(node: Node, officer: Officer, rows: Sequence[Row[Any]]) -> list[Row[Any]]:
    """The rows the officer may read: every list, count, thread and download goes through this."""
    return readable_by(node, officer, [(row.id, read_attributes(node, row), row) for row in rows])


def readable_by(node: Node, officer: Officer, items: Sequence[tuple[str, dict[str, Any], T]]) -> list[T]:
    """The items the read policy lets the officer read, each given as (id, read attributes, the item): messages
    here, and whatever else is read under a message's attributes (a network case's entities)."""
    allowed = node.policy.readable(reader_for(node, officer), [(key, attributes) for key, attributes, _ in items])
    return [item for (_, _, item), ok in zip(items, allowed, strict=True) if ok]


def visible_row(node: Node, conn: Connection, officer: Officer, message_id: str) -> Row[Any]:
    row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
    if row is None:
        raise NotFound(_("no message {message_id}").format(message_id=message_id))
    if not readable_rows(node, officer, [row]):
        raise Forbidden(_("you have no need to know this message (agency, clearance, focus area or caveats)"))
    return row


def check_readable(node: Node, officer: Officer, message_id: str) -> None:
    """NotFound or Forbidden unless the officer may read the message; a refusal is recorded in the ledger."""
    try:
        with node.engine.connect() as conn:
            visible_row(node, conn, officer, message_id)
    except Forbidden:
        with node.engine.begin() as conn:  # its own transaction: the refusal is recorded even though we raise
            append_event(conn, EventType.ACCESS_DENIED, officer.id, {"message": message_id})
        raise


def search_query(typed: str) -> SearchQuery:
    """What an officer typed in a search box, read as words (nothing typed is syntax); too long a query is refused."""
    if len(typed) > MAX_QUERY_CHARS:
        raise InvalidInput(
            _("the search is {count} characters long; at most {limit}").format(count=len(typed), limit=MAX_QUERY_CHARS)
        )
    query = parse_query(typed)
    if len(query.terms) > MAX_QUERY_WORDS:
        raise InvalidInput(
            _("the search has {count} words; at most {limit}").format(count=len(query.terms), limit=MAX_QUERY_WORDS)
        )
    return query


def list_messages(node: Node, officer: Officer, flt: MailboxFilter) -> Page[dict[str, Any]]:
    """A page of the officer's inbox or outbox: the filters and the search in one query (the box's own clause among
    them), then need-to-know on each row read, before anything is shown or counted; the page ends after `limit`
    messages the officer may read."""
    if flt.box not in {Box.INBOX, Box.OUTBOX}:
        raise InvalidInput(_("box is 'inbox' or 'outbox'"))
    if flt.focus_area is not None and node.agreement.focus_area(flt.focus_area) is None:
        raise InvalidInput(_("{focus_area!r} is not a focus area of the agreement").format(focus_area=flt.focus_area))
    if not 1 <= flt.limit <= MAX_PAGE:
        raise InvalidInput(_("limit is between 1 and 500"))
    search = search_query(flt.q) if flt.q is not None else None
    now = datetime.now(UTC)
    query = select(messages)
    if flt.box == Box.INBOX:
        query = query.where(_received_clause(officer))
    else:
        query = query.where(
            messages.c.direction == Direction.OUTGOING.value, messages.c.sender_agency == officer.agency
        )
    if flt.focus_area:
        query = query.where(messages.c.focus_area == flt.focus_area)
    if flt.state:
        query = query.where(messages.c.state == flt.state.value)
    if flt.case_id:
        query = query.where(messages.c.case_id == flt.case_id)
    if flt.kind:
        query = query.where(messages.c.kind == flt.kind.value)
    if flt.priority:
        query = query.where(messages.c.priority == flt.priority.value)
    if flt.overdue is True:
        query = query.where(_overdue_clause(now))
    elif flt.overdue is False:
        query = query.where(~_overdue_clause(now))
    with node.engine.connect() as conn:
        if search is not None:
            query = query.where(message_search_for(conn).matching(messages.c.id, search))

        holds = delivery_holds(node, conn)

        def keep(rows: Sequence[Row[Any]]) -> list[tuple[Row[Any], dict[str, Any]]]:
            return [(row, _listed(row, now, holds, search)) for row in readable_rows(node, officer, rows)]

        return read_page(conn, query, mailbox_order(flt.sort), after=flt.after, limit=flt.limit, keep=keep)


def _listed(
    row: Row[Any], now: datetime, holds: Mapping[str, ChannelHold], search: SearchQuery | None
) -> dict[str, Any]:
    view = message_view(row, now, holds)
    if search is not None:
        view["matched_in"] = matched_in(row, search)
    return view


def matched_in(row: Row[Any], search: SearchQuery) -> list[str]:
    """Where a message has the words searched for: its title, body, attachment names (never their text)."""
    return [place for place, text in searchable_texts(row.content).items() if mentions(text, search)]


def counts_by_focus_area(node: Node, officer: Officer) -> dict[str, dict[str, int]]:
    """Counted over what the officer may read, so a count never reveals a message they may not see."""
    now = datetime.now(UTC)
    with node.engine.connect() as conn:
        rows = conn.execute(select(messages).where(_own_clause(officer))).all()
    result: dict[str, dict[str, int]] = {area.code: {} for area in node.agreement.focus_areas}
    for row in readable_rows(node, officer, rows):
        box = Box.INBOX if row.direction == Direction.INCOMING.value else Box.OUTBOX
        bucket = result.setdefault(row.focus_area, {})
        bucket[box] = bucket.get(box, 0) + 1
        bucket[f"{box}_overdue"] = bucket.get(f"{box}_overdue", 0) + int(is_overdue(row, now))
        if box == Box.INBOX:
            bucket["unread"] = bucket.get("unread", 0) + int(row.state == DeliveryState.RECEIVED.value)
    return result


def case_rows(node: Node, conn: Connection, officer: Officer, case_id: str) -> list[Row[Any]]:
    """The case's messages the officer may read, the oldest first: the thread, and what a case export holds."""
    rows = conn.execute(
        select(messages).where(messages.c.case_id == case_id, _own_clause(officer)).order_by(messages.c.id)
    ).all()
    readable = readable_rows(node, officer, rows)
    if not readable:
        raise NotFound(_("no case {case_id} that your agency takes part in").format(case_id=case_id))
    return readable


def case_thread(node: Node, officer: Officer, case_id: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    with node.engine.connect() as conn:
        rows = case_rows(node, conn, officer, case_id)
        holds = delivery_holds(node, conn)
    return [message_view(row, now, holds) for row in rows]


def open_message(node: Node, officer: Officer, message_id: str) -> dict[str, Any]:
    """Return the message; the first time the recipient agency opens it, a read notice goes back."""
    now = datetime.now(UTC)
    check_readable(node, officer, message_id)
    with node.engine.begin() as conn:
        row = visible_row(node, conn, officer, message_id)
        if row.direction == Direction.INCOMING.value and row.state == DeliveryState.RECEIVED.value:
            conn.execute(
                update(messages).where(messages.c.id == message_id).values(state=DeliveryState.READ.value, read_at=now)
            )
            append_event(conn, EventType.MESSAGE_READ, officer.id, {"message": message_id})
            peer = peer_for_party(node, conn, node.party.other)
            notice = {"notice": "read", "message_id": message_id, "read_at": now.isoformat(), "by": officer.agency}
            enqueue(
                conn,
                node.node_id,
                peer.node_id,
                [OutboxEntry(OutboxKind.NOTICE, str(uuid7()), _NOTICE_RANK, json.dumps(notice))],
            )
            row = visible_row(node, conn, officer, message_id)
        amended = _amendment_note(node, conn, officer, row)
        holds = delivery_holds(node, conn)
    node.outbox_signal.set()
    return message_view(row, now, holds, with_content=True) | {"amended": amended}


def _amendment_note(node: Node, conn: Connection, officer: Officer, row: Row[Any]) -> dict[str, Any] | None:
    """The correction, withdrawal or retraction that amended the message, as its reader needs it beside the original
    (both sides mark the original when the amendment is sent or arrives)."""
    if row.amended_by is None:
        return None
    try:
        amendment = visible_row(node, conn, officer, row.amended_by)
    except (Forbidden, NotFound):
        return None
    content = json.loads(amendment.content)
    return {
        "id": amendment.id,
        "kind": amendment.kind,
        "created_at": amendment.created_at,
        "title": amendment.title,
        "body": content.get("body", ""),
    }


def arrival_warnings(row: Row[Any]) -> list[dict[str, str]]:
    """What this node found wrong with a message it received and accepted (kept in its decision column)."""
    decision = getattr(row, "decision", None)
    if row.direction != Direction.INCOMING.value or not decision:
        return []
    warnings: list[dict[str, str]] = json.loads(decision).get("arrival_warnings", [])
    return warnings


def delivery_holds(node: Node, conn: Connection) -> dict[str, ChannelHold]:
    """The holds of this node's held channels, by the party of the peer each leads to: what a message queued for the
    party waits for (`message_view`)."""
    held = held_channels(conn, node.node_id)
    if not held:
        return {}
    parties = conn.execute(select(peers.c.node_id, peers.c.party).where(peers.c.node_id.in_(sorted(held)))).all()
    return {party: held[node_id] for node_id, party in parties}


def is_overdue(row: Row[Any], now: datetime) -> bool:
    return bool(
        row.deadline is not None
        and row.deadline < now
        and row.answered_at is None
        and row.amendment in (None, "corrected")
        and row.kind in {k.value for k in OPENING_KINDS}
    )


def _waiting(row: Row[Any], holds: Mapping[str, ChannelHold]) -> tuple[str | None, datetime | None]:
    """A message's last delivery error and next try. One still waiting for a held channel waits with it: it is tried
    when the channel is, and shows why the channel's last try failed (`accord.exchange.outbox.hold_channel`)."""
    if row.state not in (DeliveryState.QUEUED.value, DeliveryState.SENT.value):
        return row.last_error, None
    hold = holds.get(row.recipient_party) if row.direction == Direction.OUTGOING.value else None
    if hold is None:
        return row.last_error, row.next_attempt_at
    return hold.error, hold.until if row.next_attempt_at is None else max(row.next_attempt_at, hold.until)


def message_view(
    row: Row[Any], now: datetime, holds: Mapping[str, ChannelHold], with_content: bool = False
) -> dict[str, Any]:
    """`holds`: `delivery_holds`, read with the rows."""
    last_error, next_attempt_at = _waiting(row, holds)
    view: dict[str, Any] = {
        "id": row.id,
        "direction": row.direction,
        "kind": row.kind,
        "case_id": row.case_id,
        "sender": {"party": row.sender_party, "agency": row.sender_agency, "officer": row.sender_officer},
        "recipient": {"party": row.recipient_party, "agency": row.recipient_agency, "officer": row.recipient_officer},
        "focus_area": row.focus_area,
        "priority": row.priority,
        "title": row.title,
        "created_at": row.created_at,
        "deadline": row.deadline,
        "overdue": is_overdue(row, now),
        "in_reply_to": row.in_reply_to,
        "refers_to": row.refers_to,
        "amendment": row.amendment,
        "amended_by": row.amended_by,
        "purged_at": row.purged_at,
        "delivery": {
            "state": row.state,
            "reason": row.state_reason,
            "channel_seq": row.channel_seq,
            "attempts": row.attempts,
            "last_error": last_error,
            "next_attempt_at": next_attempt_at,
            "delivered_at": row.delivered_at,
            "received_at": row.received_at,
            "read_at": row.read_at,
            "answered_at": row.answered_at,
            "receipt": row.receipt,
        },
    }
    view["warnings"] = arrival_warnings(row)
    if with_content:
        content = json.loads(row.content)
        for key in ("handling", "legal_basis", "body", "subjects", "attachments"):
            view[key] = content.get(key)
        # What the disclosure decision turned on: the offence (ICCS), the grounds and the assurances recorded.
        for key, absent in (("purpose", "intelligence"), ("offence", None), ("grounds", []), ("assurances", [])):
            view[key] = content.get(key, absent)
    return view
