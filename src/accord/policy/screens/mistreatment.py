"""Mistreatment risk as a recorded assessment (Canada: Avoiding Complicity in Mistreatment by Foreign Entities Act s.3
and the Directions under it; each party's pack says whom it applies to): every person a disclosure names, within the
pack's scope, needs an assessment recorded for the case and still valid, and the assessments' conclusion decides."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accord import i18n
from accord.domain.assessments import MistreatmentAssessment, RiskConclusion, person_label, persons_of
from accord.domain.messages import Identifier, Message, MessageKind, Subject
from accord.domain.official import in_language
from accord.i18n import N_
from accord.policy.language import Language, Lexicon, Term, name_key, plain_key, tokenise
from accord.policy.offences import within
from accord.policy.screens.contribution import Contribution
from accord.policy.wording import fill

NO_CONCLUSION = "none"  # no person needs an assessment, or none is recorded for those who do

# The screen's words in a remedy's values and in its findings, recorded in English and translated where shown.
EACH_PERSON_NAMED = N_("each person named")
NO_MEASURE = N_("none")
MISSING_CAVEAT = N_("caveat {caveat}")
MISSING_ASSURANCE = N_("a {kind} assurance")
PLACEHOLDER_PHRASES = (EACH_PERSON_NAMED, NO_MEASURE, MISSING_CAVEAT, MISSING_ASSURANCE)


class AssessmentScope(StrEnum):
    EVERY_PERSON = "every_person"  # every person named, whatever their role (ACMFEA: "an individual")
    HIGH_RISK_OFFENCES = "high_risk_offences"  # persons named in a case of a high-risk (or an unstated) offence


class RiskFactor(BaseModel):
    """A factor an assessor must rate, with the instrument that names it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    question: str = Field(min_length=3, max_length=500, description="what the assessor weighs")
    source: str = Field(min_length=3, max_length=500, description="the instrument or practice that names the factor")

    def question_in(self, language: i18n.Language | None = None) -> str:
        """The question in `language` (default: the current language); `source` is a citation and stays as written."""
        return in_language(self.question, language)


class MistreatmentRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: AssessmentScope
    validity_days: int = Field(gt=0, le=3650, description="how long an assessment may be relied on for its case")
    factors: tuple[RiskFactor, ...] = Field(min_length=1, max_length=20)
    high_risk_offences: tuple[str, ...] = Field(
        default=(), description="ICCS codes, for scope high_risk_offences; an offence under one of them counts"
    )
    exempt_roles: dict[Language, tuple[str, ...]] = Field(
        default_factory=dict, description="persons in these roles need no assessment, by language"
    )
    exempt_kinds: tuple[MessageKind, ...] = Field(default=(), description="message kinds that disclose nothing new")

    @property
    def factor_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.factors)

    def exempt_role_lexicon(self) -> Lexicon:
        return Lexicon({"exempt": [Term(t, lang) for lang, terms in self.exempt_roles.items() for t in terms]})


def persons_needing_assessment(message: Message, rules: MistreatmentRules) -> list[Subject]:
    """The persons this disclosure names for whom the pack requires an assessment."""
    if message.kind in rules.exempt_kinds:
        return []
    # An offence left unstated is not a low-risk one: until it is stated, the persons are assessed.
    offence_known_low = message.offence is not None and not within(message.offence, rules.high_risk_offences)
    if rules.scope is AssessmentScope.HIGH_RISK_OFFENCES and offence_known_low:
        return []
    exempt = rules.exempt_role_lexicon()
    # A role left empty is not an exemption: when in doubt, the person is assessed.
    return [p for p in persons_of(message.subjects) if not (p.role and exempt.find(p.role))]


def screen_mistreatment(
    message: Message, rules: MistreatmentRules, assessments: Iterable[MistreatmentAssessment], today: date
) -> Contribution:
    """`assessments`: those recorded at this node for the message's case; `today`: the day it is decided."""
    persons = persons_needing_assessment(message, rules)
    in_case = [a for a in assessments if a.case_id == message.case_id]
    current = [a for a in in_case if a.valid_on(today)]
    unassessed: list[str] = []
    relied: dict[str, MistreatmentAssessment] = {}
    for person in persons:
        covering = [a for a in current if _covering(a, person)]
        if not covering:
            unassessed.append(_label(person))
            continue
        latest = max(covering, key=lambda a: (a.assessed_on, a.recorded_at))  # a later assessment supersedes
        relied[latest.id] = latest
    conclusion = max((a.conclusion for a in relied.values()), key=lambda c: c.severity, default=None)
    missing = sorted({m for a in relied.values() for m in _unapplied(message, a)})
    attributes = {
        "mistreatment_unassessed": bool(unassessed),
        "mistreatment_conclusion": conclusion.value if conclusion else NO_CONCLUSION,
        "mistreatment_measures_applied": not missing,
    }
    finding = _finding(persons, unassessed, relied, in_case, current, missing)
    placeholders = {
        "case": message.case_id,
        "persons_without_assessment": ", ".join(unassessed) or EACH_PERSON_NAMED,
        "missing_measures": "; ".join(missing) or NO_MEASURE,
    }
    return Contribution(attributes, {"mistreatment_assessment": finding}, placeholders)


