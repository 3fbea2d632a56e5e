"""Mistreatment-risk assessments as the API answers them: the record itself (the domain's model) and what recording
it did to the case's held disclosures."""

from __future__ import annotations

from pydantic import Field

from accord.api.schemas import ApiModel
from accord.domain.assessments import MistreatmentAssessment


class RedecidedHolds(ApiModel):
    allow: int = Field(description="held disclosures of the case that now leave")
    deny: int = Field(description="held disclosures of the case that are now refused")
    review: int = Field(description="held disclosures of the case that still wait for a reviewer")


class RecordedAssessment(ApiModel):
    assessment: MistreatmentAssessment
    redecided: RedecidedHolds = Field(description="the case's held disclosures, decided again with it")


class AssessmentList(ApiModel):
    assessments: list[MistreatmentAssessment]
