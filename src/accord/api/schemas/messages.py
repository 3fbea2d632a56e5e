"""Officers' mail as the API answers it: messages in a box or a case, one message opened, what a send queued."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from accord.api.schemas import NEXT_DESCRIPTION, ApiModel
from accord.domain.handling import Handling
from accord.domain.messages import (
    Amendment,
    Assurance,
    AttachmentRef,
    DeliveryState,
    Direction,
    MessageKind,
    Priority,
    Purpose,
    Subject,
)
from accord.domain.parties import Party
from accord.policy.engine import Verdict

MESSAGE_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class Correspondent(ApiModel):
    party: Party
    agency: str
    officer: str | None


class Delivery(ApiModel):
    state: DeliveryState
    reason: str | None = Field(description="why it is held, refused or failed")
    channel_seq: int | None
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    received_at: datetime | None
    read_at: datetime | None
    answered_at: datetime | None
    receipt: str | None = Field(description="the receiver's signed receipt (compact JWS)")


class ArrivalWarning(ApiModel):
    code: str = Field(description="e.g. recipient-officer-unknown, place-outside-country, quantity-implausible")
    detail: str


class MessageSummary(ApiModel):
    """A message as a box, a case or a listing shows it: addresses, dates and delivery, not its content."""

    id: str
    direction: Direction
    kind: MessageKind
    case_id: str
    sender: Correspondent
    recipient: Correspondent
    focus_area: str
    priority: Priority
    title: str
    created_at: datetime
    deadline: datetime | None
    overdue: bool
    in_reply_to: str | None
    refers_to: str | None
    amendment: Amendment | None
    amended_by: str | None
    purged_at: datetime | None = Field(description="when retention removed its personal data")
    delivery: Delivery
    warnings: list[ArrivalWarning] = Field(
        default_factory=list, description="what this node found wrong with a message it received and accepted"
    )
    matched_in: list[Literal["title", "body", "attachments"]] | None = Field(
        default=None, description="in a search (`q`): where the message has the words, its title, body or attachments"
    )


class AmendmentNote(ApiModel):
    """The correction, withdrawal or retraction that amended a message: its text, and a link to it."""

    id: str
    kind: MessageKind
    created_at: datetime
    title: str
    body: str = Field(description="a correction's corrected text; a withdrawal's or retraction's reason")


class MessageContent(MessageSummary):
    """A message opened: its summary with its handling and content."""

    amended: AmendmentNote | None = Field(default=None, description="what amended it, when `amendment` is set")

    handling: Handling
    legal_basis: str | None
    body: str
    subjects: list[Subject]
    attachments: list[AttachmentRef]
    purpose: Purpose = Purpose.INTELLIGENCE
    offence: str | None = Field(default=None, description="the offence it concerns: an ICCS v1.0 code")
    grounds: list[str] = Field(default_factory=list)
    assurances: list[Assurance] = Field(default_factory=list, description="assurances the receiving state gave")


class Mailbox(ApiModel):
    box: Literal["inbox", "outbox"]
    messages: list[MessageSummary]
    next: str | None = Field(description=NEXT_DESCRIPTION)


class BoxCounts(ApiModel):
    """Counted over what the officer may read."""

    inbox: int = 0
    inbox_overdue: int = 0
    unread: int = 0
    outbox: int = 0
    outbox_overdue: int = 0


class FocusAreaCounts(ApiModel):
    focus_areas: dict[str, BoxCounts] = Field(description="by focus area code")


class CaseThread(ApiModel):
    case_id: str
    messages: list[MessageSummary]


class PolicyHit(ApiModel):
    id: str
    citation: str
    review: bool
    gate: bool = Field(default=False, description="a hold approval cannot lift until its remedy is applied")
    remedy: str | None = Field(default=None, description="what lifts the hold (for a gate)")
    level: int = Field(default=1, ge=1, le=2, description="who lifts the hold: 1 a legal officer, 2 the deputy head")


class PolicyDecision(ApiModel):
    """What this party's policy pack decided on a disclosure, with its reasons and the policies that applied."""

    verdict: Verdict
    reasons: list[str]
    pack: str
    policies: list[PolicyHit]
    findings: dict[str, Any] = Field(description="what the pack's checks found, by check")


class QueuedDelivery(ApiModel):
    state: DeliveryState = Field(description="queued, held for legal review, or refused by this party's policy")


class QueuedMessage(ApiModel):
    """A message as the send path left it: queued to the peer, held for review or refused."""

    id: str
    case_id: str
    kind: MessageKind
    priority: Priority
    deadline: datetime | None
    channel_seq: int | None
    delivery: QueuedDelivery
    policy: PolicyDecision


class QueuedBatch(ApiModel):
    messages: list[QueuedMessage]


class StoredAttachment(ApiModel):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="its content address, to name in a draft")
    size: int
    media_type: str
    name: str | None = Field(default=None, description="the file's name, when it came as a form's file part")
