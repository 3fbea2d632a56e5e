"""Compose, decide and queue: the send path every outgoing message takes (one transaction per call)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update
from uuid6 import uuid7

from accord.crypto.canonical import canonical_json
from accord.directory.officers import Officer, Role, role_names
from accord.domain.agreement import Agreement
from accord.domain.drafts import AmendmentDraft, HandlingDraft, MessageDraft, ReplyDraft
from accord.domain.forwarding import inherit_handling
from accord.domain.handling import Caveat, Handling, Tlp
from accord.domain.messages import (
    AMENDMENT_EFFECT,
    OPENING_KINDS,
    Address,
    AttachmentRef,
    DeliveryState,
    Direction,
    Message,
    MessageKind,
    Priority,
    SubjectKind,
)
from accord.domain.replies import inherited_handling, reply_title, weakenings, with_original_codes
from accord.errors import AccordError, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from accord.exchange.assurances import assurance_refs, with_refs
from accord.exchange.disclosure import current_pack_label, decide_disclosure, deciding_engine, gather_evidence_for
from accord.exchange.errors import (
    AboveChannelCeiling,
    H3RestrictionUnstated,
    HandlingWeakened,
    NotAmendable,
    OffenceRequired,
    TlpRedUnnamed,
    UnknownAgency,
    UnknownClassification,
    UnknownFocusArea,
    UnknownOffence,
)
from accord.exchange.kinds import KindHandlers
from accord.exchange.mailbox import visible_row
from accord.exchange.outbox import OutboxEntry, OutboxKind, channel_due, enqueue
from accord.exchange.roster import check_named_recipients
from accord.exchange.screen_workers import ScreenWorkers
from accord.i18n import _
from accord.ledger.events import EventType, append_events, event_row
from accord.node import Node
from accord.policy.engine import DisclosureDecision, DisclosurePolicy, Principal, Verdict
from accord.policy.offences import offence_taxonomy, statutes_of
from accord.policy.screens import Evidence
from accord.policy.screens.offences import OFFENCE_REQUIRED_KINDS
from accord.store.engine import bulk_item, give_way, urgent_writes, write_giving_way
from accord.store.search import insert_messages, message_words
from accord.store.tables import blobs, message_attachments, messages
from accord.trust.peers import PeerRecord, peer_for_party

_SENDING_ROLES = frozenset({Role.OFFICER, Role.ANALYST})
STATE_FOR_VERDICT = {
    Verdict.ALLOW: DeliveryState.QUEUED,
    Verdict.DENY: DeliveryState.REFUSED,
    Verdict.REVIEW: DeliveryState.HELD,
}


@dataclass(frozen=True, slots=True)
class Queued:
    message: Message
    state: DeliveryState
    decision: DisclosureDecision
    channel_seq: int | None


def send_messages(
    node: Node, officer: Officer, drafts: Sequence[MessageDraft], workers: ScreenWorkers | None = None
) -> list[Queued]:
    """Validate every draft, decide policy on each, queue the allowed ones; all or nothing. `workers`: where a bulk
    batch is decided (None: in this process)."""
    require_sender(officer)
    now = datetime.now(UTC)
    # The pack's screens are most of a decision's cost and read nothing but the message and its evidence: they run
    # first on a read snapshot, so that a large batch does not hold the writer's lock (other senders' urgent messages,
    # delivery, the inbox) while it is screened. Under the lock every check runs again, and a decision taken ahead is
    # kept only for the same message, on the same evidence, by the same pack.
    # Drafts that are all urgent (one message, as a rule) are urgent work: stored before the bulk batches waiting to
    # be, and bulk work gives way to them; a batch with some routine traffic in it waits its turn.
    urgent = all(d.priority.urgent for d in drafts)
    with urgent_writes() if urgent else nullcontext():
        with node.engine.connect() as conn:
            ahead = _decide_ahead(node, conn, officer, drafts, now, workers)

        def store(conn: Connection) -> list[Queued]:
            peer = peer_for_party(node, conn, node.party.other)
            built = []
            for draft, early in zip(drafts, ahead, strict=True):
                give_way(conn)
                built.append(_built_again(node, conn, officer, draft, early, now))
            return _decide_and_queue(node, conn, officer, peer, built, now, ahead)

        # A bulk batch's transaction is cut short, and begun again, for an urgent message that comes meanwhile.
        queued = write_giving_way(node.engine, store)
    node.wake_delivery(urgent=any(_urgent(q) for q in queued))
    return queued


@dataclass(frozen=True, slots=True)
class _Ahead:
    """A draft's message and the decision on it, taken on a read snapshot before the write transaction."""

    message: Message
    evidence: Evidence
    decision: DisclosureDecision
    content: bytes  # the message as canonical JSON, and the words it is found by: worked out ahead too, so that the
    words: str  # write transaction (which every other writer waits for) only stores them
    decision_json: bytes  # the decision as canonical JSON (its ledger event)


