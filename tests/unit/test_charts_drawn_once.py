"""A chart is drawn once for the same data, title and language (a report printed as HTML, then as PDF), and drawn
again when any of the three changes: never another language's words or another period's bars."""

from __future__ import annotations

from typing import Any

import pytest

from accord.i18n import Language, language_scope
from accord.reports import charts

WEEKS = [{"week": "2026-11-16", "request": 3, "share": 1}, {"week": "2026-11-23", "alert": 2}]


@pytest.fixture
def drawings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The titles of the charts matplotlib actually drew."""
    drawn: list[str] = []
    real = charts._data_uri

    def counted(figure: Any) -> str:
        drawn.append(figure.axes[0].get_title(loc="left"))
        return real(figure)

    monkeypatch.setattr(charts, "_data_uri", counted)
    charts._DRAWN.clear()
    return drawn


def test_the_same_chart_asked_for_again_is_the_same_file_drawn_once(drawings: list[str]) -> None:
    first = charts.weekly_volume_chart(WEEKS, "Weekly volume")
    again = charts.weekly_volume_chart([dict(week) for week in WEEKS], "Weekly volume")
    assert again == first
    assert drawings == ["Weekly volume"]


def test_other_data_another_title_or_another_language_is_drawn_anew(drawings: list[str]) -> None:
    english = charts.weekly_volume_chart(WEEKS, "Weekly volume")
    more = charts.weekly_volume_chart([*WEEKS, {"week": "2026-11-30", "request": 9}], "Weekly volume")
    retitled = charts.weekly_volume_chart(WEEKS, "Volume")
    with language_scope(Language.FR):
        french = charts.weekly_volume_chart(WEEKS, "Weekly volume")
    assert len({english, more, retitled, french}) == 4
    assert drawings == ["Weekly volume", "Weekly volume", "Volume", "Weekly volume"]


def test_only_the_charts_last_drawn_are_kept(drawings: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "_DRAWN_KEPT", 3)
    for n in range(4):
        charts.response_time_chart({"urgent": [float(n + 1)]}, f"chart {n}")
    assert len(charts._DRAWN) == 3
    charts.response_time_chart({"urgent": [4.0]}, "chart 3")  # among the last three: kept
    charts.response_time_chart({"urgent": [1.0]}, "chart 0")  # the oldest: no longer kept
    assert drawings == ["chart 0", "chart 1", "chart 2", "chart 3", "chart 0"]
