"""The node, the agreement and the agencies as the API answers them, and channel health for operators."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from accord.api.schemas import ApiModel
from accord.domain.agreement import CyberSharing, FocusArea, PenRules, ResponseTarget
from accord.domain.handling import CommonLevel
from accord.domain.matching import HitNoHitRules
from accord.domain.messages import Priority
from accord.domain.parties import Agency, Party
from accord.domain.workplan import WorkPlanDefinition
from accord.trust.refusals import Endpoint


class Health(ApiModel):
    status: Literal["ok"]
    node: str
    party: Party
    version: str


class AgreementTerms(ApiModel):
    """The agreement both nodes share (its agencies: GET /api/v1/agencies)."""

    id: str
    title: str
    source: str
    parties: dict[Party, str]
    time_zones: dict[Party, str] = Field(default_factory=dict, description="the IANA zone each party reads times in")
    focus_areas: list[FocusArea]
    response_targets: dict[Priority, ResponseTarget]
    channel_ceiling: CommonLevel
    pre_export_notifications: PenRules
    cyber_sharing: CyberSharing
    hit_no_hit: HitNoHitRules
    classification_mapping: dict[Party, dict[str, CommonLevel]]
    work_plan: WorkPlanDefinition


class AgencyList(ApiModel):
    agencies: list[Agency]


class OutboxQueue(ApiModel):
    peer: str
    pending: int
    oldest: datetime | None
    max_attempts: int
    held_until: datetime | None = Field(
        description="the peer did not answer: everything queued for it, what is queued meanwhile too, waits until "
        "then, when the channel is tried again (at once if the peer announces itself); null when not held"
    )
    held_because: str | None = Field(
        default=None, description="why the channel's last try failed, while it is held; null when not held"
    )


class InboundChannel(ApiModel):
    channel: str
    received: int
    highest_seq: int
    missing: int
    gaps: list[tuple[int, int]] = Field(description="runs of missing sequence numbers, first and last")


class RefusalCount(ApiModel):
    window_start: datetime
    endpoint: Endpoint = Field(description="the way in")
    problem: str
    source: str = Field(description="the client's address (an IPv6 address by its /64)")
    refusals: int
    first_at: datetime
    last_at: datetime


class Refusals(ApiModel):
    since: datetime
    window_s: int
    counts: list[RefusalCount]


class LockedAccount(ApiModel):
    username: str
    failures: int
    locked_at: datetime


class ChannelHealth(ApiModel):
    outbox: list[OutboxQueue]
    inbound: list[InboundChannel]
    refusals: Refusals = Field(description="refusals of unauthenticated requests in the last 24 hours")
    locked_accounts: list[LockedAccount]
