"""Personal data: whether the message names persons or carries personal identifiers, and whether its legal basis is
one the pack recognises."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from accord.domain.messages import Message, SubjectKind
from accord.policy.screens.contribution import Contribution


class PersonalDataRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    identifier_schemes: tuple[str, ...]  # identifier schemes that make a subject personal data
    recognised_legal_bases: tuple[str, ...]


def screen_personal_data(message: Message, rules: PersonalDataRules) -> Contribution:
    persons = [s for s in message.subjects if s.kind is SubjectKind.PERSON]
    schemes = sorted(
        {i.scheme for s in message.subjects for i in s.identifiers if i.scheme in rules.identifier_schemes}
    )
    personal = bool(persons) or bool(schemes)
    basis = (message.legal_basis or "").strip()
    recognised = any(term.casefold() in basis.casefold() for term in rules.recognised_legal_bases)
    return Contribution(
        {
            "personal_data": personal,
            "persons": len(persons),
            "legal_basis_given": bool(basis),
            "legal_basis_recognised": recognised,
        },
        {"personal_data": {"persons": len(persons), "identifier_schemes": schemes} if personal else None},
    )
