"""The follow-up to a hit: the querying officer requests the record by the hit's reference in an ordinary request
(it names the person queried, so the sender's policy pack decides on it as on any request naming a person); the
queried agency answers with the record in an ordinary response, which its own pack decides on before it leaves."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from accord.directory.officers import Officer
from accord.domain.drafts import DisclosureContext, HandlingDraft, MessageDraft
from accord.domain.matching import MatchReference, QueryDirection
from accord.domain.messages import (
    DeliveryState,
    Direction,
    Identifier,
    Message,
    MessageKind,
    Priority,
    Subject,
    SubjectKind,
    SubjectRole,
)
from accord.errors import Conflict, InvalidInput, NotFound
from accord.exchange.mailbox import visible_row
from accord.exchange.sending import require_sender, send_messages
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.matching.holdings import RecordType, holding_of
from accord.node import Node
from accord.store.tables import (
    match_followups,
    match_holdings,
    match_queries,
    match_query_rows,
    match_references,
    messages,
)

_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_NOT_LEFT = {DeliveryState.HELD.value, DeliveryState.REFUSED.value, DeliveryState.FAILED.value}


@dataclass(frozen=True, slots=True)
class FollowUpDraft:
    """What the querying officer states: the legal basis, why the record is needed, and how to handle it."""

    handling: HandlingDraft
    legal_basis: str
    body: str
    role: SubjectRole | None = None
    context: DisclosureContext | None = None
    priority: Priority = Priority.ROUTINE


# ------------------------------------------------------------------------------------------------ requesting


def request_record(node: Node, officer: Officer, query_id: str, row: int, draft: FollowUpDraft) -> dict[str, Any]:
    """Send the request for a hit's record through the ordinary send path (the policy pack may hold it)."""
    require_sender(officer)
    if not draft.legal_basis.strip():
        raise InvalidInput(_("legal_basis: a request for a record states the law it is made under"))
    with node.engine.connect() as conn:
        query = conn.execute(
            select(match_queries).where(
                match_queries.c.id == query_id, match_queries.c.direction == QueryDirection.OUT.value
            )
        ).first()
        if query is None or query.querying_agency != officer.agency:
            raise NotFound(_("no query {query_id} of {agency}").format(query_id=query_id, agency=officer.agency))
        hit = conn.execute(
            select(match_query_rows).where(match_query_rows.c.query_id == query_id, match_query_rows.c.row == row)
        ).first()
        if hit is None:
            raise NotFound(_("query {query_id} has no record {row}").format(query_id=query_id, row=row))
        if not hit.hit or not hit.reference:
            raise InvalidInput(
                _("record {row} of query {query_id} is not a hit: there is no record to request").format(
                    row=row, query_id=query_id
                )
            )
        done = conn.execute(
            select(match_followups.c.request_message_id).where(
                match_followups.c.query_id == query_id, match_followups.c.row == row
            )
        ).scalar_one_or_none()
        if done is not None:
            raise Conflict(
                _("record {row} of query {query_id} was requested already (message {done})").format(
                    row=row, query_id=query_id, done=done
                )
            )
    fields = json.loads(hit.fields)
    context = draft.context or DisclosureContext()
    message_draft = MessageDraft(
        kind=MessageKind.REQUEST,
        recipient_agency=query.queried_agency,
        focus_area=query.focus_area,
        priority=draft.priority,
        handling=draft.handling,
        legal_basis=draft.legal_basis,
        title=f"Request for the record of a hit (query {query_id[:8]}…, record {hit.label})",
        body=draft.body,
        subjects=(_queried_subject(hit.record_type, fields, draft.role),),
        purpose=context.purpose,
        offence=context.offence,
        grounds=context.grounds,
        assurances=context.assurances,
        match_reference=MatchReference(query_id=query_id, reference=hit.reference),
    )
    [queued] = send_messages(node, officer, [message_draft])
    with node.engine.begin() as conn:
        conn.execute(
            insert(match_followups),
            [
                {
                    "query_id": query_id,
                    "row": row,
                    "reference": hit.reference,
                    "request_message_id": queued.message.id,
                    "response_message_id": None,
                    "requested_by": officer.username,
                    "requested_at": datetime.now(UTC),
                    "released_at": None,
                }
            ],
        )
    return {
        "query_id": query_id,
        "row": row,
        "message_id": queued.message.id,
        "case_id": queued.message.case_id,
        "state": queued.state.value,
        "decision": queued.decision.as_json(),
    }