def _decide_ahead(
    node: Node,
    conn: Connection,
    officer: Officer,
    drafts: Sequence[MessageDraft],
    now: datetime,
    workers: ScreenWorkers | None,
) -> list[_Ahead | None]:
    built: list[Message | None] = []
    for draft in drafts:
        with bulk_item():
            try:
                built.append(_cited_message(node, conn, officer, draft, now))
            except AccordError:
                built.append(None)  # refused again, and reported, under the lock
    messages_built = [m for m in built if m is not None]
    evidence = dict(zip((m.id for m in messages_built), gather_evidence_for(node, conn, messages_built), strict=True))
    principal = _principal(node, officer)
    pending = [(m, evidence[m.id]) for m in messages_built]
    engine = deciding_engine(node.policy)
    if engine is None or workers is None:
        done = _decided_here(node.policy, principal, pending)
    else:
        # Urgent drafts (one, as a rule) are decided at once, here; a bulk batch in the screen workers, if any.
        done = workers.map(
            decide_part,
            (engine, principal),
            pending,
            lambda: _decided_here(node.policy, principal, pending),
            urgent=all(m.priority.urgent for m in messages_built),
        )
    by_id = {m.id: _Ahead(m, evidence[m.id], *parts) for (m, _ev), parts in zip(pending, done, strict=True)}
    return [None if m is None else by_id[m.id] for m in built]


_AheadParts = tuple[DisclosureDecision, bytes, str, bytes]  # a decision, and what `_Ahead` keeps with it


def decide_part(
    deciding: tuple[DisclosurePolicy, Principal], pending: list[tuple[Message, Evidence]]
) -> list[_AheadParts]:
    """Decide each message on its evidence with `deciding`'s engine (the node process's, pickled to a screen
    worker) and principal."""
    policy, principal = deciding
    return _decided_here(policy, principal, pending)


def _decided_here(
    policy: DisclosurePolicy, principal: Principal, pending: Sequence[tuple[Message, Evidence]]
) -> list[_AheadParts]:
    done = []
    for message, evidence in pending:
        with bulk_item():
            decision = policy.decide(message, principal, evidence)
            content = canonical_json(message.model_dump(mode="json"))
            done.append((decision, content, message_words(content.decode()), canonical_json(decision.as_json())))
    return done


def _built_again(
    node: Node, conn: Connection, officer: Officer, draft: MessageDraft, ahead: _Ahead | None, now: datetime
) -> Message:
    """Under the writer's lock: the message built ahead, if what the database gives it (its handling, its
    attachments) is the same and every check that reads the database passes again; else the message built anew. The
    checks that read only the draft and the node's settings passed ahead, at the same `now`."""
    if ahead is None:
        return _cited_message(node, conn, officer, draft, now)
    kinds = KindHandlers(node.registry)
    with _cited(node):
        stored = _stored_parts(node, conn, officer, kinds, draft)
        if stored != (ahead.message.handling, ahead.message.attachments):
            return _message_from_draft(node, conn, officer, draft, now)
        _check_stored(node, conn, officer, kinds, ahead.message, now)
    return ahead.message


def _decision(
    node: Node, message: Message, principal: Principal, evidence: Evidence, ahead: _Ahead | None
) -> DisclosureDecision:
    if (
        ahead is not None
        and ahead.message is message
        and replace(evidence, at=ahead.evidence.at) == ahead.evidence
        and ahead.decision.pack == current_pack_label(node)
    ):
        return ahead.decision
    return node.policy.decide(message, principal, evidence)


