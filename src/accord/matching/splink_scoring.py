"""The match model run by Splink on DuckDB: the features as two tables, blocking on their block keys (exploded),
each field's comparison levels in SQL (names through the engine's own comparison, registered as a DuckDB function),
the shipped m and u probabilities fixed. The same settings run on Splink's Spark backend (docs/matching.md)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from accord.matching.link import ScoredPair, assess, usable_blocks
from accord.matching.model import (
    FIELDS,
    NAME_PRIOR_RECORDS,
    Features,
    MatchModel,
    Mode,
    hit_weight,
    name_frequencies,
    name_level,
    prior,
)

# SQL conditions of each field's levels, best first, on Splink's `<column>_l` / `<column>_r`; NULL is no evidence.
_NULL: dict[str, str] = {
    "name": "name_l IS NULL OR name_r IS NULL",
    "date_of_birth": "year_l IS NULL OR year_r IS NULL",
    "document": "document_l IS NULL OR document_r IS NULL",
    "phone": "len(phones_l) = 0 OR len(phones_r) = 0",
    "sex": "sex_l IS NULL OR sex_r IS NULL",
    "nationality": "nationality_l IS NULL OR nationality_r IS NULL",
}
_LEVELS: dict[str, list[str]] = {
    "date_of_birth": [
        "len(list_intersect(dates_l, dates_r)) > 0",
        "len(list_intersect(dates_l, swapped_r)) > 0",
        "(len(dates_l) = 0 OR len(dates_r) = 0) AND year_l = year_r",
        "len(list_intersect(date_parts_l, date_parts_r)) > 0",
    ],
    "document": ["document_l = document_r", "len(list_intersect(document_near_l, document_near_r)) > 0"],
    "phone": ["len(list_intersect(phones_l, phones_r)) > 0"],
    "sex": ["sex_l = sex_r"],
    "nationality": ["nationality_l = nationality_r"],
}


def _frame(features: Sequence[Features], usable: set[str]) -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "unique_id": range(len(features)),
            "name": [f.name for f in features],
            "blocks": [[b for b in f.blocks if b in usable] for f in features],
            "dates": [list(f.dates) for f in features],
            "swapped": [list(f.swapped) for f in features],
            "year": [f.year or None for f in features],
            "date_parts": [list(f.date_parts) for f in features],
            "document": [f.document or None for f in features],
            "document_near": [list(f.document_near) for f in features],
            "phones": [list(f.phones) for f in features],
            "sex": [f.sex or None for f in features],
            "nationality": [f.nationality or None for f in features],
        }
    )


def _comparison(field: str, model: MatchModel, mode: Mode) -> Any:
    import splink.comparison_level_library as cll
    from splink import comparison_library as cl

    spec = model.of(mode).fields[field]
    if field == "name":
        n = len(spec.levels) - 1
        conditions = [f"accord_name_level(name_l, name_r) = {level}" for level in range(n)]
    else:
        conditions = _LEVELS[field]
    levels: list[Any] = [cll.CustomLevel(_NULL[field]).configure(is_null_level=True)]
    for at, condition in enumerate(conditions):
        levels.append(
            cll.CustomLevel(condition, label_for_charts=spec.levels[at]).configure(
                m_probability=spec.m[at], u_probability=spec.u[at]
            )
        )
    levels.append(cll.ElseLevel().configure(m_probability=spec.m[-1], u_probability=spec.u[-1]))
    return cl.CustomComparison(output_column_name=field, comparison_levels=levels)


def score_with_splink(
    left: Sequence[Features],
    right: Sequence[Features],
    mode: Mode,
    model: MatchModel,
    *,
    threshold: float | None = None,
) -> list[ScoredPair]:
    """Every blocked pair at or above `threshold` (a match weight; the hit threshold unless given), as Splink's
    DuckDB backend predicts it."""
    import duckdb
    import pyarrow as pa
    from duckdb import func
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    if not left or not right:
        return []
    usable = usable_blocks(left, right)
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")  # the command draws its own
    encoded = mode is Mode.ENCODED
    thresholds = model.of(mode).name_thresholds

    def accord_name_level(a: Any, b: Any) -> Any:
        """Vectorised (Arrow batches): DuckDB asks once per level condition, the answer is cached per pair."""
        return pa.array(
            [name_level(x, y, encoded, thresholds) for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True)],
            type=pa.int32(),
        )

    connection.create_function(
        "accord_name_level", accord_name_level, ["VARCHAR", "VARCHAR"], "INTEGER", type=func.ARROW, side_effects=False
    )
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior(model, max(len(left), len(right))),
        blocking_rules_to_generate_predictions=[block_on("blocks", arrays_to_explode=["blocks"])],
        comparisons=[_comparison(field, model, mode) for field in FIELDS],
        retain_intermediate_calculation_columns=False,  # levels are read again below, for the kept pairs only
        retain_matching_columns=False,
    )
    linker = Linker(
        [_frame(left, usable), _frame(right, usable)],
        settings,
        db_api=DuckDBAPI(connection=connection),
        input_table_aliases=["records_left", "records_right"],
    )
    logging.getLogger("splink").setLevel(logging.WARNING)  # its timings are not the analyst's business
    floor = hit_weight(model) if threshold is None else threshold
    frequencies = name_frequencies(left, right)
    # A rare name's adjustment (added below) can lift a pair over the floor: Splink keeps what it might lift.
    average = model.of(mode).fields["name"].u[0]
    rarest = NAME_PRIOR_RECORDS * average / (frequencies.records + NAME_PRIOR_RECORDS)
    lift = max(0.0, math.log2(average / rarest))
    found = linker.inference.predict(threshold_match_weight=floor - lift).as_pandas_dataframe()  # type: ignore[no-untyped-call]
    scored = []
    larger = max(len(left), len(right))
    for row in found.itertuples(index=False):
        values = row._asdict()
        i, j = int(values["unique_id_l"]), int(values["unique_id_r"])
        if values["source_dataset_l"] != "records_left":
            i, j = j, i
        assessed = assess(model, mode, left[i], right[j], frequencies, larger)
        if assessed is None:
            continue
        # Splink's weight, and the term-frequency adjustment of an exact name on its own frequency in the two files.
        _, bits, parts = assessed
        weight = float(values["match_weight"]) + bits
        if weight >= floor:
            scored.append(ScoredPair(i, j, weight, parts))
    connection.close()
    return scored
