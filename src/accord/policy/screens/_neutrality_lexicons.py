"""The neutrality screen's term lists as data (`data/neutrality/*.yaml`): protected grounds (shared and per party),
what is asked about a person, and criminal conduct. Each file cites its sources; each is validated when loaded, and
every shipped one is loaded at start-up."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.datafiles import data_root, load
from accord.domain.parties import Party
from accord.errors import ConfigurationError
from accord.i18n import _
from accord.policy.language import Hit, Language, Lexicon, LexiconGroup, Term, has_words

# English and French are written in Latin letters, Hindi in Devanagari or romanised, Punjabi in Gurmukhi or
# romanised: a term in another script was filed under the wrong language and would match on the wrong key.
_FOREIGN_SCRIPT = {
    Language.ENGLISH: re.compile(r"[\u0900-\u097F\u0A00-\u0A7F]"),
    Language.FRENCH: re.compile(r"[\u0900-\u097F\u0A00-\u0A7F]"),
    Language.HINDI: re.compile(r"[\u0A00-\u0A7F]"),
    Language.PUNJABI: re.compile(r"[\u0900-\u097F]"),
}
LEXICON_DIR = "neutrality"
ASKED = "asked"
CONDUCT = "conduct"
PERSONS = "persons"


class Weight(StrEnum):
    STRONG = "strong"  # the words alone put a protected matter in the message
    CONTEXTUAL = "contextual"  # a place, institution or identity: protected only in context (see screen)


class Concept(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)
    ground: str | None = Field(default=None, pattern=r"^[a-z][a-z_]*$", description="the protected ground")
    weight: Weight = Weight.STRONG
    terms: dict[Language, tuple[str, ...]] = Field(min_length=1)

    @field_validator("terms")
    @classmethod
    def _terms_have_words_in_their_script(
        cls, terms: dict[Language, tuple[str, ...]]
    ) -> dict[Language, tuple[str, ...]]:
        for language, words in terms.items():
            for word in words:
                if not has_words(word.rstrip("*")):
                    raise ValueError(f"the {language.value} term {word!r} has no words")
                if _FOREIGN_SCRIPT[language].search(word):
                    raise ValueError(f"the {language.value} term {word!r} is not written in a script of that language")
        return terms


class TermFile(BaseModel):
    """One file of data/neutrality: its title, its sources, its concepts, and phrases that are never a match."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=3)
    sources: tuple[str, ...] = Field(min_length=1)
    party: Party | None = None
    concepts: tuple[Concept, ...] = Field(min_length=1)
    exceptions: dict[Language, tuple[str, ...]] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConceptInfo:
    ground: str | None
    weight: Weight


@dataclass(frozen=True)
class CompiledTerms:
    """Several term files merged into one lexicon, with each concept's ground and weight."""

    names: tuple[str, ...]
    lexicon: Lexicon
    exceptions: Lexicon | None
    concepts: dict[str, ConceptInfo]

    @property
    def lexicons(self) -> tuple[Lexicon, ...]:
        """The terms' lexicon, then the exceptions' if there are any."""
        return (self.lexicon,) if self.exceptions is None else (self.lexicon, self.exceptions)


def outside(hits: Sequence[Hit], exceptions: Sequence[Hit] = ()) -> Sequence[Hit]:
    """`hits` less those inside one of `exceptions` ("politically exposed", "family members"); `hits` themselves
    where there are none (a lexicon's `Matches` then stays unread)."""
    if not exceptions:
        return hits
    spans = [(e.start, e.end) for e in exceptions]
    return [h for h in hits if not any(start <= h.start and h.end <= end for start, end in spans)]


@dataclass(frozen=True, slots=True)
class ScreenHits:
    """Each file's hits in a text; a file's `Matches` are read only where the screen needs more than whether there
    are any (where criminal conduct is stated matters only beside a contextual ground)."""

    grounds: Sequence[Hit]  # less those inside the grounds' exceptions
    asked: Sequence[Hit]  # less those inside the exceptions of what is asked
    conduct: Sequence[Hit]
    persons: Sequence[Hit]


class ScreenTerms:
    """The term files the neutrality screen reads a text with: the grounds, what is asked, criminal conduct and the
    words for a person, their lexicons and exceptions read in one pass (`LexiconGroup`)."""

    def __init__(
        self, grounds: CompiledTerms, asked: CompiledTerms, conduct: CompiledTerms, persons: CompiledTerms
    ) -> None:
        self.grounds, self.asked, self.conduct, self.persons = grounds, asked, conduct, persons
        self._files = (grounds, asked, conduct, persons)
        self.group = LexiconGroup(lexicon for terms in self._files for lexicon in terms.lexicons)

    def find(self, text: str) -> ScreenHits:
        found = iter(self.group.matches(text))  # each file's lexicons in turn, as `__init__` grouped them
        return ScreenHits(*(outside(*[next(found) for _ in terms.lexicons]) for terms in self._files))


@cache
def screen_terms(grounds: tuple[str, ...], asked: str, conduct: str, persons: str) -> ScreenTerms:
    return ScreenTerms(compiled(grounds), compiled((asked,)), compiled((conduct,)), compiled((persons,)))


def load_term_file(name: str) -> TermFile:
    if not name.replace("-", "").isalnum():
        raise ConfigurationError(
            _("{name!r} is not the name of a file in data/{LEXICON_DIR}").format(name=name, LEXICON_DIR=LEXICON_DIR)
        )
    return load(TermFile, LEXICON_DIR, f"{name}.yaml")


@cache
def compiled(names: tuple[str, ...]) -> CompiledTerms:
    files = [load_term_file(name) for name in names]
    concepts: dict[str, ConceptInfo] = {}
    terms: dict[str, list[Term]] = {}
    exceptions: list[Term] = []
    for name, file in zip(names, files, strict=True):
        for concept in file.concepts:
            if concept.id in concepts:
                raise ConfigurationError(
                    _("data/{LEXICON_DIR}/{name}.yaml repeats the concept {id!r}").format(
                        LEXICON_DIR=LEXICON_DIR, name=name, id=concept.id
                    )
                )
            concepts[concept.id] = ConceptInfo(concept.ground, concept.weight)
            terms[concept.id] = list(_terms(concept.terms.items()))
        exceptions.extend(_terms(file.exceptions.items()))
    return CompiledTerms(names, Lexicon(terms), Lexicon({"exception": exceptions}) if exceptions else None, concepts)


def shipped_term_files() -> list[str]:
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in data_root().joinpath(LEXICON_DIR).iterdir()
        if entry.name.endswith(".yaml")
    )


def forget_compiled() -> None:
    compiled.cache_clear()
    screen_terms.cache_clear()


def _terms(entries: Iterable[tuple[Language, tuple[str, ...]]]) -> Iterable[Term]:
    for language, words in entries:
        for word in words:
            yield Term(word, language)