def require_sender(officer: Officer) -> None:
    if not _SENDING_ROLES & officer.roles:
        raise Forbidden(
            _("role(s) {role_names} may not send messages; an officer or analyst role is needed").format(
                role_names=role_names(officer)
            )
        )


def evaluate_draft(node: Node, officer: Officer, draft: MessageDraft) -> DisclosureDecision:
    """The decision the pack would take on this draft now, with reasons; nothing is stored or logged."""
    require_sender(officer)
    with node.engine.connect() as conn:
        message = _cited_message(node, conn, officer, draft, datetime.now(UTC))
        return decide_disclosure(node, conn, message, _principal(node, officer))


def _principal(node: Node, officer: Officer) -> Principal:
    return Principal(officer.username, node.party.value, officer.agency, tuple(sorted(officer.roles)))


def reply_draft(node: Node, officer: Officer, message_id: str, draft: ReplyDraft) -> MessageDraft:
    """Turn a draft into a response to `message_id`: same case, back to the original sender."""
    with node.engine.connect() as conn:
        original = visible_row(node, conn, officer, message_id)
    if original.direction != Direction.INCOMING or original.recipient_agency != officer.agency:
        raise InvalidInput(_("only a message received by your agency can be answered"))
    if original.kind not in {k.value for k in OPENING_KINDS}:
        raise InvalidInput(
            _("a {kind} cannot be answered; answer the request, share or alert it belongs to").format(
                kind=original.kind
            )
        )
    answered = Message.model_validate_json(original.content)
    fields = draft.model_dump(exclude={"handling", "title"})
    return MessageDraft(
        **fields,
        title=draft.title or reply_title(answered.title),
        handling=_answer_handling(node, draft.handling, answered),
        kind=MessageKind.RESPONSE,
        recipient_agency=original.sender_agency,
        recipient_officer=original.sender_officer,
        focus_area=original.focus_area,
        case_id=original.case_id,
        in_reply_to=original.id,
    )


def _answer_handling(node: Node, proposed: HandlingDraft | None, answered: Message) -> HandlingDraft:
    """The answer's handling: the answered message's unless the officer gives one, at a level and a TLP no lower
    than the answered message's, with its handling codes carried over."""
    markings = node.agreement.classification_mapping[node.party]
    if proposed is None:
        try:
            return inherited_handling(answered.handling, markings, answered_officer=answered.sender.officer)
        except ValueError:
            raise AboveChannelCeiling(
                _("{party} has no marking at {level}, the level of the message answered").format(
                    party=node.party, level=answered.handling.level
                )
            ) from None
    if "tlp" not in proposed.model_fields_set:  # left out: the answered message's, not the draft's default
        proposed = proposed.model_copy(update={"tlp": answered.handling.tlp})
    level = node.agreement.common_level(node.party, proposed.classification)
    if level is None:
        return proposed  # the classification check names the markings there are
    weaker = weakenings(proposed, level, answered.handling)
    if weaker:
        raise HandlingWeakened(
            _("an answer may not be handled more loosely than the message it answers: {found}").format(
                found="; ".join(
                    _("{aspect} {proposed} is weaker than {required}").format(
                        aspect=w.aspect, proposed=w.proposed, required=w.required
                    )
                    for w in weaker
                )
            )
        )
    return with_original_codes(proposed, answered.handling, answered_officer=answered.sender.officer)


