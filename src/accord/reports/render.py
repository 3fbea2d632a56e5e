"""Renders the progress report as a standalone HTML page or a PDF (the same page, printed by WeasyPrint)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"
    JSON = "json"


MEDIA_TYPES = {
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.PDF: "application/pdf",
    ReportFormat.JSON: "application/json",
}

_environment = Environment(
    loader=PackageLoader("accord.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def format_hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def _when(value: str | None) -> str:
    if not value:
        return "—"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")


def _indicator(value: float | None, unit: str) -> str:
    if unit == "share":
        return _share(value)
    if unit == "hours":
        return format_hours(value)
    return "—" if value is None else f"{value:g}"


_environment.filters.update(hours=format_hours, share=_share, when=_when, indicator=_indicator)


def render_html(report: dict[str, Any]) -> str:
    return _environment.get_template("progress.html.j2").render(report=report)


def render_pdf(report: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # imported here: loading it takes a second and only PDFs need it

    pdf: bytes = HTML(string=render_html(report)).write_pdf()
    return pdf


def render(report: dict[str, Any], form: ReportFormat) -> bytes:
    """The report as the file of that format."""
    if form is ReportFormat.PDF:
        return render_pdf(report)
    if form is ReportFormat.HTML:
        return render_html(report).encode()
    return json.dumps(report, indent=2, default=str).encode()


def report_filename(period_label: str, form: ReportFormat) -> str:
    return f"accord-progress-{period_label}.{form.value}"
