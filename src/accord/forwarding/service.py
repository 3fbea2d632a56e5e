"""Forward a received message inside one's own state, answer the originator's consent request, list forwards.

A forward is decided by the party's pack (action "forward"): allowed, it lets the target agency or officer read the
message (with every caveat it carries) and the originator is told; refused, it is recorded with the policy and the
caveat's words; held for consent (H3), a consent request travels to the originator, whose answer completes or ends
the forward. Each step is an event in this node's ledger, and the messages that travel land in the other's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, or_, select, update
from uuid6 import uuid7

from accord.directory.officers import Officer, officer_by_username
from accord.domain.forwarding import (
    ConsentDecision,
    ForwardDraft,
    ForwardRole,
    ForwardState,
    OnwardConsent,
    OnwardDisclosure,
)
from accord.domain.handling import Handling
from accord.domain.messages import AMENDMENT_KINDS, Address, DeliveryState, Direction, Message, MessageKind
from accord.domain.parties import Party
from accord.errors import Conflict, Forbidden, InvalidInput, NotFound
from accord.exchange.mailbox import read_attributes, reader_for, visible_row
from accord.exchange.sending import Queued, decide_and_queue, require_sender
from accord.forwarding.texts import caveat_texts
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.policy.engine import DisclosureDecision, Verdict
from accord.store.keyset import Page, Position, SortKey, read_page
from accord.store.tables import forwards, messages

_FORWARD_KINDS = frozenset({MessageKind.FORWARD_CONSENT, MessageKind.FORWARD_NOTICE})
_OPEN_STATES = (ForwardState.FORWARDED.value, ForwardState.AWAITING_CONSENT.value)


@dataclass(frozen=True, slots=True)
class ForwardOutcome:
    forward_id: str
    message_id: str
    state: ForwardState
    decision: DisclosureDecision
    consent_request_id: str | None = None
    notice_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.forward_id,
            "message_id": self.message_id,
            "state": self.state.value,
            "decision": self.decision.as_json(),
            "consent_request_id": self.consent_request_id,
            "notice_id": self.notice_id,
        }


def forward_message(node: Node, officer: Officer, message_id: str, draft: ForwardDraft) -> ForwardOutcome:
    """Forward a message the officer's agency received to another agency or officer of this state, if the pack and
    the originator's caveats allow; one transaction."""
    require_sender(officer)
    now = datetime.now(UTC)
    with node.engine.begin() as conn:
        row = visible_row(node, conn, officer, message_id)
        _check_forwardable(row, officer, node.party)
        target_party = draft.party or node.party
        _check_target(node, conn, officer, draft, target_party, row)
        _refuse_repeat(conn, message_id, draft)
        original = Message.model_validate_json(row.content)
        decision = _decide(node, officer, row, original, draft, target_party, consented=False)
        forward_id = str(uuid7())
        onward = OnwardDisclosure(
            forward_id=forward_id,
            message_id=row.id,
            to_party=target_party,
            to_agency=draft.agency,
            to_officer=draft.officer,
            reason=draft.reason,
        )
        outcome = _record(node, conn, officer, row, original, onward, decision, now)
    node.outbox_signal.set()
    return outcome


def _check_forwardable(row: Row[Any], officer: Officer, party: Party) -> None:
    if row.direction != Direction.INCOMING.value or row.recipient_agency != officer.agency:
        raise InvalidInput(
            _("only a message your agency received from {other} can be forwarded; {id} was {value}").format(
                other=party.other,
                id=row.id,
                value="sent" if row.direction == Direction.OUTGOING.value else "received by " + row.recipient_agency,
            )
        )
    if row.kind in {k.value for k in _FORWARD_KINDS | AMENDMENT_KINDS}:
        raise InvalidInput(_("a {kind} is not forwarded; forward the message it concerns").format(kind=row.kind))
    if row.amendment in {"withdrawn", "retracted"}:
        raise InvalidInput(
            _("the originator {amendment} the message; it is not forwarded").format(amendment=row.amendment)
        )


