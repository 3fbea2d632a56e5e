"""Controlled substances of the 1988 Convention and each party's schedule: look-up by name, synonym, CAS or HS code,
with fuzzy matching of misspelled names (rapidfuzz)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from rapidfuzz import fuzz, process, utils

from accord.datafiles import load
from accord.domain.parties import Party
from accord.errors import ConfigurationError, InvalidInput
from accord.i18n import _

CAS_PATTERN = re.compile(r"^\d{2,7}-\d{2}-\d$")
HS_PATTERN = re.compile(r"^\d{4}\.?\d{0,2}(\.?\d{1,4})?$")
FUZZY_CUTOFF = 80.0


class Scheduling(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: str
    year: int


class Substance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    table: Literal["I", "II"]
    name: str
    synonyms: tuple[str, ...] = ()
    cas: str | None  # None where this list does not yet record it
    hs: str
    fentanyl_precursor: bool = False
    scheduled: Scheduling | None = None
    confirmed: bool = False

    @field_validator("cas")
    @classmethod
    def _cas_check_digit(cls, value: str | None) -> str | None:
        if value is not None and not valid_cas(value):
            raise ValueError(f"{value!r} is not a CAS registry number (its check digit does not match)")
        return value


class NationalClass(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str
    from_table: Literal["I", "II"] | tuple[Literal["I", "II"], ...]

    def covers(self, table: str) -> bool:
        return table == self.from_table if isinstance(self.from_table, str) else table in self.from_table


class NationalSchedule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    party: Party
    instrument: str
    source: str
    classes: dict[str, NationalClass]
    confirmed: tuple[str, ...] = Field(default=(), description="substance codes whose class is confirmed by a source")


def valid_cas(value: str) -> bool:
    """CAS check digit: the weighted sum of the other digits, right to left from weight 1, modulo 10."""
    if not CAS_PATTERN.match(value):
        return False
    digits = value.replace("-", "")
    body, check = digits[:-1], int(digits[-1])
    return sum((position + 1) * int(d) for position, d in enumerate(reversed(body))) % 10 == check


@dataclass(frozen=True, slots=True)
class Match:
    substance: Substance
    matched_on: str  # cas, hs, name, synonym, fuzzy
    score: float


class SubstanceList:
    def __init__(self, substances: tuple[Substance, ...], schedules: dict[Party, NationalSchedule]) -> None:
        self.substances = substances
        self.schedules = schedules
        self.by_code = {s.code: s for s in substances}
        self._names: dict[str, Substance] = {}
        for s in substances:
            for label in (s.name, *s.synonyms, s.code):
                self._names[utils.default_process(label)] = s

    def get(self, code: str) -> Substance | None:
        return self.by_code.get(code)

    def national_classes(self, substance: Substance) -> dict[str, list[dict[str, Any]]]:
        """Each party's class or schedules for the substance, and whether a source confirms it."""
        return {
            party.value: [
                {"class": name, "description": cls.description, "confirmed": substance.code in schedule.confirmed}
                for name, cls in schedule.classes.items()
                if cls.covers(substance.table)
            ]
            for party, schedule in self.schedules.items()
        }

    def find(self, query: str, limit: int = 5) -> list[Match]:
        """Exact CAS, HS code, name or synonym first; otherwise the closest names above the cut-off."""
        text = query.strip()
        if not text:
            raise InvalidInput(_("give a name, a synonym, a CAS number or an HS code to look up"))
        if CAS_PATTERN.match(text):
            return [Match(s, "cas", 100.0) for s in self.substances if s.cas == text]
        if re.fullmatch(r"\d{4}(\.\d{2})?", text) or re.fullmatch(r"\d{6}", text):
            wanted = text.replace(".", "")
            return [Match(s, "hs", 100.0) for s in self.substances if s.hs.replace(".", "").startswith(wanted)]
        key = utils.default_process(text)
        exact = self._names.get(key)
        if exact is not None:
            kind = "name" if utils.default_process(exact.name) == key else "synonym"
            return [Match(exact, kind, 100.0)]
        found: list[Match] = []
        seen: set[str] = set()
        for label, score, _index in process.extract(key, list(self._names), scorer=fuzz.WRatio, limit=limit * 3):
            substance = self._names[label]
            if score >= FUZZY_CUTOFF and substance.code not in seen:
                seen.add(substance.code)
                found.append(Match(substance, "fuzzy", round(float(score), 1)))
        return found[:limit]

    def resolve(self, name_or_code: str) -> Substance:
        """The one substance a notification means; an unknown or ambiguous name is refused with suggestions."""
        found = self.get(name_or_code)
        if found is not None:
            return found
        matches = self.find(name_or_code)
        if matches and matches[0].matched_on in {"cas", "name", "synonym"} and len(matches) == 1:
            return matches[0].substance
        suggestions = ", ".join(f"{m.substance.name} ({m.substance.code})" for m in matches[:3])
        hint = f"; did you mean {suggestions}?" if suggestions else "; `accord substances find` lists them"
        raise InvalidInput(
            _("{name_or_code!r} is not a substance of Tables I/II of the 1988 Convention{hint}").format(
                name_or_code=name_or_code, hint=hint
            )
        )


class ConventionTables(BaseModel):
    """Tables I and II of the 1988 Convention, as data/substances/un1988.yaml lists them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    convention: str
    substances: tuple[Substance, ...]


@cache
def load_substances() -> SubstanceList:
    substances = load(ConventionTables, "substances", "un1988.yaml").substances
    schedules = {party: load(NationalSchedule, "substances", f"{party.value.lower()}.yaml") for party in Party}
    codes = [s.code for s in substances]
    if len(set(codes)) != len(codes):
        raise ConfigurationError(_("data/substances/un1988.yaml repeats a substance code"))
    for schedule in schedules.values():
        unknown = [c for c in schedule.confirmed if c not in codes]
        if unknown:
            raise ConfigurationError(
                _("data/substances/{lower}.yaml names unknown {unknown}").format(
                    lower=schedule.party.value.lower(), unknown=unknown
                )
            )
    return SubstanceList(substances, schedules)