def amend_message(node: Node, officer: Officer, message_id: str, draft: AmendmentDraft) -> Queued:
    """A correction, withdrawal or retraction of a sent message: travels like a message, applies on both sides."""
    effect = AMENDMENT_EFFECT.get(draft.kind)
    if effect is None:
        raise InvalidInput(
            _("an amendment is a correction, withdrawal or retraction, not {kind!r}").format(kind=draft.kind)
        )
    if draft.kind is MessageKind.CORRECTION and not (draft.body or draft.title):
        raise InvalidInput(_("a correction must give the corrected title or body"))
    now = datetime.now(UTC)
    with node.engine.begin() as conn:
        row = visible_row(node, conn, officer, message_id)
        if row.direction != Direction.OUTGOING or row.sender_agency != officer.agency:
            raise NotAmendable(_("only the sending agency can amend a message"))
        if row.state in {DeliveryState.REFUSED, DeliveryState.FAILED} or row.kind in {
            k.value for k in AMENDMENT_EFFECT
        }:
            raise NotAmendable(_("a {kind} in state {state} cannot be amended").format(kind=row.kind, state=row.state))
        if row.amendment in {"withdrawn", "retracted"}:
            raise NotAmendable(_("the message was already {amendment}").format(amendment=row.amendment))
        original = Message.model_validate_json(row.content)
        amendment = original.model_copy(
            update={
                "id": str(uuid7()),
                "kind": draft.kind,
                "sender": Address(party=node.party, agency=officer.agency, officer=officer.username),
                "created_at": now,
                "deadline": None,
                "title": draft.title or f"{draft.kind.value.capitalize()}: {original.title}",
                "body": draft.body or draft.reason,
                "attachments": (),
                "in_reply_to": None,
                "refers_to": original.id,
            }
        )
        peer = peer_for_party(node, conn, node.party.other)
        [queued] = _decide_and_queue(node, conn, officer, peer, [amendment], now)
        if queued.state is DeliveryState.QUEUED:
            conn.execute(
                update(messages)
                .where(messages.c.id == original.id)
                .values(amendment=effect.value, amended_by=amendment.id)
            )
    node.wake_delivery(urgent=_urgent(queued))
    return queued


def _urgent(queued: Queued) -> bool:
    return queued.channel_seq is not None and queued.message.priority.urgent


def decide_and_queue(
    node: Node, conn: Connection, officer: Officer, built: Sequence[Message], now: datetime
) -> list[Queued]:
    """Messages a service built itself (consent requests, notices): decided by the pack, queued, logged."""
    return _decide_and_queue(node, conn, officer, peer_for_party(node, conn, node.party.other), built, now)


def _decide_and_queue(
    node: Node,
    conn: Connection,
    officer: Officer,
    peer: PeerRecord,
    built: Sequence[Message],
    now: datetime,
    ahead: Sequence[_Ahead | None] | None = None,
) -> list[Queued]:
    principal = _principal(node, officer)
    early = ahead if ahead is not None else [None] * len(built)
    evidence = gather_evidence_for(node, conn, built)
    give_way(conn)
    decisions = [_decision(node, m, principal, e, a) for m, e, a in zip(built, evidence, early, strict=True)]
    # What was worked out ahead for the same message (and, for the decision, the same decision) is used as it is.
    same = {m.id: a for m, a in zip(built, early, strict=True) if a is not None and a.message is m}
    contents = {m.id: same[m.id].content if m.id in same else canonical_json(m.model_dump(mode="json")) for m in built}
    due = channel_due(conn, node.node_id, peer.node_id, now)
    queued: list[Queued] = []
    # In slices, each stored and logged whole before the next: a large batch's transaction may then give way to an
    # urgent writer between two slices (`write_giving_way`), instead of only after all of it.
    for first in range(0, len(built), _SLICE):
        give_way(conn)
        part = [(m, d) for m, d in zip(built[first : first + _SLICE], decisions[first : first + _SLICE], strict=True)]
        queued += _queue_slice(node, conn, officer, peer, part, now, due, contents, same)
    return queued


# Messages of a batch stored and logged together (see `_decide_and_queue`).
_SLICE = 50


