"""The joint progress report over a few hundred generated messages: every number is recomputed here, independently,
from the raw message rows of each node; HTML and PDF are produced and the PDF's first page renders to a picture."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pypdfium2
import pytest
from sqlalchemy import select

from accord.directory.officers import Role, create_officer
from accord.domain.parties import Party
from accord.reports.progress import build_report
from accord.sandbox import seed_traffic
from accord.store.tables import messages
from accord.workplan.indicators import Indicator, IndicatorResult, register_indicator
from accord.workplan.periods import parse_period
from tests.integration.nodes import PASSWORD, RunningNode, open_local

MESSAGES = 300
NOT_SENT = {"held", "refused", "failed"}


def seed_sample_traffic(pair: tuple[RunningNode, RunningNode], messages: int, days: int, rng_seed: int) -> None:
    """A SAMPLE officer on each node and generated traffic between them, written to both nodes' stores."""
    opened = {}
    for node in pair:
        local = open_local(node)
        create_officer(
            local,
            f"sample.{node.party.value.lower()}",
            PASSWORD,
            "SAMPLE",
            "PS" if node.party is Party.CA else "MHA",
            frozenset({Role.OFFICER}),
            is_sample=True,
        )
        opened[node.party] = local
    try:
        seed_traffic(opened, messages, days, rng_seed=rng_seed)
    finally:
        for local in opened.values():
            local.close()


@pytest.fixture(scope="module")
def seeded(shared_pair: tuple[RunningNode, RunningNode]) -> Iterator[tuple[RunningNode, RunningNode]]:
    """One pair per backend with generated traffic; the tests only read it."""
    seed_sample_traffic(shared_pair, MESSAGES, 90, 7)
    yield shared_pair


def whole_range() -> str:
    today = datetime.now(UTC).date()
    return f"{today - timedelta(days=120)}..{today}"


