"""Handling markings: national classifications on a common ladder, TLP 2.0 and caveats."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.domain.official import french_form, hindi_form, official_form
from accord.domain.parties import Party
from accord.i18n import Language


class CommonLevel(StrEnum):
    """The common ladder both national schemes are mapped to by the agreement."""

    UNCLASSIFIED = "unclassified"
    RESTRICTED = "restricted"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"
    TOP_SECRET = "top_secret"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {level: rank for rank, level in enumerate(CommonLevel)}  # read for every message checked and every read


class Tlp(StrEnum):
    """FIRST Traffic Light Protocol 2.0."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class Caveat(StrEnum):
    """Europol-style handling codes plus the caveats named in the agreement."""

    H0 = "H0"  # only to prevent or combat crime
    H1 = "H1"  # not for judicial proceedings without the originator's permission
    H2 = "H2"  # no onward dissemination without the originator's permission
    H3 = "H3"  # other restrictions, stated in `restrictions`


class Handling(BaseModel):
    """How a message must be handled: the sender's national marking and its common level."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    classification: str = Field(description="the sender's national marking, e.g. 'Protected B'")
    level: CommonLevel = Field(description="the common level the agreement maps that marking to")
    tlp: Tlp = Tlp.AMBER
    caveats: tuple[Caveat, ...] = ()
    restrictions: str | None = Field(default=None, description="text of an H3 restriction")
    named_recipients: tuple[str, ...] = Field(default=(), description="officers a TLP:RED message is for")


class MarkingForms(BaseModel):
    """A national marking's official forms in French and Hindi, where the party's scheme has one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fr: str | None = Field(default=None, min_length=2, max_length=64)
    hi: str | None = Field(default=None, min_length=2, max_length=64)

    _french = field_validator("fr")(french_form)
    _hindi = field_validator("hi")(hindi_form)


class NationalMarkings(BaseModel):
    """The official French and Hindi forms of each party's markings (data/handling/markings.yaml), keyed by the
    marking's English form as messages carry it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    markings: dict[Party, dict[str, MarkingForms]]

    def label(self, party: Party, marking: str, language: Language | None = None) -> str:
        """`marking` of `party`'s scheme as it is written in `language` (default: the current language); as given
        where the scheme has no official form in that language, or the marking is not one of the scheme's."""
        wanted = marking.strip().casefold()
        forms = next((f for name, f in self.markings.get(party, {}).items() if name.casefold() == wanted), None)
        return official_form(marking, forms.fr, forms.hi, language) if forms else marking
