"""The ledger for operators and oversight: checkpoints with the peer's countersignature, alarms, proofs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from accord.exchange import audit
from accord.exchange.receipt_proofs import ProvenLeaf, prove_message
from accord.http.dependencies import NodeDep, OfficerDep
from accord.ledger.checkpoints import StoredCheckpoint

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


def checkpoint_view(checkpoint: StoredCheckpoint) -> dict[str, Any]:
    return {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": checkpoint.root.hex(),
        "issued_at": checkpoint.issued_at,
        "countersigned": checkpoint.cosignature is not None,
        "cosigner": checkpoint.cosigner,
        "cosigned_at": checkpoint.cosigned_at,
        "note": checkpoint.signed.full_note,
    }


def leaf_view(leaf: ProvenLeaf) -> dict[str, Any]:
    return {
        "log": leaf.log,
        "index": leaf.index,
        "event": leaf.event,
        "leaf_hash": leaf.leaf_hash.hex(),
        "proof": [p.hex() for p in leaf.proof],
        "checkpoint": checkpoint_view(leaf.checkpoint) if leaf.checkpoint else None,
        "verified": leaf.verified,
        "note": leaf.note,
    }


@router.get("/status")
def status(node: NodeDep, officer: OfficerDep) -> dict[str, Any]:
    audit.require_audit_role(officer)
    status = audit.ledger_status(node)
    return {
        "node": node.node_id,
        "ledger_size": status.size,
        "checkpoints": [checkpoint_view(c) for c in status.checkpoints],
        "alarms": [{"at": a.at, "origin": a.origin, "kind": a.kind, "detail": a.detail} for a in status.alarms],
    }


@router.post("/checkpoints")
def checkpoint_now(node: NodeDep, officer: OfficerDep) -> dict[str, Any]:
    """Issue a checkpoint now (if the ledger grew) and ask the peer to countersign it."""
    audit.require_operator(officer, "a checkpoint on demand")
    audit.checkpoint_now(node)
    return {"checkpoints": [checkpoint_view(c) for c in audit.ledger_status(node, checkpoints=2).checkpoints]}


@router.get("/messages/{message_id}/proof")
async def message_proof(node: NodeDep, officer: OfficerDep, message_id: str) -> dict[str, Any]:
    audit.require_audit_role(officer)
    proof = await run_in_threadpool(prove_message, node, message_id)
    return {"message": message_id, "verified": proof.verified, "leaves": [leaf_view(x) for x in proof.leaves]}
