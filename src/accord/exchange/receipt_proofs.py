"""Proof that a message was recorded: this node's own ledger entries for it, and — for a message this node sent —
the receiver's ledger entry named in its signed receipt, proven against a receiver checkpoint this node
countersigned."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from accord.errors import InvalidInput, NotFound
from accord.exchange.transport import PeerClient, PeerUnreachable
from accord.i18n import _
from accord.ledger.batch_receipts import verify_delivery_receipt
from accord.ledger.checkpoints import StoredCheckpoint, latest, ledger_size
from accord.ledger.errors import ProofFailed
from accord.ledger.leaves import EventType, leaf_bytes, leaf_record
from accord.ledger.notes import origin_for
from accord.ledger.proofs import prove_inclusion
from accord.ledger.tree import leaf_hash, verify_inclusion
from accord.node import Node
from accord.store.tables import events, messages, receipt_proofs
from accord.trust.peers import PeerRecord, load_peers
from accord.trust.requests import sign_peer_request, verify_peer_request

INCLUSION_TYP = "accord-inclusion-request+jws"


@dataclass(frozen=True, slots=True)
class ProvenLeaf:
    """One ledger entry about the message, with its inclusion proof and the checkpoint it is proven against."""

    log: str  # whose ledger: this node's or the peer's
    index: int
    event: str
    leaf_hash: bytes
    proof: list[bytes]
    checkpoint: StoredCheckpoint | None
    verified: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class MessageProof:
    message_id: str
    leaves: list[ProvenLeaf] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return bool(self.leaves) and all(leaf.verified for leaf in self.leaves)


def answer_inclusion_request(node: Node, token: str) -> dict[str, Any]:
    request = verify_peer_request(node, token, INCLUSION_TYP)
    index, size = request.claims.get("index"), request.claims.get("size")
    if not isinstance(index, int) or not isinstance(size, int) or not 0 <= index < size:
        raise InvalidInput(_("an inclusion request names a leaf index below a tree size"))
    with node.engine.connect() as conn:
        if size > ledger_size(conn):
            raise NotFound(_("this ledger has fewer than {size} leaves").format(size=size))
        proof = prove_inclusion(conn, index, size)
        leaf = conn.execute(select(events.c.leaf_hash).where(events.c.id == index)).scalar_one()
    return {"index": index, "size": size, "leaf_hash": bytes(leaf).hex(), "proof": [p.hex() for p in proof]}


def prove_message(node: Node, message_id: str, client: PeerClient | None = None) -> MessageProof:
    """Every ledger entry about the message, each proven against the latest countersigned checkpoint."""
    with node.engine.connect() as conn:
        message = conn.execute(select(messages).where(messages.c.id == message_id)).first()
        if message is None:
            raise NotFound(_("no message {message_id} at this node").format(message_id=message_id))
        leaves = _own_leaves(node, conn, message_id)
        peers = load_peers(node, conn)
    if message.direction == "outgoing" and message.receipt:
        peer = next((p for p in peers if p.party.value == message.recipient_party), None)
        if peer is not None:
            leaves.append(_receiver_leaf(node, peer, message_id, message.receipt, client))
    return MessageProof(message_id, leaves)


def _own_leaves(node: Node, conn: Connection, message_id: str) -> list[ProvenLeaf]:
    anchor = latest(conn, origin_for(node.node_id), cosigned_only=True)
    rows = conn.execute(
        select(events.c.id, events.c.type, events.c.leaf_hash)
        .where(events.c.refs.contains(f'"{message_id}"'))
        .order_by(events.c.id)
    ).all()
    proven = []
    for row in rows:
        leaf = bytes(row.leaf_hash)
        if anchor is None or row.id >= anchor.size:
            note = "not yet under a countersigned checkpoint; the next checkpoint round covers it"
            proven.append(ProvenLeaf("own", row.id, row.type, leaf, [], anchor, False, note))
            continue
        proof = prove_inclusion(conn, row.id, anchor.size)
        proven.append(_proven("own", row.id, row.type, leaf, proof, anchor))
    return proven


def _proven(log: str, index: int, event: str, leaf: bytes, proof: list[bytes], anchor: StoredCheckpoint) -> ProvenLeaf:
    """The leaf, verified against the countersigned checkpoint; a proof that fails is kept with why it failed."""
    try:
        verify_inclusion(leaf, index, anchor.size, proof, anchor.root)
    except ProofFailed as failure:
        return ProvenLeaf(log, index, event, leaf, proof, anchor, False, failure.detail)
    return ProvenLeaf(log, index, event, leaf, proof, anchor, True)


def _receiver_leaf(
    node: Node, peer: PeerRecord, message_id: str, receipt: str, client: PeerClient | None
) -> ProvenLeaf:
    claims = verify_delivery_receipt(receipt, peer.pinned, message_id)
    index, claimed = claims.ledger.index, claims.ledger.leaf_hash
    # The receiver's leaf is rebuilt from what the receipt says, so the proof binds this exact envelope.
    record = leaf_record(
        index,
        claims.received_at,
        EventType.ENVELOPE_RECEIVED.value,
        node.node_id,  # the receiver logs the sender as the actor and the peer
        claims.leaf_refs or {"kind": claims.kind, "peer": node.node_id, "ref": message_id, "seq": claims.seq},
        claims.digest,
    )
    rebuilt = leaf_hash(leaf_bytes(record))
    if rebuilt != claimed:
        return ProvenLeaf("peer", index, EventType.ENVELOPE_RECEIVED, claimed, [], None, False, "leaf does not match")
    with node.engine.connect() as conn:
        anchor = _peer_anchor(conn, peer, index)
        cached = conn.execute(select(receipt_proofs).where(receipt_proofs.c.message_id == message_id)).first()
    if anchor is None:
        note = f"no checkpoint of {peer.node_id} countersigned here covers leaf {index} yet"
        return ProvenLeaf("peer", index, EventType.ENVELOPE_RECEIVED, claimed, [], None, False, note)
    if cached is not None and cached.tree_size == anchor.size:
        proof = [bytes.fromhex(p) for p in json.loads(cached.proof)]
    else:
        proof = _fetch_proof(node, peer, index, anchor.size, client)
        _remember(node, message_id, peer, index, anchor, proof)
    return _proven("peer", index, EventType.ENVELOPE_RECEIVED, claimed, proof, anchor)


def _peer_anchor(conn: Connection, peer: PeerRecord, index: int) -> StoredCheckpoint | None:
    anchor = latest(conn, origin_for(peer.node_id), cosigned_only=True)
    return anchor if anchor is not None and anchor.size > index else None


def _fetch_proof(node: Node, peer: PeerRecord, index: int, size: int, client: PeerClient | None) -> list[bytes]:
    token = sign_peer_request(node, peer, INCLUSION_TYP, index=index, size=size)
    own_client = client or PeerClient(timeout_s=30.0)
    try:
        answer = own_client.request_inclusion(peer, token)
    except PeerUnreachable as exc:
        raise NotFound(
            _("{node_id} is not reachable for the proof: {detail}").format(node_id=peer.node_id, detail=exc.detail)
        ) from exc
    finally:
        if client is None:
            own_client.close()
    if not answer.ok or not isinstance(answer.body, dict):
        raise NotFound(
            _("{node_id} did not give the proof: HTTP {status} {detail}").format(
                node_id=peer.node_id, status=answer.status, detail=answer.detail
            )
        )
    return [bytes.fromhex(p) for p in answer.body.get("proof", [])]


def _remember(
    node: Node, message_id: str, peer: PeerRecord, index: int, anchor: StoredCheckpoint, proof: list[bytes]
) -> None:
    with node.engine.begin() as conn:
        conn.execute(receipt_proofs.delete().where(receipt_proofs.c.message_id == message_id))
        conn.execute(
            receipt_proofs.insert().values(
                message_id=message_id,
                peer_node_id=peer.node_id,
                leaf_index=index,
                tree_size=anchor.size,
                proof=json.dumps([p.hex() for p in proof]),
                checkpoint_id=anchor.id,
                fetched_at=datetime.now(UTC),
            )
        )