def _check_target(
    node: Node, conn: Connection, officer: Officer, draft: ForwardDraft, party: Party, row: Row[Any]
) -> None:
    if party is not node.party:
        return  # the pack refuses it, with its law, and the refusal is recorded
    if node.agreement.agency(party, draft.agency) is None:
        known = ", ".join(a.code for a in node.agreement.agencies if a.party is party)
        raise InvalidInput(
            _("{agency!r} is not an agency of {party}; known: {known}").format(
                agency=draft.agency, party=party, known=known
            )
        )
    if draft.officer is None:
        if draft.agency == officer.agency:
            raise InvalidInput(
                _("{agency} holds the message already: name an officer, or another agency").format(
                    agency=officer.agency
                )
            )
        return
    target = officer_by_username(conn, draft.officer)
    if target is None or target.agency != draft.agency:
        raise InvalidInput(
            _("{officer!r} is not an active officer of {agency} at this node").format(
                officer=draft.officer, agency=draft.agency
            )
        )
    if target.username == officer.username:
        raise InvalidInput(_("a message is not forwarded to oneself"))
    level = read_attributes(node, row)["level"]
    if target.clearance.rank < level:
        raise InvalidInput(
            _("{username} is cleared to {value}, below the message's marking").format(
                username=target.username, value=target.clearance.value
            )
        )


def _refuse_repeat(conn: Connection, message_id: str, draft: ForwardDraft) -> None:
    officer_clause = (
        forwards.c.to_officer.is_(None) if draft.officer is None else forwards.c.to_officer == draft.officer
    )
    repeat = conn.execute(
        select(forwards.c.id, forwards.c.state).where(
            forwards.c.role == ForwardRole.FORWARDER.value,
            forwards.c.message_id == message_id,
            forwards.c.to_agency == draft.agency,
            officer_clause,
            forwards.c.state.in_(_OPEN_STATES),
        )
    ).first()
    if repeat is not None:
        raise Conflict(
            _("the message was forwarded there already (forward {id}, {state})").format(
                id=repeat.id, state=repeat.state
            )
        )


def _decide(
    node: Node,
    officer: Officer,
    row: Row[Any],
    original: Message,
    draft: ForwardDraft | OnwardDisclosure,
    party: Party,
    *,
    consented: bool,
) -> DisclosureDecision:
    """The pack's forward decision, its reasons followed by the words of the originator's caveats."""
    agency = draft.agency if isinstance(draft, ForwardDraft) else draft.to_agency
    attrs = read_attributes(node, row) | {
        "target_party": party.value,
        "target_agency": agency,
        "originator_consented": consented,
    }
    decided = node.policy.decide_forward(reader_for(node, officer), row.id, attrs)
    words = caveat_texts().describe(original.handling.caveats)
    restriction = original.handling.restrictions
    said = tuple(f"the originator's caveat {w}" for w in words)
    if restriction:
        said += (f"the originator's restriction: {restriction}",)
    findings = dict(decided.findings) | {"caveats": list(words), "restrictions": restriction}
    return DisclosureDecision(decided.verdict, decided.reasons + said, decided.pack, decided.policies, findings)


_STATE_FOR_VERDICT = {
    Verdict.ALLOW: ForwardState.FORWARDED,
    Verdict.DENY: ForwardState.REFUSED,
    Verdict.REVIEW: ForwardState.AWAITING_CONSENT,
}


