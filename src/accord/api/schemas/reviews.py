"""The legal review queue as the API answers it: held disclosures with the decision that held them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from accord.api.schemas import ApiModel
from accord.api.schemas.messages import PolicyDecision
from accord.domain.messages import DeliveryState, Priority

ReviewAction = Literal["approve", "refuse", "escalate"]


class ReviewStep(ApiModel):
    action: ReviewAction
    level: int
    reviewer: str
    reason: str
    at: datetime


class HeldDisclosure(ApiModel):
    message_id: str
    title: str
    sender: str = Field(description="agency/officer")
    focus_area: str
    priority: Priority
    held_at: datetime
    level: Literal[1, 2] = Field(description="1: a legal officer decides; 2: escalated to the deputy head")
    decision: PolicyDecision | None = Field(description="the policy decision that held it")
    history: list[ReviewStep]


class ReviewQueue(ApiModel):
    held: list[HeldDisclosure]


class ReviewOutcome(ApiModel):
    message: str
    action: ReviewAction
    level: int
    state: DeliveryState
    reason: str
