"""Pure rules of the work plan: the status workflow, changes to a document, reporting periods, percentiles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.datafiles import load_agreement
from accord.domain.workplan import ActionStatus, ItemKind, apply_changes, transition_error
from accord.errors import InvalidInput
from accord.workplan.indicators import median, percentile_nearest_rank
from accord.workplan.periods import parse_period


def test_the_workflow_allows_starting_and_finishing_but_not_jumping_or_reopening() -> None:
    assert transition_error(ActionStatus.PLANNED, ActionStatus.IN_PROGRESS) is None
    assert transition_error(ActionStatus.IN_PROGRESS, ActionStatus.DONE) is None
    assert transition_error(ActionStatus.BLOCKED, ActionStatus.IN_PROGRESS) is None
    jump = transition_error(ActionStatus.PLANNED, ActionStatus.DONE)
    assert jump is not None and "in_progress" in jump
    final = transition_error(ActionStatus.DONE, ActionStatus.IN_PROGRESS)
    assert final is not None and "final" in final


def test_a_change_keeps_the_document_valid_and_names_unknown_fields() -> None:
    agreement = load_agreement()
    kind, _, doc = next(item for item in agreement.work_plan.items() if item[0] is ItemKind.ACTION)
    current = doc.model_dump(mode="json")
    changed = apply_changes(kind, current, {"status": "in_progress"})
    assert changed["status"] == "in_progress" and changed["title"] == current["title"]
    with pytest.raises(ValueError, match="colour"):
        apply_changes(kind, current, {"colour": "red"})
    with pytest.raises(ValueError):
        apply_changes(kind, current, {"due": "not a date"})
    with pytest.raises(ValueError):
        apply_changes(ItemKind.ACTION, None, {"title": "no leads, no due date"})


def test_the_default_plan_follows_the_agreement() -> None:
    agreement = load_agreement()
    objectives = {o.code for o in agreement.work_plan.objectives}
    for kind, _, doc in agreement.work_plan.items():
        assert agreement.plan_violations(kind, doc.model_dump(mode="json"), objectives) == []
    focus = {o.focus_area for o in agreement.work_plan.objectives}
    assert {"drugs", "networks", "cyber", "fraud", "immigration", None} == focus


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-Q4", datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-q1", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
        ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-10-05..2026-10-05", datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 10, 6, tzinfo=UTC)),
    ],
)
def test_periods_parse_to_half_open_utc_ranges(text: str, start: datetime, end: datetime) -> None:
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    "text",
    ["2026-Q5", "2026-13", "Q4", "2026-10-31..2026-10-01", "2026-02-30..2026-03-01", "", "1000-01-01..2026-12-31"],
)
def test_bad_periods_are_refused_with_a_clear_message(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_period(text)
    assert "period" in raised.value.detail


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=200))
def test_the_90th_percentile_is_the_nearest_rank(values: list[float]) -> None:
    p90 = percentile_nearest_rank(values, 90)
    middle = median(values)
    assert p90 is not None and middle is not None and p90 in values
    # The smallest value with at least 90 % of the values at or below it.
    assert sum(v <= p90 for v in values) >= 0.9 * len(values) > sum(v < p90 for v in values)
    assert min(values) <= middle <= max(values)
