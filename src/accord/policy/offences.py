"""Offences as a controlled vocabulary: the shared taxonomy (UNODC ICCS v1.0), each party's statutes mapped onto it
(which are capital, and on what circumstances), and the multilingual lexicon that finds offences in free text.
All three are data files under accord/data/offences, loaded once and validated at start-up."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.datafiles import load
from accord.domain.messages import OFFENCE_CODE_PATTERN
from accord.domain.parties import Party
from accord.errors import ConfigurationError
from accord.i18n import _
from accord.policy.language import Hit, Language, Lexicon, Term, tokenise

_DIR = "offences"


class Offence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=OFFENCE_CODE_PATTERN)
    label: str = Field(min_length=2, max_length=200)

    @property
    def parent(self) -> str | None:
        """ICCS levels: 2, 4, 5 and 6 digits."""
        return {2: None, 4: self.code[:2], 5: self.code[:4], 6: self.code[:5]}[len(self.code)]

    @property
    def display(self) -> str:
        return f"{self.code} {self.label}"


class Taxonomy(BaseModel):
    """The ICCS sections and the codes Accord needs; a code's parent is always present."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=10)
    version: str
    offences: tuple[Offence, ...] = Field(min_length=11)

    @model_validator(mode="after")
    def _hierarchy(self) -> Taxonomy:
        codes = [o.code for o in self.offences]
        if repeated := sorted({c for c in codes if codes.count(c) > 1}):
            raise ValueError(f"codes listed twice: {', '.join(repeated)}")
        if orphans := [o.code for o in self.offences if o.parent is not None and o.parent not in codes]:
            raise ValueError(f"codes without their parent: {', '.join(orphans)}")
        return self

    def get(self, code: str) -> Offence | None:
        return self._index().get(code)

    def display(self, code: str) -> str:
        offence = self.get(code)
        return offence.display if offence else code

    def _index(self) -> dict[str, Offence]:
        return {o.code: o for o in self.offences}


class Circumstance(StrEnum):
    """Facts a statute's punishment turns on, found in the text (the lexicon's `circumstances`)."""

    REPEAT_CONVICTION = "repeat_conviction"
    DEATH_RESULTED = "death_resulted"
    RANSOM = "ransom"
    MINOR_VICTIM = "minor_victim"
    LIFE_CONVICT = "life_convict"


class DeathPenalty(StrEnum):
    RETAINED = "retained"
    ABOLISHED = "abolished"


class Provision(BaseModel):
    """A statute's provision mapped onto ICCS codes; `when`: circumstances that must all be shown for it to apply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    statute: str = Field(min_length=3)
    section: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=3)
    iccs: tuple[str, ...] = Field(min_length=1)
    capital: bool
    when: tuple[Circumstance, ...] = ()

    @property
    def citation(self) -> str:
        return f"{self.statute} s.{self.section} ({self.title})"


class LegalNote(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    citation: str = Field(min_length=10)
    remedy: str = Field(min_length=10)


class StatuteMapping(BaseModel):
    """One party's statutes on the shared taxonomy, and the law that makes an offence required in its disclosures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    party: Party
    death_penalty: DeathPenalty
    offence_required: LegalNote
    provisions: tuple[Provision, ...]

    @model_validator(mode="after")
    def _consistent(self) -> StatuteMapping:
        if self.death_penalty is DeathPenalty.ABOLISHED and any(p.capital for p in self.provisions):
            raise ValueError("a party that abolished the death penalty has no capital provision")
        return self


class Negations(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    before: dict[Language, tuple[str, ...]]
    after: dict[Language, tuple[str, ...]] = Field(default_factory=dict)


class LexiconFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=10)
    offences: dict[str, dict[Language, tuple[str, ...]]]
    circumstances: dict[Circumstance, dict[Language, tuple[str, ...]]]
    negations: Negations


@dataclass(frozen=True, slots=True)
class FoundInText:
    """Offences (by ICCS code) and circumstances found in a text, each with the words that matched."""

    offences: dict[str, list[str]] = field(default_factory=dict)
    circumstances: dict[Circumstance, list[str]] = field(default_factory=dict)


# How far a negation reaches: "no prior conviction", "not previously convicted", "kadi saza nahi hoi".
_NEGATION_REACH = 3


@dataclass(frozen=True, slots=True)
class OffenceLexicon:
    offences: Lexicon
    circumstances: Lexicon
    negations: Lexicon  # concepts "before" and "after": where a negation stands relative to what it denies

    def find(self, text: str) -> FoundInText:
        shown = [h for h in self.circumstances.find(text) if not self._denied(text, h)]
        return FoundInText(
            _words(_longest(self.offences.find(text))),
            {Circumstance(k): v for k, v in _words(shown).items()},
        )

    def _denied(self, text: str, hit: Hit) -> bool:
        starts = [t.start for t in tokenise(text)]
        first, last = bisect_left(starts, hit.start), bisect_left(starts, hit.end) - 1
        for negation in self.negations.find(text):
            at = bisect_left(starts, negation.start)
            if negation.concept == "before" and 0 < first - at <= _NEGATION_REACH:
                return True
            if negation.concept == "after" and 0 < at - last <= _NEGATION_REACH:
                return True
        return False


