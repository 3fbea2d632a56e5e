"""Progress-report benchmark: how long the joint report takes as the exchange grows.

Usage: .venv/bin/python bench/report.py [--sizes 300,3000,30000] [--quick]

For each size, a fresh two-node sandbox (SQLite, in a temporary folder, not started) gets that many generated opening
messages over 90 days (`accord.sandbox.seed_traffic`, with reads and responses), then the Canada node builds the report
for the whole range three times: as data (indicators, tables, no charts), with its 16 SVG charts, rendered to HTML and
printed to PDF (its charts drawn each time), and printed to PDF again with the charts the HTML drew. The median of
each is reported, with the file sizes. One JSON line goes to stdout, whatever happened
(with an `error` and the sizes measured when a step fails); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from accord.bootstrap import open_node
from accord.domain.parties import Party
from accord.reports.charts import forget_drawn_charts
from accord.reports.progress import build_report
from accord.reports.render import render_html, render_pdf
from accord.sandbox import prepare_sandbox, sandbox_data_dir, sandbox_settings, seed_traffic
from accord.workplan.periods import parse_period
from progress import log  # bench/progress.py, beside this script
from result_line import add_run_options, result_line

RUNS = 3
QUICK_SIZES = "30"


def timed(action: Callable[[], Any], runs: int, before_each: Callable[[], None] | None = None) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        if before_each is not None:
            before_each()
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(size: int, runs: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="accord-bench-report-"))
    try:
        prepare_sandbox(root, {Party.IN: 18401, Party.CA: 18402})
        nodes = {party: open_node(sandbox_settings(sandbox_data_dir(root, party))) for party in Party}
        started = time.perf_counter()
        summary = seed_traffic(nodes, size, 90, rng_seed=size)
        seeded_s = time.perf_counter() - started
        today = datetime.now(UTC).date()
        period = parse_period(f"{today - timedelta(days=100)}..{today}")
        canada = nodes[Party.CA]
        data_s, _ = timed(lambda: build_report(canada, period, with_charts=False), runs)
        charts_s, report = timed(lambda: build_report(canada, period), runs)
        # Each run draws its charts (a process keeps the charts it drew: `forget_drawn_charts`); the PDF printed
        # after the HTML, as a coordinator downloads both, takes the HTML's charts.
        html_s, html = timed(lambda: render_html(report), runs, before_each=forget_drawn_charts)
        pdf_s, pdf = timed(lambda: render_pdf(report), runs, before_each=forget_drawn_charts)
        pdf_after_html_s, _ = timed(lambda: render_pdf(report), runs)
        for node in nodes.values():
            node.close()
        log(
            f"{size} messages: data {data_s:.2f} s, charts {charts_s:.2f} s, html {html_s:.2f} s, pdf {pdf_s:.2f} s, "
            f"pdf after the html {pdf_after_html_s:.2f} s"
        )
        return {
            "messages": size,
            "responses": summary.responses,
            "requests_in_report": report["totals"]["count"],
            "seed_s": round(seeded_s, 2),
            "report_data_s": round(data_s, 3),
            "report_with_charts_s": round(charts_s, 3),
            "render_html_s": round(html_s, 3),
            "render_pdf_s": round(pdf_s, 3),
            "render_pdf_after_html_s": round(pdf_after_html_s, 3),
            "html_bytes": len(html.encode()),
            "pdf_bytes": len(pdf),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=None, help="messages seeded, comma-separated (default 300,3000,30000)")
    add_run_options(parser, f"{QUICK_SIZES} messages, one run of each step")
    args = parser.parse_args()
    sizes = [int(s) for s in (args.sizes or (QUICK_SIZES if args.quick else "300,3000,30000")).split(",")]
    runs = 1 if args.quick else RUNS
    with result_line("report", args) as result:
        result |= {"runs": runs, "results": []}
        for size in sizes:
            result["results"].append(measure(size, runs))


if __name__ == "__main__":
    main()