def _queue_slice(
    node: Node,
    conn: Connection,
    officer: Officer,
    peer: PeerRecord,
    decided: Sequence[tuple[Message, DisclosureDecision]],
    now: datetime,
    due: datetime,
    contents: Mapping[str, bytes],
    same: Mapping[str, _Ahead],
) -> list[Queued]:
    allowed = [m for m, d in decided if d.verdict is Verdict.ALLOW]
    entries = [OutboxEntry(OutboxKind.MESSAGE, m.id, m.priority.outbox_rank, contents[m.id].decode()) for m in allowed]
    seqs = dict(zip([m.id for m in allowed], enqueue(conn, node.node_id, peer.node_id, entries), strict=True))
    queued = [Queued(m, STATE_FOR_VERDICT[d.verdict], d, seqs.get(m.id)) for m, d in decided]
    insert_messages(
        conn,
        [_outgoing_row(q, contents[q.message.id], now, due) for q in queued],
        {q.message.id: same[q.message.id].words for q in queued if q.message.id in same},
    )
    link_attachments(conn, [q.message for q in queued])
    mark_answered(conn, [q.message for q in queued if q.state is DeliveryState.QUEUED], now)
    rows = []
    for q in queued:
        refs = with_refs(
            {"message": q.message.id, "case": q.message.case_id, "peer": peer.node_id},
            assurance_refs(q.message.assurances),
        )
        rows.append(event_row(EventType.MESSAGE_CREATED, officer.id, refs, contents[q.message.id], now))
        rows.append(
            event_row(
                EventType.POLICY_DECIDED,
                officer.id,
                {
                    "message": q.message.id,
                    "verdict": q.decision.verdict.value,
                    "pack": q.decision.pack,
                    "policies": ",".join(p.id for p in q.decision.policies),
                },
                _decision_json(q.decision, same.get(q.message.id)),
                now,
            )
        )
    append_events(conn, rows)
    return queued


def _decision_json(decision: DisclosureDecision, ahead: _Ahead | None) -> bytes:
    return (
        ahead.decision_json if ahead is not None and ahead.decision is decision else canonical_json(decision.as_json())
    )


def mark_answered(conn: Connection, released: Sequence[Message], now: datetime) -> None:
    """A response on its way answers the message it replies to, here as at the other side when it arrives."""
    answered = [m.in_reply_to for m in released if m.kind is MessageKind.RESPONSE and m.in_reply_to]
    if answered:
        conn.execute(
            update(messages)
            .where(messages.c.id.in_(answered), messages.c.answered_at.is_(None))
            .values(answered_at=now)
        )


def message_row(m: Message, direction: Direction) -> dict[str, object]:
    """The columns of a messages row that come from the message itself, on either side."""
    return {
        "id": m.id,
        "direction": direction.value,
        "kind": m.kind.value,
        "case_id": m.case_id,
        "sender_party": m.sender.party.value,
        "sender_agency": m.sender.agency,
        "sender_officer": m.sender.officer,
        "recipient_party": m.recipient.party.value,
        "recipient_agency": m.recipient.agency,
        "recipient_officer": m.recipient.officer,
        "focus_area": m.focus_area,
        "priority": m.priority.value,
        "created_at": m.created_at,
        "deadline": m.deadline,
        "title": m.title,
        "in_reply_to": m.in_reply_to,
        "refers_to": m.refers_to,
    }


def _outgoing_row(q: Queued, content: bytes, now: datetime, due: datetime) -> dict[str, object]:
    return message_row(q.message, Direction.OUTGOING) | {
        "content": content.decode(),
        "state": q.state.value,
        "state_reason": None if q.state is DeliveryState.QUEUED else "; ".join(q.decision.reasons),
        "decision": json.dumps(q.decision.as_json()),
        "channel_seq": q.channel_seq,
        "attempts": 0,
        "next_attempt_at": due if q.state is DeliveryState.QUEUED else None,
    }


def _cited_message(node: Node, conn: Connection, officer: Officer, draft: MessageDraft, now: datetime) -> Message:
    """The message a draft makes."""
    with _cited(node):
        return _message_from_draft(node, conn, officer, draft, now)


@contextmanager
def _cited(node: Node) -> Iterator[None]:
    """A check that refuses a draft before the pack is asked names the law it enforces (the pack's policy that
    @validates the same problem)."""
    try:
        yield
    except InvalidInput as exc:
        exc.cite(node.policy.citation_for(exc.slug))
        raise


