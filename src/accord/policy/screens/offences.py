"""Offences: whether the declared offence is in the focus area's scope, and whether it is capital in the receiving
state (then a no-death-penalty assurance is needed)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from accord.domain.messages import AssuranceKind, Message
from accord.policy.screens.contribution import Contribution


class OffenceRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    in_scope: dict[str, tuple[str, ...]]  # focus area -> offence categories
    capital_in_destination: tuple[str, ...] = ()


def screen_offences(message: Message, rules: OffenceRules) -> Contribution:
    offence = message.offence
    in_scope = offence is None or offence in rules.in_scope.get(message.focus_area, ())
    capital = offence is not None and offence in rules.capital_in_destination
    assurances = {a.kind for a in message.assurances}
    return Contribution(
        {
            "offence": offence or "",
            "offence_in_scope": in_scope,
            "capital_offence": capital,
            "no_death_penalty_assurance": AssuranceKind.NO_DEATH_PENALTY in assurances,
        },
        {
            "offence": {"category": offence, "in_scope": in_scope} if offence else None,
            "capital_offence_in_destination": offence if capital else None,
        },
    )
