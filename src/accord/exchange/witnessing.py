"""Witnessing between the parties: each node's checkpoints are countersigned by the peer after it verified them
consistent (RFC 9162 §2.1.4) with the last one it countersigned, and each node countersigns the peer's.

A checkpoint travels in a signed peer request (`accord-checkpoint+jws`) whose claims carry the note, the size the
consistency proof starts from and the proof, so the whole submission is the peer's signed word. The request is
authenticated before anything in it is read; an alarm is raised only on a signed contradiction: a newer checkpoint of a
smaller tree (truncation), two roots for one size (split view), an extension whose signed proof fails (rewritten
history). A replayed or overtaken checkpoint is refused as stale, or answered with the same countersignature when it is
exactly one countersigned here.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from accord.crypto.errors import MalformedArtefact
from accord.errors import AccordError
from accord.exchange.transport import PeerClient, PeerUnreachable
from accord.i18n import _
from accord.ledger import checkpoints as stored_checkpoints
from accord.ledger.alarms import AlarmKind, Recurrence
from accord.ledger.alarms import raise_alarm as record_alarm
from accord.ledger.checkpoints import (
    CheckpointOutOfStep,
    InconsistentCheckpoint,
    StaleCheckpoint,
    StoredCheckpoint,
    latest,
    newest_issued,
    record_cosignature,
    store_witnessed,
    stored_of_size,
)
from accord.ledger.errors import ProofFailed
from accord.ledger.notes import (
    MAX_NOTE_BYTES,
    SignedCheckpoint,
    cosign,
    origin_for,
    verify_by_any,
    verify_checkpoint,
    verify_cosignature,
)
from accord.ledger.proofs import StoredTree
from accord.ledger.tree import consistency_proof, verify_consistency
from accord.node import Node
from accord.store.tables import peers
from accord.trust.peers import PeerRecord, load_peers
from accord.trust.requests import sign_peer_request, verify_peer_request

log = structlog.get_logger(__name__)

CHECKPOINT_TYP = "accord-checkpoint+jws"
MAX_PROOF_HASHES = 128  # RFC 9162 §2.1.4: a proof has about log2(size) hashes, and sizes are below 2^64


def issue_checkpoint(node: Node, force: bool = False) -> StoredCheckpoint | None:
    """Sign this node's current tree head; without `force`, only if the ledger grew since the last checkpoint."""
    return stored_checkpoints.issue_checkpoint(node.engine, node.node_id, node.keys.signing, force)


def raise_alarm(
    node: Node,
    origin: str,
    kind: AlarmKind,
    detail: str,
    evidence: dict[str, Any],
    *,
    subject: str | None = None,
    recurrence: Recurrence = Recurrence.ONCE,
) -> None:
    record_alarm(node.engine, node.node_id, origin, kind, detail, evidence, subject=subject, recurrence=recurrence)


