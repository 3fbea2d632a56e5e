"""A declared restore, a new epoch of a log. A node restored from a backup declares, in its signed recovery request,
the head of its restored ledger (a checkpoint of S leaves and root R, signed as any other) with the consistency proof
from the latest checkpoint of its log the peer countersigned at or below S.

The peer checks the declaration against what it countersigned: if the head extends it, the peer logs
`peer.ledger_restored` with the checkpoints it had countersigned beyond S (a branch the node lost with its data), sets
those aside (kept as evidence, no longer what the log must extend) and countersigns the declared head, from which the
node's next checkpoints are judged as any other. A head that contradicts a checkpoint countersigned at or below S
raises `history-rewritten`; an old declaration replayed after newer checkpoints were countersigned is stale; a rewrite
the node did not declare still raises its alarm when its next checkpoint arrives."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from accord.crypto.errors import MalformedArtefact
from accord.exchange.witnessing import CheckpointSubmission, note_digest, raise_alarm, read_submission
from accord.i18n import _
from accord.ledger.alarms import AlarmKind
from accord.ledger.checkpoints import (
    CheckpointOutOfStep,
    InconsistentCheckpoint,
    StaleCheckpoint,
    StoredCheckpoint,
    beyond,
    issue_checkpoint,
    latest_cosigned_within,
    newest_issued,
    record_cosignature,
    set_aside,
    store_witnessed,
)
from accord.ledger.errors import ProofFailed
from accord.ledger.events import EventType, append_event
from accord.ledger.notes import SignedCheckpoint, cosign, origin_for, verify_by_any, verify_checkpoint
from accord.ledger.notes import verify_cosignature as verify_cosignature_line
from accord.ledger.proofs import StoredTree
from accord.ledger.tree import EMPTY_ROOT, consistency_proof, verify_consistency
from accord.node import Node
from accord.store.tables import peers
from accord.trust.peers import PeerRecord

RESTORED_CLAIM = "restored"  # of the recovery request: the declaration; of the answer: the peer's countersignature


@dataclass(frozen=True, slots=True)
class LostCheckpoint:
    """A checkpoint the peer countersigned beyond the restored head: of leaves the restored node no longer has."""

    size: int
    root: bytes

    def as_refs(self) -> dict[str, str | int]:
        return {"size": self.size, "root": self.root.hex()}


@dataclass(frozen=True, slots=True)
class AcceptedRestore:
    """The peer's side of a declaration it verified: the head it countersigned, and what it set aside."""

    size: int
    root: bytes
    cosignature: str
    lost: tuple[LostCheckpoint, ...]

    def answer(self) -> dict[str, Any]:
        return {"cosignature": self.cosignature, "lost": [lost.as_refs() for lost in self.lost]}


# -------------------------------------------------------------------------------------------- the restored side


def declared_head(node: Node) -> tuple[StoredCheckpoint, int]:
    """A checkpoint of the restored ledger as it is now (the head the restore declares), and the size of the
    largest checkpoint of it the peer countersigned, where the declaration's proof starts (0 if none)."""
    head = issue_checkpoint(node.engine, node.node_id, node.keys.signing, force=True)
    assert head is not None  # forced: always issued
    with node.engine.connect() as conn:
        base = latest_cosigned_within(conn, head.origin, head.size)
    return head, base.size if base is not None else 0


def declaration(node: Node, head: StoredCheckpoint, from_size: int) -> dict[str, Any]:
    """The claim declaring `head`, with its consistency proof from `from_size` (a checkpoint submission's shape)."""
    with node.engine.connect() as conn:
        proof = consistency_proof(StoredTree(conn), from_size, head.size) if 0 < from_size < head.size else []
    return {"checkpoint": head.note, "from_size": from_size, "consistency": [p.hex() for p in proof]}


def confirmed(
    conn: Connection, peer: PeerRecord, head: StoredCheckpoint, answered: Any
) -> tuple[LostCheckpoint, ...] | None:
    """The peer's countersignature on the declared head, verified against its pinned key and kept; and the lost
    checkpoints it names. None if the answer says nothing of it (a peer of a version before declared restores);
    raises MalformedArtefact if it is not a confirmation, a verification error if the countersignature is not the
    peer's."""
    if answered is None:
        return None
    if not isinstance(answered, dict) or not isinstance(answered.get("cosignature"), str):
        raise MalformedArtefact(_("the answer does not countersign the restored ledger's head"))
    line, cosigner = str(answered["cosignature"]), origin_for(peer.node_id)
    verify_by_any(
        peer.pinned.accepted_signing_keys(datetime.now(UTC)),
        lambda key: verify_cosignature_line(head.signed, line, cosigner, key),
    )
    record_cosignature(conn, head.id, cosigner, line)
    lost = []
    for item in answered.get("lost") or []:
        if not isinstance(item, dict) or type(item.get("size")) is not int or not isinstance(item.get("root"), str):
            raise MalformedArtefact(_("each lost checkpoint is named by its size and root"))
        try:
            lost.append(LostCheckpoint(item["size"], bytes.fromhex(item["root"])))
        except ValueError as exc:
            raise MalformedArtefact(_("each lost checkpoint is named by its size and root")) from exc
    return tuple(lost)