def _record(
    node: Node,
    conn: Connection,
    officer: Officer,
    row: Row[Any],
    original: Message,
    onward: OnwardDisclosure,
    decision: DisclosureDecision,
    now: datetime,
) -> ForwardOutcome:
    state = _STATE_FOR_VERDICT[decision.verdict]
    consent_id = notice_id = None
    if state is ForwardState.AWAITING_CONSENT:
        [asked] = decide_and_queue(node, conn, officer, [_consent_request(node, officer, original, onward, now)], now)
        consent_id = asked.message.id
        if asked.state is DeliveryState.REFUSED:  # our own pack will not let the request leave
            state = ForwardState.REFUSED
            decision = _with_reasons(decision, asked, "the consent request cannot be sent")
    conn.execute(
        insert(forwards),
        [
            {
                "id": onward.forward_id,
                "role": ForwardRole.FORWARDER.value,
                "message_id": row.id,
                "from_agency": officer.agency,
                "from_officer": officer.username,
                "originator_agency": row.sender_agency,
                "to_party": onward.to_party.value,
                "to_agency": onward.to_agency,
                "to_officer": onward.to_officer,
                "reason": onward.reason,
                "state": state.value,
                "decision": json.dumps(decision.as_json()),
                "consent_request_id": consent_id,
                "created_at": now,
                "decided_at": None if state is ForwardState.AWAITING_CONSENT else now,
            }
        ],
    )
    refs = _refs(onward) | {"verdict": decision.verdict.value, "pack": decision.pack}
    if state is ForwardState.FORWARDED:
        notice_id = _complete(node, conn, officer, row, original, onward, now)
    elif state is ForwardState.AWAITING_CONSENT:
        append_event(conn, EventType.FORWARD_CONSENT_REQUESTED, officer.id, refs | {"request": consent_id})
    else:
        append_event(conn, EventType.FORWARD_REFUSED, officer.id, refs, json.dumps(decision.as_json()).encode())
    return ForwardOutcome(onward.forward_id, row.id, state, decision, consent_id, notice_id)


def _with_reasons(decision: DisclosureDecision, queued: Queued, what: str) -> DisclosureDecision:
    extra = tuple(f"{what}: {r}" for r in queued.decision.reasons)
    return DisclosureDecision(Verdict.DENY, decision.reasons + extra, decision.pack, queued.decision.policies)


def _refs(onward: OnwardDisclosure) -> dict[str, str | int | None]:
    return {
        "message": onward.message_id,
        "forward": onward.forward_id,
        "to_party": onward.to_party.value,
        "to_agency": onward.to_agency,
        "to_officer": onward.to_officer,
    }


def _complete(
    node: Node,
    conn: Connection,
    officer: Officer,
    row: Row[Any],
    original: Message,
    onward: OnwardDisclosure,
    now: datetime,
) -> str:
    """Let the target read the message, log the forward, and tell the originator; returns the notice's id."""
    granted = json.loads(row.forwarded_to or "{}")
    key = "agencies" if onward.to_officer is None else "officers"
    granted[key] = sorted({*granted.get(key, ()), onward.to_officer or onward.to_agency})
    conn.execute(update(messages).where(messages.c.id == row.id).values(forwarded_to=json.dumps(granted)))
    append_event(conn, EventType.MESSAGE_FORWARDED, officer.id, _refs(onward))
    [notice] = decide_and_queue(node, conn, officer, [_notice(node, officer, original, onward, now)], now)
    conn.execute(
        update(forwards)
        .where(forwards.c.id == onward.forward_id, forwards.c.role == ForwardRole.FORWARDER.value)
        .values(state=ForwardState.FORWARDED.value, notice_id=notice.message.id, decided_at=now)
    )
    return notice.message.id


def _to_originator(
    node: Node, officer: Officer, original: Message, kind: MessageKind, title: str, body: str, now: datetime
) -> dict[str, Any]:
    """The fields a message to the originator about its message shares: same case, back to its sender."""
    return {
        "id": str(uuid7()),
        "kind": kind,
        "case_id": original.case_id,
        "sender": Address(party=node.party, agency=officer.agency, officer=officer.username),
        "recipient": original.sender,
        "focus_area": original.focus_area,
        "priority": original.priority,
        "created_at": now,
        "handling": _handling_back(node, original.handling),
        "title": title[:300],
        "body": body,
        "in_reply_to": original.id,
    }


def _handling_back(node: Node, original: Handling) -> Handling:
    """This party's marking at the original's level, its TLP; the caveats stay with the original."""
    mapping = node.agreement.classification_mapping[node.party]
    at_least = [name for name, level in mapping.items() if level.rank >= original.level.rank] or list(mapping)
    marking = min(at_least, key=lambda name: mapping[name].rank)
    return Handling(classification=marking, level=mapping[marking], tlp=original.tlp)


