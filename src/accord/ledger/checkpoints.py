"""Signed checkpoints of this node's ledger, their countersigning by the peer, and alarms when a peer's history
does not add up (a rewritten log, a split view, a key that is not pinned)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from accord.crypto.errors import BadSignature, MalformedArtefact, UnknownSender
from accord.directory.peers import PeerRecord, load_peers
from accord.errors import AccordError, Conflict
from accord.ledger.events import EventType, append_event, tree_root
from accord.ledger.notes import (
    CheckpointBody,
    SignedCheckpoint,
    cosign,
    origin_for,
    parse_note,
    sign_checkpoint,
    verify_checkpoint,
    verify_cosignature,
)
from accord.ledger.proofs import StoredTree
from accord.ledger.tree import consistency_proof, verify_consistency
from accord.node import Node
from accord.store.tables import checkpoints, ledger_alarms, ledger_head

CHECKPOINTS_PATH = "/federation/v1/checkpoints"
log = structlog.get_logger(__name__)


class CheckpointOutOfStep(Conflict):
    """Not an alarm: the peer last saw another size than the proof starts from; the sender retries from it."""

    slug = "checkpoint-out-of-step"
    title = "The consistency proof does not start at the last checkpoint this node saw"

    def __init__(self, detail: str, last_seen_size: int) -> None:
        super().__init__(detail)
        self.last_seen_size = last_seen_size

    def extensions(self) -> dict[str, object]:
        return {"last_seen_size": self.last_seen_size}


class InconsistentCheckpoint(Conflict):
    slug = "inconsistent-checkpoint"
    title = "The checkpoint contradicts an earlier one: the log's history was changed"


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    id: int
    origin: str
    size: int
    root: bytes
    issued_at: datetime
    note: str
    cosigner: str | None
    cosignature: str | None
    cosigned_at: datetime | None

    @property
    def signed(self) -> SignedCheckpoint:
        body, lines = parse_note(self.note)
        return SignedCheckpoint(body, lines[0], self.cosignature)


def _stored(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(
        row.id,
        row.origin,
        row.size,
        bytes(row.root),
        row.issued_at,
        row.note,
        row.cosigner,
        row.cosignature,
        row.cosigned_at,
    )


def ledger_size(conn: Connection) -> int:
    return int(conn.execute(select(ledger_head.c.size).where(ledger_head.c.id == 1)).scalar_one())


def latest(conn: Connection, origin: str, cosigned_only: bool = False) -> StoredCheckpoint | None:
    query = select(checkpoints).where(checkpoints.c.origin == origin)
    if cosigned_only:
        query = query.where(checkpoints.c.cosignature.is_not(None))
    row = conn.execute(query.order_by(checkpoints.c.size.desc(), checkpoints.c.id.desc()).limit(1)).first()
    return _stored(row) if row else None


def list_checkpoints(conn: Connection, origin: str | None = None, limit: int | None = None) -> list[StoredCheckpoint]:
    query = select(checkpoints).order_by(checkpoints.c.id.desc())
    if origin is not None:
        query = query.where(checkpoints.c.origin == origin)
    if limit is not None:
        query = query.limit(limit)
    return [_stored(row) for row in conn.execute(query)]


def issue_checkpoint(node: Node, force: bool = False) -> StoredCheckpoint | None:
    """Sign the current tree head; without `force`, only if the ledger grew since the last checkpoint."""
    origin = origin_for(node.node_id)
    with node.engine.begin() as conn:
        size = ledger_size(conn)
        previous = latest(conn, origin)
        if previous is not None and previous.size >= size and not force:
            return None
        body = CheckpointBody(origin, size, tree_root(conn, size), int(time.time()))
        signed = sign_checkpoint(body, node.keys.signing)
        row_id = conn.execute(
            insert(checkpoints).values(
                origin=origin,
                size=size,
                root=body.root,
                issued_at=datetime.fromtimestamp(body.issued_at, UTC),
                note=signed.note,
            )
        ).inserted_primary_key
        assert row_id is not None
        stored = conn.execute(select(checkpoints).where(checkpoints.c.id == row_id[0])).one()
    return _stored(stored)


def raise_alarm(node: Node, origin: str, kind: str, detail: str, evidence: dict[str, Any]) -> None:
    """Record an alarm operators see (API, CLI, health) and log it in the ledger, in its own transaction."""
    now = datetime.now(UTC)
    text = json.dumps(evidence, sort_keys=True)
    with node.engine.begin() as conn:
        conn.execute(insert(ledger_alarms).values(at=now, origin=origin, kind=kind, detail=detail, evidence=text))
        append_event(conn, EventType.LEDGER_ALARM, node.node_id, {"origin": origin, "kind": kind}, text.encode())
    log.error("ledger alarm", origin=origin, kind=kind, detail=detail)


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
        conn.execute(
            insert(checkpoints).values(
                origin=body.origin,
                size=body.size,
                root=body.root,
                issued_at=datetime.fromtimestamp(body.issued_at, UTC),
                note=checkpoint.note,
                cosigner=origin_for(node.node_id),
                cosignature=line,
                cosigned_at=datetime.fromtimestamp(now, UTC),
            )
        )
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
    if not verify_consistency(seen.size, body.size, seen.root, body.root, proof):
        detail = (
            f"{peer.node_id}'s checkpoint of size {body.size} is not an extension of its checkpoint of size "
            f"{seen.size} countersigned here: its history was rewritten"
        )
        raise_alarm(node, body.origin, "history-rewritten", detail, evidence)
        raise InconsistentCheckpoint(detail)


def _decode_proof(proof_hex: Sequence[str]) -> list[bytes]:
    try:
        proof = [bytes.fromhex(item) for item in proof_hex]
    except (TypeError, ValueError) as exc:
        raise MalformedArtefact("a consistency proof is a list of hex SHA-256 hashes") from exc
    if len(proof) > 128 or any(len(item) != 32 for item in proof):
        raise MalformedArtefact("a consistency proof is at most 128 hashes of 32 bytes")
    return proof


# ------------------------------------------------------------------------------------------------ the log's side


def request_cosignature(node: Node, peer: PeerRecord, client: httpx.Client) -> StoredCheckpoint | None:
    """Send the latest own checkpoint the peer has not cosigned, with a proof from the last one it did."""
    origin = origin_for(node.node_id)
    with node.engine.connect() as conn:
        newest = latest(conn, origin)
        anchor = latest(conn, origin, cosigned_only=True)
    if newest is None or newest.cosignature is not None:
        return None
    from_size = anchor.size if anchor else 0
    for _ in range(2):
        answer = _post_checkpoint(node, peer, client, newest, from_size)
        if answer.status_code == 409 and _slug(answer) == CheckpointOutOfStep.slug:
            from_size = int(answer.json().get("last_seen_size", 0))
            continue
        break
    if answer.status_code == 409 and _slug(answer) == InconsistentCheckpoint.slug:
        detail = f"{peer.node_id} refuses to countersign our checkpoint of size {newest.size}: {_detail(answer)}"
        raise_alarm(node, origin, "peer-reports-inconsistency", detail, {"note": newest.note})
        return None
    if answer.status_code != 200:
        log.warning("peer did not countersign", peer=peer.node_id, status=answer.status_code, detail=_detail(answer))
        return None
    line = str(answer.json().get("cosignature", ""))
    cosigner = origin_for(peer.node_id)
    try:
        verify_cosignature(newest.signed, line, cosigner, peer.pinned.keys.signing)
    except AccordError as problem:
        raise_alarm(node, origin, "bad-cosignature", str(problem), {"note": newest.note, "cosignature": line})
        return None
    with node.engine.begin() as conn:
        conn.execute(
            update(checkpoints)
            .where(checkpoints.c.id == newest.id)
            .values(cosigner=cosigner, cosignature=line, cosigned_at=datetime.now(UTC))
        )
    return newest


def _post_checkpoint(
    node: Node, peer: PeerRecord, client: httpx.Client, checkpoint: StoredCheckpoint, from_size: int
) -> httpx.Response:
    with node.engine.connect() as conn:
        proof = consistency_proof(StoredTree(conn), from_size, checkpoint.size) if from_size else []
    payload = {"checkpoint": checkpoint.note, "from_size": from_size, "consistency": [p.hex() for p in proof]}
    return client.post(peer.url + CHECKPOINTS_PATH, json=payload)


def _slug(response: httpx.Response) -> str:
    try:
        return str(response.json().get("type", "")).rpartition(":")[2]
    except ValueError:
        return ""


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text[:200]))
    except ValueError:
        return response.text[:200]


def checkpoint_round(node: Node, client: httpx.Client) -> None:
    """One scheduled round: a new checkpoint if the ledger grew, then ask each peer to countersign."""
    issue_checkpoint(node)
    with node.engine.connect() as conn:
        peers = load_peers(node, conn)
    for peer in peers:
        try:
            request_cosignature(node, peer, client)
        except httpx.HTTPError as exc:
            log.info("peer unreachable for countersigning", peer=peer.node_id, error=str(exc))


def run_checkpoints(node: Node, stop: threading.Event) -> None:
    """The scheduled checkpoint job, for the process's lifetime; an error waits for the next round."""
    with httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0)) as client:
        while not stop.wait(node.settings.checkpoint_interval_s):
            try:
                checkpoint_round(node, client)
            except (SQLAlchemyError, OSError, AccordError) as exc:
                log.error("checkpoint round failed; next round retries", error=str(exc))