def note_digest(note: str) -> str:
    """What an alarm about a checkpoint is about: the SHA-256 of its note, so the same note raises one alarm."""
    return hashlib.sha256(note.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------- the wire format


@dataclass(frozen=True, slots=True)
class CheckpointSubmission:
    """The claims of a checkpoint request: the signed note, and the proof from the size the peer last countersigned."""

    note: str
    from_size: int
    proof: tuple[bytes, ...]


def checkpoint_request(node: Node, peer: PeerRecord, note: str, from_size: int, proof: Sequence[bytes]) -> str:
    """A checkpoint of this node's, with its consistency proof from `from_size`, as a request signed for `peer`."""
    return sign_peer_request(
        node, peer, CHECKPOINT_TYP, checkpoint=note, from_size=from_size, consistency=[p.hex() for p in proof]
    )


def read_submission(claims: dict[str, Any]) -> CheckpointSubmission:
    """The submission in a verified request's claims; anything not in the exact shape is malformed."""
    note, from_size, consistency = claims.get("checkpoint"), claims.get("from_size"), claims.get("consistency")
    if not isinstance(note, str) or len(note.encode()) > MAX_NOTE_BYTES:
        raise MalformedArtefact(
            _("claim 'checkpoint' is a signed note of at most {MAX_NOTE_BYTES} bytes").format(
                MAX_NOTE_BYTES=MAX_NOTE_BYTES
            )
        )
    if type(from_size) is not int or from_size < 0:
        raise MalformedArtefact(_("claim 'from_size' is the tree size the consistency proof starts from, 0 or more"))
    if not isinstance(consistency, list):
        raise MalformedArtefact(_("claim 'consistency' is a list of hex SHA-256 hashes"))
    return CheckpointSubmission(note, from_size, _decode_proof(consistency))


def _decode_proof(proof_hex: Sequence[object]) -> tuple[bytes, ...]:
    if len(proof_hex) > MAX_PROOF_HASHES:
        raise MalformedArtefact(
            _("a consistency proof is at most {MAX_PROOF_HASHES} hashes").format(MAX_PROOF_HASHES=MAX_PROOF_HASHES)
        )
    proof = []
    for item in proof_hex:
        try:
            value = bytes.fromhex(item) if isinstance(item, str) else b""
        except ValueError as exc:
            raise MalformedArtefact(_("a consistency proof is a list of hex SHA-256 hashes")) from exc
        if len(value) != 32:
            raise MalformedArtefact(_("every hash of a consistency proof is 32 bytes, in hex"))
        proof.append(value)
    return tuple(proof)


# ---------------------------------------------------------------------------------------------- the cosigner side


@dataclass(frozen=True, slots=True)
class Witnessed:
    """What this node countersigned of one log: its largest tree, its latest issued, and those of one size."""

    largest: StoredCheckpoint | None
    newest: StoredCheckpoint | None
    same_size: list[StoredCheckpoint]


def countersign(node: Node, token: str) -> str:
    """Authenticate a peer's checkpoint request, judge the checkpoint against what this node countersigned of that
    log before, then cosign and keep it; returns the cosignature line.

    Raises PeerNotAuthenticated or MalformedArtefact (nothing is looked at or stored), a verification error if the
    note is not signed by the peer's pinned key, StaleCheckpoint or CheckpointOutOfStep (no alarm), or
    InconsistentCheckpoint after raising the alarm its contradiction calls for.
    """
    request = verify_peer_request(node, token, CHECKPOINT_TYP)
    submission = read_submission(request.claims)
    peer = request.peer
    checkpoint = verify_by_any(
        peer.pinned.accepted_signing_keys(datetime.now(UTC)),
        lambda key: verify_checkpoint(submission.note, origin_for(peer.node_id), key),
    )
    try:
        with node.engine.begin() as conn:
            # One judgement at a time per peer: on PostgreSQL two concurrent requests would both judge against the
            # same state (SQLite's writers are serialised already).
            conn.execute(select(peers.c.node_id).where(peers.c.node_id == peer.node_id).with_for_update())
            witnessed = Witnessed(
                latest(conn, checkpoint.body.origin),
                newest_issued(conn, checkpoint.body.origin),
                stored_of_size(conn, checkpoint.body.origin, checkpoint.body.size),
            )
            for stored in witnessed.same_size:
                if stored.note == checkpoint.note and stored.cosignature is not None:
                    return stored.cosignature  # exactly a checkpoint countersigned here: the same answer
            judge(peer.node_id, checkpoint, submission, witnessed)
            now = int(time.time())
            line = cosign(checkpoint, origin_for(node.node_id), node.keys.signing, now)
            store_witnessed(conn, checkpoint, origin_for(node.node_id), line, now)
            return line
    except InconsistentCheckpoint as contradiction:
        evidence = {"note": checkpoint.note, "contradicts": contradiction.contradicts, "request": token}
        kind, subject = AlarmKind(contradiction.kind), note_digest(checkpoint.note)
        raise_alarm(node, checkpoint.body.origin, kind, contradiction.detail, evidence, subject=subject)
        raise


def judge(peer_id: str, checkpoint: SignedCheckpoint, submission: CheckpointSubmission, witnessed: Witnessed) -> None:
    """Whether a verified checkpoint of the peer's may be countersigned: returns if so, raises why not otherwise."""
    body = checkpoint.body
    for other in witnessed.same_size:
        if other.root != body.root:
            raise InconsistentCheckpoint(
                _("{peer_id} signed two different roots for size {size}: a split view").format(
                    peer_id=peer_id, size=body.size
                ),
                AlarmKind.SPLIT_VIEW,
                other.note,
            )
    newest = witnessed.newest
    if newest is not None and body.issued_at < int(newest.issued_at.timestamp()):
        raise StaleCheckpoint(
            _(
                "{peer_id}'s checkpoint of size {size} was issued at {issued_at}, before its checkpoint "
                "of size {size2} (issued at {int}) countersigned here"
            ).format(
                peer_id=peer_id,
                size=body.size,
                issued_at=body.issued_at,
                size2=newest.size,
                int=int(newest.issued_at.timestamp()),
            )
        )
    largest = witnessed.largest
    if largest is None:
        if submission.from_size != 0:
            raise CheckpointOutOfStep(_("this node has no checkpoint of {peer_id} yet").format(peer_id=peer_id), 0)
        return
    if body.size < largest.size:
        if body.issued_at > int(largest.issued_at.timestamp()):
            raise InconsistentCheckpoint(
                _(
                    "{peer_id} presents a tree of {size} leaves, signed after its tree of {size2} leaves "
                    "countersigned here: its log shrank"
                ).format(peer_id=peer_id, size=body.size, size2=largest.size),
                AlarmKind.LOG_TRUNCATED,
                largest.note,
            )
        raise StaleCheckpoint(
            _(
                "{peer_id}'s checkpoint of size {size} is older than its checkpoint of size {size2} countersigned here"
            ).format(peer_id=peer_id, size=body.size, size2=largest.size)
        )
    if body.size == largest.size:
        return  # the same tree (its root is checked above), signed again
    if submission.from_size != largest.size:
        raise CheckpointOutOfStep(
            _("the last checkpoint of {peer_id} seen here has size {size}").format(peer_id=peer_id, size=largest.size),
            largest.size,
        )
    try:
        verify_consistency(largest.size, body.size, largest.root, body.root, list(submission.proof))
    except ProofFailed as failure:
        raise InconsistentCheckpoint(
            _(
                "{peer_id}'s checkpoint of size {size} is not an extension of its checkpoint of size "
                "{size2} countersigned here: its history was rewritten ({detail})"
            ).format(peer_id=peer_id, size=body.size, size2=largest.size, detail=failure.detail),
            AlarmKind.HISTORY_REWRITTEN,
            largest.note,
        ) from failure


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
    for _attempt in range(2):
        with node.engine.connect() as conn:
            proof = consistency_proof(StoredTree(conn), from_size, newest.size) if from_size else []
        answer = client.send_checkpoint(peer, checkpoint_request(node, peer, newest.note, from_size, proof))
        if answer.status == 409 and answer.problem_slug == CheckpointOutOfStep.slug:
            last_seen = answer.body.get("last_seen_size")
            if type(last_seen) is not int or not 0 <= last_seen <= newest.size:
                break
            from_size = last_seen
            continue
        break
    if answer.status == 409 and answer.problem_slug == InconsistentCheckpoint.slug:
        detail = f"{peer.node_id} refuses to countersign our checkpoint of size {newest.size}: {answer.detail}"
        evidence = {"note": newest.note, "answer": answer.body}
        raise_alarm(
            node, origin, AlarmKind.PEER_REPORTS_INCONSISTENCY, detail, evidence, subject=note_digest(newest.note)
        )
        return None
    if not answer.ok or not isinstance(answer.body, dict):
        log.warning("peer did not countersign", peer=peer.node_id, status=answer.status, detail=answer.detail)
        return None
    line = str(answer.body.get("cosignature", ""))
    cosigner = origin_for(peer.node_id)
    try:
        verify_by_any(
            peer.pinned.accepted_signing_keys(datetime.now(UTC)),
            lambda key: verify_cosignature(newest.signed, line, cosigner, key),
        )
    except AccordError as problem:
        evidence = {"note": newest.note, "cosignature": line}
        raise_alarm(node, origin, AlarmKind.BAD_COSIGNATURE, str(problem), evidence, subject=note_digest(newest.note))
        return None
    with node.engine.begin() as conn:
        record_cosignature(conn, newest.id, cosigner, line)
    return newest


def checkpoint_round(node: Node, client: PeerClient) -> None:
    """One scheduled round: a new checkpoint if the ledger grew, then ask each peer to countersign."""
    issue_checkpoint(node)
    with node.engine.connect() as conn:
        pinned = load_peers(node, conn)
    for peer in pinned:
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
