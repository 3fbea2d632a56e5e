"""Minimisation: personal data the stated purpose does not need (identifiers of victims and witnesses, for instance)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from accord.domain.messages import Message
from accord.policy.screens.contribution import Contribution


class MinimisationRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    roles_without_identifiers: tuple[str, ...] = ()


def screen_minimisation(message: Message, rules: MinimisationRules) -> Contribution:
    flagged = []
    for index, subject in enumerate(message.subjects):
        role = (subject.role or "").casefold()
        if role in rules.roles_without_identifiers and subject.identifiers:
            flagged.append(f"subjects[{index}].identifiers ({role})")
        if role in rules.roles_without_identifiers and subject.date_of_birth:
            flagged.append(f"subjects[{index}].date_of_birth ({role})")
    return Contribution({}, {"minimisation": flagged or None})
