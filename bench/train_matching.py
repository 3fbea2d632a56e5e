"""Train the shipped match model (src/accord/data/matching/model.yaml) on generated Canada–India pairs of seed 1
(the benchmark evaluates on seed 2026 and on FEBRL4, never seen here): for each field and level, m is its share among
the true pairs and u its share among random pairs of different persons (add-one smoothing); `overlap` is the share
of the smaller side found in the other (the prior of a pair is overlap / the larger side's size).
The thresholds are fixed in advance (hit at match probability 0.9, Splink's usual).

    .venv/bin/python bench/train_matching.py [--write]"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from accord.matching.encode import MatchingKey, encode_person
from accord.matching.link import candidate_pairs, explain
from accord.matching.model import (
    FIELDS,
    Features,
    MatchModel,
    Mode,
    encoded_features,
    levels,
    prior_weight,
    raw_features,
    shipped_model,
)
from people import generate

SEED, PERSONS = 1, 6000
RANDOM_PAIRS = 1_000_000
MODEL = Path(__file__).parents[1] / "src/accord/data/matching/model.yaml"


def train(mode: Mode) -> dict[str, tuple[list[float], list[float]]]:
    left, right, truth = generate(SEED, PERSONS)
    if mode is Mode.RAW:
        lf, rf = [raw_features(r) for r in left], [raw_features(r) for r in right]
    else:
        key = MatchingKey.generate("training")
        lf = [encoded_features(encode_person(r, key)) for r in left]
        rf = [encoded_features(encode_person(r, key)) for r in right]
    model = shipped_model()
    counts = {f: (Counter[int](), Counter[int]()) for f in FIELDS}
    at_left = {r.id: i for i, r in enumerate(left)}
    at_right = {r.id: j for j, r in enumerate(right)}
    rng = random.Random(SEED)
    true_pairs = [(at_left[a], at_right[b]) for a, b in sorted(truth)]
    random_pairs = [(rng.randrange(len(left)), rng.randrange(len(right))) for _ in range(RANDOM_PAIRS)]
    for same, pairs in ((True, true_pairs), (False, random_pairs)):
        for i, j in pairs:
            if not same and (left[i].id, right[j].id) in truth:
                continue
            for field, level in levels(lf[i], rf[j], mode, model).items():
                if level is not None:
                    counts[field][0 if same else 1][level] += 1
    blocked = set(candidate_pairs(lf, rf))
    recall = sum(p in blocked for p in true_pairs) / len(true_pairs)
    print(f"{mode}: {len(blocked)} blocked pairs, blocking recall {recall:.4f}", file=sys.stderr)
    found = {}
    for field in FIELDS:
        n = len(model.of(mode).fields[field].levels)
        m_counts, u_counts = counts[field]
        m = [(m_counts[k] + 1) / (sum(m_counts.values()) + n) for k in range(n)]
        u = [(u_counts[k] + 1) / (sum(u_counts.values()) + n) for k in range(n)]
        found[field] = ([round(x, 6) for x in m], [round(x, 6) for x in u])
    found["_prior"] = ([round(len(truth) / min(len(left), len(right)), 4)], [])
    found["_sure"] = ([round(_sure_share(model, mode, found, lf, rf, true_pairs), 4)], [])
    return found


def _sure_share(
    model: MatchModel,
    mode: Mode,
    found: dict[str, tuple[list[float], list[float]]],
    lf: list[Features],
    rf: list[Features],
    true_pairs: list[tuple[int, int]],
) -> float:
    """The share of true pairs with the model's `sure_bits` of evidence or more, under the weights just trained."""
    spec = model.of(mode)
    fields = {f: spec.fields[f].model_copy(update={"m": found[f][0], "u": found[f][1]}) for f in FIELDS}
    trained = model.model_copy(
        update={mode.value: spec.model_copy(update={"fields": fields}), "overlap": found["_prior"][0][0]}
    )
    larger = max(len(lf), len(rf))
    sure = trained.sure_bits + prior_weight(trained, larger)
    weights = [explain(trained, mode, levels(lf[i], rf[j], mode, trained), larger)[0] for i, j in true_pairs]
    return sum(1 for w in weights if w >= sure) / len(weights)


class _Plain(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="write the model file")
    args = parser.parse_args()
    data = yaml.safe_load(MODEL.read_text(encoding="utf-8"))
    text = MODEL.read_text(encoding="utf-8")
    header = text[: text.index("trained:")]
    for mode in (Mode.RAW, Mode.ENCODED):
        trained = train(mode)
        fields = data[mode.value]["fields"] = {k: dict(v) for k, v in data[mode.value]["fields"].items()}
        for field in FIELDS:
            fields[field]["m"], fields[field]["u"] = trained[field]
        if mode is Mode.RAW:
            data["overlap"] = trained["_prior"][0][0]
            data["sure_recall"] = trained["_sure"][0][0]
    data["trained"] = f"bench/train_matching.py: generated Canada–India pairs, seed {SEED}, {PERSONS} persons"
    out = header + yaml.dump(
        data, Dumper=_Plain, allow_unicode=True, sort_keys=False, width=120, default_flow_style=None
    )
    if args.write:
        MODEL.write_text(out, encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()
