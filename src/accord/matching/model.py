"""The match model: each record as comparison features (in the clear, or its encodings), the comparison levels of a
pair, and the Fellegi-Sunter weights and thresholds shipped in data/matching/model.yaml."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache

from pydantic import BaseModel, ConfigDict

from accord.datafiles import load
from accord.matching.encode import EncodedPerson, date_features, dice, filter_bits
from accord.matching.normalise import (
    alnum_key,
    block_keys,
    canonical_dates,
    name_tokens,
    phone_keys,
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
    hit: float  # match probability at or above which a pair is a hit
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
    phones: tuple[str, ...]
    sex: str
    nationality: str


def raw_features(record: PersonRecord) -> Features:
    tokens = name_tokens(record.name)
    strong = tokens.strong or tokens.weak
    dates, swapped, year, parts = date_features(read_birth_date(record.date_of_birth))
    document = alnum_key(record.document_number)
    phones = sorted(phone_keys(record.phone))
    blocks = block_keys(strong, tokens.initials, canonical_dates(dates), year)
    blocks += [f"p:{p}" for p in phones] + ([f"doc:{document}"] if document else [])
    weak = tokens.weak if tokens.strong else ()
    return Features(
        name=f"{' '.join(strong)}|{' '.join(weak)}|{' '.join(tokens.initials)}",
        blocks=tuple(blocks),
        dates=tuple(dates),
        swapped=tuple(swapped),
        year=year,
        date_parts=tuple(parts),
        document=document,
        phones=tuple(phones),
        sex=sex_code(record.sex),
        nationality=nationality_code(record.nationality),
    )


def encoded_features(person: EncodedPerson) -> Features:
    words = " ".join(f"{initial}:{bloom}" for initial, bloom in person.words)
    return Features(
        name=f"{words}|{' '.join(person.weak)}|{' '.join(person.initials)}",
        blocks=person.blocks,
        dates=person.dates,
        swapped=person.swapped,
        year=person.year,
        date_parts=person.date_parts,
        document=person.document,
        phones=person.phones,
        sex=person.sex,
        nationality=person.nationality,
    )


# ------------------------------------------------------------------------------------------------ comparing


def _aligned(left: list[tuple[str, object, bool]], right: list[tuple[str, object, bool]], encoded: bool) -> float:
    """Both ways round when the names have as many words: the greedy alignment is then the same whichever is asked."""
    if len(left) == len(right):
        return max(_aligned_once(left, right, encoded), _aligned_once(right, left, encoded))
    return _aligned_once(left, right, encoded)


def _aligned_once(left: list[tuple[str, object, bool]], right: list[tuple[str, object, bool]], encoded: bool) -> float:
    """The words of the shorter name matched one to one to the longer's, whole words first; an initial matches a
    word it begins (0.9). Returns the mean similarity, capped at 0.6 when no whole word agreed."""
    short, long_ = (left, right) if len(left) <= len(right) else (right, left)
    free = list(long_)
    total, full = 0.0, 0
    for first, body, initial in sorted(short, key=lambda t: t[2]):
        best, best_at = 0.0, -1
        for at, (other_first, other_body, other_initial) in enumerate(free):
            if initial or other_initial:
                sim = 0.9 if first == other_first else 0.0
            elif encoded:
                sim = dice(body, other_body)  # type: ignore[arg-type]
            else:
                sim = word_similarity(str(body), str(other_body))
            if sim > best:
                best, best_at = sim, at
        if best_at >= 0:
            free.pop(best_at)
            full += int(not initial and best >= 0.7)
        total += best
    score = total / len(short)
    return score if full else min(score, 0.6)


@lru_cache(maxsize=200_000)
def _parsed(name: str, encoded: bool) -> tuple[list[tuple[str, object, bool]], frozenset[str], int]:
    words_text, weak_text, initials_text = name.split("|")
    words: list[tuple[str, object, bool]] = []
    for word in words_text.split():
        if encoded:
            first, bloom = word.split(":", 1)
            words.append((first, filter_bits(bloom), False))
        else:
            words.append((word[0], word, False))
    n_words = len(words)
    words += [(i, None, True) for i in initials_text.split()]
    return words, frozenset(weak_text.split()), n_words


@lru_cache(maxsize=1_000_000)
def name_similarity_of(a: str, b: str, encoded: bool) -> float:
    """0..1 for two serialised names (see Features.name), the same rules in both modes."""
    left, weak_a, n_a = _parsed(a, encoded)
    right, weak_b, n_b = _parsed(b, encoded)
    if not n_a or not n_b:
        return 0.0
    score = _aligned(left, right, encoded)
    if min(len(left), len(right)) == 1 and max(len(left), len(right)) > 2:
        score *= 0.85  # one word against a full name
    if weak_a and weak_b and weak_a.isdisjoint(weak_b):
        score *= 0.85  # Singh against Kaur
    return round(score, 4)


def name_level(a: str, b: str, encoded: bool, thresholds: Sequence[float]) -> int:
    """The level index (0 best) of two names' similarity; len(thresholds) when below every threshold."""
    sim = name_similarity_of(a, b, encoded)
    for level, threshold in enumerate(thresholds):
        if sim >= threshold:
            return level
    return len(thresholds)


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


def _exact(a: str, b: str) -> int | None:
    if not a or not b:
        return None
    return 0 if a == b else 1


def levels(a: Features, b: Features, mode: Mode, model: MatchModel) -> dict[str, int | None]:
    encoded = mode is Mode.ENCODED
    return {
        "name": name_level(a.name, b.name, encoded, model.of(mode).name_thresholds),
        "date_of_birth": date_level(a, b),
        "document": _exact(a.document, b.document),
        "phone": None if not a.phones or not b.phones else (0 if set(a.phones) & set(b.phones) else 1),
        "sex": _exact(a.sex, b.sex),
        "nationality": _exact(a.nationality, b.nationality),
    }


def level_weight(model: MatchModel, mode: Mode, field: str, level: int) -> float:
    spec = model.of(mode).fields[field]
    return math.log2(spec.m[level] / spec.u[level])


def prior(model: MatchModel, larger_side: int) -> float:
    """The probability that a pair is the same person before comparing it: one of the larger side's records is."""
    return min(0.5, model.overlap / max(1, larger_side))


def prior_weight(model: MatchModel, larger_side: int) -> float:
    chance = prior(model, larger_side)
    return math.log2(chance / (1 - chance))


def probability(weight: float) -> float:
    return 1.0 / (1.0 + 2.0 ** (-weight)) if weight > -60 else 0.0


def hit_weight(model: MatchModel) -> float:
    """The threshold as a match weight (log2 odds), prior included."""
    return math.log2(model.hit / (1 - model.hit))
