"""The joint progress report as JSON (`format=json`): the data the HTML and PDF renderings show."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from accord.api.schemas import ApiModel
from accord.api.schemas.workplan import ExchangeRow, IndicatorValue, PlannedAction, PlannedObjective
from accord.domain.agreement import ResponseTarget
from accord.domain.messages import Priority
from accord.domain.parties import Party
from accord.domain.workplan import ActionStatus


class ReportPeriod(ApiModel):
    label: str
    start: datetime
    end: datetime = Field(description="exclusive")


class Generator(ApiModel):
    node: str
    party: Party
    software: str


class RequestTotals(ApiModel):
    count: int
    acknowledged: int
    ack_median_h: float | None
    ack_p90_h: float | None
    answered: int
    response_median_h: float | None
    response_p90_h: float | None
    decided: int
    within_target: int
    within_target_share: float | None
    overdue_now: int


class StatusChange(ApiModel):
    at: datetime
    status: ActionStatus


class ReportedAction(PlannedAction):
    status_history: list[StatusChange]
    overdue: bool = Field(description="past its due date and not done or cancelled")
    milestones_done: int


class ReportedObjective(PlannedObjective):
    actions: list[ReportedAction]  # type: ignore[assignment]  # the plan's actions with their history


class WeeklyVolume(ApiModel):
    week: date = Field(description="the Monday it starts on")
    request: int
    share: int
    alert: int
    pen: int
    incident: int


class ReportSection(ApiModel):
    """Cross-cutting objectives, then one section per focus area with its exchange."""

    code: str
    name: str
    objectives: list[ReportedObjective]
    exchange: list[ExchangeRow] | None = None
    totals: RequestTotals | None = None
    volumes: list[WeeklyVolume] | None = None


class OverdueRequest(ApiModel):
    id: str
    focus_area: str
    priority: Priority
    from_party: Party
    created_at: datetime
    deadline: datetime | None
    hours_overdue: float | None


class OverdueAction(ApiModel):
    code: str
    title: str
    due: date
    status: ActionStatus
    leads: dict[Party, str]


class Overdue(ApiModel):
    requests: list[OverdueRequest]
    actions: list[OverdueAction]


class DailyCheckpoint(ApiModel):
    origin: str
    size: int
    root: str = Field(pattern=r"^[0-9a-f]{64}$")
    issued_at: datetime
    cosigner: str | None
    cosigned_at: datetime | None


class ReportCheckpoints(ApiModel):
    count: dict[str, int] = Field(description="checkpoints issued in the period, by log")
    cosigned: dict[str, int] = Field(description="of those, countersigned by the other party")
    daily_last: list[DailyCheckpoint] = Field(description="the last checkpoint of each day, by log")


class ProgressReport(ApiModel):
    title: str
    agreement: str
    period: ReportPeriod
    generated_at: datetime
    generated_by: Generator
    peers: list[str]
    parties: dict[Party, str]
    response_targets: dict[Priority, ResponseTarget]
    indicators: list[IndicatorValue]
    totals: RequestTotals
    exchange: list[ExchangeRow]
    sections: list[ReportSection]
    overdue: Overdue
    checkpoints: ReportCheckpoints