def _message_from_draft(node: Node, conn: Connection, officer: Officer, draft: MessageDraft, now: datetime) -> Message:
    agreement = node.agreement
    other = node.party.other
    if draft.kind not in OPENING_KINDS and draft.kind is not MessageKind.RESPONSE:
        raise InvalidInput(_("kind {kind!r} is sent through /amendments, not as a new message").format(kind=draft.kind))
    if draft.kind is MessageKind.RESPONSE and draft.in_reply_to is None:
        raise InvalidInput(_("a response names the message it answers; use POST /api/v1/messages/{{id}}/reply"))
    if agreement.agency(other, draft.recipient_agency) is None:
        known = ", ".join(a.code for a in agreement.agencies if a.party is other)
        raise UnknownAgency(
            _("{recipient_agency!r} is not an agency of {other} in the agreement; known: {known}").format(
                recipient_agency=draft.recipient_agency, other=other, known=known
            )
        )
    if agreement.focus_area(draft.focus_area) is None:
        known = ", ".join(f.code for f in agreement.focus_areas)
        raise UnknownFocusArea(
            _("{focus_area!r} is not a focus area of the agreement; known: {known}").format(
                focus_area=draft.focus_area, known=known
            )
        )
    if len(draft.body.encode()) > node.settings.max_body_bytes:
        raise PayloadTooLarge(
            _("the body has {count} bytes; the limit is {max_body_bytes}: send long material as an attachment").format(
                count=len(draft.body.encode()), max_body_bytes=node.settings.max_body_bytes
            )
        )
    _check_offence(node, draft)
    kinds = KindHandlers(node.registry)
    deadline = _deadline(agreement, kinds, draft.kind, draft.priority, now)
    handling, attachments = _stored_parts(node, conn, officer, kinds, draft)
    message = Message(
        **draft.carried(),
        id=str(uuid7()),
        case_id=draft.case_id or str(uuid7()),
        sender=Address(party=node.party, agency=officer.agency, officer=officer.username),
        recipient=Address(party=other, agency=draft.recipient_agency, officer=draft.recipient_officer),
        created_at=now,
        deadline=deadline,
        handling=handling,
        attachments=attachments,
    )
    _check_stored(node, conn, officer, kinds, message, now)
    return message


def _stored_parts(
    node: Node, conn: Connection, officer: Officer, kinds: KindHandlers, draft: MessageDraft
) -> tuple[Handling, tuple[AttachmentRef, ...]]:
    """What of a draft's message the database decides: the case it joins is one the officer may add to, its handling
    (the stricter of a message it reuses), its attachments."""
    held = draft.case_id is not None and any(
        h.holds_case(node, conn, officer.agency, draft.case_id) for h in kinds.for_kind(draft.kind)
    )
    if draft.case_id is not None and draft.kind is not MessageKind.RESPONSE and not held:
        _require_case(conn, officer, draft.case_id)
    handling = _reused_handling(node, conn, officer, draft, _handling(node, draft))
    return handling, tuple(_attachment(conn, a.sha256, a.name) for a in draft.attachments)


def _check_stored(
    node: Node, conn: Connection, officer: Officer, kinds: KindHandlers, message: Message, now: datetime
) -> None:
    """The checks of a message against what the database holds: its named recipients, what its kind requires."""
    check_named_recipients(node, conn, message)
    _check_kind(node, conn, officer, kinds, message, now)


def _check_offence(node: Node, draft: MessageDraft) -> None:
    """The offence is a code of the shared taxonomy, and one is named wherever a person is (the sending party's law
    requires it)."""
    if draft.offence is not None and offence_taxonomy().get(draft.offence) is None:
        raise UnknownOffence(
            _(
                "offence {offence!r} is not an ICCS code of the offence list (GET /api/v1/offences); "
                "e.g. 0101 Intentional homicide, 06012 drug trafficking, 020221 Kidnapping"
            ).format(offence=draft.offence)
        )
    names_person = any(s.kind is SubjectKind.PERSON for s in draft.subjects)
    if draft.offence is None and names_person and draft.kind in OFFENCE_REQUIRED_KINDS:
        law = statutes_of(node.party).offence_required
        raise OffenceRequired(
            _("a {kind} that names a person must name the offence it concerns: {remedy}").format(
                kind=draft.kind, remedy=law.remedy
            ),
            law.citation,
        )