def _covering(assessment: MistreatmentAssessment, subject: Subject) -> bool:
    return any(covers(p.name, p.aliases, p.date_of_birth, p.identifiers, subject) for p in assessment.persons)


def covers(
    name: str | None,
    aliases: tuple[str, ...],
    date_of_birth: str | None,
    identifiers: tuple[Identifier, ...],
    subject: Subject,
) -> bool:
    """Whether the assessed person so described is the person `subject` names: a shared identifier; or a shared name
    (or alias), compared on normalised, transliterated words in any order, with no date of birth or identifier of the
    same kind that tells them apart. When in doubt, not covered: the disclosure waits for an assessment."""
    mine, theirs = _identifier_keys(identifiers), _identifier_keys(subject.identifiers)
    if mine & theirs:
        return True
    if {s for s, _ in mine} & {s for s, _ in theirs}:
        return False  # the same kind of identifier with another value: another person
    if not _dates_agree(date_of_birth, subject.date_of_birth):
        return False
    mine_names, their_names = _names(name, aliases), _names(subject.name, subject.aliases)
    if {name_key(n) for n in mine_names} & {name_key(n) for n in their_names}:
        return True
    # Across scripts the transliterated spelling differs more (ਸਿੰਘ "sigh", Singh "singh"): compare consonants.
    return any(_skeleton(a) == _skeleton(b) for a in mine_names for b in their_names if _INDIC_SCRIPT.search(a + b))


_INDIC_SCRIPT = re.compile(r"[\u0900-\u097F\u0A00-\u0A7F]")
_VOWELS = re.compile(r"[aeiouy]")
_NASAL_BEFORE_CONSONANT = re.compile(r"[nm](?=[^aeiouy]|$)")


def _names(name: str | None, aliases: tuple[str, ...]) -> list[str]:
    return [n for n in (name, *aliases) if n and tokenise(n)]


def _skeleton(name: str) -> tuple[str, ...]:
    """A name's consonants, nasals before a consonant dropped and "gh" as "h": the anusvara and tippi are often not
    transliterated, or as "m" (सिंह "simh", ਸਿੰਘ "sigh", Singh)."""
    return tuple(
        sorted(_VOWELS.sub("", _NASAL_BEFORE_CONSONANT.sub("", w.indic)).replace("gh", "h") for w in tokenise(name))
    )


def _identifier_keys(identifiers: tuple[Identifier, ...]) -> set[tuple[str, str]]:
    return {(plain_key(i.scheme.strip()), re.sub(r"[\W_]+", "", plain_key(i.value))) for i in identifiers}


def _dates_agree(first: str | None, second: str | None) -> bool:
    """Dates of birth given to different precision agree when one is a prefix of the other (1980 and 1980-02-03)."""
    if not first or not second:
        return True
    return first.startswith(second) or second.startswith(first)


def _unapplied(message: Message, assessment: MistreatmentAssessment) -> list[str]:
    """The measures of a "mitigable" assessment the message does not carry (Directions s.1(1): "appropriate
    measures are taken")."""
    if assessment.conclusion is not RiskConclusion.MITIGABLE:
        return []
    caveats = set(message.handling.caveats)
    kinds = {a.kind for a in message.assurances}
    missing = [fill(MISSING_CAVEAT, {"caveat": c.value}) for c in assessment.mitigation.caveats if c not in caveats]
    missing += [fill(MISSING_ASSURANCE, {"kind": k.value}) for k in assessment.mitigation.assurances if k not in kinds]
    return missing


def _finding(
    persons: list[Subject],
    unassessed: list[str],
    relied: dict[str, MistreatmentAssessment],
    in_case: list[MistreatmentAssessment],
    current: list[MistreatmentAssessment],
    missing: list[str],
) -> dict[str, Any] | None:
    if not persons:
        return None
    finding: dict[str, Any] = {"persons": [_label(p) for p in persons]}
    if unassessed:
        finding["without_assessment"] = unassessed
    if relied:
        finding["assessments"] = [
            {
                "id": a.id,
                "conclusion": a.conclusion.value,
                "meaning": a.conclusion.sentence,
                "assessor": a.assessor,
                "assessed_on": a.assessed_on.isoformat(),
                "valid_until": a.valid_until.isoformat(),
            }
            for a in sorted(relied.values(), key=lambda a: a.assessed_on)
        ]
    if expired := [a.id for a in in_case if a not in current]:
        finding["expired"] = expired
    if missing:
        finding["mitigation_not_applied"] = missing
    return finding


def _label(subject: Subject) -> str:
    return person_label(subject.name, subject.aliases, subject.identifiers)
