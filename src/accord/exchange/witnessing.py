"""Witnessing between the parties: each node's checkpoints are countersigned by the peer after it verified them
consistent (RFC 9162 §2.1.4) with the last one it countersigned, and each node countersigns the peer's. Anything that
does not add up raises a ledger alarm."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError

from accord.crypto.errors import BadSignature, MalformedArtefact, UnknownSender
from accord.errors import AccordError
from accord.exchange.transport import PeerClient, PeerUnreachable
from accord.ledger import checkpoints as stored_checkpoints
from accord.ledger.alarms import raise_alarm as record_alarm
from accord.ledger.checkpoints import (
    CheckpointOutOfStep,
    InconsistentCheckpoint,
    StoredCheckpoint,
    latest,
    record_cosignature,
    store_witnessed,
)
from accord.ledger.errors import ProofFailed
from accord.ledger.notes import SignedCheckpoint, cosign, origin_for, parse_note, verify_checkpoint, verify_cosignature
from accord.ledger.proofs import StoredTree
from accord.ledger.tree import consistency_proof, verify_consistency
from accord.node import Node
from accord.trust.peers import PeerRecord, load_peers

log = structlog.get_logger(__name__)


def issue_checkpoint(node: Node, force: bool = False) -> StoredCheckpoint | None:
    """Sign this node's current tree head; without `force`, only if the ledger grew since the last checkpoint."""
    return stored_checkpoints.issue_checkpoint(node.engine, node.node_id, node.keys.signing, force)


def raise_alarm(node: Node, origin: str, kind: str, detail: str, evidence: dict[str, Any]) -> None:
    record_alarm(node.engine, node.node_id, origin, kind, detail, evidence)


# ---------------------------------------------------------------------------------------------- the cosigner side


def countersign(node: Node, note: str, from_size: int, proof_hex: Sequence[str]) -> str:
    """Verify a peer's checkpoint against the last one this node saw from it, then cosign and keep both.

    Raises (and raises an alarm) if the peer's key is not pinned, the signature fails, or the history is not an
    extension of what this node countersigned before.
    """
    body, _ = parse_note(note)
    with node.engine.connect() as conn:
        peers = load_peers(node, conn)
    peer = next((p for p in peers if origin_for(p.node_id) == body.origin), None)
    if peer is None:
        problem = UnknownSender(f"checkpoint origin {body.origin!r} is not a pinned peer")
        raise_alarm(node, body.origin, "unknown-origin", str(problem), {"note": note})
        raise problem
    try:
        checkpoint = verify_checkpoint(note, body.origin, peer.pinned.keys.signing)
    except BadSignature as problem:
        raise_alarm(node, body.origin, "bad-checkpoint-signature", str(problem), {"note": note})
        raise
    proof = _decode_proof(proof_hex)
    with node.engine.connect() as conn:
        seen = latest(conn, body.origin)
    if seen is not None and seen.note == checkpoint.note and seen.cosignature:
        return seen.cosignature  # the same checkpoint presented again: the same answer
    _check_consistent(node, peer, checkpoint, seen, from_size, proof)
    now = int(time.time())
    line = cosign(checkpoint, origin_for(node.node_id), node.keys.signing, now)
    with node.engine.begin() as conn:
        store_witnessed(conn, checkpoint, origin_for(node.node_id), line, now)
    return line


