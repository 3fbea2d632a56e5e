"""Linking person records: pairs that share a block key are scored with the shipped match model — by Splink on
DuckDB for batches, by the same weights in Python for a node's small queries — and explained field by field; one to
one for two files, every hit for a query."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from accord.errors import InvalidInput
from accord.i18n import _
from accord.matching.encode import EncodedPerson, MatchingKey, check_same_key, encode_person
from accord.matching.model import (
    FIELDS,
    Features,
    MatchModel,
    Mode,
    NameFrequencies,
    contradicted,
    encoded_features,
    frequency_bits,
    hit_weight,
    level_weight,
    levels,
    name_frequencies,
    prior_weight,
    probability,
    raw_features,
    shipped_model,
    weight_of,
)
from accord.matching.records import PersonRecord

MAX_BLOCK_PAIRS = 20_000  # a block key making more pairs than this is too common to block on (a frequent name)
Progress = Callable[[str, int, int], None]


class ScoreBand(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class FieldAgreement:
    field: str
    level: str  # e.g. "same", "day and month exchanged"
    weight: float  # log2(m/u): positive for the same person, negative against


@dataclass(frozen=True, slots=True)
class Candidate:
    query_index: int
    holding_index: int
    score: float  # match probability
    band: ScoreBand
    agreements: tuple[FieldAgreement, ...]


@dataclass(frozen=True, slots=True)
class Pair:
    left_id: str
    right_id: str
    score: float
    agreements: tuple[FieldAgreement, ...]


@dataclass(frozen=True, slots=True)
class ScoredPair:
    left: int
    right: int
    weight: float
    agreements: tuple[FieldAgreement, ...]

    @property
    def probability(self) -> float:
        return probability(self.weight)


def band_of(score: float, model: MatchModel) -> ScoreBand:
    if score >= model.high:
        return ScoreBand.HIGH
    if score >= model.medium:
        return ScoreBand.MEDIUM
    return ScoreBand.LOW


def explain(
    model: MatchModel, mode: Mode, found: dict[str, int | None], larger_side: int, name_bits: float = 0.0
) -> tuple[float, tuple[FieldAgreement, ...]]:
    """The pair's match weight and each field's part in it (fields missing on either side say nothing); `name_bits`
    is the name's term-frequency adjustment (see model.frequency_bits)."""
    weight = prior_weight(model, larger_side)
    parts = []
    spec = model.of(mode).fields
    for field in FIELDS:
        level = found[field]
        if level is None:
            continue
        part = level_weight(model, mode, field, level) + (name_bits if field == "name" else 0.0)
        weight += part
        parts.append(FieldAgreement(field, spec[field].levels[level], round(part, 2)))
    return weight, tuple(parts)


def candidate_pairs(
    left: Sequence[Features], right: Sequence[Features], *, same_side: bool = False
) -> list[tuple[int, int]]:
    """Every (left, right) pair sharing a block key that is not too common; `same_side` for one holding with
    itself (each pair once, no record with itself)."""
    index: dict[str, list[int]] = defaultdict(list)
    for j, features in enumerate(right):
        for key in features.blocks:
            index[key].append(j)
    counts: dict[str, int] = defaultdict(int)
    for features in left:
        for key in features.blocks:
            counts[key] += 1
    usable = {k for k, members in index.items() if counts.get(k, 0) * len(members) <= MAX_BLOCK_PAIRS}
    pairs: set[tuple[int, int]] = set()
    for i, features in enumerate(left):
        for key in features.blocks:
            if key in usable:
                pairs.update((i, j) for j in index[key] if not same_side or j > i)
    return sorted(pairs)


def usable_blocks(left: Sequence[Features], right: Sequence[Features]) -> set[str]:
    counts_l: dict[str, int] = defaultdict(int)
    counts_r: dict[str, int] = defaultdict(int)
    for features in left:
        for key in features.blocks:
            counts_l[key] += 1
    for features in right:
        for key in features.blocks:
            counts_r[key] += 1
    return {k for k, n in counts_l.items() if k in counts_r and n * counts_r[k] <= MAX_BLOCK_PAIRS}


