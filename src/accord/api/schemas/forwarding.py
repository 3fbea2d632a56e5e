"""Forwards as the API answers them: a forward's decision and state, a consent answer, the forwards listed; and the
roster this node published to the peer."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from accord.api.schemas import NEXT_DESCRIPTION, ApiModel
from accord.api.schemas.messages import PolicyDecision
from accord.domain.forwarding import ForwardRole, ForwardState
from accord.domain.messages import DeliveryState
from accord.domain.parties import Party


class ForwardOutcome(ApiModel):
    """What a forward request did: forwarded, refused (with the policy and the caveat's words), or awaiting the
    originator's consent (a consent request was sent)."""

    id: str
    message_id: str
    state: ForwardState
    decision: PolicyDecision
    consent_request_id: str | None = Field(description="the consent request sent to the originator, if one was")
    notice_id: str | None = Field(description="the notice that told the originator of the forward")


class ConsentOutcome(ApiModel):
    id: str = Field(description="the forward")
    state: ForwardState
    answer_id: str = Field(description="the response that carries the answer to the peer")
    delivery: DeliveryState


class ForwardParty(ApiModel):
    agency: str
    officer: str | None


class ForwardTarget(ApiModel):
    party: Party
    agency: str
    officer: str | None


class ForwardView(ApiModel):
    id: str
    role: ForwardRole = Field(description="forwarder: this node forwarded; originator: the peer forwarded ours")
    message_id: str
    from_: ForwardParty = Field(alias="from")
    originator_agency: str
    to: ForwardTarget
    reason: str
    state: ForwardState
    decision: PolicyDecision | None
    consent_request_id: str | None
    consent_answer_id: str | None
    consent_conditions: str | None
    notice_id: str | None
    created_at: datetime
    decided_at: datetime | None


class ForwardList(ApiModel):
    forwards: list[ForwardView] = Field(description="the newest first")
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class PublishedRoster(ApiModel):
    id: str
    published_at: datetime
    officers: int = Field(description="how many officers it lists")