def _check_consistent(
    node: Node,
    peer: PeerRecord,
    checkpoint: SignedCheckpoint,
    seen: StoredCheckpoint | None,
    from_size: int,
    proof: list[bytes],
) -> None:
    body = checkpoint.body
    evidence = {"note": checkpoint.note, "last_seen": seen.note if seen else None}
    if seen is None:
        if from_size != 0:
            raise CheckpointOutOfStep(f"this node has no checkpoint of {peer.node_id} yet", 0)
        return
    if body.size < seen.size:
        detail = f"{peer.node_id} presents a tree of {body.size} leaves after one of {seen.size}: its log shrank"
        raise_alarm(node, body.origin, "log-truncated", detail, evidence)
        raise InconsistentCheckpoint(detail)
    if body.size == seen.size:
        if body.root != seen.root:
            detail = f"{peer.node_id} presents two different roots for size {body.size}: a split view"
            raise_alarm(node, body.origin, "split-view", detail, evidence)
            raise InconsistentCheckpoint(detail)
        return
    if from_size != seen.size:
        raise CheckpointOutOfStep(f"the last checkpoint of {peer.node_id} seen here has size {seen.size}", seen.size)
    try:
        verify_consistency(seen.size, body.size, seen.root, body.root, proof)
    except ProofFailed as failure:
        detail = (
            f"{peer.node_id}'s checkpoint of size {body.size} is not an extension of its checkpoint of size "
            f"{seen.size} countersigned here: its history was rewritten ({failure.detail})"
        )
        raise_alarm(node, body.origin, "history-rewritten", detail, evidence)
        raise InconsistentCheckpoint(detail) from failure


def _decode_proof(proof_hex: Sequence[str]) -> list[bytes]:
    try:
        proof = [bytes.fromhex(item) for item in proof_hex]
    except (TypeError, ValueError) as exc:
        raise MalformedArtefact("a consistency proof is a list of hex SHA-256 hashes") from exc
    if len(proof) > 128 or any(len(item) != 32 for item in proof):
        raise MalformedArtefact("a consistency proof is at most 128 hashes of 32 bytes")
    return proof


# ------------------------------------------------------------------------------------------------ the log's side


def request_cosignature(node: Node, peer: PeerRecord, client: PeerClient) -> StoredCheckpoint | None:
    """Send the latest own checkpoint the peer has not cosigned, with a proof from the last one it did."""
    origin = origin_for(node.node_id)
    with node.engine.connect() as conn:
        newest = latest(conn, origin)
        anchor = latest(conn, origin, cosigned_only=True)
    if newest is None or newest.cosignature is not None:
        return None
    from_size = anchor.size if anchor else 0
    for _ in range(2):
        with node.engine.connect() as conn:
            proof = consistency_proof(StoredTree(conn), from_size, newest.size) if from_size else []
        answer = client.send_checkpoint(peer, newest.note, from_size, proof)
        if answer.status == 409 and answer.problem_slug == CheckpointOutOfStep.slug:
            from_size = int(answer.body.get("last_seen_size", 0))
            continue
        break
    if answer.status == 409 and answer.problem_slug == InconsistentCheckpoint.slug:
        detail = f"{peer.node_id} refuses to countersign our checkpoint of size {newest.size}: {answer.detail}"
        raise_alarm(node, origin, "peer-reports-inconsistency", detail, {"note": newest.note})
        return None
    if not answer.ok or not isinstance(answer.body, dict):
        log.warning("peer did not countersign", peer=peer.node_id, status=answer.status, detail=answer.detail)
        return None
    line = str(answer.body.get("cosignature", ""))
    cosigner = origin_for(peer.node_id)
    try:
        verify_cosignature(newest.signed, line, cosigner, peer.pinned.keys.signing)
    except AccordError as problem:
        raise_alarm(node, origin, "bad-cosignature", str(problem), {"note": newest.note, "cosignature": line})
        return None
    with node.engine.begin() as conn:
        record_cosignature(conn, newest.id, cosigner, line)
    return newest


def checkpoint_round(node: Node, client: PeerClient) -> None:
    """One scheduled round: a new checkpoint if the ledger grew, then ask each peer to countersign."""
    issue_checkpoint(node)
    with node.engine.connect() as conn:
        peers = load_peers(node, conn)
    for peer in peers:
        try:
            request_cosignature(node, peer, client)
        except PeerUnreachable as exc:
            log.info("peer unreachable for countersigning", peer=peer.node_id, error=exc.detail)


def run_checkpoints(node: Node, stop: threading.Event) -> None:
    """The scheduled checkpoint job, for the process's lifetime; an error waits for the next round."""
    with PeerClient(timeout_s=30.0) as client:
        while not stop.wait(node.settings.checkpoint_interval_s):
            try:
                checkpoint_round(node, client)
            except (SQLAlchemyError, OSError, AccordError) as exc:
                log.error("checkpoint round failed; next round retries", error=str(exc))