def score_in_python(
    left: Sequence[Features],
    right: Sequence[Features],
    mode: Mode,
    model: MatchModel,
    *,
    same_side: bool = False,
    threshold: float | None = None,
) -> list[ScoredPair]:
    """Blocked pairs scored with the model's weights, those at or above `threshold` (a match weight) kept."""
    floor = hit_weight(model) if threshold is None else threshold
    frequencies = name_frequencies(left) if same_side else name_frequencies(left, right)
    found = []
    for i, j in candidate_pairs(left, right, same_side=same_side):
        assessed = assess(model, mode, left[i], right[j], frequencies, max(len(left), len(right)))
        if assessed is not None and assessed[0] >= floor:
            found.append(ScoredPair(i, j, assessed[0], assessed[2]))
    return found


def assess(
    model: MatchModel, mode: Mode, a: Features, b: Features, frequencies: NameFrequencies, larger_side: int
) -> tuple[float, float, tuple[FieldAgreement, ...]] | None:
    """A pair as both scoring paths judge it: None when its dates of birth set the two apart (`contradicted`), else
    (its match weight, the name's term-frequency part of it, each field's part)."""
    observed = levels(a, b, mode, model)
    if contradicted(observed):
        return None
    bits = frequency_bits(model, mode, a, b, observed["name"], frequencies)
    weight, parts = explain(model, mode, observed, larger_side, bits)
    return weight, bits, parts


U_SAMPLE = 100_000  # random pairs whose levels estimate how often different persons agree by chance
U_PRIOR_PAIRS = 10_000  # the shipped u counts as this many pairs: a small holding leans on it, a large one on itself


def calibrated(
    model: MatchModel, mode: Mode, left: Sequence[Features], right: Sequence[Features], *, same_side: bool = False
) -> MatchModel:
    """The model with each field's u re-estimated on random pairs of these records (Splink's u by random sampling),
    blended with the shipped u: how often two different persons agree on a name or a date depends on who is in the
    files (a thousand Gurpreet Singhs, or FEBRL's varied English names). The sample is seeded: the same files give
    the same weights."""
    if not left or not right or (same_side and len(left) < 2):
        return model
    rng = random.Random(len(left) * 1_000_003 + len(right))
    total = len(left) * len(right)
    if total <= U_SAMPLE:
        pairs = [(i, j) for i in range(len(left)) for j in range(len(right))]
    else:
        pairs = [(rng.randrange(len(left)), rng.randrange(len(right))) for _ in range(U_SAMPLE)]
    counts: dict[str, Counter[int]] = {field: Counter() for field in FIELDS}
    for i, j in pairs:
        if same_side and i == j:
            continue
        for field, level in levels(left[i], right[j], mode, model).items():
            if level is not None:
                counts[field][level] += 1
    spec = model.of(mode)
    fields = {}
    for field, field_model in spec.fields.items():
        seen = sum(counts[field].values())
        u = [
            (counts[field][level] + U_PRIOR_PAIRS * shipped) / (seen + U_PRIOR_PAIRS)
            for level, shipped in enumerate(field_model.u)
        ]
        fields[field] = field_model.model_copy(update={"u": u})
    tuned = spec.model_copy(update={"fields": fields})
    return model.model_copy(update={mode.value: tuned})


def one_to_one(scored: Sequence[ScoredPair]) -> list[ScoredPair]:
    """Greedy assignment, best weight first: each record in at most one pair."""
    taken_left: set[int] = set()
    taken_right: set[int] = set()
    kept = []
    for pair in sorted(scored, key=lambda p: (-p.weight, p.left, p.right)):
        if pair.left in taken_left or pair.right in taken_right:
            continue
        taken_left.add(pair.left)
        taken_right.add(pair.right)
        kept.append(pair)
    return kept


def _key_of(people: Sequence[EncodedPerson], side: str) -> str | None:
    ids = {p.key_id for p in people}
    if len(ids) > 1:
        raise InvalidInput(
            _("the {side} are encoded with several keys ({join}); use one key").format(
                side=side, join=", ".join(sorted(ids))
            )
        )
    return next(iter(ids), None)


