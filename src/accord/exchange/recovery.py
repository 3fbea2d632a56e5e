"""Catching up after one node was restored from a backup. The restored node asks its peer, in a signed request, with
the last sequence number it holds of each channel, and declares the head of its restored ledger (`restores`); the peer
answers, signed: the latest checkpoint of the restored node's ledger it countersigned, its countersignature on the
declared head, the highest number it holds from it, and what the restored node sent after its backup (each message
with the peer's signed receipt); and it queues again, under their own numbers, the envelopes it had delivered after
the last number the restored node holds."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from uuid6 import uuid7

from accord.crypto.errors import MalformedArtefact
from accord.crypto.signing import sign_claims, signed_kid, verify_claims
from accord.domain.messages import DeliveryState, Direction, Message
from accord.errors import AccordError, Conflict
from accord.exchange.outbox import MAX_SEQ, OutboxKind, channel_name
from accord.exchange.restores import (
    RESTORED_CLAIM,
    LostCheckpoint,
    accept_declaration,
    alarm_on_contradiction,
    confirmed,
    declaration,
    declared_head,
)
from accord.exchange.sending import message_row
from accord.exchange.transport import PeerAnswer, PeerClient
from accord.i18n import N_, _
from accord.ledger.batch_receipts import verify_delivery_receipt
from accord.ledger.checkpoints import (
    CheckpointOutOfStep,
    InconsistentCheckpoint,
    StoredCheckpoint,
    latest,
    ledger_size,
    store_witnessed,
)
from accord.ledger.events import EventType, append_event, tree_root
from accord.ledger.notes import origin_for, verify_by_any, verify_checkpoint, verify_cosignature
from accord.node import Node
from accord.store.search import insert_messages
from accord.store.tables import channel_counters, checkpoints, events, inbound_envelopes, messages, outbox
from accord.trust.peers import PeerRecord, load_peers, own_signing_keys
from accord.trust.requests import sign_peer_request, verify_peer_request

RECOVERY_TYP = "accord-recovery+jws"
ANSWER_TYP = "accord-recovery-answer+jws"
MAX_RETURNED = 10_000  # envelopes of the restored node's returned in one answer; the rest are counted
_DELIVERED = (DeliveryState.DELIVERED.value, DeliveryState.READ.value)


class RecoveryRefused(Conflict):
    slug = "recovery-refused"
    title = N_("The peer's answer to the recovery request cannot be used")


class RestoredLedgerContradicted(Conflict):
    slug = "restored-ledger-contradicted"
    title = N_("The restored ledger contradicts a checkpoint the peer countersigned")


# ------------------------------------------------------------------------------------------------- the peer's side


def answer_recovery(node: Node, token: str) -> str:
    """Authenticate the restored peer's request, queue again what was delivered to it after the last number it
    holds, and answer (signed) with what it needs to check and rebuild its side; logged in the ledger."""
    request = verify_peer_request(node, token, RECOVERY_TYP)
    peer, claims = request.peer, request.claims
    holds, sent = claims.get("holds_seq"), claims.get("sent_seq")
    if type(holds) is not int or type(sent) is not int or not (0 <= holds < MAX_SEQ and 0 <= sent < MAX_SEQ):
        raise MalformedArtefact(_("claims 'holds_seq' and 'sent_seq' are sequence numbers, 0 or more"))
    to_peer, from_peer = channel_name(node.node_id, peer.node_id), channel_name(peer.node_id, node.node_id)
    now = datetime.now(UTC)
    try:
        with node.engine.begin() as conn:
            # Before the declaration sets it aside: the head the peer's restored ledger lost leaves of, if it did.
            countersigned = latest(conn, origin_for(peer.node_id), cosigned_only=True)
            restored = accept_declaration(node, conn, peer, claims)
            resent = _queue_again(conn, peer, holds, now)
            not_resent = _delivered_not_messages(conn, peer, holds)
            returned = _held_from(conn, from_peer, sent)
            highest = int(
                conn.scalar(select(func.max(inbound_envelopes.c.seq)).where(inbound_envelopes.c.channel == from_peer))
                or 0
            )
            append_event(
                conn,
                EventType.PEER_RECOVERY_ANSWERED,
                peer.node_id,
                {"peer": peer.node_id, "channel": to_peer, "holds": holds, "resent": len(resent), "highest": highest},
            )
    except InconsistentCheckpoint as contradiction:
        alarm_on_contradiction(node, token, claims, contradiction)
        raise
    node.outbox_signal.set()
    answer = {
        "iss": node.node_id,
        "aud": peer.node_id,
        "iat": int(time.time()),
        "jti": str(uuid7()),
        "highest_seq": highest,
        "resent": resent,
        "not_resent": not_resent,
        "returned": returned,
        "countersigned": (
            {"note": countersigned.note, "cosignature": countersigned.cosignature} if countersigned else None
        ),
        RESTORED_CLAIM: restored.answer() if restored else None,
    }
    return sign_claims(answer, node.keys.signing, ANSWER_TYP)


def _queue_again(conn: Connection, peer: PeerRecord, holds: int, now: datetime) -> list[int]:
    """Messages delivered to the peer under numbers past `holds`, queued again under the same numbers."""
    rows = conn.execute(
        select(messages.c.id, messages.c.content, messages.c.channel_seq, messages.c.priority)
        .where(
            messages.c.direction == Direction.OUTGOING.value,
            messages.c.recipient_party == peer.party.value,
            messages.c.channel_seq > holds,
            messages.c.state.in_(_DELIVERED),
            messages.c.id.not_in(select(outbox.c.ref_id)),
        )
        .order_by(messages.c.channel_seq)
    ).all()
    if rows:
        conn.execute(
            insert(outbox),
            [
                {
                    "peer_node_id": peer.node_id,
                    "kind": OutboxKind.MESSAGE.value,
                    "ref_id": row.id,
                    "rank": Message.model_validate_json(row.content).priority.outbox_rank,
                    "seq": int(row.channel_seq),
                    "body": row.content,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for row in rows
            ],
        )
    return [int(row.channel_seq) for row in rows]


def _delivered_not_messages(conn: Connection, peer: PeerRecord, holds: int) -> list[dict[str, Any]]:
    """Envelopes other than messages (read notices, capabilities' changes) delivered past `holds`: not kept here
    once delivered, so named rather than sent again."""
    named = []
    query = select(events.c.refs).where(
        events.c.type == EventType.ENVELOPE_DELIVERED.value, events.c.actor == peer.node_id
    )
    for refs in conn.execute(query).scalars():
        value = json.loads(refs)
        if type(value.get("seq")) is int and value["seq"] > holds:
            named.append({"ref": value.get("ref"), "seq": value["seq"]})
    refs = [n["ref"] for n in named]
    is_message = set(conn.scalars(select(messages.c.id).where(messages.c.id.in_(refs))))
    return [n for n in named if n["ref"] not in is_message]


def _held_from(conn: Connection, channel: str, sent: int) -> list[dict[str, Any]]:
    """What the restored node sent under numbers past `sent` (it lost them with its data), with this node's receipt
    for each and, for a message, the message as received."""
    rows = conn.execute(
        select(
            inbound_envelopes.c.seq,
            inbound_envelopes.c.kind,
            inbound_envelopes.c.ref_id,
            inbound_envelopes.c.receipt,
            messages.c.content,
        )
        .select_from(inbound_envelopes.outerjoin(messages, messages.c.id == inbound_envelopes.c.ref_id))
        .where(inbound_envelopes.c.channel == channel, inbound_envelopes.c.seq > sent)
        .order_by(inbound_envelopes.c.seq)
        .limit(MAX_RETURNED)
    ).all()
    return [
        {"seq": int(r.seq), "kind": r.kind, "ref": r.ref_id, "receipt": r.receipt, "content": r.content} for r in rows
    ]


# -------------------------------------------------------------------------------------------- the restored side


@dataclass(frozen=True, slots=True)
class Recovery:
    """What a restored node learnt from its peer and did about it."""

    peer: str
    ledger_size: int  # leaves of the restored ledger
    countersigned_size: int | None  # the peer's latest countersigned checkpoint of this node's ledger
    ledger_gap: int  # leaves the peer countersigned that the restored ledger lacks (lost since the backup)
    declared: bool  # the peer countersigned the restored head: the log's next checkpoints extend it
    lost: tuple[LostCheckpoint, ...]  # checkpoints the peer countersigned beyond the restored head, set aside
    re_requested_from: int  # the peer sends again everything past this number
    resent: tuple[int, ...]  # the numbers the peer queued again
    not_resent: tuple[dict[str, Any], ...]  # what the peer delivered past that number and cannot send again
    recovered: tuple[str, ...]  # own messages sent after the backup, rebuilt from the peer's copy and receipt
    not_recovered: tuple[dict[str, Any], ...]  # own envelopes sent after the backup that could not be rebuilt
    next_seq: int  # where this node's channel to the peer continues


def recover_from_peer(node: Node, client: PeerClient, backup_created_at: str) -> list[Recovery]:
    """Ask each pinned peer what this restored node lacks, check its countersigned checkpoint against the restored
    ledger, rebuild own messages sent after the backup and move the channel counter past what the peer holds."""
    with node.engine.connect() as conn:
        pinned = load_peers(node, conn)
    return [_recover(node, client, peer, backup_created_at) for peer in pinned]


def _recover(node: Node, client: PeerClient, peer: PeerRecord, backup_created_at: str) -> Recovery:
    from_peer, to_peer = channel_name(peer.node_id, node.node_id), channel_name(node.node_id, peer.node_id)
    with node.engine.connect() as conn:
        holds = int(
            conn.scalar(select(func.max(inbound_envelopes.c.seq)).where(inbound_envelopes.c.channel == from_peer)) or 0
        )
        counter = conn.scalar(select(channel_counters.c.next_seq).where(channel_counters.c.channel == to_peer))
    sent = int(counter or 1) - 1
    head, from_size = declared_head(node)
    reply = _ask(node, client, peer, head, from_size, holds=holds, sent=sent)
    body = reply.body if isinstance(reply.body, dict) else {}
    if not reply.ok or not isinstance(body.get("answer"), str):
        raise RecoveryRefused(
            _("{peer} answered the recovery request with HTTP {status}: {detail}").format(
                peer=peer.node_id, status=reply.status, detail=reply.detail
            )
        )
    answer = _verified_answer(node, peer, str(body["answer"]))
    with node.engine.begin() as conn:
        size = ledger_size(conn)
        countersigned_size = _check_countersigned(node, conn, peer, answer.get("countersigned"), size)
        try:
            lost = confirmed(conn, peer, head, answer.get(RESTORED_CLAIM))
        except AccordError as exc:
            raise RecoveryRefused(
                _("{peer} did not countersign the restored ledger's head: {detail}").format(
                    peer=peer.node_id, detail=exc.detail
                )
            ) from exc
        recovered, not_recovered = _rebuild_own(conn, peer, to_peer, answer.get("returned") or [])
        highest = max(
            [int(answer.get("highest_seq") or 0), *(int(r.get("seq") or 0) for r in answer.get("returned") or [])]
        )
        next_seq = max(int(counter or 1), highest + 1)
        if counter is None:
            conn.execute(insert(channel_counters), [{"channel": to_peer, "next_seq": next_seq}])
        else:
            conn.execute(
                update(channel_counters).where(channel_counters.c.channel == to_peer).values(next_seq=next_seq)
            )
        gap = max(0, (countersigned_size or 0) - size)
        resent = tuple(int(s) for s in answer.get("resent") or [])
        not_resent = tuple(answer.get("not_resent") or [])
        append_event(
            conn,
            EventType.NODE_RESTORED,
            "operator",
            {
                "peer": peer.node_id,
                "backup": backup_created_at,
                "ledger_size": size,
                "root": head.root.hex(),
                "countersigned_size": countersigned_size,
                "ledger_gap": gap,
                "declared": int(lost is not None),
                "lost": [item.as_refs() for item in lost or ()],
                "re_requested_from": holds + 1,
                "resent": len(resent),
                "not_resent": len(not_resent),
                "recovered": len(recovered),
                "not_recovered": len(not_recovered),
                "next_seq": next_seq,
            },
        )
    node.outbox_signal.set()
    return Recovery(
        peer.node_id,
        size,
        countersigned_size,
        gap,
        lost is not None,
        lost or (),
        holds + 1,
        resent,
        not_resent,
        tuple(recovered),
        tuple(not_recovered),
        next_seq,
    )


def _ask(
    node: Node, client: PeerClient, peer: PeerRecord, head: StoredCheckpoint, from_size: int, *, holds: int, sent: int
) -> PeerAnswer:
    """The signed recovery request, declaring the restored head with a proof from `from_size`; sent again once
    with the proof from the checkpoint the peer names if it last countersigned another one at or below the head."""
    for _attempt in range(2):
        restored = declaration(node, head, from_size)
        token = sign_peer_request(node, peer, RECOVERY_TYP, holds_seq=holds, sent_seq=sent, restored=restored)
        reply = client.request_recovery(peer, token)
        last_seen = reply.body.get("last_seen_size") if isinstance(reply.body, dict) else None
        out_of_step = reply.status == 409 and reply.problem_slug == CheckpointOutOfStep.slug
        if not out_of_step or type(last_seen) is not int or not 0 <= last_seen <= head.size or last_seen == from_size:
            break
        from_size = last_seen
    return reply


def _verified_answer(node: Node, peer: PeerRecord, token: str) -> dict[str, Any]:
    try:
        if signed_kid(token, ANSWER_TYP) != peer.pinned.keys.signing_fingerprint:
            raise RecoveryRefused(
                _("the recovery answer is not signed by {peer}'s pinned key").format(peer=peer.node_id)
            )
        answer = verify_claims(token, peer.pinned.keys.signing)
    except MalformedArtefact as exc:
        raise RecoveryRefused(_("the recovery answer does not verify: {detail}").format(detail=exc.detail)) from exc
    if answer.get("iss") != peer.node_id or answer.get("aud") != node.node_id:
        raise RecoveryRefused(_("the recovery answer is not {peer}'s answer to this node").format(peer=peer.node_id))
    return answer


def _check_countersigned(node: Node, conn: Connection, peer: PeerRecord, countersigned: Any, size: int) -> int | None:
    """The size of the peer's latest countersigned checkpoint of this ledger, once verified (this node's signature,
    the peer's countersignature) and, if the restored ledger reaches it, its root found in the restored ledger."""
    if not isinstance(countersigned, dict):
        return None
    origin = origin_for(node.node_id)
    note, line = str(countersigned.get("note")), str(countersigned.get("cosignature"))
    own_keys = own_signing_keys(conn, node.node_id, node.keys.signing)
    signed = verify_by_any(own_keys, lambda key: verify_checkpoint(note, origin, key))
    at = verify_by_any(  # countersigned before a rotation of either key: history, under any key each had
        peer.pinned.accepted_signing_keys(None),
        lambda key: verify_cosignature(signed, line, origin_for(peer.node_id), key),
    )
    body = signed.body
    if body.size > size:
        return body.size  # past the backup: leaves lost, reported as the ledger's gap
    if tree_root(conn, body.size) != body.root:
        raise RestoredLedgerContradicted(
            _(
                "{peer} countersigned a root for size {size} that the restored ledger does not have: this is not the "
                "history the peer witnessed"
            ).format(peer=peer.node_id, size=body.size)
        )
    known = conn.scalar(
        select(checkpoints.c.id).where(checkpoints.c.origin == origin, checkpoints.c.note == signed.note)
    )
    if known is None:  # the next checkpoint's consistency proof starts where the peer last countersigned
        store_witnessed(conn, signed, origin_for(peer.node_id), line, at)
    return body.size


def _rebuild_own(
    conn: Connection, peer: PeerRecord, channel: str, returned: list[Any]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Own messages the peer received after the backup, stored again as delivered, each with the peer's receipt
    verified against its pinned key; anything else is named."""
    recovered: list[str] = []
    not_recovered: list[dict[str, Any]] = []
    rows = []
    for item in returned:
        ref, content, receipt = item.get("ref"), item.get("content"), item.get("receipt")
        if item.get("kind") != OutboxKind.MESSAGE.value or not isinstance(content, str) or not isinstance(receipt, str):
            not_recovered.append({"ref": ref, "seq": item.get("seq"), "kind": item.get("kind")})
            continue
        try:
            claims = verify_delivery_receipt(receipt, peer.pinned, str(ref))  # kept receipts: history
            message = Message.model_validate_json(content)
        except (AccordError, ValueError) as exc:
            not_recovered.append({"ref": ref, "seq": item.get("seq"), "kind": item.get("kind"), "why": str(exc)[:200]})
            continue
        if message.id != ref or claims.channel != channel or claims.seq != item.get("seq"):
            not_recovered.append({"ref": ref, "seq": item.get("seq"), "kind": item.get("kind"), "why": "mismatch"})
            continue
        if conn.scalar(select(messages.c.id).where(messages.c.id == message.id)) is not None:
            continue
        rows.append(
            message_row(message, Direction.OUTGOING)
            | {
                "content": content,
                "state": DeliveryState.DELIVERED.value,
                "channel_seq": claims.seq,
                "attempts": 1,
                "receipt": receipt,
                "delivered_at": claims.received_at,
            }
        )
        recovered.append(message.id)
    if rows:
        insert_messages(conn, rows)
    return recovered, not_recovered
