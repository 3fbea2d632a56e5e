"""Screens: compute, from the structured message (and its free text, for flags only), the attributes the Cedar
policies decide on, with findings a person can read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from accord.domain.agreement import Agreement
from accord.domain.handling import Caveat, Tlp
from accord.domain.messages import AssuranceKind, Message, SubjectKind
from accord.policy.pack import Screens

_CUSTODY_ROLES = frozenset({"suspect", "accused", "detainee", "detained", "arrested"})


@dataclass(frozen=True, slots=True)
class Screened:
    attributes: dict[str, Any]
    findings: dict[str, Any] = field(default_factory=dict)


def screen(message: Message, screens: Screens, agreement: Agreement) -> Screened:
    persons = [s for s in message.subjects if s.kind is SubjectKind.PERSON]
    personal_ids = sorted(
        {i.scheme for s in message.subjects for i in s.identifiers if i.scheme in screens.personal_identifier_schemes}
    )
    personal = bool(persons) or bool(personal_ids)
    basis = (message.legal_basis or "").strip()
    recognised = any(term.casefold() in basis.casefold() for term in screens.recognised_legal_bases)
    protected = sorted(set(message.grounds) & set(screens.protected_grounds))
    terms = _sensitive_terms(f"{message.title}\n{message.body}", screens.sensitive_terms)
    offence = message.offence
    in_scope = offence is None or offence in screens.offences_in_scope.get(message.focus_area, ())
    risk, risk_reasons = _mistreatment_risk(message, screens, persons)
    capital = offence is not None and offence in screens.capital_offences_in_destination
    assurances = {a.kind for a in message.assurances}
    attributes: dict[str, Any] = {
        "kind": message.kind.value,
        "focus_area": message.focus_area,
        "offence": offence or "",
        "offence_in_scope": in_scope,
        "purpose": message.purpose.value,
        "personal_data": personal,
        "persons": len(persons),
        "legal_basis_given": bool(basis),
        "legal_basis_recognised": recognised,
        "protected_ground": bool(protected),
        "sensitive_text": bool(terms),
        "level": message.handling.level.rank,
        "ceiling": agreement.channel_ceiling.rank,
        "tlp": message.handling.tlp.value,
        "recipient_named": bool(message.recipient.officer)
        and (not message.handling.named_recipients or message.recipient.officer in message.handling.named_recipients),
        "caveats": [c.value for c in message.handling.caveats],
        "restriction_stated": bool((message.handling.restrictions or "").strip()),
        "mistreatment_risk": risk,
        "risk_threshold": screens.mistreatment.threshold,
        "capital_offence": capital,
        "no_death_penalty_assurance": AssuranceKind.NO_DEATH_PENALTY in assurances,
        "humane_treatment_assurance": AssuranceKind.HUMANE_TREATMENT in assurances,
    }
    findings: dict[str, Any] = {
        "personal_data": {"persons": len(persons), "identifier_schemes": personal_ids} if personal else None,
        "protected_grounds": protected or None,
        "sensitive_terms": terms or None,
        "offence": {"category": offence, "in_scope": in_scope} if offence else None,
        "mistreatment_risk": {"score": risk, "threshold": screens.mistreatment.threshold, "because": risk_reasons}
        if personal
        else None,
        "capital_offence_in_destination": offence if capital else None,
        "minimisation": _minimisation(message, screens) or None,
        "tlp_red_without_named_recipient": message.handling.tlp is Tlp.RED and not attributes["recipient_named"],
        "h3_without_restriction": Caveat.H3 in message.handling.caveats and not attributes["restriction_stated"],
    }
    return Screened(attributes, {k: v for k, v in findings.items() if v})


def _sensitive_terms(text: str, terms: tuple[str, ...]) -> list[str]:
    """Terms found as words (or word beginnings) in the free text, case-insensitively."""
    found = {match.group(0) for match in _terms_pattern(terms).finditer(text.casefold())}
    return sorted(t for t in terms if t.casefold() in found)


@lru_cache(maxsize=8)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    longest_first = sorted((t.casefold() for t in terms), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(t) for t in longest_first) + ")")


def _mistreatment_risk(message: Message, screens: Screens, persons: list[Any]) -> tuple[int, list[str]]:
    rules = screens.mistreatment
    score, because = rules.destination_risk, [f"destination assessment {rules.destination_risk}"]
    if any((p.role or "").casefold() in _CUSTODY_ROLES for p in persons):
        score += rules.suspect_named
        because.append(f"a named suspect or detainee (+{rules.suspect_named})")
    if message.offence in rules.high_risk_offences:
        score += rules.high_risk_offence
        because.append(f"offence {message.offence} (+{rules.high_risk_offence})")
    if AssuranceKind.HUMANE_TREATMENT in {a.kind for a in message.assurances} and score > rules.threshold:
        because.append("a humane-treatment assurance is recorded; a reviewer still decides")
    return score, because


def _minimisation(message: Message, screens: Screens) -> list[str]:
    """Fields not needed for the stated purpose: identifiers of victims and witnesses, for instance."""
    flagged = []
    for index, subject in enumerate(message.subjects):
        role = (subject.role or "").casefold()
        if role in screens.minimisation.roles_without_identifiers and subject.identifiers:
            flagged.append(f"subjects[{index}].identifiers ({role})")
        if role in screens.minimisation.roles_without_identifiers and subject.date_of_birth:
            flagged.append(f"subjects[{index}].date_of_birth ({role})")
    return flagged
