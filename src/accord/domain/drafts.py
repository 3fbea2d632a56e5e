"""What an officer submits to send: validated at the API edge, completed into a Message by the send service."""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.domain.cyber import SharedBundle
from accord.domain.handling import Caveat, Tlp
from accord.domain.incidents import Incident
from accord.domain.matching import MatchReference
from accord.domain.messages import (
    OFFENCE_CODE_PATTERN,
    OFFENCE_DESCRIPTION,
    Assurance,
    MessageKind,
    Priority,
    Purpose,
    Subject,
)
from accord.domain.networks import SharedEntities
from accord.domain.notifications import PenAnswer, PreExportNotification


class HandlingDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    classification: str = Field(min_length=1, max_length=64, description="national marking, e.g. 'Protected B'")
    tlp: Tlp = Tlp.AMBER
    caveats: tuple[Caveat, ...] = ()
    restrictions: str | None = Field(default=None, max_length=1000)
    named_recipients: tuple[str, ...] = ()


class AttachmentDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="as returned by POST /api/v1/attachments")
    name: str = Field(min_length=1, max_length=255)


class DisclosureContext(BaseModel):
    """What the policy pack decides on beyond the markings: purpose, offence, stated grounds, assurances."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    purpose: Purpose = Purpose.INTELLIGENCE
    offence: str | None = Field(
        default=None,
        pattern=OFFENCE_CODE_PATTERN,
        description=OFFENCE_DESCRIPTION,
        json_schema_extra={"x-accord-vocabulary": "offence"},
    )
    grounds: tuple[str, ...] = Field(default=(), max_length=10, description="what the request is grounded in")
    assurances: tuple[Assurance, ...] = Field(default=(), max_length=10)

    @field_validator("offence", mode="before")
    @classmethod
    def _an_offence_code(cls, value: object) -> object:
        """An offence written out ("murder", "drug_trafficking") is told how to find its code, not shown a pattern."""
        if isinstance(value, str) and not re.fullmatch(OFFENCE_CODE_PATTERN, value):
            shown = value[:40]
            raise ValueError(
                f"{shown!r} is not an offence code: give the ICCS code of the offence (e.g. 0101 intentional "
                f"homicide, 06012 drug trafficking, 020221 kidnapping); GET /api/v1/offences?q={quote(shown)} finds it"
            )
        return value


class ReplyDraft(DisclosureContext):
    """A response: the case, recipient and focus area come from the message answered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    priority: Priority = Priority.ROUTINE
    handling: HandlingDraft | None = Field(
        default=None,
        description="default: the handling of the message answered (its level in your scheme, its TLP, caveats and "
        "restriction); an answer may be stricter, never weaker",
    )
    legal_basis: str | None = Field(default=None, max_length=1000)
    title: str | None = Field(
        default=None, min_length=1, max_length=300, description="default: 'Re: ' and the title of the message answered"
    )
    body: str = Field(min_length=1)
    subjects: tuple[Subject, ...] = Field(default=(), max_length=200)
    attachments: tuple[AttachmentDraft, ...] = Field(default=(), max_length=50)
    pen_answer: PenAnswer | None = Field(default=None, description="the importing authority's answer to a PEN")


class MessageDraft(ReplyDraft):
    """A request, share, alert or response as the officer writes it: a reply's fields, and where it goes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    handling: HandlingDraft  # required of a message that answers nothing
    title: str = Field(min_length=1, max_length=300)
    kind: MessageKind = MessageKind.REQUEST
    # Both are the agreement's data: the node's OpenAPI document lists the values it has (`x-accord-vocabulary`).
    recipient_agency: str = Field(min_length=1, max_length=32, json_schema_extra={"x-accord-vocabulary": "peer-agency"})
    recipient_officer: str | None = Field(default=None, max_length=128)
    focus_area: str = Field(min_length=1, max_length=32, json_schema_extra={"x-accord-vocabulary": "focus-area"})
    case_id: str | None = Field(default=None, max_length=36, description="continue an existing case")
    in_reply_to: str | None = Field(default=None, max_length=36, description="for a response: the message answered")
    refers_to: str | None = Field(
        default=None,
        max_length=36,
        description="a message this one reuses content from (quotes, builds on): its caveats and TLP carry over",
    )
    notification: PreExportNotification | None = Field(default=None, description="for kind 'pen'")
    incident: Incident | None = Field(default=None, description="for kind 'incident'; persons go in subjects")
    stix: SharedBundle | None = Field(default=None, description="STIX 2.1 objects, for a 'share' in cyber or fraud")
    network: SharedEntities | None = Field(default=None, description="FollowTheMoney entities, for a 'share'")
    match_reference: MatchReference | None = Field(
        default=None, description="for a 'request' following up a hit: the query and the hit's reference"
    )

    def carried(self) -> dict[str, Any]:
        """The fields a Message takes from its draft unchanged; the send path adds ids, addresses and handling."""
        return {
            "kind": self.kind,
            "focus_area": self.focus_area,
            "priority": self.priority,
            "legal_basis": self.legal_basis,
            "title": self.title,
            "body": self.body,
            "subjects": self.subjects,
            "in_reply_to": self.in_reply_to,
            "refers_to": self.refers_to,
            "purpose": self.purpose,
            "offence": self.offence,
            "grounds": self.grounds,
            "assurances": self.assurances,
            "notification": self.notification,
            "pen_answer": self.pen_answer,
            "incident": self.incident,
            "stix": self.stix,
            "network": self.network,
            "match_reference": self.match_reference,
        }


class AmendmentDraft(BaseModel):
    """A correction replaces title/body; a withdrawal or retraction states why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal[MessageKind.CORRECTION, MessageKind.WITHDRAWAL, MessageKind.RETRACTION]
    reason: str = Field(min_length=1, max_length=2000)
    title: str | None = Field(default=None, max_length=300)
    body: str | None = None