def _queried_subject(record_type: str, fields: dict[str, str], role: SubjectRole | None) -> Subject:
    if record_type == RecordType.PERSON.value:
        return _person_subject(fields, role)
    value = next(iter(fields.values()), "")
    return Subject(kind=SubjectKind.ACCOUNT, identifiers=(Identifier(scheme=record_type, value=value[:256]),))


def _person_subject(fields: dict[str, str], role: SubjectRole | None) -> Subject:
    born = fields.get("date_of_birth", "")
    nationality = fields.get("nationality", "")
    identifiers = []
    if fields.get("document_number"):
        identifiers.append(Identifier(scheme="document", value=fields["document_number"][:256]))
    if fields.get("phone"):
        identifiers.append(Identifier(scheme="phone", value=fields["phone"][:256]))
    return Subject(
        kind=SubjectKind.PERSON,
        name=fields.get("name", "")[:256] or None,
        date_of_birth=born if _ISO_DATE.match(born) else None,
        nationality=nationality.upper() if 2 <= len(nationality) <= 3 and nationality.isalpha() else None,
        role=role,
        identifiers=tuple(identifiers),
    )


def followups_of(conn: Connection, query_id: str) -> dict[int, dict[str, Any]]:
    """Per row of one of our queries, its follow-up: the request's delivery state, and the record once released."""
    rows = conn.execute(
        select(match_followups, messages.c.state, messages.c.case_id)
        .join(messages, messages.c.id == match_followups.c.request_message_id)
        .where(match_followups.c.query_id == query_id)
    ).all()
    return {
        r.row: {
            "message_id": r.request_message_id,
            "case_id": r.case_id,
            "request_state": r.state,
            "requested_by": r.requested_by,
            "requested_at": r.requested_at.isoformat(),
            "response_message_id": r.response_message_id,
            "released_at": r.released_at.isoformat() if r.released_at else None,
        }
        for r in rows
    }


def land_release(conn: Connection, message: Message) -> None:
    """A response to one of our follow-up requests arrived: the record is released to us."""
    if message.in_reply_to is None:
        return
    conn.execute(
        update(match_followups)
        .where(match_followups.c.request_message_id == message.in_reply_to, match_followups.c.released_at.is_(None))
        .values(response_message_id=message.id, released_at=datetime.now(UTC))
    )


# ------------------------------------------------------------------------------------------------ answering


def check_followup_outgoing(conn: Connection, message: Message) -> None:
    """Our officer names a reference: it must be a hit of our own query to that agency, in that focus area."""
    ref = message.match_reference
    if ref is None:
        return
    row = conn.execute(
        select(match_queries.c.queried_agency, match_queries.c.focus_area, match_query_rows.c.hit)
        .join(match_query_rows, match_query_rows.c.query_id == match_queries.c.id)
        .where(
            match_queries.c.id == ref.query_id,
            match_queries.c.direction == QueryDirection.OUT.value,
            match_query_rows.c.reference == ref.reference,
        )
    ).first()
    if row is None or not row.hit:
        raise InvalidInput(
            _("reference {reference}… is not a hit of query {query_id}").format(
                reference=ref.reference[:8], query_id=ref.query_id
            )
        )
    if row.queried_agency != message.recipient.agency or row.focus_area != message.focus_area:
        raise InvalidInput(
            _(
                "the follow-up goes to {queried_agency} in {focus_area}, as the query did, not {agency} "
                "in {focus_area2}"
            ).format(
                queried_agency=row.queried_agency,
                focus_area=row.focus_area,
                agency=message.recipient.agency,
                focus_area2=message.focus_area,
            )
        )


def note_followup(conn: Connection, message: Message) -> None:
    """A partner's request naming one of our references: the reference remembers it (the record leaves only when an
    officer here answers and this party's pack allows it)."""
    ref = message.match_reference
    if ref is None:
        return
    conn.execute(
        update(match_references)
        .where(
            match_references.c.reference == ref.reference,
            match_references.c.query_id == ref.query_id,
            match_references.c.request_message_id.is_(None),
        )
        .values(request_message_id=message.id)
    )