# ---- loading (once per process; the composition root loads them at start-up)


def offence_taxonomy() -> Taxonomy:
    return load(Taxonomy, _DIR, "iccs.yaml")


@cache
def statutes_of(party: Party) -> StatuteMapping:
    name = f"statutes/{party.value.lower()}.yaml"
    mapping = load(StatuteMapping, _DIR, "statutes", f"{party.value.lower()}.yaml")
    if mapping.party is not party:
        raise ConfigurationError(
            _("data/{DIR}/{name} is for {party}, not {party2}").format(
                DIR=_DIR, name=name, party=mapping.party, party2=party
            )
        )
    _require_known(offence_taxonomy(), (c for p in mapping.provisions for c in p.iccs), f"data/{_DIR}/{name}")
    return mapping


@cache
def offence_lexicon() -> OffenceLexicon:
    data = load(LexiconFile, _DIR, "lexicon.yaml")
    _require_known(offence_taxonomy(), data.offences, f"data/{_DIR}/lexicon.yaml")
    return OffenceLexicon(
        _lexicon(data.offences),
        _lexicon({k.value: v for k, v in data.circumstances.items()}),
        _lexicon({"before": data.negations.before, "after": data.negations.after}),
    )


def load_offence_vocabulary() -> None:
    """Every offence data file, validated (a broken one stops the node at start-up)."""
    offence_taxonomy()
    offence_lexicon()
    for party in Party:
        statutes_of(party)


def forget_offence_vocabulary() -> None:
    statutes_of.cache_clear()
    offence_lexicon.cache_clear()


# ---- the rules over codes


def within(code: str, scopes: Iterable[str]) -> bool:
    """Whether `code` falls under one of `scopes` (ICCS codes nest by prefix: 020221 is under 0202 and 02)."""
    return any(code.startswith(scope) for scope in scopes)


def overlaps(code: str, scopes: Iterable[str]) -> bool:
    """Whether `code` is under a scope or a scope is under it (a section declared for a more precise offence)."""
    return any(code.startswith(scope) or scope.startswith(code) for scope in scopes)


def capital_provisions(
    mapping: StatuteMapping, codes: Iterable[str], circumstances: Iterable[Circumstance]
) -> list[tuple[str, Provision]]:
    """The capital provisions of `mapping` that may apply to any of `codes`, given the circumstances shown: each with
    the code it applies to. A code broader than the provision's counts (a section declared may be the capital
    offence); a provision with `when` needs every one of its circumstances."""
    shown = set(circumstances)
    found: list[tuple[str, Provision]] = []
    for code in codes:
        for provision in mapping.provisions:
            if provision.capital and overlaps(code, provision.iccs) and set(provision.when) <= shown:
                found.append((code, provision))
    return found


def _require_known(taxonomy: Taxonomy, codes: Iterable[str], label: str) -> None:
    unknown = sorted({c for c in codes if taxonomy.get(c) is None})
    if unknown:
        raise ConfigurationError(
            _("{label} names codes that are not in data/{DIR}/iccs.yaml: {join}").format(
                label=label, DIR=_DIR, join=", ".join(unknown)
            )
        )


def _lexicon(entries: Mapping[str, Mapping[Language, tuple[str, ...]]]) -> Lexicon:
    try:
        return Lexicon(
            {
                concept: [Term(t, lang) for lang, terms in by_lang.items() for t in terms]
                for concept, by_lang in entries.items()
            }
        )
    except ValueError as exc:
        raise ConfigurationError(_("data/{DIR}/lexicon.yaml: {exc}").format(DIR=_DIR, exc=exc)) from exc


def _longest(hits: list[Hit]) -> list[Hit]:
    """Where terms overlap ("attempted murder", "murder"), the longest match stands for the words it covers."""
    return [
        h
        for h in hits
        if not any(
            o is not h and o.start <= h.start and h.end <= o.end and (o.end - o.start) > (h.end - h.start) for o in hits
        )
    ]


def _words(hits: list[Hit]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for hit in hits:
        words = found.setdefault(hit.concept, [])
        if hit.surface not in words:
            words.append(hit.surface)
    return found


__all__ = [
    "Circumstance",
    "FoundInText",
    "Offence",
    "OffenceLexicon",
    "Provision",
    "StatuteMapping",
    "Taxonomy",
    "capital_provisions",
    "load_offence_vocabulary",
    "offence_lexicon",
    "offence_taxonomy",
    "overlaps",
    "statutes_of",
    "within",
]
