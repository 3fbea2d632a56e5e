"""The inbox: verify envelopes from the pinned peer, store each once, answer with a signed receipt.

Store-then-receipt: a receipt is only signed inside the transaction that stores the envelope, so a receipt
the sender holds always names something this node kept. A refused envelope stores nothing but its refusal: an event
in the ledger if the pinned peer signed it (once per envelope, however often it is presented), otherwise a count
(`accord.trust.refusals`), since anyone on the network can send what fails to open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import Column, Connection, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from accord.crypto.canonical import canonical_json, sha256_hex
from accord.crypto.envelope import OpenedEnvelope, PinnedPeer, open_batch, open_envelope, verify_envelope
from accord.crypto.errors import MalformedArtefact, ReplayedEnvelope
from accord.crypto.receipts import sign_receipt
from accord.crypto.versions import BATCH_VERSION, require_known_envelope_version
from accord.directory.officers import officer_by_username
from accord.domain.messages import AMENDMENT_EFFECT, DeliveryState, Direction, Message, MessageKind
from accord.errors import AccordError, InvalidInput, PayloadTooLarge
from accord.exchange.arrival_work import arrival_work
from accord.exchange.assurances import assurance_refs, with_refs
from accord.exchange.attachments import StoredBlob, store_blob
from accord.exchange.disclosure import arrival_screen
from accord.exchange.errors import (
    AboveChannelCeiling,
    AttachmentMissing,
    SequenceCollision,
    UnknownAgency,
    UnknownFocusArea,
    UnknownReference,
)
from accord.exchange.kinds import ArrivalWarning, KindHandlers, PayloadKind, PayloadKindHandler
from accord.exchange.outbox import OutboxKind, channel_name
from accord.exchange.roster import check_named_readers_here
from accord.exchange.screen_workers import ScreenWorkers
from accord.exchange.sending import link_attachments, message_row
from accord.exchange.uploads import AnnouncedUpload
from accord.i18n import _
from accord.ledger.batch_receipts import BatchEntry, batch_receipt_claims, batch_tree, delivery_proof
from accord.ledger.events import Appended, EventType, append_events, event_row
from accord.node import Node
from accord.store.engine import bulk_item, give_way, urgent_writes, write_giving_way
from accord.store.search import insert_messages
from accord.store.tables import blobs, inbound_envelopes, messages, refused_envelopes
from accord.trust.peers import PeerRecord, load_peers
from accord.trust.refusals import UNKNOWN_SOURCE, Endpoint, Refusal, count_refusals
from accord.trust.rotation import refresh_keys

log = structlog.get_logger("accord.inbox")

_STORE_ATTEMPTS = 3
_JTI_LENGTH = 36  # inbound_envelopes.jti
_REF_LENGTH = 64  # of a refused envelope's signed `ref`, in its ledger event


class Outcome:
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class EnvelopeResult:
    ref: str | None
    outcome: str
    receipt: str | None = None
    problem: AccordError | None = None


@dataclass(slots=True)
class _Incoming:
    index: int
    envelope: OpenedEnvelope
    ref_id: str
    seq: int
    channel: str
    message: Message | None = None
    notice: dict[str, Any] | None = None
    payload: PayloadKind | None = None
    payload_kind: PayloadKindHandler | None = None
    referenced: list[str] = field(default_factory=list)
    warnings: tuple[ArrivalWarning, ...] = ()  # accepted with these (kind checks; the directory adds its own)
    screening: dict[str, Any] | None = None  # this node's neutrality screen of a message on arrival
    # A message's content as stored (canonical JSON) and the words it is found by: worked out with the screen, before
    # the write transaction, which every other writer waits for.
    content: str = ""
    words: str = ""


@dataclass(frozen=True, slots=True)
class _BatchMessage:
    """A message an envelope refers to: stored already, or accepted earlier in the same batch."""

    id: str
    direction: str
    kind: str


@dataclass(frozen=True, slots=True)
class _SignedRefusal:
    """A refusal of something the pinned peer signed: logged in the ledger, once per signed artefact (`jti`)."""

    peer: str
    jti: str
    ref: str | None
    problem: AccordError


def accept_envelopes(
    node: Node,
    submissions: Sequence[tuple[str | None, str]],
    *,
    source: str,
    workers: ScreenWorkers | None = None,
) -> list[EnvelopeResult]:
    """Verify and store a batch from `source` (a client address); returns one result per submission, in order."""
    refresh_keys(node)  # a rotation at the command line: envelopes sealed to the new key open at once
    with node.engine.connect() as conn:
        peers = load_peers(node, conn)
    now_s = int(time.time())
    opened: list[tuple[str | None, OpenedEnvelope | AccordError]] = []
    for ref, token in submissions:
        try:
            opened.append((ref, _open(node, peers, token, now_s)))
        except AccordError as problem:
            opened.append((ref, problem))
    return _accept(node, peers, opened, source, None, workers)


def accept_batch(node: Node, token: str, *, source: str, workers: ScreenWorkers | None = None) -> list[EnvelopeResult]:
    """Version 2: decrypt one sealed batch, then verify and store each envelope it carries on its own, as if it came
    alone: one that fails is refused and the others are stored. One receipt is signed for those stored; each one's
    result carries it with the envelope's inclusion proof (`accord.ledger.batch_receipts`). A batch that does not
    decrypt is refused as a whole (raised)."""
    refresh_keys(node)
    with node.engine.connect() as conn:
        peers = load_peers(node, conn)
    if not isinstance(token, str) or token.count(".") != 4:
        raise MalformedArtefact(_("a batch is a JWE in compact serialisation (five dot-separated parts)"))
    signed = open_batch(token, node.keys)
    now_s = int(time.time())
    find = _find_peer(peers)
    opened: list[tuple[str | None, OpenedEnvelope | AccordError]] = []
    sender: str | None = None
    for jws in signed:
        with bulk_item():
            try:
                envelope = verify_envelope(
                    jws, node.node_id, find, now_s, node.settings.max_envelope_age_s, node.settings.clock_skew_s
                )
                if envelope.claims.ver < BATCH_VERSION:
                    raise InvalidInput(
                        _("an envelope of version {ver} cannot travel in a batch; version {batch} can").format(
                            ver=envelope.claims.ver, batch=BATCH_VERSION
                        )
                    )
                sender = sender or envelope.sender.node_id
                if envelope.sender.node_id != sender:
                    raise MalformedArtefact(_("the envelopes of one batch come from one node"))
                opened.append((envelope.claims.ref, envelope))
            except AccordError as problem:
                opened.append((None, problem))
    return _accept(node, peers, opened, source, sha256_hex(token.encode()), workers)


def _accept(
    node: Node,
    peers: Sequence[PeerRecord],
    opened: Sequence[tuple[str | None, OpenedEnvelope | AccordError]],
    source: str,
    batch_digest: str | None,
    workers: ScreenWorkers | None,
) -> list[EnvelopeResult]:
    """Judge and store what was opened (`batch_digest`: a version-2 batch's, receipted once), log the refusals.
    `workers`: where a routine batch's screen and search words are worked out (None: in this process)."""
    results: list[EnvelopeResult | None] = [None] * len(opened)
    incoming: list[_Incoming] = []
    for index, (ref, envelope) in enumerate(opened):
        try:
            if isinstance(envelope, AccordError):
                raise envelope
            incoming.append(_validate(node, peers, index, envelope))
        except AccordError as problem:
            results[index] = EnvelopeResult(ref, Outcome.REFUSED, problem=problem)
    # The peer sends urgent traffic in batches of its own: urgent work, stored before the routine batches waiting to
    # be, and bulk work gives way to it.
    urgent = any(i.message is not None and i.message.priority.urgent for i in incoming)
    with urgent_writes() if urgent else nullcontext():
        # The screen reads only the message and the pack: screened here, not while the store holds the writer's lock.
        carrying = [(item, item.message) for item in incoming if item.message is not None]
        arriving = [(message, item.envelope.body) for item, message in carrying]
        done = arrival_work(workers, arrival_screen(node), arriving, urgent=urgent)
        for (item, _), work in zip(carrying, done, strict=True):
            item.screening, item.content, item.words = work.screening, work.content, work.words
        if incoming:
            for index, result in _store_retrying_conflicts(node, incoming, batch_digest).items():
                results[index] = result
    signed: list[_SignedRefusal] = []
    unsigned: list[AccordError] = []
    for index, outcome in enumerate(results):
        if outcome is None or outcome.problem is None:
            continue
        envelope = opened[index][1]
        # A replay is the peer's envelope, but presented by whoever holds a copy: counted, like what fails to open.
        if isinstance(envelope, AccordError) or isinstance(outcome.problem, ReplayedEnvelope):
            unsigned.append(outcome.problem)
        else:
            signed.append(_SignedRefusal(envelope.sender.node_id, envelope.jti, envelope.claims.ref, outcome.problem))
    logged, repeated = _log_signed_refusals(node, signed)
    unsigned += [r.problem for r in repeated]
    if unsigned:
        _count_refusals(node, unsigned, Endpoint.ENVELOPES, source)
    collisions = [r.problem for r in logged if isinstance(r.problem, SequenceCollision)]
    if collisions:
        _record_collisions(node, collisions)
    return [r for r in results if r is not None]


def record_request_refusal(node: Node, problem: AccordError, *, endpoint: Endpoint, source: str) -> None:
    """Count a refused request that never got as far as an envelope the peer signed (too large, not JSON, wrong
    shape, an upload token that does not verify): anyone can send one, so it is counted, not ledgered."""
    _count_refusals(node, [problem], endpoint, source)


def _store_retrying_conflicts(
    node: Node, incoming: list[_Incoming], batch_digest: str | None
) -> dict[int, EnvelopeResult]:
    """Store in one transaction; if a concurrent request stored the same envelope (or seq) between our checks and
    our insert, the unique constraints roll us back and a fresh attempt sees it as a replay or duplicate."""
    for attempt in range(_STORE_ATTEMPTS):
        try:
            # A bulk batch's transaction is cut short, and begun again, for an urgent arrival or message meanwhile.
            return write_giving_way(node.engine, lambda conn: _store(node, conn, incoming, batch_digest))
        except IntegrityError:
            if attempt == _STORE_ATTEMPTS - 1:
                raise
            log.info("concurrent delivery of the same envelope; checking again", attempt=attempt + 1)
    raise AssertionError("unreachable")


def _check_fits(values: dict[Column[Any], str | None]) -> None:
    """Identifiers a peer signed must still fit the columns that hold them (PostgreSQL enforces, SQLite does not)."""
    for column, value in values.items():
        limit = getattr(column.type, "length", None)
        if value is not None and limit is not None and len(value) > limit:
            raise InvalidInput(
                _("{name} has {count} characters; at most {limit} are accepted").format(
                    name=column.name, count=len(value), limit=limit
                )
            )


def _find_peer(peers: Sequence[PeerRecord]) -> Any:
    by_kid = {kid: p.pinned for p in peers for kid in p.pinned.signing_fingerprints}

    def find(kid: str) -> PinnedPeer | None:
        return by_kid.get(kid)

    return find


def _open(node: Node, peers: Sequence[PeerRecord], token: str, now_s: int) -> OpenedEnvelope:
    """Decrypted, signed by a pinned peer, addressed to this node and fresh: until then, nobody is authenticated."""
    if not isinstance(token, str) or token.count(".") != 4:
        raise MalformedArtefact(_("an envelope is a JWE in compact serialisation (five dot-separated parts)"))
    return open_envelope(
        token,
        node.node_id,
        node.keys,
        _find_peer(peers),
        now_s,
        node.settings.max_envelope_age_s,
        node.settings.clock_skew_s,
    )


def _validate(node: Node, peers: Sequence[PeerRecord], index: int, envelope: OpenedEnvelope) -> _Incoming:
    peer = next(p for p in peers if p.node_id == envelope.sender.node_id)
    require_known_envelope_version(envelope.claims.ver)
    seq = envelope.claims.seq
    if seq is None:
        raise MalformedArtefact(_("envelope lacks claim 'seq', its place on the channel"))
    channel = channel_name(peer.node_id, node.node_id)
    if len(envelope.jti) > _JTI_LENGTH:
        raise MalformedArtefact(
            _("envelope claim 'jti' has more than {JTI_LENGTH} characters").format(JTI_LENGTH=_JTI_LENGTH)
        )
    if envelope.kind == OutboxKind.MESSAGE:
        message, warnings = _validate_message(node, peer, envelope.body)
        if envelope.claims.ref != message.id:
            raise MalformedArtefact(_("envelope claim 'ref' does not name the message it carries"))
        referenced = [ref for ref in (message.in_reply_to, message.refers_to) if ref]
        return _Incoming(
            index, envelope, message.id, seq, channel, message=message, referenced=referenced, warnings=warnings
        )
    if envelope.kind == OutboxKind.NOTICE:
        notice = envelope.body
        if notice.get("notice") != "read" or not isinstance(notice.get("message_id"), str):
            raise MalformedArtefact(_("a notice is {{'notice': 'read', 'message_id': …}}"))
        ref_id = envelope.claims.ref
        if ref_id is None:
            raise MalformedArtefact(_("envelope lacks claim 'ref'"))
        _check_fits({inbound_envelopes.c.ref_id: ref_id})
        return _Incoming(index, envelope, ref_id, seq, channel, notice=notice, referenced=[notice["message_id"]])
    handler = KindHandlers(node.registry).payload(envelope.kind)
    if handler is not None:
        payload = handler.parse(envelope.body)
        if envelope.claims.ref != payload.id:
            raise MalformedArtefact(
                _("envelope claim 'ref' does not name the {kind} change it carries").format(kind=envelope.kind)
            )
        _check_fits({inbound_envelopes.c.ref_id: payload.id})
        return _Incoming(index, envelope, payload.id, seq, channel, payload=payload, payload_kind=handler)
    raise MalformedArtefact(
        _("envelope kind {kind!r} is not accepted at /federation/v1/envelopes").format(kind=envelope.kind)
    )


def _validate_message(node: Node, peer: PeerRecord, body: dict[str, Any]) -> tuple[Message, tuple[ArrivalWarning, ...]]:
    try:
        message = Message.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(
            _("the message is not valid: {errors}").format(errors=exc.errors(include_url=False)[:5])
        ) from exc
    agreement = node.agreement
    if message.sender.party is not peer.party or message.recipient.party is not node.party:
        raise InvalidInput(
            _("a message from {party} must be addressed {party} → {party2}").format(party=peer.party, party2=node.party)
        )
    if agreement.agency(node.party, message.recipient.agency) is None:
        raise UnknownAgency(
            _("{agency!r} is not an agency of {party}").format(agency=message.recipient.agency, party=node.party)
        )
    if agreement.agency(peer.party, message.sender.agency) is None:
        raise UnknownAgency(
            _("{agency!r} is not an agency of {party}").format(agency=message.sender.agency, party=peer.party)
        )
    if agreement.focus_area(message.focus_area) is None:
        raise UnknownFocusArea(
            _("{focus_area!r} is not a focus area of the agreement").format(focus_area=message.focus_area)
        )
    if message.handling.level.rank > agreement.channel_ceiling.rank:
        raise AboveChannelCeiling(
            f"level {message.handling.level} is above the channel ceiling {agreement.channel_ceiling}"
        ).cite(node.policy.citation_for(AboveChannelCeiling.slug))
    if len(message.body.encode()) > node.settings.max_body_bytes:
        raise PayloadTooLarge(
            _("message body exceeds {max_body_bytes} bytes").format(max_body_bytes=node.settings.max_body_bytes)
        )
    if message.kind is MessageKind.RESPONSE and not message.in_reply_to:
        raise InvalidInput(_("a response must name the message it answers"))
    if message.kind in AMENDMENT_EFFECT and not message.refers_to:
        raise InvalidInput(_("a {kind} must name the message it amends").format(kind=message.kind))
    kinds = KindHandlers(node.registry)
    kinds.check_ownership(message, None)  # what a response carries is checked against the message answered, on store
    warnings = tuple(w for handler in kinds.for_kind(message.kind) for w in handler.check_incoming(node, message))
    _check_fits(
        {
            messages.c.id: message.id,
            messages.c.case_id: message.case_id,
            messages.c.sender_officer: message.sender.officer,
            messages.c.recipient_officer: message.recipient.officer,
            messages.c.in_reply_to: message.in_reply_to,
            messages.c.refers_to: message.refers_to,
        }
    )
    return message, warnings


def _store(
    node: Node, conn: Connection, incoming: list[_Incoming], batch_digest: str | None
) -> dict[int, EnvelopeResult]:
    results: dict[int, EnvelopeResult] = {}
    jtis = [i.envelope.jti for i in incoming]
    refs = [i.ref_id for i in incoming]
    # One statement, so one snapshot: an envelope a concurrent request commits is seen by all three checks or none.
    known = conn.execute(
        select(
            inbound_envelopes.c.jti,
            inbound_envelopes.c.ref_id,
            inbound_envelopes.c.receipt,
            inbound_envelopes.c.seq,
            inbound_envelopes.c.channel,
        ).where(
            or_(
                inbound_envelopes.c.jti.in_(jtis),
                inbound_envelopes.c.ref_id.in_(refs),
                inbound_envelopes.c.seq.in_([i.seq for i in incoming]),
            )
        )
    ).all()
    seen_jti = {row.jti for row in known}
    prior = {row.ref_id: row for row in known}
    used_seqs = {(row.channel, row.seq): row.ref_id for row in known}

    def highest_seq(channel: str) -> int:
        stored = conn.scalar(select(func.max(inbound_envelopes.c.seq)).where(inbound_envelopes.c.channel == channel))
        return max([int(stored or 0), *(int(seq) for (on, seq) in used_seqs if on == channel)])

    wanted_blobs = {a.sha256 for i in incoming if i.message for a in i.message.attachments}
    present_blobs = set(conn.scalars(select(blobs.c.sha256).where(blobs.c.sha256.in_(wanted_blobs))))
    referenced: dict[str, _BatchMessage] = {
        row.id: _BatchMessage(row.id, row.direction, row.kind)
        for row in conn.execute(
            select(messages.c.id, messages.c.direction, messages.c.kind).where(
                messages.c.id.in_([r for i in incoming for r in i.referenced])
            )
        )
    }
    now = datetime.now(UTC)
    admitted: list[_Incoming] = []
    batch_refs: set[str] = set()
    # Originals before what refers to them, so a message and its withdrawal may travel in one batch.
    for item in sorted(incoming, key=lambda i: bool(i.message is not None and i.message.refers_to)):
        give_way(conn)
        ref_row = prior.get(item.ref_id)
        if item.envelope.jti in seen_jti:
            results[item.index] = EnvelopeResult(
                item.ref_id,
                Outcome.REFUSED,
                problem=ReplayedEnvelope(f"envelope {item.envelope.jti} was already presented; nothing stored"),
            )
            continue
        if ref_row is not None:
            results[item.index] = EnvelopeResult(item.ref_id, Outcome.DUPLICATE, receipt=ref_row.receipt)
            continue
        try:
            _check_references(node, item, referenced, present_blobs, used_seqs, batch_refs, highest_seq)
            if item.message is not None:
                check_named_readers_here(conn, node, item.message)
            if item.payload is not None and item.payload_kind is not None:
                item.payload_kind.check_incoming(node, conn, item.payload)
        except AccordError as problem:
            results[item.index] = EnvelopeResult(item.ref_id, Outcome.REFUSED, problem=problem)
            continue
        batch_refs.add(item.ref_id)
        used_seqs[(item.channel, item.seq)] = item.ref_id
        if item.message is not None:
            referenced[item.message.id] = _BatchMessage(item.message.id, Direction.INCOMING.value, item.message.kind)
        admitted.append(item)
    if admitted:
        for item, receipt in _persist(node, conn, admitted, now, batch_digest):
            results[item.index] = EnvelopeResult(item.ref_id, Outcome.ACCEPTED, receipt=receipt)
    return results


def _check_references(
    node: Node,
    item: _Incoming,
    referenced: dict[str, _BatchMessage],
    present_blobs: set[str],
    used_seqs: dict[tuple[str, int], str],
    batch_refs: set[str],
    highest_seq: Callable[[str], int],
) -> None:
    if item.ref_id in batch_refs:
        raise ReplayedEnvelope(_("{ref_id} appears twice in one batch").format(ref_id=item.ref_id))
    held_by = used_seqs.get((item.channel, item.seq))
    if held_by is not None:  # another envelope: the same one again is a duplicate, answered before this check
        raise SequenceCollision(item.channel, item.seq, held_by, highest_seq(item.channel))
    message = item.message
    if message is not None:
        missing = [a.sha256 for a in message.attachments if a.sha256 not in present_blobs]
        if missing:
            raise AttachmentMissing(
                _("attachments {missing} have not arrived; push them to /federation/v1/blobs").format(missing=missing)
            )
        if message.in_reply_to:
            original = referenced.get(message.in_reply_to)
            if original is None or original.direction != Direction.OUTGOING.value:
                raise InvalidInput(
                    _("the response answers {in_reply_to}, which this node never sent").format(
                        in_reply_to=message.in_reply_to
                    )
                )
            KindHandlers(node.registry).check_ownership(message, original.kind)
        if message.refers_to:
            original = referenced.get(message.refers_to)
            amends = message.kind in AMENDMENT_EFFECT
            if original is None:
                what = "amends" if amends else "builds on"
                raise UnknownReference(
                    _("the {kind} {what} {refers_to}, which has not arrived here yet").format(
                        kind=message.kind, what=what, refers_to=message.refers_to
                    )
                )
            # An amendment changes what this node received; any other message may quote either side's message.
            if amends and original.direction != Direction.INCOMING.value:
                raise InvalidInput(
                    _("the {kind} amends {refers_to}, which this node never received").format(
                        kind=message.kind, refers_to=message.refers_to
                    )
                )
    if item.notice is not None:
        original = referenced.get(item.notice["message_id"])
        if original is None or original.direction != Direction.OUTGOING.value:
            raise InvalidInput(
                _("read notice for {message_id}, which this node never sent").format(
                    message_id=item.notice["message_id"]
                )
            )


def _receipt_claims(node: Node, item: _Incoming, now: datetime, ledger: dict[str, Any]) -> dict[str, Any]:
    """What the receiver signs: which envelope it stored, when, and where its ledger recorded that (the leaf and
    the tree head containing it), so the sender can later demand an inclusion proof against a countersigned head."""
    return {
        "typ": "delivery-receipt",
        "ref": item.ref_id,
        "kind": item.envelope.kind,
        "jti": item.envelope.jti,
        "digest": item.envelope.digest,
        "channel": item.channel,
        "seq": item.seq,
        "sender": item.envelope.sender.node_id,
        "receiver": node.node_id,
        "received_at": now.isoformat(),
        "ledger": ledger,
    }


def _persist(
    node: Node, conn: Connection, admitted: list[_Incoming], now: datetime, batch_digest: str | None
) -> list[tuple[_Incoming, str]]:
    """Log, sign the receipts (which name the log entries), then store; all in the caller's transaction."""
    received = [
        event_row(
            EventType.ENVELOPE_RECEIVED,
            i.envelope.sender.node_id,
            with_refs(
                _received_refs(i, batched=batch_digest is not None),
                assurance_refs(i.message.assurances if i.message is not None else ()),
            ),
            at=now,
        )
        | {"payload_sha256": i.envelope.digest}
        for i in admitted
    ]
    screenings = {i.message.id: i.screening for i in admitted if i.message is not None}
    logged = append_events(conn, received + _effect_events(admitted, now) + _screening_events(node, screenings, now))
    if batch_digest is not None:
        accepted = _batch_receipted(node, admitted, received, logged, now, batch_digest)
    else:
        accepted = []
        for offset, item in enumerate(admitted):
            ledger = {
                "index": logged.indexes[offset],
                "leaf_hash": logged.leaf_hashes[offset].hex(),
                "tree_size": logged.size,
                "root": logged.root.hex(),
            }
            accepted.append((item, sign_receipt(_receipt_claims(node, item, now, ledger), node.keys)))
    conn.execute(
        insert(inbound_envelopes),
        [
            {
                "channel": i.channel,
                "seq": i.seq,
                "jti": i.envelope.jti,
                "kind": i.envelope.kind,
                "ref_id": i.ref_id,
                "digest": i.envelope.digest,
                "receipt": receipt,
                "received_at": now,
            }
            for i, receipt in accepted
        ],
    )
    new_messages = [(i.message, i, receipt) for i, receipt in accepted if i.message is not None]
    if new_messages:
        rows = [
            _incoming_row(m, i, receipt, now, screenings[m.id], i.warnings + directory_warnings(conn, m))
            for m, i, receipt in new_messages
        ]
        insert_messages(conn, rows, {m.id: i.words for m, i, _ in new_messages})
        link_attachments(conn, [m for m, _, _ in new_messages])
        kinds = KindHandlers(node.registry)
        for message, _, _ in new_messages:
            for handler in kinds.for_kind(message.kind):
                handler.apply_incoming(node, conn, message)
    answered = [
        {"ref": m.in_reply_to, "at": now}
        for m, _, _ in new_messages
        if m.in_reply_to and m.kind is MessageKind.RESPONSE  # as mark_answered: only a response answers
    ]
    if answered:
        conn.execute(
            update(messages)
            .where(messages.c.id == bindparam("ref"), messages.c.answered_at.is_(None))
            .values(answered_at=bindparam("at")),
            answered,
        )
    amended = [
        {"ref": m.refers_to, "effect": AMENDMENT_EFFECT[m.kind].value, "by": m.id}
        for m, _, _ in new_messages
        if m.refers_to and m.kind in AMENDMENT_EFFECT
    ]
    if amended:
        conn.execute(
            update(messages)
            .where(messages.c.id == bindparam("ref"))
            .values(amendment=bindparam("effect"), amended_by=bindparam("by")),
            amended,
        )
    reads = [
        {"ref": i.notice["message_id"], "at": _parse_time(i.notice.get("read_at"), now)}
        for i, _ in accepted
        if i.notice is not None
    ]
    if reads:
        conn.execute(
            update(messages)
            .where(messages.c.id == bindparam("ref"))
            .values(
                state=DeliveryState.READ.value,
                read_at=case((messages.c.read_at.is_(None), bindparam("at")), else_=messages.c.read_at),
            ),
            reads,
        )
    for i, _ in accepted:
        if i.payload is not None and i.payload_kind is not None:
            i.payload_kind.apply_incoming(node, conn, i.payload, i.envelope.sender.node_id)
    return accepted


def _received_refs(item: _Incoming, *, batched: bool) -> dict[str, str | int | None]:
    refs: dict[str, str | int | None] = {
        "ref": item.ref_id,
        "peer": item.envelope.sender.node_id,
        "seq": item.seq,
        "kind": item.envelope.kind,
    }
    if batched:  # the leaf is what the batch receipt's root names: it names the envelope's id too
        refs["jti"] = item.envelope.jti
    return refs


def _batch_receipted(
    node: Node,
    admitted: list[_Incoming],
    received: list[dict[str, Any]],
    logged: Appended,
    now: datetime,
    batch_digest: str,
) -> list[tuple[_Incoming, str]]:
    """One receipt for the batch: the root of the tree of the envelopes' `envelope.received` leaves (appended first,
    in order); each envelope's proof of delivery is that receipt with its leaf's inclusion path."""
    count = len(admitted)
    leaves = logged.leaf_hashes[:count]
    root, paths = batch_tree(leaves)
    first = admitted[0]
    claims = batch_receipt_claims(
        digest=batch_digest,
        channel=first.channel,
        sender=first.envelope.sender.node_id,
        receiver=node.node_id,
        received_at=now,
        root=root,
        count=count,
        first=logged.indexes[0],
        tree_size=logged.size,
        ledger_root=logged.root,
    )
    receipt = sign_receipt(claims, node.keys)
    return [
        (
            item,
            delivery_proof(
                receipt,
                BatchEntry(
                    ref=item.ref_id,
                    kind=item.envelope.kind,
                    jti=item.envelope.jti,
                    digest=item.envelope.digest,
                    seq=item.seq,
                    actor=item.envelope.sender.node_id,
                    refs=json.loads(received[offset]["refs"]),
                ),
                offset,
                paths[offset],
            ),
        )
        for offset, item in enumerate(admitted)
    ]


def _effect_events(admitted: list[_Incoming], now: datetime) -> list[dict[str, Any]]:
    """The events beyond receipt that an envelope's arrival causes: a read notice, an amendment taking effect."""
    rows = []
    for i in admitted:
        if i.notice is not None:
            rows.append(
                event_row(
                    EventType.MESSAGE_READ_BY_PEER,
                    i.envelope.sender.node_id,
                    {"message": i.notice["message_id"]},
                    at=now,
                )
            )
        elif i.message is not None and i.message.kind in AMENDMENT_EFFECT:
            rows.append(
                event_row(
                    EventType.MESSAGE_AMENDED,
                    i.envelope.sender.node_id,
                    {
                        "message": i.message.refers_to,
                        "by": i.message.id,
                        "effect": AMENDMENT_EFFECT[i.message.kind].value,
                    },
                    at=now,
                )
            )
    return rows


def _screening_events(node: Node, screenings: dict[str, dict[str, Any] | None], now: datetime) -> list[dict[str, Any]]:
    """A message held or refused on neutrality by this node's screen on arrival is logged, so that the hold its reply
    inherits can be traced to a ledger entry."""
    return [
        event_row(
            EventType.POLICY_DECIDED,
            "policy",
            {"message": message_id, "screen": str(s["screen"]), "outcome": str(s["outcome"]), "pack": str(s["pack"])},
            canonical_json(s),
            now,
        )
        for message_id, s in screenings.items()
        if s is not None and s["outcome"] != "clear"
    ]


def _arrival_record(screening: dict[str, Any] | None, warnings: tuple[ArrivalWarning, ...]) -> str | None:
    """On a received message the decision column keeps what this node found on arrival: its own pack's neutrality
    screening of it (see `answered_request`) and the receiving-side checks' warnings (see `arrival_warnings`)."""
    record = dict(screening or {})
    if warnings:
        record["arrival_warnings"] = [w.as_json() for w in warnings]
    return json.dumps(record) if record else None


def _parse_time(value: Any, default: datetime) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return default
    return parsed if parsed.tzinfo else default


def directory_warnings(conn: Connection, message: Message) -> tuple[ArrivalWarning, ...]:
    """Officers the message names (its addressee, its TLP:RED readers) who are not in this node's directory, or
    not of the agency it is addressed to: the message is still delivered to the agency, with the warning, since
    refusing it would lose what the sender meant the agency to have."""
    agency = message.recipient.agency
    named = dict.fromkeys(n for n in (message.recipient.officer, *message.handling.named_recipients) if n)
    warnings = []
    for username in named:
        officer = officer_by_username(conn, username)
        if officer is None:
            warnings.append(
                ArrivalWarning(
                    "recipient-officer-unknown",
                    f"the message names officer {username!r}, who is not in this node's directory; it was "
                    f"delivered to {agency} instead",
                )
            )
        elif officer.agency != agency:
            warnings.append(
                ArrivalWarning(
                    "recipient-officer-other-agency",
                    f"the message names officer {username!r} of {officer.agency}, but is addressed to {agency}",
                )
            )
    return tuple(warnings)


def _incoming_row(
    m: Message,
    item: _Incoming,
    receipt: str,
    now: datetime,
    screening: dict[str, Any] | None,
    warnings: tuple[ArrivalWarning, ...],
) -> dict[str, object]:
    return message_row(m, Direction.INCOMING) | {
        "decision": _arrival_record(screening, warnings),
        "content": item.content or canonical_json(item.envelope.body).decode(),
        "state": DeliveryState.RECEIVED.value,
        "channel_seq": item.seq,
        "attempts": 0,
        "received_at": now,
        "receipt": receipt,
    }


def _count_refusals(node: Node, problems: Sequence[AccordError], endpoint: Endpoint, source: str) -> None:
    with node.engine.begin() as conn:
        count_refusals(conn, node.settings, [Refusal(endpoint, p.slug, source) for p in problems], node.clock.now())


def _log_signed_refusals(
    node: Node, refusals: Sequence[_SignedRefusal]
) -> tuple[list[_SignedRefusal], list[_SignedRefusal]]:
    """Log in the ledger the refusals of what the peer signed, each artefact once: the same one presented again, by
    anyone who saw it, is refused again but not logged again. Returns those logged now, and those logged before
    (for the caller to count)."""
    if not refusals:
        return [], []
    now = datetime.now(UTC)
    # Long enough that an envelope refused here is stale (and so refused before it opens) once it is forgotten.
    fresh_s = 2 * (node.settings.max_envelope_age_s + node.settings.clock_skew_s)
    insert_refused = postgresql.insert if node.engine.dialect.name == "postgresql" else sqlite.insert
    logged: list[_SignedRefusal] = []
    repeated: list[_SignedRefusal] = []
    with node.engine.begin() as conn:
        conn.execute(delete(refused_envelopes).where(refused_envelopes.c.refused_at < now - timedelta(seconds=fresh_s)))
        for refusal in refusals:
            first_time = conn.execute(
                insert_refused(refused_envelopes)
                .values(jti_sha256=sha256_hex(refusal.jti.encode()), refused_at=now)
                .on_conflict_do_nothing()
                .returning(refused_envelopes.c.jti_sha256)
            ).first()
            (logged if first_time is not None else repeated).append(refusal)
        for r in logged:
            log.warning("envelope refused", peer=r.peer, ref=r.ref, problem=r.problem.slug, detail=r.problem.detail)
        rows = [
            event_row(
                EventType.ENVELOPE_REFUSED,
                r.peer,
                {"ref": r.ref[:_REF_LENGTH] if r.ref else None, "problem": r.problem.slug},
                r.problem.detail.encode(),
                at=now,
            )
            for r in logged
        ]
        append_events(conn, rows)
    return logged, repeated


def _record_collisions(node: Node, collisions: list[SequenceCollision]) -> None:
    """The peer signed another envelope under a sequence number it had used: its channel counter went back. Logged
    here in the ledger beside the refusal; the peer's node raises the alarm and re-sequences."""
    rows = []
    for collision in collisions:
        log.warning(
            "sequence collision",
            channel=collision.channel,
            seq=collision.seq,
            held_by=collision.held_by,
            highest_seq=collision.highest_seq,
        )
        sender = collision.channel.partition(">")[0]  # channel_name: sender>recipient
        refs: dict[str, str | int | None] = {
            "channel": collision.channel,
            "seq": collision.seq,
            "held_by": collision.held_by,
            "highest": collision.highest_seq,
        }
        rows.append(event_row(EventType.ENVELOPE_SEQUENCE_COLLISION, sender, refs))
    with node.engine.begin() as conn:
        append_events(conn, rows)


def accept_blob(node: Node, upload: AnnouncedUpload, received: Path, *, source: str = UNKNOWN_SOURCE) -> StoredBlob:
    """Open the sealed attachment an authenticated peer uploaded (`received`, checked against its upload token),
    check its bytes against the hash it names, and store them."""
    refresh_keys(node)
    with node.engine.connect() as conn:
        peers = load_peers(node, conn)
    try:
        try:
            token = received.read_text(encoding="ascii")
        except UnicodeDecodeError as exc:
            raise MalformedArtefact(_("the body must be a compact JWE")) from exc
        envelope = open_envelope(
            token.strip(),
            node.node_id,
            node.keys,
            _find_peer(peers),
            int(time.time()),
            node.settings.max_envelope_age_s,
            node.settings.clock_skew_s,
        )
        if envelope.sender.node_id != upload.peer.node_id:
            raise MalformedArtefact(
                _("the attachment is sealed by {node_id}, not by {node_id2}, which sent it").format(
                    node_id=envelope.sender.node_id, node_id2=upload.peer.node_id
                )
            )
        require_known_envelope_version(envelope.claims.ver)
        if envelope.kind != OutboxKind.BLOB:
            raise MalformedArtefact(
                _("envelope kind {kind!r} is not accepted at /federation/v1/blobs").format(kind=envelope.kind)
            )
        body = envelope.body
        try:
            data = base64.b64decode(str(body["data"]), validate=True)
        except (KeyError, binascii.Error) as exc:
            raise MalformedArtefact(_("blob envelope has no valid base64 'data': {exc}").format(exc=exc)) from exc
        if hashlib.sha256(data).hexdigest() != body.get("sha256"):
            raise MalformedArtefact(_("blob bytes do not match the SHA-256 the envelope names; nothing stored"))
        return store_blob(
            node,
            data,
            str(body.get("media_type", "application/octet-stream")),
            origin=envelope.sender.node_id,
            actor=envelope.sender.node_id,
        )
    except AccordError as problem:
        # The body is the one the peer's upload token announced: what is wrong with it, the peer sent.
        signed = _SignedRefusal(upload.peer.node_id, f"upload:{upload.jti}", None, problem)
        if _log_signed_refusals(node, [signed])[1]:
            _count_refusals(node, [problem], Endpoint.BLOBS, source)
        raise
