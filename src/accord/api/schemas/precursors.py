"""Controlled substances and precursors as the API answers them: look-ups, notifications with their status and risk
flags, follow-ups, incidents, and the report of a bulk import."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from accord.api.schemas import NEXT_DESCRIPTION, ApiModel
from accord.api.schemas.messages import MessageContent
from accord.domain.incidents import Incident
from accord.domain.messages import DeliveryState, MessageKind
from accord.domain.notifications import PenAnswer, PreExportNotification
from accord.domain.parties import Party
from accord.focus.precursors.substances import Substance
from accord.focus.precursors.transfer import FileFormat, TransferKind

NotificationStatus = Literal["pending", "info_requested", "cleared", "objected", "overdue"]


class NationalClass(ApiModel):
    class_: str = Field(alias="class", description="the party's class or schedule")
    description: str
    confirmed: bool = Field(description="whether a source confirms the substance is in it")


class SubstanceMatch(Substance):
    matched_on: Literal["cas", "hs", "name", "synonym", "fuzzy"]
    score: float
    national: dict[Party, list[NationalClass]]


class SubstanceMatches(ApiModel):
    query: str
    matches: list[SubstanceMatch]


class RiskFlag(ApiModel):
    rule: str
    item: int | None = Field(description="the consignment item the rule is about, if one")
    reason: str


class GivenAnswer(PenAnswer):
    """The importing authority's answer, with when it was given."""

    at: datetime


class Escalation(ApiModel):
    level: Literal[1, 2] = Field(description="1: a reminder is due; 2: gone up to both sides' coordinators")
    since: datetime
    to: str


class FollowUpRef(ApiModel):
    id: str
    kind: MessageKind
    title: str
    at: datetime


class NotificationView(MessageContent):
    """A pre-export notification with its status, the answers given, the risk flags and the follow-ups."""

    notification: PreExportNotification | None
    status: NotificationStatus
    shipment: Literal["blocked", "may ship", "waiting"]
    escalation: Escalation | None
    answers: list[GivenAnswer]
    flags: list[RiskFlag]
    follow_ups: list[FollowUpRef] = Field(description="alerts and reminders in the notification's case")


class NotificationList(ApiModel):
    notifications: list[NotificationView] = Field(description="the most recent first")
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class ReminderSent(ApiModel):
    id: str
    state: DeliveryState
    kind: MessageKind


class AlertSent(ReminderSent):
    flags: list[RiskFlag] = Field(description="the flags the alert names")


class IncidentSubstance(ApiModel):
    code: str = Field(description="the substance code, or the name given when this node's list does not know it")
    name: str
    quantity_kg: float


class IncidentView(MessageContent):
    incident: Incident
    substances: list[IncidentSubstance]
    persons: list[str]


class IncidentList(ApiModel):
    incidents: list[IncidentView] = Field(description="the most recently recorded first")
    next: str | None = Field(default=None, description=NEXT_DESCRIPTION)


class ImportSummary(ApiModel):
    imported: int = Field(description="queued or held for legal review")
    held: int
    refused: int
    errors: int


class ImportedRow(ApiModel):
    line: int
    lines: list[int]
    reference: str | None
    id: str | None = Field(description="the message sent; none in a dry run")
    state: DeliveryState
    reason: str | None


class RowError(ApiModel):
    line: int = Field(description="CSV: the physical line (the header is line 1); JSON: the index in the array")
    reason: str


class ImportReport(ApiModel):
    kind: TransferKind
    format: FileFormat
    rows: int
    dry_run: bool
    summary: ImportSummary
    imported: list[ImportedRow]
    errors: list[RowError]
