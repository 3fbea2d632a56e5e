"""Mistreatment risk (Canada's Avoiding Complicity in Mistreatment by Foreign Entities Act and the directions under
it): a score for disclosures that name persons, against the pack's threshold."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accord.domain.messages import AssuranceKind, Message, Subject, SubjectKind
from accord.policy.offences import within
from accord.policy.screens.contribution import Contribution


class MistreatmentRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    destination_risk: int = Field(ge=0, le=5)
    suspect_named: int = Field(ge=0, le=5)
    high_risk_offences: tuple[str, ...] = ()  # ICCS codes; an offence under one of them counts
    high_risk_offence: int = Field(ge=0, le=5)
    threshold: int = Field(ge=0, le=10)


def screen_mistreatment(message: Message, rules: MistreatmentRules, personal_data: bool) -> Contribution:
    """`personal_data`: whether the message names persons or carries personal identifiers (the personal-data screen
    decides); only then is the risk a finding."""
    persons = [s for s in message.subjects if s.kind is SubjectKind.PERSON]
    humane = AssuranceKind.HUMANE_TREATMENT in {a.kind for a in message.assurances}
    risk, because = _risk(message, rules, persons, humane)
    finding: dict[str, Any] | None = (
        {"score": risk, "threshold": rules.threshold, "because": because} if personal_data else None
    )
    return Contribution(
        {"mistreatment_risk": risk, "risk_threshold": rules.threshold, "humane_treatment_assurance": humane},
        {"mistreatment_risk": finding},
    )


def _risk(message: Message, rules: MistreatmentRules, persons: list[Subject], humane: bool) -> tuple[int, list[str]]:
    score, because = rules.destination_risk, [f"destination assessment {rules.destination_risk}"]
    if any(p.role is not None and p.role.incriminated for p in persons):
        score += rules.suspect_named
        because.append(f"a named suspect or accused (+{rules.suspect_named})")
    if message.offence is not None and within(message.offence, rules.high_risk_offences):
        score += rules.high_risk_offence
        because.append(f"offence {message.offence} (+{rules.high_risk_offence})")
    if humane and score > rules.threshold:
        because.append("a humane-treatment assurance is recorded; a reviewer still decides")
    return score, because
