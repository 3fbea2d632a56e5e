"""The legal review queue as the API answers it: held disclosures with the decision that held them, the preview of a
release, and the outcome of a decision or a revision."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from accord.api.schemas import ApiModel
from accord.api.schemas.messages import PolicyDecision
from accord.domain.handling import Handling
from accord.domain.messages import Assurance, AttachmentRef, DeliveryState, Priority, Subject
from accord.policy.engine import Verdict

ReviewAction = Literal["approve", "refuse", "escalate"]
StepAction = Literal["approve", "refuse", "escalate", "revise"]


class ReviewStep(ApiModel):
    action: StepAction
    level: int
    reviewer: str = Field(description="who decided, or revised the held message")
    reason: str
    at: datetime


class HeldDisclosure(ApiModel):
    message_id: str
    title: str
    sender: str = Field(description="agency/officer")
    focus_area: str
    priority: Priority
    deadline: datetime | None = Field(description="the response deadline the agreement sets, if any")
    held_at: datetime
    level: Literal[1, 2] = Field(description="1: a legal officer decides; 2: escalated to the deputy head")
    decision: PolicyDecision | None = Field(description="the policy decision that held it")
    findings: list[str] = Field(description="what the screens found, as sentences with their values")
    editors: list[str] = Field(description="who drafted or revised it: none of them may decide it (four eyes)")
    history: list[ReviewStep]


class ReviewQueue(ApiModel):
    held: list[HeldDisclosure] = Field(description="most pressing first: priority, then deadline, then time held")
    pressing: int = Field(description="urgent or immediate holds this officer may decide")


class ReviewOutcome(ApiModel):
    message: str
    action: ReviewAction
    level: int
    state: DeliveryState
    reason: str


class LeavingMessage(ApiModel):
    """The message as it would leave: what the peer would receive."""

    id: str
    title: str
    body: str
    handling: Handling
    subjects: list[Subject]
    attachments: list[AttachmentRef]
    assurances: list[Assurance]


class ReleasePreviewOut(ApiModel):
    message: LeavingMessage
    decision: PolicyDecision = Field(description="the pack's decision on the message as it would leave")
    removed: list[str] = Field(description="what the redactions leave out, in words")
    approvable: bool = Field(description="false while a refusal or a gated hold (with its remedy) still applies")


class RevisionOutcome(ApiModel):
    message: str
    verdict: Verdict = Field(description="the pack's decision on the revised message (it stays held for review)")
    state: DeliveryState
    reason: str
