"""The audit screen, for auditors and oversight: checkpoints with the peer's countersignature, alarms, the whole
ledger verified as an oversight body would, and the proof of each ledger entry about a message.

It calls the same services as the API's /api/v1/audit, as the signed-in officer.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from accord.directory.officers import Officer
from accord.exchange.audit import ledger_status, require_audit_role, verify_own_ledger
from accord.exchange.receipt_proofs import prove_message
from accord.http.dependencies import NodeDep
from accord.ledger.bundle import Verdict
from accord.node import Node
from accord.web._pages import page
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)


def _audit_page(request: Request, node: Node, officer: Officer, verdict: Verdict | None) -> HTMLResponse:
    status = ledger_status(node, checkpoints=20, alarms=20)
    return page(
        request, "audit.html.j2", officer, checkpoints=status.checkpoints, alarms=status.alarms, verdict=verdict
    )


@router.get("/audit")
def audit(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    require_audit_role(officer)
    return _audit_page(request, node, officer, None)


@router.post("/audit/verify", dependencies=[CsrfChecked])
async def audit_verify(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    """Export this node's audit bundle and verify it exactly as an oversight body would, offline."""
    require_audit_role(officer)
    verdict = await run_in_threadpool(verify_own_ledger, node)
    return _audit_page(request, node, officer, verdict)


@router.get("/audit/messages/{message_id}/proof")
async def message_proof(request: Request, node: NodeDep, officer: WebOfficerDep, message_id: str) -> HTMLResponse:
    """Each ledger entry about the message, on both sides, with its inclusion proof against a countersigned head."""
    require_audit_role(officer)
    proof = await run_in_threadpool(prove_message, node, message_id)
    return page(request, "proof.html.j2", officer, message_id=message_id, proof=proof)
