"""The work plan, its proposals and comments, and the period's indicators as the API answers them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from accord.api.schemas import ApiModel
from accord.domain.messages import Priority
from accord.domain.parties import Party
from accord.domain.workplan import ActionDoc, ItemKind, ObjectiveDoc

ProposalState = Literal["pending", "accepted", "rejected", "conflicted"]


class PlannedAction(ActionDoc):
    """An action's current document with its code, version and the proposals waiting on it."""

    code: str
    version: int
    pending_proposals: int


class PlannedObjective(ObjectiveDoc):
    """An objective's current document with its code, version, waiting proposals and actions (by due date)."""

    code: str
    version: int
    pending_proposals: int
    actions: list[PlannedAction]


class WorkPlan(ApiModel):
    objectives: list[PlannedObjective] = Field(description="in the agreement's order, new ones after")
    start: date


class ProposalView(ApiModel):
    id: str
    item: str = Field(description="the item's code")
    kind: ItemKind
    base_version: int
    changes: dict[str, Any]
    reason: str
    party: Party = Field(description="the side that proposed it")
    proposed_by: str
    proposed_at: datetime
    state: ProposalState
    state_reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    version: int | None = Field(description="the item version an accepted proposal made")


class ProposalList(ApiModel):
    proposals: list[ProposalView]


class CommentView(ApiModel):
    id: str
    item: str
    party: Party
    author: str
    body: str
    at: datetime


class ItemComment(ApiModel):
    id: str
    party: Party
    author: str
    body: str
    at: datetime


class ItemVersion(ApiModel):
    version: int
    doc: ObjectiveDoc | ActionDoc
    proposal: str | None = Field(description="the proposal that made it; none for the agreement's default plan")
    at: datetime


class ItemView(ApiModel):
    code: str
    kind: ItemKind
    version: int
    doc: ObjectiveDoc | ActionDoc
    history: list[ItemVersion]
    proposals: list[ProposalView]
    comments: list[ItemComment]


class BreakdownRow(ApiModel):
    label: str
    values: list[float]


class Breakdown(ApiModel):
    title: str
    columns: list[str]
    rows: list[BreakdownRow]


class IndicatorValue(ApiModel):
    code: str
    title: str
    unit: str = Field(description="count, share (0 to 1) or hours")
    description: str
    module: str = Field(description="the capability that registered it")
    value: float | None
    by_focus_area: dict[str, float | None]
    breakdown: Breakdown | None


class ExchangeRow(ApiModel):
    """The exchange indicators of the requests of one focus area, priority and sending party."""

    focus_area: str
    priority: Priority
    from_party: Party
    count: int
    acknowledged: int
    ack_median_h: float | None
    ack_p90_h: float | None
    answered: int
    response_median_h: float | None
    response_p90_h: float | None
    decided: int = Field(description="answered, or past the deadline")
    within_target: int
    within_target_share: float | None
    overdue_now: int


class Indicators(ApiModel):
    period: str
    indicators: list[IndicatorValue]
    exchange: list[ExchangeRow]