def _target(onward: OnwardDisclosure) -> str:
    return f"{onward.to_officer} of {onward.to_agency}" if onward.to_officer else onward.to_agency


def _consent_request(
    node: Node, officer: Officer, original: Message, onward: OnwardDisclosure, now: datetime
) -> Message:
    caveats = "; ".join(caveat_texts().describe(original.handling.caveats))
    restriction = f"\nYour restriction: {original.handling.restrictions}" if original.handling.restrictions else ""
    body = (
        f"{officer.agency} asks your consent to forward your message {original.id} ({original.title}) to "
        f"{_target(onward)}, inside {node.party}.\nWhy: {onward.reason}\nYour caveats: {caveats}{restriction}"
    )
    title = f"Consent to forward inside {node.party}: {original.title}"
    fields = _to_originator(node, officer, original, MessageKind.FORWARD_CONSENT, title, body, now)
    return Message(**fields, deadline=node.agreement.deadline_for(original.priority, now), onward=onward)


def _notice(node: Node, officer: Officer, original: Message, onward: OnwardDisclosure, now: datetime) -> Message:
    body = (
        f"{officer.agency} forwarded your message {original.id} ({original.title}) to {_target(onward)}, inside "
        f"{node.party}, with its handling unchanged.\nWhy: {onward.reason}"
    )
    title = f"Forwarded inside {node.party}: {original.title}"
    fields = _to_originator(node, officer, original, MessageKind.FORWARD_NOTICE, title, body, now)
    return Message(**fields, deadline=None, onward=onward)


# ------------------------------------------------------------------------------------- the originator's answer


def answer_consent(node: Node, officer: Officer, forward_id: str, answer: OnwardConsent) -> dict[str, Any]:
    """The originating agency grants or refuses a forward the peer asked consent for; the answer travels back."""
    require_sender(officer)
    now = datetime.now(UTC)
    with node.engine.begin() as conn:
        fw = conn.execute(
            select(forwards).where(forwards.c.id == forward_id, forwards.c.role == ForwardRole.ORIGINATOR.value)
        ).first()
        if fw is None or fw.consent_request_id is None:
            raise NotFound(_("no consent request for forward {forward_id} here").format(forward_id=forward_id))
        if fw.originator_agency != officer.agency:
            raise Forbidden(
                _("only {originator_agency}, which sent the message, answers for it").format(
                    originator_agency=fw.originator_agency
                )
            )
        if fw.state != ForwardState.AWAITING_CONSENT.value:
            raise Conflict(_("the consent request was answered already ({state})").format(state=fw.state))
        request_row = visible_row(node, conn, officer, fw.consent_request_id)
        request = Message.model_validate_json(request_row.content)
        granted = answer.decision is ConsentDecision.GRANTED
        title = f"Consent {'granted' if granted else 'refused'}: {request.title}"
        body = answer.conditions or (
            f"{officer.agency} {'consents' if granted else 'does not consent'} to the forward to "
            f"{fw.to_officer + ' of ' if fw.to_officer else ''}{fw.to_agency}."
        )
        response = Message(
            id=str(uuid7()),
            kind=MessageKind.RESPONSE,
            case_id=request.case_id,
            sender=Address(party=node.party, agency=officer.agency, officer=officer.username),
            recipient=request.sender,
            focus_area=request.focus_area,
            priority=request.priority,
            created_at=now,
            deadline=None,
            handling=_handling_back(node, request.handling),
            title=title[:300],
            body=body,
            in_reply_to=request.id,
            onward_consent=answer,
        )
        [queued] = decide_and_queue(node, conn, officer, [response], now)
        if queued.state is DeliveryState.REFUSED:
            raise InvalidInput(
                _("this party's pack refuses the answer: {reasons}").format(
                    reasons="; ".join(queued.decision.explained())
                )
            )
        state = ForwardState.CONSENT_GRANTED if granted else ForwardState.CONSENT_REFUSED
        conn.execute(
            update(forwards)
            .where(forwards.c.id == forward_id, forwards.c.role == ForwardRole.ORIGINATOR.value)
            .values(
                state=state.value, consent_answer_id=response.id, consent_conditions=answer.conditions, decided_at=now
            )
        )
        append_event(
            conn,
            EventType.FORWARD_CONSENT_ANSWERED,
            officer.id,
            {"forward": forward_id, "message": fw.message_id, "decision": answer.decision.value, "answer": response.id},
        )
    node.outbox_signal.set()
    return {"id": forward_id, "state": state.value, "answer_id": response.id, "delivery": queued.state.value}


