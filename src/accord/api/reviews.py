"""The legal review queue: held disclosures with the rules that held them; preview a release, approve, refuse or
escalate; the sending agency revises a held disclosure."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path

from accord.api.schemas.reviews import (
    HeldDisclosure,
    LeavingMessage,
    ReleasePreviewOut,
    ReviewOutcome,
    ReviewQueue,
    RevisionOutcome,
)
from accord.exchange.redaction import ReviewConditions
from accord.exchange.review import (
    HeldItem,
    ReviewDecision,
    Revision,
    decide,
    held_queue,
    preview_release,
    revise_held,
)
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import BODY_PROBLEMS, problems
from accord.policy.engine import DisclosurePolicy
from accord.policy.findings import describe_findings
from accord.policy.installed import shown_decision

router = APIRouter(prefix="/api/v1/reviews", tags=["review"])
MessageId = Annotated[UUID, Path(description="the held message's id")]


def _held(item: HeldItem, policy: DisclosurePolicy) -> HeldDisclosure:
    """A held item for the client: its decision's reasons and remedies in the officer's language (the stored record
    is English)."""
    return HeldDisclosure.model_validate(
        {
            "message_id": item.message_id,
            "title": item.title,
            "sender": item.sender,
            "focus_area": item.focus_area,
            "priority": item.priority,
            "deadline": item.deadline,
            "held_at": item.held_at,
            "level": item.level,
            "decision": shown_decision(item.decision, policy) if item.decision else None,
            "findings": describe_findings(item.decision.get("findings") or {}, item.message),
            "editors": list(item.editors),
            "history": item.history,
        }
    )


@router.get("", responses=problems(401, 403))
def queue(node: NodeDep, officer: OfficerDep) -> ReviewQueue:
    held = held_queue(node, officer)
    pressing = sum(1 for item in held if item.pressing and officer.username not in item.editors)
    return ReviewQueue(held=[_held(item, node.policy) for item in held], pressing=pressing)


@router.post("/{message_id:uuid}", responses=problems(*BODY_PROBLEMS, 403, 404, 409))
def review(node: NodeDep, officer: OfficerDep, message_id: MessageId, decision: ReviewDecision) -> ReviewOutcome:
    return ReviewOutcome.model_validate(decide(node, officer, str(message_id), decision))


@router.post("/{message_id:uuid}/preview", responses=problems(*BODY_PROBLEMS, 403, 404, 409))
def preview(
    node: NodeDep, officer: OfficerDep, message_id: MessageId, conditions: ReviewConditions
) -> ReleasePreviewOut:
    """What would leave if approved with these conditions, and the pack's decision on it; nothing is stored."""
    shown = preview_release(node, officer, str(message_id), conditions)
    leaving = shown.message
    return ReleasePreviewOut.model_validate(
        {
            "message": LeavingMessage.model_validate(
                leaving.model_dump(
                    mode="json",
                    include={"id", "title", "body", "handling", "subjects", "attachments", "assurances"},
                )
            ),
            "decision": shown.decision.shown(),
            "removed": list(shown.removed),
            "approvable": shown.approvable,
        }
    )


@router.post("/{message_id:uuid}/revisions", responses=problems(*BODY_PROBLEMS, 403, 404, 409))
def revise(node: NodeDep, officer: OfficerDep, message_id: MessageId, revision: Revision) -> RevisionOutcome:
    """Change a held disclosure (e.g. to apply a remedy); it stays held, and its reviser may not decide it."""
    return RevisionOutcome.model_validate(revise_held(node, officer, str(message_id), revision))