def pending_followups(node: Node, officer: Officer) -> list[dict[str, Any]]:
    """The partner's follow-up requests to the officer's agency, each with the record of ours it names."""
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(match_references, match_queries.c.queried_agency, match_queries.c.querying_agency)
            .join(match_queries, match_queries.c.id == match_references.c.query_id)
            .where(
                match_references.c.request_message_id.is_not(None),
                match_queries.c.direction == QueryDirection.IN.value,
                match_queries.c.queried_agency == officer.agency,
            )
            .order_by(match_references.c.created_at.desc())
        ).all()
        out = []
        for r in rows:
            holding = conn.execute(select(match_holdings).where(match_holdings.c.id == r.holding_id)).first()
            out.append(
                {
                    "message_id": r.request_message_id,
                    "query_id": r.query_id,
                    "row": r.row,
                    "querying_agency": r.querying_agency,
                    "band": r.band,
                    "score": r.score,
                    "evidence": json.loads(r.evidence),
                    "expires_at": r.expires_at.isoformat(),
                    "released_message_id": r.released_message_id,
                    "record": None
                    if holding is None
                    else {"id": holding.label, "type": holding.record_type, "fields": json.loads(holding.fields)},
                }
            )
    return out


def release_record(node: Node, officer: Officer, request_id: str, draft: FollowUpDraft) -> dict[str, Any]:
    """Answer a follow-up request with the record its reference stands for, through the ordinary send path: this
    party's pack decides (allow, hold for a legal officer, refuse) before anything leaves."""
    require_sender(officer)
    with node.engine.connect() as conn:
        request = visible_row(node, conn, officer, request_id)
        if request.direction != Direction.INCOMING.value or request.kind != MessageKind.REQUEST.value:
            raise InvalidInput(
                _("message {request_id} is not a request from the partner").format(request_id=request_id)
            )
        message = Message.model_validate_json(request.content)
        ref = message.match_reference
        if ref is None:
            raise InvalidInput(_("message {request_id} names no hit's reference").format(request_id=request_id))
        found = conn.execute(
            select(match_references, match_queries.c.queried_agency)
            .join(match_queries, match_queries.c.id == match_references.c.query_id)
            .where(
                match_references.c.reference == ref.reference,
                match_references.c.query_id == ref.query_id,
                match_queries.c.direction == QueryDirection.IN.value,
            )
        ).first()
        if found is None:
            raise NotFound(
                _("reference {reference}… of query {query_id} was never given by this node").format(
                    reference=ref.reference[:8], query_id=ref.query_id
                )
            )
        if found.queried_agency != officer.agency:
            raise NotFound(
                _("reference {reference}… is not {agency}'s").format(reference=ref.reference[:8], agency=officer.agency)
            )
        if found.expires_at < datetime.now(UTC):
            raise InvalidInput(
                _("reference {reference}… expired on {expires_at:%Y-%m-%d}").format(
                    reference=ref.reference[:8], expires_at=found.expires_at
                )
            )
        if found.released_message_id is not None:
            raise Conflict(
                _("the record was released already (message {released_message_id})").format(
                    released_message_id=found.released_message_id
                )
            )
        held = conn.execute(select(match_holdings).where(match_holdings.c.id == found.holding_id)).first()
        if held is None:
            raise NotFound(_("the record the reference stood for is no longer held (its retention date passed)"))
    holding = holding_of(held)
    described = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in holding.fields.items())
    # The answer concerns what the request named: its offence and purpose, unless the officer states others.
    context = draft.context or DisclosureContext(purpose=message.purpose, offence=message.offence)
    response = MessageDraft(
        kind=MessageKind.RESPONSE,
        recipient_agency=message.sender.agency,
        focus_area=message.focus_area,
        in_reply_to=request_id,
        priority=draft.priority,
        handling=draft.handling,
        legal_basis=draft.legal_basis,
        title=f"The record of the hit ({holding.record_type.value} {holding.label})",
        body=f"{draft.body}\n\nRecord ({holding.source}): {described}",
        subjects=(_queried_subject(holding.record_type.value, dict(holding.fields), draft.role),),
        purpose=context.purpose,
        offence=context.offence,
        grounds=context.grounds,
        assurances=context.assurances,
    )
    [queued] = send_messages(node, officer, [response])
    with node.engine.begin() as conn:
        if queued.state is not DeliveryState.REFUSED:  # refused by the pack: the officer may answer again
            conn.execute(
                update(match_references)
                .where(match_references.c.reference == ref.reference)
                .values(released_message_id=queued.message.id)
            )
        append_event(
            conn,
            EventType.MATCH_RECORD_RELEASED,
            officer.username,
            {"query": ref.query_id, "request": request_id, "response": queued.message.id, "state": queued.state.value},
        )
    return {
        "message_id": queued.message.id,
        "state": queued.state.value,
        "decision": queued.decision.as_json(),
        "left": queued.state.value not in _NOT_LEFT,
    }