# ------------------------------------------------------------------------------------- arrivals from the peer


def record_consent_request(conn: Connection, message: Message) -> None:
    """The peer asks our consent to forward a message of ours inside its state (in the inbox's transaction)."""
    onward = message.onward
    assert onward is not None
    if _held(conn, onward.forward_id) is not None:
        return
    conn.execute(insert(forwards), [_originator_row(message, onward, ForwardState.AWAITING_CONSENT)])
    append_event(
        conn,
        EventType.FORWARD_CONSENT_REQUESTED,
        f"{message.sender.party.value}:{message.sender.agency}",
        _refs(onward) | {"request": message.id},
    )


def record_forward_notice(conn: Connection, message: Message) -> None:
    """The peer forwarded a message of ours inside its state: recorded, and in our ledger."""
    onward = message.onward
    assert onward is not None
    if _held(conn, onward.forward_id) is None:
        conn.execute(insert(forwards), [_originator_row(message, onward, ForwardState.FORWARDED)])
    conn.execute(
        update(forwards)
        .where(forwards.c.id == onward.forward_id, forwards.c.role == ForwardRole.ORIGINATOR.value)
        .values(state=ForwardState.FORWARDED.value, notice_id=message.id, decided_at=datetime.now(UTC))
    )
    append_event(
        conn,
        EventType.MESSAGE_FORWARDED_BY_PEER,
        f"{message.sender.party.value}:{message.sender.agency}",
        _refs(onward) | {"notice": message.id},
    )


def apply_consent_answer(node: Node, conn: Connection, message: Message) -> None:
    """The originator answered our consent request: a grant completes the forward (if the pack, asked again with
    the consent, allows it), a refusal ends it. In the inbox's transaction."""
    answer = message.onward_consent
    if answer is None or message.in_reply_to is None:
        return
    fw = conn.execute(
        select(forwards).where(
            forwards.c.consent_request_id == message.in_reply_to, forwards.c.role == ForwardRole.FORWARDER.value
        )
    ).first()
    if fw is None or fw.state != ForwardState.AWAITING_CONSENT.value or message.sender.agency != fw.originator_agency:
        return
    now = datetime.now(UTC)
    conn.execute(
        update(forwards)
        .where(forwards.c.id == fw.id, forwards.c.role == ForwardRole.FORWARDER.value)
        .values(consent_answer_id=message.id, consent_conditions=answer.conditions, decided_at=now)
    )
    actor = f"{message.sender.party.value}:{message.sender.agency}"
    refs = {"forward": fw.id, "message": fw.message_id, "decision": answer.decision.value, "answer": message.id}
    append_event(conn, EventType.FORWARD_CONSENT_ANSWERED, actor, refs)
    if answer.decision is ConsentDecision.REFUSED:
        _set_state(conn, fw.id, ForwardState.CONSENT_REFUSED)
        return
    officer = officer_by_username(conn, fw.from_officer)
    row = conn.execute(select(messages).where(messages.c.id == fw.message_id)).first()
    if officer is None or row is None:
        _set_state(conn, fw.id, ForwardState.REFUSED)
        return
    original = Message.model_validate_json(row.content)
    onward = OnwardDisclosure(
        forward_id=fw.id,
        message_id=fw.message_id,
        to_party=Party(fw.to_party),
        to_agency=fw.to_agency,
        to_officer=fw.to_officer,
        reason=fw.reason,
    )
    decision = _decide(node, officer, row, original, onward, Party(fw.to_party), consented=True)
    conn.execute(update(forwards).where(forwards.c.id == fw.id).values(decision=json.dumps(decision.as_json())))
    if decision.verdict is not Verdict.ALLOW:
        _set_state(conn, fw.id, ForwardState.REFUSED)
        append_event(conn, EventType.FORWARD_REFUSED, officer.id, _refs(onward) | {"verdict": decision.verdict.value})
        return
    _complete(node, conn, officer, row, original, onward, now)
    node.outbox_signal.set()


