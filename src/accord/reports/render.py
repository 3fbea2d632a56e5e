"""Renders the progress report as a standalone HTML page or a PDF (the same page, printed by WeasyPrint), in English,
French or Hindi, or in English and French together: one whole report after the other, or side by side.

Each language's version is written in that language's scope: its words, dates, numbers and charts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from jinja2.environment import TemplateModule
from markupsafe import Markup

from accord.errors import InvalidInput
from accord.i18n import Language, _, current_language, gettext, language_scope
from accord.i18n.templates import install_i18n
from accord.reports import charts
from accord.reports.forms import (
    format_day,
    format_hours,
    format_indicator,
    format_moment,
    format_number,
    format_share,
)
from accord.reports.labels import priority_label, report_title, section_name, status_label

__all__ = [
    "MEDIA_TYPES",
    "ReportFormat",
    "ReportLanguage",
    "ReportLayout",
    "choose_language",
    "choose_layout",
    "format_hours",
    "render",
    "render_html",
    "render_page",
    "render_pdf",
    "report_filename",
]


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"
    JSON = "json"


MEDIA_TYPES = {
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.PDF: "application/pdf",
    ReportFormat.JSON: "application/json",
}


class ReportLanguage(StrEnum):
    """The language a report is printed in: one of Accord's, or English and French together (Canada's two official
    languages, as a bilingual report for the ministers' meeting)."""

    EN = "en"
    FR = "fr"
    HI = "hi"
    EN_FR = "en+fr"

    @property
    def languages(self) -> tuple[Language, ...]:
        return (Language.EN, Language.FR) if self is ReportLanguage.EN_FR else (Language(self.value),)

    @classmethod
    def of(cls, language: Language) -> ReportLanguage:
        return cls(language.value)


class ReportLayout(StrEnum):
    """How a bilingual report sets its languages: each whole report after the other (English first), or side by side
    in two columns, section by section (English on the left)."""

    CONSECUTIVE = "consecutive"
    SIDE_BY_SIDE = "side-by-side"


def _choices(kind: type[StrEnum]) -> str:
    return ", ".join(member.value for member in kind)


def choose_language(value: str | None) -> ReportLanguage:
    """A report language by its value; none given: the language of the work at hand. InvalidInput names the choices."""
    if not value:
        return ReportLanguage.of(current_language())
    try:
        return ReportLanguage(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            _("{value!r} is not a language of the report; choose one of {choices}").format(
                value=value, choices=_choices(ReportLanguage)
            )
        ) from None


def choose_layout(value: str | None) -> ReportLayout:
    """A bilingual report's layout by its value; none given: consecutive. InvalidInput names the choices."""
    if not value:
        return ReportLayout.CONSECUTIVE
    try:
        return ReportLayout(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            _("{value!r} is not a layout of the report; choose one of {choices}").format(
                value=value, choices=_choices(ReportLayout)
            )
        ) from None


