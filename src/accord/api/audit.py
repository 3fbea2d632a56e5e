"""The ledger for operators and oversight: checkpoints with the peer's countersignature, alarms and their
acknowledgement, proofs."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from accord.api.schemas.audit import (
    AlarmPage,
    AlarmView,
    CheckpointView,
    LedgerEventPage,
    LedgerStatus,
    MessageProof,
    ProvenLeafView,
    RecentCheckpoints,
)
from accord.exchange import audit
from accord.exchange.receipt_proofs import ProvenLeaf, prove_message
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import BODY_PROBLEMS, OFFICER_PROBLEMS, problems
from accord.http.parameters import Rfc3339DateTime
from accord.ledger.alarms import MAX_NOTE_LENGTH, MAX_PAGE, AlarmFilter
from accord.ledger.checkpoints import StoredCheckpoint
from accord.ledger.event_log import MAX_PAGE as MAX_EVENTS
from accord.ledger.event_log import EventFilter
from accord.ledger.leaves import EventType

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
# Alarm ids are the database's 64-bit integers.
ALARM_ID_MAX = 2**63 - 1


def checkpoint_view(checkpoint: StoredCheckpoint) -> CheckpointView:
    return CheckpointView(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=checkpoint.root.hex(),
        issued_at=checkpoint.issued_at,
        countersigned=checkpoint.cosignature is not None,
        cosigner=checkpoint.cosigner,
        cosigned_at=checkpoint.cosigned_at,
        note=checkpoint.signed.full_note,
    )


def leaf_view(leaf: ProvenLeaf) -> ProvenLeafView:
    return ProvenLeafView(
        log=leaf.log,
        index=leaf.index,
        event=leaf.event,
        leaf_hash=leaf.leaf_hash.hex(),
        proof=[p.hex() for p in leaf.proof],
        checkpoint=checkpoint_view(leaf.checkpoint) if leaf.checkpoint else None,
        verified=leaf.verified,
        note=leaf.note,
    )


@router.get("/status", responses=problems(401, 403))
def status(node: NodeDep, officer: OfficerDep) -> LedgerStatus:
    """The ledger's size, its latest checkpoints, and the newest unacknowledged alarms (all of them: /alarms)."""
    audit.require_audit_role(officer)
    status = audit.ledger_status(node)
    return LedgerStatus.model_validate(
        {
            "node": node.node_id,
            "ledger_size": status.size,
            "checkpoints": [checkpoint_view(c) for c in status.checkpoints],
            "alarms": [
                {"id": a.id, "at": a.at, "origin": a.origin, "kind": a.kind, "detail": a.detail} for a in status.alarms
            ],
            "alarm_count": status.alarm_count,
            "unacknowledged_alarms": status.unacknowledged,
        }
    )


@router.get("/alarms", responses=problems(*OFFICER_PROBLEMS, 403))
def alarms(
    node: NodeDep,
    officer: OfficerDep,
    kind: Annotated[str | None, Query(max_length=64, description="only alarms of this kind")] = None,
    origin: Annotated[str | None, Query(max_length=128, description="only alarms about this log or peer")] = None,
    acknowledged: Annotated[bool | None, Query(description="true: acknowledged only; false: open only")] = None,
    since: Annotated[Rfc3339DateTime | None, Query(description="raised at or after this time")] = None,
    after: Annotated[
        int | None, Query(ge=0, le=ALARM_ID_MAX, description="the cursor: the `next_after` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> AlarmPage:
    """Ledger alarms, the oldest first, `limit` at a time; follow `next_after` until it is null."""
    audit.require_audit_role(officer)
    which = AlarmFilter(kind=kind, origin=origin, acknowledged=acknowledged, since=since)
    page = audit.alarms(node, which, after=after, limit=limit)
    return AlarmPage.model_validate(
        {
            "alarms": [a.as_json() for a in page.alarms],
            "next_after": page.next_after,
            "unacknowledged": audit.unacknowledged_alarms(node),
        }
    )


class AcknowledgementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str = Field(min_length=1, max_length=MAX_NOTE_LENGTH, description="what was found or done")


@router.post("/alarms/{alarm_id}/acknowledgement", responses=problems(*BODY_PROBLEMS, 403, 404, 409))
def acknowledge(
    node: NodeDep,
    officer: OfficerDep,
    alarm_id: Annotated[int, Path(ge=1, le=ALARM_ID_MAX, description="the alarm's id")],
    acknowledgement: AcknowledgementRequest,
) -> AlarmView:
    """An operator acknowledges an alarm with a note; it then leaves the open count (it stays listed)."""
    return AlarmView.model_validate(audit.acknowledge(node, alarm_id, acknowledgement.note, officer).as_json())


@router.post("/checkpoints", responses=problems(401, 403))
def checkpoint_now(node: NodeDep, officer: OfficerDep) -> RecentCheckpoints:
    """Issue a checkpoint now (if the ledger grew) and ask the peer to countersign it."""
    audit.require_operator(officer, "a checkpoint on demand")
    audit.checkpoint_now(node)
    return RecentCheckpoints(
        checkpoints=[checkpoint_view(c) for c in audit.ledger_status(node, checkpoints=2).checkpoints]
    )


@router.get("/messages/{message_id:uuid}/proof", responses=problems(*OFFICER_PROBLEMS, 403, 404))
async def message_proof(
    node: NodeDep, officer: OfficerDep, message_id: Annotated[UUID, Path(description="the message's id")]
) -> MessageProof:
    audit.require_audit_role(officer)
    proof = await run_in_threadpool(prove_message, node, str(message_id))
    return MessageProof(message=str(message_id), verified=proof.verified, leaves=[leaf_view(x) for x in proof.leaves])


@router.get("/events", responses=problems(*OFFICER_PROBLEMS, 403))
def ledger_events(
    node: NodeDep,
    officer: OfficerDep,
    type: Annotated[EventType | None, Query(description="only events of this type, e.g. review.decided")] = None,
    actor: Annotated[str | None, Query(max_length=128, description="only events caused by this actor")] = None,
    since: Annotated[Rfc3339DateTime | None, Query(description="at or after this time")] = None,
    until: Annotated[Rfc3339DateTime | None, Query(description="before this time")] = None,
    case: Annotated[UUID | None, Query(description="only events naming this case or one of its messages")] = None,
    after: Annotated[
        int | None, Query(ge=0, le=ALARM_ID_MAX, description="the cursor: the `next_after` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 50,
) -> LedgerEventPage:
    """The ledger's events for operators, legal officers and oversight, in ledger order, `limit` at a time; follow
    `next_after` until it is null. Events carry ids and digests, never a message's contents."""
    which = EventFilter(type=type.value if type else None, actor=actor, since=since, until=until)
    page = audit.ledger_events(node, officer, which, case=str(case) if case else None, after=after, limit=limit)
    return LedgerEventPage.model_validate({"events": [e.as_json() for e in page.events], "next_after": page.next_after})