def _reused_handling(node: Node, conn: Connection, officer: Officer, draft: MessageDraft, own: Handling) -> Handling:
    """A message made from another (`refers_to`) carries the originator's caveats and TLP, the stricter winning:
    reusing content must not shed the handling codes it was given under (Europol H0–H3; FIRST TLP 2.0)."""
    if draft.refers_to is None:
        return own
    source = visible_row(node, conn, officer, draft.refers_to)
    never_left = {DeliveryState.HELD.value, DeliveryState.REFUSED.value, DeliveryState.FAILED.value}
    if source.direction == Direction.OUTGOING.value and source.state in never_left:
        raise InvalidInput(
            _("{refers_to} is {state} and never reached {other}: refer to a message both sides hold").format(
                refers_to=draft.refers_to, state=source.state, other=node.party.other
            )
        )
    handling = inherit_handling(own, Message.model_validate_json(source.content).handling)
    if handling.tlp is Tlp.RED and not handling.named_recipients and not draft.recipient_officer:
        raise InvalidInput(
            _(
                "the message reuses {refers_to}, which is TLP:RED: name its recipients in handling.named_recipients"
            ).format(refers_to=draft.refers_to)
        )
    return handling


def _deadline(
    agreement: Agreement, kinds: KindHandlers, kind: MessageKind, priority: Priority, now: datetime
) -> datetime | None:
    own = kinds.deadline(agreement, kind, now)
    if own is not None:
        return own
    return agreement.deadline_for(priority, now) if kind in {MessageKind.REQUEST, MessageKind.ALERT} else None


def _check_kind(
    node: Node, conn: Connection, officer: Officer, kinds: KindHandlers, message: Message, now: datetime
) -> None:
    """What the message's kind, and the kind of the message it answers, require of it (registered handlers)."""
    answered = None
    if message.kind is MessageKind.RESPONSE and message.in_reply_to is not None:
        answered = visible_row(node, conn, officer, message.in_reply_to)
    kinds.check_ownership(message, answered.kind if answered is not None else None)
    for handler in kinds.for_kind(message.kind):
        handler.check_outgoing(node, conn, message, now)
    if answered is not None:
        for handler in kinds.for_kind(answered.kind):
            handler.check_outgoing_answer(node, conn, answered, message)


def _handling(node: Node, draft: MessageDraft) -> Handling:
    h = draft.handling
    level = node.agreement.common_level(node.party, h.classification)
    if level is None:
        known = ", ".join(node.agreement.classification_mapping[node.party])
        raise UnknownClassification(
            _("{classification!r} is not a {party} classification; known: {known}").format(
                classification=h.classification, party=node.party, known=known
            )
        )
    ceiling = node.agreement.channel_ceiling
    if level.rank > ceiling.rank:
        raise AboveChannelCeiling(
            _(
                "{classification} maps to {level}; this channel carries at most {ceiling}: send it "
                "through another channel or lower what it contains"
            ).format(classification=h.classification, level=level, ceiling=ceiling)
        )
    if h.tlp is Tlp.RED and not h.named_recipients:
        raise TlpRedUnnamed(_("TLP:RED is for named recipients only: list them in handling.named_recipients"))
    if Caveat.H3 in h.caveats and not h.restrictions:
        raise H3RestrictionUnstated(_("caveat H3 needs its restriction stated in handling.restrictions"))
    return Handling(
        classification=h.classification,
        level=level,
        tlp=h.tlp,
        caveats=tuple(dict.fromkeys(h.caveats)),
        restrictions=h.restrictions,
        named_recipients=h.named_recipients,
    )


def _attachment(conn: Connection, sha256: str, name: str) -> AttachmentRef:
    row = conn.execute(select(blobs.c.size, blobs.c.media_type).where(blobs.c.sha256 == sha256)).first()
    if row is None:
        raise InvalidInput(
            _("no attachment {sha256} is stored here; upload it to /api/v1/attachments first").format(sha256=sha256)
        )
    return AttachmentRef(sha256=sha256, name=name, media_type=row.media_type, size=row.size)


def _require_case(conn: Connection, officer: Officer, case_id: str) -> None:
    visible = conn.execute(
        select(messages.c.id)
        .where(messages.c.case_id == case_id)
        .where((messages.c.sender_agency == officer.agency) | (messages.c.recipient_agency == officer.agency))
        .limit(1)
    ).first()
    if visible is None:
        raise NotFound(_("no case {case_id} that your agency takes part in").format(case_id=case_id))


def link_attachments(conn: Connection, built: Sequence[Message]) -> None:
    rows = [{"message_id": m.id, "sha256": a.sha256} for m in built for a in m.attachments]
    if rows:
        conn.execute(insert(message_attachments), rows)
