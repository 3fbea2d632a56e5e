"""The match model: each record as comparison features (in the clear, or its encodings), the comparison levels of a
pair, and the Fellegi-Sunter weights and thresholds shipped in data/matching/model.yaml."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from typing import cast

from pydantic import BaseModel, ConfigDict

from accord.datafiles import load
from accord.matching.encode import EncodedPerson, date_features, dice, filter_bits
from accord.matching.normalise import (
    alnum_key,
    block_keys,
    canonical_dates,
    deletion_variants,
    name_tokens,
    phone_keys,
    plain_similarity,
    read_birth_date,
    word_similarity,
)
from accord.matching.records import PersonRecord
from accord.matching.vocabulary import nationality_code, sex_code

MAX_BLOCK_PAIRS = 20_000  # a block key making more pairs than this is too common to block on (a frequent name)


class Mode(StrEnum):
    RAW = "raw"  # names compared in the clear (transliterated keys, Jaro-Winkler)
    ENCODED = "encoded"  # only keyed encodings compared (Dice of Bloom filters, equality of blind indexes)


class FieldModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    levels: list[str]  # best first; the last is "different"; a missing value on either side is no evidence
    m: list[float]
    u: list[float]


class ModeModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name_thresholds: list[float]  # similarity at or above which each name level holds, best first
    fields: dict[str, FieldModel]


class MatchModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    trained: str
    overlap: float  # the share of the smaller side expected in the other
    hit: float  # match probability at or above which a pair is a hit (a query's answer, a holding's duplicate)
    link: float  # … at or above which two files' records are linked one to one (more likely the same than not)
    sure_bits: float  # evidence (log2 Bayes factor, prior aside) at or above which a pair counts as sure
    sure_recall: float  # the share of true pairs that are sure (trained): sure pairs / it = pairs expected
    medium: float
    high: float
    raw: ModeModel
    encoded: ModeModel

    def of(self, mode: Mode) -> ModeModel:
        return self.raw if mode is Mode.RAW else self.encoded


@cache
def shipped_model() -> MatchModel:
    return load(MatchModel, "matching", "model.yaml")


FIELDS = ("name", "date_of_birth", "document", "phone", "sex", "nationality")


@dataclass(frozen=True, slots=True)
class Features:
    """What a record is compared on, the same shape in both modes (encodings are keyed tags where the clear mode
    has values); `name` is the serialised name the name comparison reads."""

    name: str
    blocks: tuple[str, ...]
    dates: tuple[str, ...]
    swapped: tuple[str, ...]
    year: str
    date_parts: tuple[str, ...]
    document: str
    document_near: tuple[str, ...]  # the document number with one character left out, each way (see normalise)
    phones: tuple[str, ...]
    sex: str
    nationality: str
    name_key: str = ""  # the name's words (Singh and Kaur aside), sorted: how common the name is, is counted on it


def name_key_of(strong: Sequence[str]) -> str:
    return " ".join(sorted(strong))


NAME_PRIOR_RECORDS = 10_000  # the shipped u counts as this many records: small files lean on it


@dataclass(frozen=True, slots=True)
class NameFrequencies:
    counts: dict[str, int]
    records: int


def name_frequencies(*sides: Sequence[Features]) -> NameFrequencies:
    """How often each name occurs in the files: a name shared by many says little."""
    return NameFrequencies(
        dict(Counter(f.name_key for side in sides for f in side if f.name_key)), sum(len(side) for side in sides)
    )


def frequency_bits(
    model: MatchModel, mode: Mode, a: Features, b: Features, level: int | None, frequencies: NameFrequencies
) -> float:
    """Splink's term-frequency adjustment of a name that is the same on both sides: its u (how often two different
    persons share a name, on average) replaced by how often another record carries this name — blended with the
    average so that a few records cannot make a name look common or rare. Zero for any other level."""
    if level != 0 or not a.name_key or a.name_key != b.name_key:
        return 0.0
    average = model.of(mode).fields["name"].u[0]
    others = max(0, frequencies.counts.get(a.name_key, 0) - 1)
    share = (others + NAME_PRIOR_RECORDS * average) / (frequencies.records + NAME_PRIOR_RECORDS)
    return math.log2(average / share)


def raw_features(record: PersonRecord) -> Features:
    tokens = name_tokens(record.name)
    strong = tokens.strong or tokens.weak
    plain = tokens.plain if tokens.strong else tokens.weak
    dates, swapped, year, parts = date_features(read_birth_date(record.date_of_birth))
    document = alnum_key(record.document_number)
    phones = sorted(phone_keys(record.phone))
    blocks = block_keys(strong, tokens.initials, canonical_dates(dates), year)
    blocks += [f"p:{p}" for p in phones] + ([f"doc:{document}"] if document else [])
    weak = tokens.weak if tokens.strong else ()
    return Features(
        name=f"{' '.join(f'{k}~{p}' for k, p in zip(strong, plain, strict=True))}|{' '.join(weak)}|"
        f"{' '.join(tokens.initials)}",
        name_key=name_key_of(strong),
        blocks=tuple(blocks),
        dates=tuple(dates),
        swapped=tuple(swapped),
        year=year,
        date_parts=tuple(parts),
        document=document,
        document_near=tuple(deletion_variants(document)),
        phones=tuple(phones),
        sex=sex_code(record.sex),
        nationality=nationality_code(record.nationality),
    )


def encoded_features(person: EncodedPerson) -> Features:
    words = " ".join(f"{initial}:{bloom}" for initial, bloom in person.words)
    return Features(
        name=f"{words}|{' '.join(person.weak)}|{' '.join(person.initials)}",
        name_key=person.name_key,
        blocks=person.blocks,
        dates=person.dates,
        swapped=person.swapped,
        year=person.year,
        date_parts=person.date_parts,
        document=person.document,
        document_near=person.document_near,
        phones=person.phones,
        sex=person.sex,
        nationality=person.nationality,
    )


# ------------------------------------------------------------------------------------------------ comparing


@dataclass(frozen=True, slots=True)
class NameComparison:
    similarity: float  # 0..1, the mean over the shorter name's words
    weakest: float  # the least similar pair of whole words
    same_length: bool  # both names have as many words (initials counted)


_NO_NAME = NameComparison(0.0, 0.0, False)
# What initials alone can say: enough for "partly similar" in either mode (its thresholds are 0.7 and 0.5), no more.
INITIALS_ONLY = 0.72


def _aligned(
    left: list[tuple[str, object, bool]], right: list[tuple[str, object, bool]], encoded: bool
) -> tuple[float, float]:
    """Both ways round when the names have as many words: the greedy alignment is then the same whichever is asked."""
    if len(left) == len(right):
        return max(_aligned_once(left, right, encoded), _aligned_once(right, left, encoded))
    return _aligned_once(left, right, encoded)


def _aligned_once(
    left: list[tuple[str, object, bool]], right: list[tuple[str, object, bool]], encoded: bool
) -> tuple[float, float]:
    """The words of the shorter name matched one to one to the longer's, whole words first; an initial matches a
    word it begins (0.9). Returns (the mean similarity, capped at 0.6 when no whole word agreed; the weakest whole
    word's similarity)."""
    short, long_ = (left, right) if len(left) <= len(right) else (right, left)
    free = list(long_)
    total, full, weakest = 0.0, 0, 1.0
    for first, body, initial in sorted(short, key=lambda t: t[2]):
        best, best_at = 0.0, -1
        for at, (other_first, other_body, other_initial) in enumerate(free):
            if initial or other_initial:
                sim = 0.9 if first == other_first else 0.0
            elif encoded:
                sim = dice(body, other_body)  # type: ignore[arg-type]
            else:
                sim = _clear_similarity(body, other_body)
            if sim > best:
                best, best_at = sim, at
        if best_at >= 0:
            free.pop(best_at)
            full += int(not initial and best >= 0.7)
        if not initial:
            weakest = min(weakest, best)
        total += best
    score = total / len(short)
    return (score if full else min(score, 0.6)), weakest


def _clear_similarity(a: object, b: object) -> float:
    """Two words in the clear, each (key, as written in Latin letters): the better of the two comparisons."""
    key, plain = cast(tuple[str, str], a)
    other_key, other_plain = cast(tuple[str, str], b)
    return max(word_similarity(key, other_key), plain_similarity(plain, other_plain))


@lru_cache(maxsize=200_000)
def _parsed(name: str, encoded: bool) -> tuple[list[tuple[str, object, bool]], frozenset[str], int]:
    words_text, weak_text, initials_text = name.split("|")
    words: list[tuple[str, object, bool]] = []
    for word in words_text.split():
        if encoded:
            first, bloom = word.split(":", 1)
            words.append((first, filter_bits(bloom), False))
        else:
            key, _, plain = word.partition("~")
            words.append((key[0], (key, plain or key), False))
    n_words = len(words)
    words += [(i, None, True) for i in initials_text.split()]
    return words, frozenset(weak_text.split()), n_words


@lru_cache(maxsize=1_000_000)
def compare_names(a: str, b: str, encoded: bool) -> NameComparison:
    """Two serialised names (see Features.name) compared, the same rules in both modes."""
    left, weak_a, n_a = _parsed(a, encoded)
    right, weak_b, n_b = _parsed(b, encoded)
    if not left or not right:
        return _NO_NAME
    if not n_a or not n_b:  # initials only ("J. S."): at most partly similar, when every initial fits a word
        initials, other, other_weak = (left, right, weak_b) if not n_a else (right, left, weak_a)
        # Singh or Kaur may be an initial ("G. S."); in the clear its letter is known, encoded it is not.
        firsts = [first for first, _, _ in other] + ([w[0] for w in other_weak] if not encoded else [])
        fits = 0
        for first, _, _ in initials:
            if first in firsts:
                firsts.remove(first)
                fits += 1
        return NameComparison(INITIALS_ONLY if fits == len(initials) else 0.0, 0.0, False)
    score, weakest = _aligned(left, right, encoded)
    if min(len(left), len(right)) == 1 and max(len(left), len(right)) > 2:
        score *= 0.85  # one word against a full name
    if weak_a and weak_b and weak_a.isdisjoint(weak_b):
        score *= 0.85  # Singh against Kaur
    return NameComparison(round(score, 4), round(weakest, 4), len(left) == len(right))


def name_similarity_of(a: str, b: str, encoded: bool) -> float:
    """0..1 for two serialised names."""
    return compare_names(a, b, encoded).similarity


def name_level(a: str, b: str, encoded: bool, thresholds: Sequence[float]) -> int:
    return _name_level(a, b, encoded, tuple(thresholds))


@lru_cache(maxsize=2_000_000)
def _name_level(a: str, b: str, encoded: bool, thresholds: tuple[float, ...]) -> int:
    """The level index (0 best) of two names: the same; very similar (as many words, each close); one within the
    other (every word of the shorter close to one of the longer's: a surname or a middle name left out); similar;
    partly similar; different. `thresholds` are the similarities of the same, very similar, similar and partly
    similar levels."""
    same, very, similar, partly = thresholds
    found = compare_names(a, b, encoded)
    if found.same_length and found.similarity >= same:
        return 0
    if found.same_length and found.similarity >= very and found.weakest >= similar:
        return 1
    if not found.same_length and found.similarity >= very and found.weakest >= similar:
        return 2
    if found.similarity >= similar:
        return 3
    if found.similarity >= partly:
        return 4
    return 5


def date_level(a: Features, b: Features) -> int | None:
    """0 same date, 1 day and month exchanged, 2 same year with a year alone on one side, 3 two of year, month and
    day agree, 4 different; None when either has no date."""
    if not a.year or not b.year:
        return None
    if set(a.dates) & set(b.dates):
        return 0
    if set(a.dates) & set(b.swapped):
        return 1
    if (not a.dates or not b.dates) and a.year == b.year:
        return 2
    if set(a.date_parts) & set(b.date_parts):
        return 3
    return 4


DATE_DIFFERENT = 4  # the date-of-birth level "different": not a swap, a typo or a year alone


def contradicted(observed: dict[str, int | None]) -> bool:
    """Two records whose dates of birth differ outright are two persons, however alike their names, unless a
    document number or a phone says otherwise: the same name is common (Gurpreet Singh), a different date is not a
    slip."""
    return observed["date_of_birth"] == DATE_DIFFERENT and observed["document"] not in (0, 1) and observed["phone"] != 0


def document_level(a: Features, b: Features) -> int | None:
    """0 the same number, 1 one typing slip apart, 2 different; None when either has none."""
    if not a.document or not b.document:
        return None
    if a.document == b.document:
        return 0
    return 1 if set(a.document_near) & set(b.document_near) else 2


def _exact(a: str, b: str) -> int | None:
    if not a or not b:
        return None
    return 0 if a == b else 1


def levels(a: Features, b: Features, mode: Mode, model: MatchModel) -> dict[str, int | None]:
    encoded = mode is Mode.ENCODED
    return {
        "name": name_level(a.name, b.name, encoded, model.of(mode).name_thresholds),
        "date_of_birth": date_level(a, b),
        "document": document_level(a, b),
        "phone": None if not a.phones or not b.phones else (0 if set(a.phones) & set(b.phones) else 1),
        "sex": _exact(a.sex, b.sex),
        "nationality": _exact(a.nationality, b.nationality),
    }


def level_weight(model: MatchModel, mode: Mode, field: str, level: int) -> float:
    spec = model.of(mode).fields[field]
    return math.log2(spec.m[level] / spec.u[level])


def prior(model: MatchModel, larger_side: int, overlap: float | None = None) -> float:
    """The probability that a pair is the same person before comparing it: one of the larger side's records is."""
    return min(0.5, (model.overlap if overlap is None else overlap) / max(1, larger_side))


def prior_weight(model: MatchModel, larger_side: int, overlap: float | None = None) -> float:
    chance = prior(model, larger_side, overlap)
    return math.log2(chance / (1 - chance))


def weight_of(probability: float) -> float:
    """A match probability as a match weight (log2 odds)."""
    return math.log2(probability / (1 - probability))


def probability(weight: float) -> float:
    return 1.0 / (1.0 + 2.0 ** (-weight)) if weight > -60 else 0.0


def hit_weight(model: MatchModel) -> float:
    """The threshold as a match weight (log2 odds), prior included."""
    return math.log2(model.hit / (1 - model.hit))
