"""Parties to the agreement and their agencies."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Party(StrEnum):
    CA = "CA"
    IN = "IN"

    @property
    def other(self) -> Party:
        return Party.IN if self is Party.CA else Party.CA


class Agency(BaseModel):
    """An agency of one party, as listed in that party's agency file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    party: Party
    name: str
    role: str
    contact_24_7: str | None = None
