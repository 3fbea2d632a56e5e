"""The legal review queue: held disclosures with the rules that held them; approve, refuse or escalate."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path

from accord.api.schemas.reviews import HeldDisclosure, ReviewOutcome, ReviewQueue
from accord.exchange.review import HeldItem, ReviewDecision, decide, held_queue
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import BODY_PROBLEMS, problems

router = APIRouter(prefix="/api/v1/reviews", tags=["review"])


def _held(item: HeldItem) -> HeldDisclosure:
    return HeldDisclosure.model_validate(
        {
            "message_id": item.message_id,
            "title": item.title,
            "sender": item.sender,
            "focus_area": item.focus_area,
            "priority": item.priority,
            "held_at": item.held_at,
            "level": item.level,
            "decision": item.decision or None,
            "history": item.history,
        }
    )


@router.get("", responses=problems(401, 403))
def queue(node: NodeDep, officer: OfficerDep) -> ReviewQueue:
    return ReviewQueue(held=[_held(item) for item in held_queue(node, officer)])


@router.post("/{message_id:uuid}", responses=problems(*BODY_PROBLEMS, 403, 404, 409))
def review(
    node: NodeDep,
    officer: OfficerDep,
    message_id: Annotated[UUID, Path(description="the held message's id")],
    decision: ReviewDecision,
) -> ReviewOutcome:
    return ReviewOutcome.model_validate(decide(node, officer, str(message_id), decision))
