"""Evidence for policy tests that are not about mistreatment risk: every person the message names assessed as at no
substantial risk, so only the rules under test speak."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from accord.domain.assessments import (
    AssessedPerson,
    FactorFinding,
    FactorRating,
    MistreatmentAssessment,
    RiskConclusion,
    persons_of,
    valid_until,
)
from accord.domain.messages import Message
from accord.policy.screens import Evidence


def assessed(message: Message, evidence: Evidence | None = None) -> Evidence:
    known = evidence or Evidence()
    persons = tuple(AssessedPerson.of(s) for s in persons_of(message.subjects) if s.name or s.aliases or s.identifiers)
    if not persons:
        return known
    now = datetime.now(UTC)
    assessment = MistreatmentAssessment(
        id=f"{message.id}-assessed",
        case_id=message.case_id,
        persons=persons,
        factors=(FactorFinding(factor="country_record", rating=FactorRating.MODERATE),),
        conclusion=RiskConclusion.NO_SUBSTANTIAL_RISK,
        rationale="Location only; the unit's record is adequate.",
        assessed_on=now.date(),
        party=message.sender.party.value,
        assessor="legal",
        recorded_at=now,
        valid_until=valid_until(now.date(), 30),
        pack="test",
    )
    return replace(known, assessments=(*known.assessments, assessment), at=known.at or now)