def _set_state(conn: Connection, forward_id: str, state: ForwardState) -> None:
    conn.execute(
        update(forwards)
        .where(forwards.c.id == forward_id, forwards.c.role == ForwardRole.FORWARDER.value)
        .values(state=state.value)
    )


def _held(conn: Connection, forward_id: str) -> Row[Any] | None:
    return conn.execute(
        select(forwards.c.id).where(forwards.c.id == forward_id, forwards.c.role == ForwardRole.ORIGINATOR.value)
    ).first()


def _originator_row(message: Message, onward: OnwardDisclosure, state: ForwardState) -> dict[str, Any]:
    consent = message.id if message.kind is MessageKind.FORWARD_CONSENT else None
    notice = message.id if message.kind is MessageKind.FORWARD_NOTICE else None
    return {
        "id": onward.forward_id,
        "role": ForwardRole.ORIGINATOR.value,
        "message_id": onward.message_id,
        "from_agency": message.sender.agency,
        "from_officer": message.sender.officer or "",
        "originator_agency": message.recipient.agency,
        "to_party": onward.to_party.value,
        "to_agency": onward.to_agency,
        "to_officer": onward.to_officer,
        "reason": onward.reason,
        "state": state.value,
        "consent_request_id": consent,
        "notice_id": notice,
        "created_at": datetime.now(UTC),
        "decided_at": None if state is ForwardState.AWAITING_CONSENT else datetime.now(UTC),
    }


# ------------------------------------------------------------------------------------------------------ lists


FORWARD_ORDER = SortKey("forwards/created", (forwards.c.created_at, forwards.c.id))


def forward_page(
    node: Node, officer: Officer, *, consent_asked: bool = False, after: Position | None = None, limit: int = 50
) -> Page[dict[str, Any]]:
    """The forwards the officer's agency made or was given, and those of its own messages the peer made or asks
    consent for (only those still waiting for its consent, with `consent_asked`); newest first, a page at a time."""
    query = select(forwards).where(
        or_(
            (forwards.c.role == ForwardRole.FORWARDER.value) & (forwards.c.from_agency == officer.agency),
            (forwards.c.role == ForwardRole.FORWARDER.value)
            & (forwards.c.state == ForwardState.FORWARDED.value)
            & (
                ((forwards.c.to_agency == officer.agency) & forwards.c.to_officer.is_(None))
                | (forwards.c.to_officer == officer.username)
            ),
            (forwards.c.role == ForwardRole.ORIGINATOR.value) & (forwards.c.originator_agency == officer.agency),
        )
    )
    if consent_asked:
        query = query.where(
            forwards.c.role == ForwardRole.ORIGINATOR.value, forwards.c.state == ForwardState.AWAITING_CONSENT.value
        )
    with node.engine.connect() as conn:
        return read_page(
            conn, query, FORWARD_ORDER, after=after, limit=limit, keep=lambda rows: [(r, forward_view(r)) for r in rows]
        )


def forward_view(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "role": row.role,
        "message_id": row.message_id,
        "from": {"agency": row.from_agency, "officer": row.from_officer},
        "originator_agency": row.originator_agency,
        "to": {"party": row.to_party, "agency": row.to_agency, "officer": row.to_officer},
        "reason": row.reason,
        "state": row.state,
        "decision": json.loads(row.decision) if row.decision else None,
        "consent_request_id": row.consent_request_id,
        "consent_answer_id": row.consent_answer_id,
        "consent_conditions": row.consent_conditions,
        "notice_id": row.notice_id,
        "created_at": row.created_at,
        "decided_at": row.decided_at,
    }
