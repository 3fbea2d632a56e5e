"""Parties to the agreement and their agencies."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.domain.official import french_form, hindi_form, official_form
from accord.i18n import Language, current_language


class Party(StrEnum):
    CA = "CA"
    IN = "IN"

    @property
    def other(self) -> Party:
        return Party.IN if self is Party.CA else Party.CA


class Agency(BaseModel):
    """An agency of one party, as listed in that party's agency file. `code` identifies it everywhere (messages,
    officers, the ledger) and is never translated; `name` is its official English name; `name_fr` and `name_hi` its
    official French and Hindi names where the institution has one; `short_fr` its official French short form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    party: Party
    name: str
    role: str
    contact_24_7: str | None = None
    name_fr: str | None = Field(default=None, min_length=2, max_length=200)
    name_hi: str | None = Field(default=None, min_length=2, max_length=200)
    short_fr: str | None = Field(default=None, min_length=2, max_length=20, pattern=r"^[A-Z][A-Za-z0-9-]*$")

    _french = field_validator("name_fr")(french_form)
    _hindi = field_validator("name_hi")(hindi_form)

    def name_in(self, language: Language | None = None) -> str:
        """The agency's official name in `language` (the current language when not given)."""
        return agency_name(self, language)

    def short_name_in(self, language: Language | None = None) -> str:
        """How the agency is abbreviated in `language`: its official French short form in French (GRC for the
        RCMP), else its code."""
        wanted = language or current_language()
        return self.short_fr if wanted is Language.FR and self.short_fr else self.code


def agency_name(agency: Agency, language: Language | None = None) -> str:
    """`agency`'s official name in `language` (default: the current language); its official English name where it
    has none in that language (a Canadian institution in Hindi, an Indian one in French)."""
    return official_form(agency.name, agency.name_fr, agency.name_hi, language)
