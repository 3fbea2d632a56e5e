"""The ledger for operators and oversight: checkpoints with the peer's countersignature, alarms, proofs."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from accord.api.dependencies import NodeDep, OfficerDep
from accord.directory.officers import Officer, Role
from accord.errors import Forbidden
from accord.ledger.checkpoints import StoredCheckpoint, checkpoint_round, ledger_size, list_checkpoints
from accord.ledger.receipt_proofs import ProvenLeaf, prove_message
from accord.store.tables import ledger_alarms

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
AUDIT_ROLES = {Role.OPERATOR.value, Role.OVERSIGHT.value, Role.LEGAL.value}


def require_audit_role(officer: Officer) -> None:
    if not AUDIT_ROLES & set(officer.roles):
        raise Forbidden("the ledger is open to operators, legal officers and oversight")


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
    require_audit_role(officer)
    with node.engine.connect() as conn:
        size = ledger_size(conn)
        recent = list_checkpoints(conn, limit=20)
        alarms = conn.execute(select(ledger_alarms).order_by(ledger_alarms.c.id.desc()).limit(50)).all()
    return {
        "node": node.node_id,
        "ledger_size": size,
        "checkpoints": [checkpoint_view(c) for c in recent],
        "alarms": [{"at": a.at, "origin": a.origin, "kind": a.kind, "detail": a.detail} for a in alarms],
    }


@router.post("/checkpoints")
def checkpoint_now(node: NodeDep, officer: OfficerDep) -> dict[str, Any]:
    """Issue a checkpoint now (if the ledger grew) and ask the peer to countersign it."""
    if Role.OPERATOR.value not in officer.roles:
        raise Forbidden("checkpoints are made on demand by node operators")
    with httpx.Client(timeout=30.0) as client:
        checkpoint_round(node, client)
    with node.engine.connect() as conn:
        return {"checkpoints": [checkpoint_view(c) for c in list_checkpoints(conn, limit=2)]}


@router.get("/messages/{message_id}/proof")
async def message_proof(node: NodeDep, officer: OfficerDep, message_id: str) -> dict[str, Any]:
    require_audit_role(officer)
    proof = await run_in_threadpool(prove_message, node, message_id)
    return {"message": message_id, "verified": proof.verified, "leaves": [leaf_view(x) for x in proof.leaves]}