def report_json(node: RunningNode, period: str) -> dict[str, Any]:
    with node.client("ca.rcmp" if node.party is Party.CA else "in.ncb") as client:
        response = client.get("/api/v1/reports/progress", params={"period": period, "format": "json"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def recompute(
    node: RunningNode, start: datetime, end: datetime, now: datetime
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The exchange table, from raw rows, with numpy — sharing no code with the report."""
    with node.engine.connect() as conn:
        rows = conn.execute(select(messages)).all()
    first_response: dict[str, datetime] = {}
    responses = [r for r in rows if r.kind == "response" and not (r.direction == "outgoing" and r.state in NOT_SENT)]
    for r in sorted(responses, key=lambda r: r.created_at, reverse=True):
        first_response[r.in_reply_to] = r.created_at  # the earliest is written last
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for r in rows:
        if r.kind != "request" or not start <= r.created_at < end:
            continue
        if r.direction == "outgoing" and r.state in NOT_SENT:
            continue
        groups.setdefault((r.focus_area, r.priority, r.sender_party), []).append(r)
    expected = {}
    for key, group in groups.items():
        ack = np.array([(r.read_at - r.created_at).total_seconds() / 3600 for r in group if r.read_at])
        resp = np.array(
            [(first_response[r.id] - r.created_at).total_seconds() / 3600 for r in group if r.id in first_response]
        )
        decided = [r for r in group if r.id in first_response or r.deadline < now]
        within = [r for r in decided if r.id in first_response and first_response[r.id] <= r.deadline]
        expected[key] = {
            "count": len(group),
            "ack_median_h": float(np.median(ack)) if ack.size else None,
            "ack_p90_h": float(np.percentile(ack, 90, method="inverted_cdf")) if ack.size else None,
            "answered": int(resp.size),
            "response_median_h": float(np.median(resp)) if resp.size else None,
            "response_p90_h": float(np.percentile(resp, 90, method="inverted_cdf")) if resp.size else None,
            "decided": len(decided),
            "within_target": len(within),
            "overdue_now": sum(
                r.id not in first_response and r.deadline < now and r.amendment not in {"withdrawn", "retracted"}
                for r in group
            ),
        }
    return expected


def test_report_numbers_match_an_independent_recomputation_on_both_nodes(
    seeded: tuple[RunningNode, RunningNode],
) -> None:
    period = parse_period(whole_range())
    reports = {node.party: report_json(node, whole_range()) for node in seeded}
    for node in seeded:
        report = reports[node.party]
        now = datetime.fromisoformat(report["generated_at"])
        expected = recompute(node, period.start, period.end, now)
        assert sum(e["count"] for e in expected.values()) > 150, "the generator should give a few hundred requests"
        assert report["totals"]["count"] == sum(e["count"] for e in expected.values())
        for row in report["exchange"]:
            key = (row["focus_area"], row["priority"], row["from_party"])
            want = expected.get(key)
            if want is None:
                assert row["count"] == 0, key
                continue
            for name, value in want.items():
                assert row[name] == pytest.approx(value, rel=1e-9), (key, name)
        by_code = {i["code"]: i for i in report["indicators"]}
        answered = sum(e["within_target"] for e in expected.values())
        decided = sum(e["decided"] for e in expected.values())
        assert by_code["requests-answered-within-target"]["value"] == pytest.approx(answered / decided)
        assert by_code["requests-overdue-now"]["value"] == sum(e["overdue_now"] for e in expected.values())
        assert len(report["overdue"]["requests"]) == by_code["requests-overdue-now"]["value"]
    # Both nodes hold the same exchange, so both compute the same joint report.
    assert reports[Party.CA]["exchange"] == reports[Party.IN]["exchange"]


def test_html_and_pdf_reports_render_with_charts(seeded: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = seeded
    quarter = f"{datetime.now(UTC).year}-Q{(datetime.now(UTC).month - 1) // 3 + 1}"
    with ca.client("ca.coord") as client:
        html = client.get("/api/v1/reports/progress", params={"period": quarter, "format": "html"})
        pdf = client.get("/api/v1/reports/progress", params={"period": quarter, "format": "pdf"})
        bad_period = client.get("/api/v1/reports/progress", params={"period": "2026-Q5"})
        bad_format = client.get("/api/v1/reports/progress", params={"period": quarter, "format": "docx"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Joint progress report" in html.text and "Annex" in html.text
    assert html.text.count("data:image/svg+xml;base64,") == 1 + 3 * 5  # overview + three charts per focus area
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    document = pypdfium2.PdfDocument(io.BytesIO(pdf.content))
    assert len(document) >= 7  # summary, cross-cutting, five focus areas, overdue, annex
    assert "Joint progress report" in document[0].get_textpage().get_text_range()
    image = document[0].render(scale=1).to_pil().convert("L")
    histogram = image.histogram()
    inked = sum(histogram[:200]) / (image.width * image.height)
    assert inked > 0.02, f"page 1 is nearly blank ({inked:.3%} inked)"
    for response in (bad_period, bad_format):
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
    assert "2026-Q5" in bad_period.json()["detail"]


def test_a_focus_module_adds_an_indicator_without_touching_the_work_plan_code(
    seeded: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = seeded
    drugs_alerts = Indicator(
        code="test-drug-alerts",
        title="Drug alerts",
        unit="count",
        description="Alerts in the drugs focus area.",
        compute=lambda c: IndicatorResult(
            sum(o.kind == "alert" and o.focus_area == "drugs" for o in c.exchange.openings)
        ),
        module="precursors",
    )
    local = open_local(ca)
    try:
        register_indicator(local.registry, drugs_alerts)
        report = build_report(local, parse_period(whole_range()), with_charts=False)
        with pytest.raises(ValueError, match="registered already"):
            register_indicator(local.registry, Indicator("test-drug-alerts", "x", "count", "x", drugs_alerts.compute))
    finally:
        local.close()
    found = next(i for i in report["indicators"] if i["code"] == "test-drug-alerts")
    with ca.engine.connect() as conn:
        expected = sum(
            1
            for r in conn.execute(
                select(messages.c.kind, messages.c.focus_area, messages.c.direction, messages.c.state)
            )
            if r.kind == "alert" and r.focus_area == "drugs"
        )
    assert found["value"] == expected > 0 and found["module"] == "precursors"


def test_report_command_writes_html_pdf_and_json_and_refuses_bad_input(
    seeded: tuple[RunningNode, RunningNode], tmp_path: Any
) -> None:
    ca, _ = seeded

    def accord(*args: str) -> subprocess.CompletedProcess[str]:
        return ca.run_accord("report", "--data", str(ca.data_dir), *args, timeout_s=180)

    for form in ("html", "pdf", "json"):
        out = tmp_path / f"report.{form}"
        done = accord("--period", whole_range(), "--format", form, "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 1000 and "requests" in done.stdout
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")
    for args, message in (
        (("--period", "Q4-2026", "--out", str(tmp_path / "x.html")), "is not a period"),
        (("--period", "2026-13", "--out", str(tmp_path / "x.html")), "not a real period"),
        (("--period", "2026-Q4", "--format", "docx", "--out", str(tmp_path / "x")), "html, pdf, json"),
        (("--period", "2026-Q4", "--out", str(tmp_path / "missing" / "x.html")), "does not exist"),
    ):
        failed = accord(*args)
        assert failed.returncode != 0 and message in failed.stderr, (args, failed.stderr)
    assert not (tmp_path / "x.html").exists()


def test_the_seeded_precursor_traffic_shows_in_the_precursor_indicators(
    seeded: tuple[RunningNode, RunningNode],
) -> None:
    report = report_json(seeded[0], whole_range())
    indicators = {i["code"]: i for i in report["indicators"]}
    assert indicators["pen-notifications"]["value"] > 0
    assert 0 < indicators["pen-answered-in-time"]["value"] <= 1
    incidents = indicators["precursor-incidents"]
    assert incidents["value"] > 0
    assert sum(sum(row["values"]) for row in incidents["breakdown"]["rows"]) >= incidents["value"]
    assert len(incidents["breakdown"]["columns"]) >= 4  # the months of a 120-day range
