"""The legal review queue: held disclosures with the rules that held them; approve, refuse or escalate."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from accord.exchange.review import ReviewDecision, decide, held_queue
from accord.http.dependencies import NodeDep, OfficerDep

router = APIRouter(prefix="/api/v1/reviews", tags=["review"])


@router.get("")
def queue(node: NodeDep, officer: OfficerDep) -> dict[str, Any]:
    return {"held": [asdict(item) for item in held_queue(node, officer)]}


@router.post("/{message_id}")
def review(node: NodeDep, officer: OfficerDep, message_id: str, decision: ReviewDecision) -> dict[str, Any]:
    return decide(node, officer, message_id, decision)
