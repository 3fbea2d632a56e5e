"""Screens: compute, from the structured message (and its free text, for flags only), the attributes the Cedar
policies decide on, with findings a person can read. One module per screen, each with the rules it reads from the
pack's manifest (`screens.<name>`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from accord.domain.agreement import Agreement
from accord.domain.assessments import MistreatmentAssessment
from accord.domain.messages import Message
from accord.policy.offences import load_offence_vocabulary
from accord.policy.persons import person_records
from accord.policy.screens.contribution import Contribution
from accord.policy.screens.handling import screen_handling
from accord.policy.screens.minimisation import AttachmentPersons, MinimisationRules, screen_minimisation
from accord.policy.screens.mistreatment import PLACEHOLDER_PHRASES, MistreatmentRules, screen_mistreatment
from accord.policy.screens.neutrality import AnsweredRequest, NeutralityRules, load_term_files, screen_neutrality
from accord.policy.screens.offences import OffenceRules, screen_offences
from accord.policy.screens.personal import PersonalDataRules, screen_personal_data


class Screens(BaseModel):
    """The facts the screens compute Cedar attributes from; policy, not code."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    personal_data: PersonalDataRules
    neutrality: NeutralityRules
    offences: OffenceRules
    mistreatment: MistreatmentRules
    minimisation: MinimisationRules = MinimisationRules()


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the send path knows beyond the message itself, gathered by the exchange for the screens."""

    # The mistreatment-risk assessments recorded at this node for the message's case, and when it is decided.
    assessments: tuple[MistreatmentAssessment, ...] = ()
    at: datetime | None = None
    # For a reply: the request it answers, as this node decided or screened it (a reply inherits a neutrality hold).
    answered_request: AnsweredRequest | None = None
    # Minimisation: the person records in each attachment, counted by the send path (None: not gathered).
    attachments: tuple[AttachmentPersons, ...] | None = None


@dataclass(frozen=True, slots=True)
class Screened:
    attributes: dict[str, Any]
    findings: dict[str, Any] = field(default_factory=dict)
    placeholders: dict[str, str] = field(default_factory=dict)


def screen(message: Message, screens: Screens, agreement: Agreement, evidence: Evidence | None = None) -> Screened:
    known = evidence or Evidence()
    today = (known.at or datetime.now(UTC)).date()
    personal = screen_personal_data(message, screens.personal_data)
    contributions: list[Contribution] = [
        screen_handling(message, agreement),
        personal,
        screen_neutrality(message, screens.neutrality, known.answered_request),
        screen_offences(message, screens.offences),
        screen_mistreatment(message, screens.mistreatment, known.assessments, today),
        screen_minimisation(message, screens.minimisation, known.attachments),
    ]
    attributes: dict[str, Any] = {}
    findings: dict[str, Any] = {}
    placeholders: dict[str, str] = {}
    for contribution in contributions:
        attributes.update(contribution.attributes)
        findings.update({k: v for k, v in contribution.findings.items() if v})
        placeholders.update(contribution.placeholders)
    return Screened(attributes, findings, placeholders)


def load_screen_data() -> None:
    """Read and check, once, the data files the screens read beside the pack (a broken one stops start-up): the
    offence vocabulary (the send path validates offences against it), the neutrality term lists and the
    minimisation's person-record fields."""
    load_offence_vocabulary()
    load_term_files()
    person_records()


__all__ = [
    "PLACEHOLDER_PHRASES",
    "AnsweredRequest",
    "AttachmentPersons",
    "Evidence",
    "Screened",
    "Screens",
    "load_screen_data",
    "screen",
]