_environment = Environment(
    loader=PackageLoader("accord.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
install_i18n(_environment)
_environment.filters.update(
    day=format_day,
    moment=format_moment,
    hours=format_hours,
    share=format_share,
    number=format_number,
    indicator=format_indicator,
    status=status_label,
    priority=priority_label,
    section_name=section_name,
    # Text marked where it is defined (an indicator's title) or taken from the data files (the agreement's names,
    # the default plan's titles), translated where shown; as written where the catalogue lacks it (an item an officer
    # has since retitled).
    translated=lambda text: gettext(text) if text else text,  # "" would be the catalogue's header
)


@dataclass(frozen=True, slots=True)
class _Version:
    """The report written in one language: its title, its page footers (CSS content) and its parts in order (the
    summary, each section, the overdue items, the annex)."""

    language: Language
    title: str
    footer_left: Markup
    footer_right: Markup
    parts: list[Markup]


def _css_string(text: str) -> str:
    """`text` as a CSS string; `<` escaped too, as the string sits in a <style> element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ").replace("<", "\\3c ")
    return f'"{escaped}"'


def _page_counter() -> Markup:
    """'page 3 of 12' as CSS content: the translated words around the page counters."""
    # TRANSLATORS: the page footer of the printed report; keep {page} and {pages}.
    pieces = re.split(r"(\{page\}|\{pages\})", _("page {page} of {pages}"))
    content = [
        f"counter({piece[1:-1]})" if piece in ("{page}", "{pages}") else _css_string(piece) for piece in pieces if piece
    ]
    return Markup(" ".join(content))  # CSS counters and escaped CSS strings only


def _footer(report: dict[str, Any]) -> Markup:
    text = _("{agreement} · {period} · generated {date} by {node}").format(
        agreement=report["agreement"],
        period=report["period"]["label"],
        date=format_day(report["generated_at"]),
        node=report["generated_by"]["node"],
    )
    return Markup(_css_string(text))  # an escaped CSS string


def _charts(report: dict[str, Any]) -> dict[str, Any] | None:
    """The report's charts, drawn in the language of the work at hand; None for a report built without their data."""
    data = report.get("rendering")
    if data is None:
        return None
    parties = list(report["parties"])
    areas = {}
    for section in report["sections"]:
        area = data["areas"].get(section["code"])
        if area is None:
            continue
        name = section_name(section["code"], section["name"])
        areas[section["code"]] = {
            "volumes": charts.weekly_volume_chart(section["volumes"], _("{area}: messages per week").format(area=name)),
            "response_times": charts.response_time_chart(area["response_hours"], _("Time to first response")),
            "within_target": charts.within_target_chart(area["within_target"], parties, _("Answered within target")),
        }
    overview = charts.overview_chart(data["requests_per_area"], parties, _("Requests per focus area"))
    families = report.get("disclosures", {}).get("by_family") or []
    outcomes = {"held": _("held for review"), "approved": _("approved on review"), "refused": _("refused")}
    disclosures = charts.disclosure_chart(families, outcomes, _("Disclosures per rule family")) if families else None
    return {"overview": overview, "areas": areas, "disclosures": disclosures}


def _agency_names(report: dict[str, Any], language: Language) -> Callable[[str, str], str]:
    """An agency of a party as `language` abbreviates it (GRC for the RCMP in French); its code otherwise."""
    abbreviations = (report.get("rendering") or {}).get("agency_abbreviations", {})

    def agency(party: str, code: str) -> str:
        return str(abbreviations.get(party, {}).get(code, {}).get(language.value, code))

    return agency


_BETWEEN_LANGUAGES = Markup(' " / " ')  # one page footer's two languages, as CSS content


def _macro(module: TemplateModule, name: str) -> Callable[..., Markup]:
    macro: Callable[..., Markup] = getattr(module, name)
    return macro


def _version(report: dict[str, Any], language: Language) -> _Version:
    with language_scope(language):
        rendering = report.get("rendering")
        title = report_title(rendering["agreement_title"]) if rendering else str(report["title"])
        parts = _environment.get_template("_progress_parts.html.j2").make_module(
            {"report": report, "charts": _charts(report), "title": title, "agency": _agency_names(report, language)}
        )
        area = _macro(parts, "area")
        return _Version(
            language=language,
            title=f"{title} — {report['period']['label']}",
            footer_left=_footer(report),
            footer_right=_page_counter(),
            parts=[
                _macro(parts, "front")(),
                *(area(section) for section in report["sections"]),
                _macro(parts, "overdue")(),
                _macro(parts, "disclosures")(),
                _macro(parts, "annex")(),
            ],
        )


def render_html(
    report: dict[str, Any], language: ReportLanguage | None = None, layout: ReportLayout = ReportLayout.CONSECUTIVE
) -> str:
    """The report as one HTML page in `language` (by default the language of the work at hand)."""
    chosen = language or ReportLanguage.of(current_language())
    versions = [_version(report, each) for each in chosen.languages]
    return _environment.get_template("progress.html.j2").render(
        versions=versions,
        layout=layout.value if len(versions) > 1 else None,
        footer_left=_BETWEEN_LANGUAGES.join(v.footer_left for v in versions),
        footer_right=_BETWEEN_LANGUAGES.join(v.footer_right for v in versions),
    )


def render_pdf(
    report: dict[str, Any], language: ReportLanguage | None = None, layout: ReportLayout = ReportLayout.CONSECUTIVE
) -> bytes:
    from weasyprint import HTML  # imported here: loading it takes a second and only PDFs need it

    pdf: bytes = HTML(string=render_html(report, language, layout)).write_pdf()
    return pdf


def render_page(template: str, **context: Any) -> str:
    """Another printed document of Accord's (a case export), in the report's words, filters and fonts."""
    return _environment.get_template(template).render(**context)


def render(
    report: dict[str, Any],
    form: ReportFormat,
    language: ReportLanguage | None = None,
    layout: ReportLayout = ReportLayout.CONSECUTIVE,
) -> bytes:
    """The report as the file of that format. The JSON form is the data, whatever the language (its few words are in
    the language it was built in)."""
    if form is ReportFormat.PDF:
        return render_pdf(report, language, layout)
    if form is ReportFormat.HTML:
        return render_html(report, language, layout).encode()
    return json.dumps({k: v for k, v in report.items() if k != "rendering"}, indent=2, default=str).encode()


def report_filename(period_label: str, form: ReportFormat, language: ReportLanguage | None = None) -> str:
    """accord-progress-2026-Q4.pdf in English (the report's source language), accord-progress-2026-Q4.fr.pdf in
    French, accord-progress-2026-Q4.en-fr.pdf in both."""
    if language in (None, ReportLanguage.EN) or form is ReportFormat.JSON:
        return f"accord-progress-{period_label}.{form.value}"
    return f"accord-progress-{period_label}.{language.value.replace('+', '-')}.{form.value}"