def match_encoded(queries: Sequence[EncodedPerson], holdings: Sequence[EncodedPerson]) -> list[Candidate]:
    """Every (query, holding) pair that is a hit under the shipped model, best first per query; KeyMismatch when the
    two sides were encoded with different keys."""
    query_key, holding_key = _key_of(queries, "queries"), _key_of(holdings, "holdings")
    if query_key is not None and holding_key is not None:
        check_same_key(query_key, holding_key)
    held = [encoded_features(h) for h in holdings]
    # Chance agreement is the holding's own: its persons against each other.
    model = calibrated(shipped_model(), Mode.ENCODED, held, held, same_side=True)
    scored = score_in_python([encoded_features(q) for q in queries], held, Mode.ENCODED, model)
    scored.sort(key=lambda p: (p.left, -p.weight, p.right))
    return [
        Candidate(p.left, p.right, round(p.probability, 6), band_of(p.probability, model), p.agreements) for p in scored
    ]


def link_people(
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord],
    *,
    key: MatchingKey | None = None,
    progress: Progress | None = None,
) -> list[Pair]:
    """The pairs decided to be the same person, one to one, best first; with `key`, both sides are encoded with it
    and only the encodings are compared (the privacy-preserving mode)."""
    from accord.matching.splink_scoring import score_with_splink

    report = progress or (lambda stage, done, total: None)
    model = shipped_model()
    mode = Mode.RAW if key is None else Mode.ENCODED
    left_features = _features(left, key, "left", report)
    right_features = _features(right, key, "right", report)
    report("scoring", 0, 1)
    model = calibrated(model, mode, left_features, right_features)
    larger = max(len(left), len(right))
    # Scored under the shipped prior, low enough that any prior the files may turn out to have keeps every pair
    # that could be linked; the prior only shifts every weight by the same amount.
    floor = weight_of(model.link) - (prior_weight(model, larger, 1.0) - prior_weight(model, larger, MIN_OVERLAP))
    kept = one_to_one(score_with_splink(left_features, right_features, mode, model, threshold=floor))
    shift = prior_weight(
        model, larger, estimated_overlap(model, kept, larger, min(len(left), len(right)))
    ) - prior_weight(model, larger)
    report("scoring", 1, 1)
    linked = [p for p in kept if p.weight + shift >= weight_of(model.link)]
    return [
        Pair(left[p.left].id, right[p.right].id, round(probability(p.weight + shift), 6), p.agreements) for p in linked
    ]


MIN_OVERLAP = 0.01
OVERLAP_PRIOR_RECORDS = 20


def estimated_overlap(model: MatchModel, kept: Sequence[ScoredPair], larger_side: int, smaller_side: int) -> float:
    """The share of the smaller file that is in the other, estimated as Splink estimates the chance two random
    records match: the sure pairs (evidence of `sure_bits` or more, whatever the prior), divided by the share of true
    pairs that are sure (trained, `sure_recall`)."""
    if smaller_side == 0:
        return model.overlap
    sure = model.sure_bits + prior_weight(model, larger_side)
    found = sum(1 for p in kept if p.weight >= sure) / model.sure_recall
    # A few records say little about the overlap: the estimate leans on the shipped one until the files are larger.
    estimate = (found + OVERLAP_PRIOR_RECORDS * model.overlap) / (smaller_side + OVERLAP_PRIOR_RECORDS)
    return min(1.0, max(MIN_OVERLAP, estimate))


def _features(records: Sequence[PersonRecord], key: MatchingKey | None, side: str, report: Progress) -> list[Features]:
    found = []
    total = len(records)
    stage = f"{'encoding' if key is not None else 'reading'} {side}"
    for n, record in enumerate(records, start=1):
        found.append(raw_features(record) if key is None else encoded_features(encode_person(record, key)))
        if n % 1000 == 0 or n == total:
            report(stage, n, total)
    return found


def find_duplicates(records: Sequence[PersonRecord]) -> list[Pair]:
    """Pairs of records within one holding that are a hit (raw mode), best first; not one to one."""
    features = [raw_features(r) for r in records]
    model = calibrated(shipped_model(), Mode.RAW, features, features, same_side=True)
    scored = score_in_python(features, features, Mode.RAW, model, same_side=True)
    scored.sort(key=lambda p: (-p.weight, p.left, p.right))
    return [Pair(records[p.left].id, records[p.right].id, round(p.probability, 6), p.agreements) for p in scored]
