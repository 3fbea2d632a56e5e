"""The words of the handling codes, as the data file states them, for refusals and consent requests."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.domain.handling import Caveat
from accord.domain.official import in_language
from accord.i18n import Language


class ForwardEffect(StrEnum):
    """What a caveat makes of a forward inside the recipient's own state (the packs decide; this documents it)."""

    ALLOWED = "allowed"
    REFUSED = "refused"
    CONSENT = "consent"


class CaveatText(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1, max_length=300)
    forward: ForwardEffect


class CaveatTexts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    caveats: dict[Caveat, CaveatText]

    @model_validator(mode="after")
    def _every_code(self) -> CaveatTexts:
        missing = sorted(set(Caveat) - set(self.caveats))
        if missing:
            raise ValueError(f"every handling code needs its text; missing: {', '.join(missing)}")
        return self

    def describe(self, caveats: tuple[Caveat, ...]) -> tuple[str, ...]:
        """The codes' words as the data file states them, in English: for what is recorded or sent."""
        return tuple(self.caveats[c].text for c in sorted(set(caveats), key=list(Caveat).index))

    def describe_in(self, caveats: tuple[Caveat, ...], language: Language | None = None) -> tuple[str, ...]:
        """The same words for a reader, in `language` (default: the current language)."""
        return tuple(in_language(text, language) for text in self.describe(caveats))
