"""A mistreatment-risk assessment as a record: the persons of a case it covers, how each factor of the party's pack
was rated, who concluded what and on which day, the measures that mitigate the risk, and until when it holds.

Canada: Avoiding Complicity in Mistreatment by Foreign Entities Act (S.C. 2019, c. 13, s. 49) s.3 and the Directions
issued under it (e.g. to the Commissioner of the RCMP, 4 September 2019): s.1(1) no disclosure on a substantial risk
unless it can be mitigated "such as through the use of caveats or assurances", s.1(2) referral to the deputy head,
s.1(3) the deputy head's documented authorisation; the Act's s.7 annual report is built from these records.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.domain.handling import Caveat
from accord.domain.messages import AssuranceKind, Identifier, Subject, SubjectKind
from accord.i18n import N_


class RiskConclusion(StrEnum):
    """The assessor's conclusion, in the Directions' terms."""

    NO_SUBSTANTIAL_RISK = "no_substantial_risk"
    MITIGABLE = "substantial_risk_mitigable"  # Directions s.1(3): only as the deputy head authorises, with measures
    NOT_MITIGABLE = "substantial_risk_not_mitigable"  # Directions s.1(1): must not be disclosed

    @property
    def severity(self) -> int:
        return list(RiskConclusion).index(self)

    @property
    def sentence(self) -> str:
        """The conclusion in words, in English (findings record it); shown through `_()`."""
        return {
            RiskConclusion.NO_SUBSTANTIAL_RISK: N_("no substantial risk of mistreatment"),
            RiskConclusion.MITIGABLE: N_("a substantial risk of mistreatment that can be mitigated"),
            RiskConclusion.NOT_MITIGABLE: N_("a substantial risk of mistreatment that cannot be mitigated"),
        }[self]


class FactorRating(StrEnum):
    """How much a factor adds to the risk, as the assessor rated it."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class FactorFinding(BaseModel):
    """One factor of the pack's list, as the assessor rated it for these persons."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    factor: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$", description="the pack's factor id")
    rating: FactorRating
    note: str = Field(default="", max_length=2000, description="what the assessor relied on")


class Mitigation(BaseModel):
    """The measures that mitigate the risk (Directions s.1(1): "such as through the use of caveats or assurances");
    a disclosure under a "mitigable" conclusion leaves only with them applied."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    caveats: tuple[Caveat, ...] = Field(default=(), max_length=4, description="caveats the disclosure must carry")
    assurances: tuple[AssuranceKind, ...] = Field(
        default=(), max_length=3, description="kinds of assurance the receiving state must have given"
    )
    measures: str = Field(default="", max_length=2000, description="other measures, in words")

    @property
    def empty(self) -> bool:
        return not (self.caveats or self.assurances or self.measures.strip())


class AssessedPerson(BaseModel):
    """A person an assessment covers, described as the messages of the case name them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, max_length=256)
    aliases: tuple[str, ...] = Field(default=(), max_length=20)
    date_of_birth: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    nationality: str | None = Field(default=None, max_length=3)
    identifiers: tuple[Identifier, ...] = Field(default=(), max_length=20)

    @model_validator(mode="after")
    def _described(self) -> Self:
        if not (self.name or self.aliases or self.identifiers):
            raise ValueError("a person is described by a name, an alias or an identifier")
        return self

    @classmethod
    def of(cls, subject: Subject) -> AssessedPerson:
        return cls(
            name=subject.name,
            aliases=subject.aliases,
            date_of_birth=subject.date_of_birth,
            nationality=subject.nationality,
            identifiers=subject.identifiers,
        )

    @property
    def label(self) -> str:
        return person_label(self.name, self.aliases, self.identifiers)


class AssessmentDraft(BaseModel):
    """What an assessor records: the case and persons, each factor rated, the conclusion, its basis and measures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str = Field(min_length=1, max_length=36, description="the case the assessment is made for")
    persons: tuple[AssessedPerson, ...] = Field(min_length=1, max_length=50)
    factors: tuple[FactorFinding, ...] = Field(min_length=1, max_length=20, description="every factor of the pack")
    conclusion: RiskConclusion
    rationale: str = Field(min_length=3, max_length=8000, description="the basis for the conclusion, documented")
    assessed_on: date = Field(description="the day the assessment was made; not in the future")
    mitigation: Mitigation = Mitigation()

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        factors = [f.factor for f in self.factors]
        if repeated := sorted({f for f in factors if factors.count(f) > 1}):
            raise ValueError(f"each factor is rated once; repeated: {', '.join(repeated)}")
        if self.conclusion is RiskConclusion.MITIGABLE and self.mitigation.empty:
            raise ValueError("a mitigable risk names its mitigation measures (caveats, assurances or other measures)")
        return self


class MistreatmentAssessment(AssessmentDraft):
    """An assessment as recorded: who made it, when, under which pack, and until when it may be relied on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    party: str = Field(max_length=8)
    assessor: str = Field(max_length=128, description="the legal officer or deputy head who recorded it")
    recorded_at: datetime
    valid_until: date = Field(description="the first day it may no longer be relied on")
    pack: str = Field(max_length=128, description="the pack whose factors and validity period applied")

    def valid_on(self, day: date) -> bool:
        return self.assessed_on <= day < self.valid_until


def valid_until(assessed_on: date, validity_days: int) -> date:
    return assessed_on + timedelta(days=validity_days)


def person_label(name: str | None, aliases: tuple[str, ...], identifiers: tuple[Identifier, ...]) -> str:
    if name:
        return name
    if aliases:
        return aliases[0]
    if identifiers:
        return f"the person with {identifiers[0].scheme} {identifiers[0].value}"
    return "an unnamed person"


def persons_of(subjects: tuple[Subject, ...]) -> list[Subject]:
    return [s for s in subjects if s.kind is SubjectKind.PERSON]
