"""The joint progress report in each language by every way there is to get it: the API (`language`, else the
request's language), the work-plan screen's download (its select, the officer's language preselected) and
`accord report --language`; English and French together in either layout; a language or layout that is not one is
refused, and nothing is written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.nodes import RunningNode
from tests.integration.test_progress_report import seed_sample_traffic
from tests.integration.test_web_sessions import sign_in

DEVANAGARI = re.compile("[\u0900-\u097f]")


@pytest.fixture(scope="module")
def seeded(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> Iterator[tuple[RunningNode, RunningNode]]:
    seed_sample_traffic(shared_sqlite_pair, 40, 60, 11)
    yield shared_sqlite_pair


def recent() -> str:
    today = datetime.now(UTC).date()
    return f"{today - timedelta(days=70)}..{today}"


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="([a-z]+)">', page)
    assert found is not None, page[:500]
    return found[1]


def test_the_api_prints_the_language_asked_for_else_the_request_s(seeded: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = seeded
    period = recent()
    with ca.client("ca.rcmp") as client:
        asked = client.get("/api/v1/reports/progress", params={"period": period, "language": "hi"})
        by_header = client.get(
            "/api/v1/reports/progress", params={"period": period}, headers={"Accept-Language": "fr-CA"}
        )
        english = client.get("/api/v1/reports/progress", params={"period": period})
        both = client.get(
            "/api/v1/reports/progress", params={"period": period, "language": "en+fr", "layout": "side-by-side"}
        )
        data = client.get("/api/v1/reports/progress", params={"period": period, "format": "json", "language": "fr"})
    assert asked.status_code == 200 and html_lang(asked.text) == "hi" and DEVANAGARI.search(asked.text)
    assert asked.headers["content-language"] == "hi"
    assert asked.headers["content-disposition"] == f'inline; filename="accord-progress-{period}.hi.html"'
    assert html_lang(by_header.text) == "fr" and by_header.headers["content-language"] == "fr"
    assert "<td>GRC / " in by_header.text and "<td>GRC / " not in english.text  # the RCMP's French abbreviation
    assert html_lang(english.text) == "en" and "Joint progress report" in english.text
    assert english.headers["content-disposition"] == f'inline; filename="accord-progress-{period}.html"'
    assert both.headers["content-language"] == "en, fr"
    assert (
        both.text.count('<div class="pair">') == 1 + 6 + 3
    )  # summary, cross-cutting and five areas, disclosures, overdue, annex
    assert data.headers["content-type"] == "application/json" and data.headers["content-language"] == "fr"
    assert set(data.json()) >= {"title", "sections", "indicators"} and "rendering" not in data.json()


@pytest.mark.parametrize(("name", "value"), [("language", "de"), ("language", "en fr"), ("layout", "diagonal")])
def test_the_api_refuses_a_language_or_layout_that_is_not_one(
    seeded: tuple[RunningNode, RunningNode], name: str, value: str
) -> None:
    with seeded[0].client("ca.rcmp") as client:
        refused = client.get("/api/v1/reports/progress", params={"period": recent(), name: value})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert name in refused.text


def test_the_work_plan_screen_offers_the_report_in_each_language(seeded: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = seeded
    browser, signed_in = sign_in(ca, "ca.coord")
    try:
        assert signed_in.status_code == 303
        screen = browser.get("/workplan")
        assert screen.status_code == 200
        report_form = re.search(
            r'<form class="report filters" method="get" action="/workplan/report".*?</form>', screen.text, re.S
        )
        assert report_form is not None, screen.text
        now = datetime.now(UTC)
        quarter = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
        assert f'<option value="{quarter}" selected>{quarter}</option>' in report_form[0]
        assert '<option value="en" selected>English</option>' in report_form[0]
        assert '<option value="en+fr">English + français</option>' in screen.text
        assert '<option value="side-by-side">' in screen.text
        assert re.search(r'href="/workplan/report\?period=[^"]*&amp;format=pdf&amp;language=en"', screen.text)
        browser.cookies.set("accord_language", "fr")
        french = browser.get("/workplan")
        assert html_lang(french.text) == "fr" and '<option value="fr" selected>Français</option>' in french.text
        assert "&amp;format=pdf&amp;language=fr" in french.text
        assert "CA GRC" in french.text and "CA RCMP" in screen.text

        asked = {"period": recent(), "format": "html", "language": "en+fr", "layout": "consecutive"}
        download = browser.get("/workplan/report", params=asked)
        assert download.status_code == 200, download.text
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["content-disposition"].endswith('.en-fr.html"')
        assert re.findall(r'<div class="version version-(\w+)"', download.text) == ["en", "fr"]
        in_the_officer_s = browser.get("/workplan/report", params={"period": recent(), "format": "html"})
        assert html_lang(in_the_officer_s.text) == "fr"
        for wrong in ({"language": "xx"}, {"layout": "diagonal"}):
            refused = browser.get("/workplan/report", params={"period": recent(), "format": "html"} | wrong)
            assert refused.status_code == 422
    finally:
        browser.close()


def test_the_report_command_prints_any_language_and_refuses_one_that_is_not(
    seeded: tuple[RunningNode, RunningNode], tmp_path: Path
) -> None:
    ca, _ = seeded

    def accord(*args: str, language: str | None = None) -> tuple[int, str, str]:
        env = ca.env() | ({"ACCORD_LANGUAGE": language} if language else {})
        done = ca.run_accord("report", "--data", str(ca.data_dir), "--period", recent(), *args, env=env, timeout_s=180)
        return done.returncode, done.stdout, done.stderr

    hindi = tmp_path / "report.hi.html"
    code, _out, err = accord("--language", "hi", "--out", str(hindi))
    assert code == 0, err
    assert html_lang(hindi.read_text(encoding="utf-8")) == "hi"

    by_process = tmp_path / "report.fr.html"
    code, _out, err = accord("--out", str(by_process), language="fr")
    assert code == 0, err
    assert html_lang(by_process.read_text(encoding="utf-8")) == "fr"

    both = tmp_path / "report.en-fr.html"
    code, _out, err = accord("--language", "en+fr", "--layout", "side-by-side", "--out", str(both))
    assert code == 0, err
    assert both.read_text(encoding="utf-8").count('<div class="pair">') == 10

    for args, choices in (
        (("--language", "de"), "en, fr, hi, en+fr"),
        (("--language", "en+fr", "--layout", "diagonal"), "consecutive, side-by-side"),
    ):
        refused = tmp_path / "refused.html"
        code, _out, err = accord(*args, "--out", str(refused))
        assert code == 2 and choices in err, (args, err)
        assert not refused.exists()