# ------------------------------------------------------------------------------------------------ the peer's side


def accept_declaration(
    node: Node, conn: Connection, peer: PeerRecord, claims: dict[str, Any]
) -> AcceptedRestore | None:
    """Judge the declared restore in an authenticated recovery request, in the caller's transaction; None if the
    request declares none. Raises MalformedArtefact, a verification error (the head is not signed by the peer's
    pinned key), StaleCheckpoint or CheckpointOutOfStep (nothing changed), or InconsistentCheckpoint."""
    raw = claims.get(RESTORED_CLAIM)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise MalformedArtefact(_("claim 'restored' is the restored ledger's head: a checkpoint and its proof"))
    submission = read_submission(raw)
    origin = origin_for(peer.node_id)
    head = verify_by_any(
        peer.pinned.accepted_signing_keys(datetime.now(UTC)),
        lambda key: verify_checkpoint(submission.note, origin, key),
    )
    # One judgement at a time per peer, as for its checkpoints (witnessing.countersign).
    conn.execute(select(peers.c.node_id).where(peers.c.node_id == peer.node_id).with_for_update())
    base = latest_cosigned_within(conn, origin, head.body.size)
    judge_declaration(peer.node_id, head, submission, base, newest_issued(conn, origin))
    size, root = head.body.size, head.body.root
    set_apart = beyond(conn, origin, size)
    lost = tuple(LostCheckpoint(c.size, c.root) for c in set_apart)
    appended = append_event(
        conn,
        EventType.PEER_LEDGER_RESTORED,
        peer.node_id,
        {
            "peer": peer.node_id,
            "origin": origin,
            "size": size,
            "root": root.hex(),
            "from_size": submission.from_size,
            "lost": [item.as_refs() for item in lost],
        },
    )
    set_aside(conn, [c.id for c in set_apart], appended.indexes[0])
    now = int(time.time())
    line = cosign(head, origin_for(node.node_id), node.keys.signing, now)
    store_witnessed(conn, head, origin_for(node.node_id), line, now)
    return AcceptedRestore(size, root, line, lost)


def judge_declaration(
    peer_id: str,
    head: SignedCheckpoint,
    submission: CheckpointSubmission,
    base: StoredCheckpoint | None,
    newest: StoredCheckpoint | None,
) -> None:
    """Whether a declared head may start a new epoch of the peer's log: returns if so, raises why not otherwise.
    `base` is the largest checkpoint countersigned here at or below the head's size, `newest` the latest issued."""
    body = head.body
    if newest is not None and body.issued_at < int(newest.issued_at.timestamp()):
        raise StaleCheckpoint(
            _(
                "{peer_id} declares a restore to size {size} signed at {issued_at}, before its checkpoint of size "
                "{size2} countersigned here: an old declaration, not taken again"
            ).format(peer_id=peer_id, size=body.size, issued_at=body.issued_at, size2=newest.size)
        )
    start = base.size if base is not None else 0
    if base is None and submission.proof:
        raise MalformedArtefact(_("a declared restore with no checkpoint countersigned before it carries no proof"))
    if submission.from_size != start:
        raise CheckpointOutOfStep(
            _("the largest checkpoint of {peer_id} of at most {size} leaves seen here has size {start}").format(
                peer_id=peer_id, size=body.size, start=start
            ),
            start,
        )
    try:
        verify_consistency(start, body.size, base.root if base else EMPTY_ROOT, body.root, list(submission.proof))
    except ProofFailed as failure:
        raise InconsistentCheckpoint(
            _(
                "{peer_id} declares its log restored to size {size}, which is not an extension of its checkpoint of "
                "size {size2} countersigned here: its history was rewritten ({detail})"
            ).format(peer_id=peer_id, size=body.size, size2=start, detail=failure.detail),
            AlarmKind.HISTORY_REWRITTEN,
            base.note if base else None,
        ) from failure


def alarm_on_contradiction(
    node: Node, token: str, claims: dict[str, Any], contradiction: InconsistentCheckpoint
) -> None:
    """The alarm a declaration that contradicts what was countersigned here raises (the request is its evidence)."""
    raw = claims.get(RESTORED_CLAIM)
    note = str(raw.get("checkpoint")) if isinstance(raw, dict) else ""
    origin = str(claims.get("iss"))
    evidence = {"note": note, "contradicts": contradiction.contradicts, "request": token}
    kind = AlarmKind(contradiction.kind)
    raise_alarm(node, origin_for(origin), kind, contradiction.detail, evidence, subject=note_digest(note))
