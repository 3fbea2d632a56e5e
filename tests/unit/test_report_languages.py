"""The joint progress report in English, French and Hindi, and in English and French together: the language of the
page, each language's own dates, numbers and shares (CLDR, by Babel), charts drawn in each language, the choice of
language and layout refused plainly when it is not one, and PDFs whose Devanagari and accents are real text in
embedded Noto fonts.

Whatever the catalogues translate, these hold: they look at what Babel writes, at the page's structure and at text
that stays the data's own (codes, identifiers)."""

from __future__ import annotations

import base64
import ctypes
import io
import re
from datetime import date
from typing import Any

import pypdfium2
import pytest
from babel.dates import format_skeleton
from pypdfium2 import raw as pdfium

from accord.errors import InvalidInput
from accord.i18n import Language, language_scope
from accord.reports.forms import format_day, format_hours, format_indicator, format_moment, format_share
from accord.reports.render import (
    ReportFormat,
    ReportLanguage,
    ReportLayout,
    choose_language,
    choose_layout,
    render,
    render_html,
    report_filename,
)

NBSP = "\u00a0"
DEVANAGARI = re.compile("[\u0900-\u097f]")
WEEK = "2026-11-23"  # a Monday


def _row(focus_area: str, priority: str, party: str, count: int) -> dict[str, Any]:
    return {
        "focus_area": focus_area,
        "priority": priority,
        "from_party": party,
        "count": count,
        "acknowledged": count,
        "ack_median_h": 12.5,
        "ack_p90_h": 30.0,
        "answered": count - 1,
        "response_median_h": 60.0,
        "response_p90_h": None,
        "decided": 4,
        "within_target": 1,
        "within_target_share": 0.25,
        "overdue_now": 1,
    }


def _action(code: str, status: str, due: str, pending: int) -> dict[str, Any]:
    return {
        "code": code,
        "version": 3,
        "pending_proposals": pending,
        "description": "",
        "due": due,
        "leads": {"CA": "RCMP", "IN": "NCB"},
        "milestones": [{"done_on": "2026-10-01"}, {"done_on": None}],
        "milestones_done": 1,
        "objective": "drug-flows",
        "status": status,
        "title": f"Action {code}",
        "status_history": [],
        "overdue": due < "2026-11-29",
    }


def sample_report(with_charts: bool = True) -> dict[str, Any]:
    """A report as build_report makes it: one focus area, one cross-cutting objective, every part filled."""
    row = _row("drugs", "urgent", "CA", 123456)
    totals = {name: value for name, value in row.items() if name not in ("focus_area", "priority", "from_party")}
    report: dict[str, Any] = {
        "title": "Joint progress report — Canada–India shared work plan",
        "agreement": "ca-in-2025",
        "period": {"label": "2026-Q4", "start": "2026-10-01T00:00:00+00:00", "end": "2027-01-01T00:00:00+00:00"},
        "generated_at": "2026-11-29T05:02:56+00:00",
        "generated_by": {"node": "ca-node-1", "party": "CA", "software": "Accord 0.1.0"},
        "peers": ["in-node-1"],
        "parties": {"CA": "Canada", "IN": "India"},
        "response_targets": {"urgent": {"acknowledge_hours": 4.0, "respond_hours": 48.0}},
        "indicators": [
            {
                "code": "requests",
                "title": "Requests exchanged",
                "unit": "count",
                "description": "",
                "module": "exchange",
                "value": 123456,
                "by_focus_area": {"drugs": 123456},
                "breakdown": None,
            },
            {
                "code": "requests-answered-within-target",
                "title": "Requests answered within target",
                "unit": "share",
                "description": "",
                "module": "exchange",
                "value": 0.25,
                "by_focus_area": {"drugs": 0.25},
                "breakdown": {
                    "title": "Precursor incidents by substance and month",
                    "columns": ["2026-10"],
                    "rows": [{"label": "acetic anhydride", "values": [0.25]}],
                },
            },
        ],
        "totals": totals,
        "exchange": [_row("drugs", "urgent", "CA", 123456)],
        "sections": [
            {
                "code": "cross-cutting",
                "name": "Cross-cutting objectives",
                "objectives": [
                    {
                        "code": "liaison-officers",
                        "title": "Liaison officers",
                        "description": "",
                        "actions": [
                            _action("liaison-post", "in_progress", "2026-03-31", 2),
                            _action("liaison-review", "planned", "2026-12-31", 0),
                        ],
                    }
                ],
            },
            {
                "code": "drugs",
                "name": "Drugs and fentanyl precursors",
                "objectives": [],
                "exchange": [_row("drugs", "urgent", "CA", 123456)],
                "totals": totals,
                "volumes": [{"week": WEEK, "request": 3, "share": 1, "alert": 0, "pen": 2, "incident": 0}],
            },
        ],
        "overdue": {
            "requests": [
                {
                    "id": "01a06745-465c-7cac-90ea-f5ebc8ed3213",
                    "focus_area": "drugs",
                    "priority": "urgent",
                    "from_party": "CA",
                    "created_at": "2026-11-20T12:00:00+00:00",
                    "deadline": "2026-11-22T12:00:00+00:00",
                    "hours_overdue": 12.5,
                }
            ],
            "actions": [
                {
                    "code": "liaison-post",
                    "title": "Action liaison-post",
                    "due": "2026-03-31",
                    "status": "in_progress",
                    "leads": {"CA": "RCMP", "IN": "NCB"},
                }
            ],
        },
        "checkpoints": {
            "count": {"ca-node-1": 3},
            "cosigned": {"ca-node-1": 2},
            "daily_last": [
                {
                    "origin": "ca-node-1",
                    "size": 15234,
                    "root": "ab" * 32,
                    "issued_at": "2026-11-28T23:59:00+00:00",
                    "cosigner": "in-node-1",
                    "cosigned_at": "2026-11-29T00:01:00+00:00",
                }
            ],
        },
    }
    if with_charts:
        report["rendering"] = {
            "agreement_title": "Canada–India shared work plan",
            "agency_abbreviations": {"CA": {"RCMP": {"en": "RCMP", "fr": "GRC", "hi": "RCMP"}}},
            "requests_per_area": {"drugs": [7, 5]},
            "areas": {
                "drugs": {
                    "response_hours": {"routine": [], "urgent": [3.0, 12.5, 60.0], "immediate": [1.0, 2.0]},
                    "within_target": {"routine": [None, None], "urgent": [0.25, 0.5], "immediate": [1.0, None]},
                }
            },
        }
    return report


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="([a-z]+)">', page)
    assert found is not None, page[:500]
    return found[1]


def svg_texts(page: str) -> list[str]:
    """Each chart of the page (SVG data URIs): its glyph outlines, with each text in a comment."""
    return [
        base64.b64decode(encoded).decode()
        for encoded in re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)
    ]


# ---- forms of dates and numbers


def test_english_keeps_the_forms_the_report_always_printed() -> None:
    with language_scope(Language.EN):
        assert format_day("2026-11-29T05:02:56+00:00") == "2026-11-29"
        assert format_moment("2026-11-29T05:02:56+00:00") == "2026-11-29 05:02 UTC"
        assert format_hours(12.5) == "12.5 h" and format_hours(60.0) == "2.5 d" and format_hours(None) == "—"
        assert format_share(0.25) == "25 %" and format_share(None) == "—"
        assert format_indicator(123456, "count") == "123,456" and format_indicator(0.5, "count") == "0.5"


def test_french_and_hindi_write_dates_numbers_and_shares_their_own_way() -> None:
    with language_scope(Language.FR):
        assert format_day("2026-11-29") == "29 nov. 2026"
        assert format_share(0.25) == f"25{NBSP}%"  # CLDR fr: a no-break space before the sign
        assert re.fullmatch(r"12,5\s*h", format_hours(12.5))  # the decimal comma; the unit as translated
        assert format_indicator(123456, "count") == f"123{NBSP}456"
        assert format_moment("2026-11-29T05:02:56+00:00").startswith("29 nov. 2026")
    with language_scope(Language.HI):
        assert format_day("2026-11-29") == "29 नव॰ 2026"  # Babel's Hindi month name
        assert format_indicator(123456, "count") == "1,23,456"  # lakh grouping
        assert format_share(0.25) == "25%"


# ---- the page in each language


def test_the_english_report_is_the_english_page_it_always_was() -> None:
    page = render_html(sample_report(), ReportLanguage.EN)
    assert html_lang(page) == "en"
    assert "<title>Joint progress report — Canada–India shared work plan — 2026-Q4</title>" in page
    assert "(2026-10-01 to 2027-01-01, end exclusive) · generated 2026-11-29 05:02 UTC by node" in page
    assert '<td class="overdue">2026-03-31 (overdue)</td>' in page
    assert '<span class="status status-in_progress">in progress</span>' in page
    assert "2 proposals pending" in page and "<code>ca-node-1</code> 3 issued, 2 countersigned" in page
    assert '<td class="num">25 % (1/4)</td>' in page and '<td class="num">12.5 h</td>' in page
    assert "acknowledge 4.0 h, respond 2.0 d" in page
    assert 'content: "ca-in-2025 · 2026-Q4 · generated 2026-11-29 by ca-node-1"' in page
    assert 'content: "page " counter(page) " of " counter(pages)' in page
    assert '"Noto Sans", "Noto Sans Devanagari"' in page
    assert len(svg_texts(page)) == 1 + 3  # the overview and the focus area's three charts


@pytest.mark.parametrize(
    ("language", "day", "share"),
    [(ReportLanguage.FR, "31 mars 2026", f"25{NBSP}%"), (ReportLanguage.HI, "31 मार्च 2026", "25%")],
)
def test_each_language_writes_its_page_its_dates_and_its_charts(language: ReportLanguage, day: str, share: str) -> None:
    page = render_html(sample_report(), language)
    assert html_lang(page) == language.value
    assert day in page and f"{share} (1/4)" in page
    assert "<code>liaison-post</code>" in page  # codes stay as the data gives them
    assert ("GRC / NCB" if language is ReportLanguage.FR else "RCMP / NCB") in page  # as the language abbreviates
    assert "acetic anhydride" in page  # a substance name is never translated
    locale = Language(language.value).locale
    week = format_skeleton("MMMd", date.fromisoformat(WEEK), locale=locale)
    assert any(week in chart for chart in svg_texts(page)), "the weekly chart's days are written in the language"
    # The charts' words are drawn as shaped outlines of the report's fonts (Noto Sans Devanagari for Hindi).
    fonts = set(re.findall(r'<path id="([A-Za-z]+(?:-[A-Za-z]+)?)-[0-9a-f]+"', svg_texts(page)[0]))
    assert ("NotoSansDevanagari-Regular" in fonts) == (language is ReportLanguage.HI) and "NotoSans-Regular" in fonts


def test_a_hindi_report_carries_devanagari_from_its_dates_even_before_its_words_are_translated() -> None:
    page = render_html(sample_report(), ReportLanguage.HI)
    assert "29 नव॰ 2026" in page  # the generation date in the footer and the heading
    assert "1,23,456" in page


def test_a_report_built_without_chart_data_renders_without_charts() -> None:
    page = render_html(sample_report(with_charts=False), ReportLanguage.FR)
    assert html_lang(page) == "fr" and svg_texts(page) == []


# ---- English and French together


def test_the_bilingual_report_gives_the_whole_report_in_english_then_in_french_by_default() -> None:
    page = render_html(sample_report(), ReportLanguage.EN_FR)
    assert html_lang(page) == "en"
    versions = re.findall(r'<div class="version version-(\w+)" lang="(\w+)">', page)
    assert versions == [("en", "en"), ("fr", "fr")]
    english, french = page.split('<div class="version version-fr" lang="fr">')
    assert "2026-03-31" in english and "31 mars 2026" not in english
    assert "31 mars 2026" in french and "2026-03-31" not in french
    # each version's pages have their own footer (named pages), the French version starting on a page of its own
    assert "@page version-fr" in page and ".version-fr { page: version-fr; }" in page
    assert re.search(r"@page version-fr \{ @bottom-left \{ content: \"[^\"]*29 nov\. 2026", page)
    assert len(svg_texts(page)) == 2 * 4  # each language draws its own charts


def test_side_by_side_sets_english_left_and_french_right_section_by_section() -> None:
    page = render_html(sample_report(), ReportLanguage.EN_FR, ReportLayout.SIDE_BY_SIDE)
    pairs = page.split('<div class="pair">')[1:]
    assert len(pairs) == 1 + 2 + 1 + 1 + 1  # the summary, each section, overdue items, disclosures, the annex
    for pair in pairs:
        assert pair.index('<div lang="en">') < pair.index('<div lang="fr">')
    english, french = pairs[1].split('<div lang="fr">')
    assert "2026-03-31" in english and "31 mars 2026" in french
    assert "version-" not in page  # no named pages: one footer in both languages
    assert re.search(r'@bottom-left \{ content: "[^"]*2026-11-29[^"]*" " / " "[^"]*29 nov\. 2026', page)


def test_the_layout_of_a_one_language_report_changes_nothing() -> None:
    report = sample_report(with_charts=False)
    assert render_html(report, ReportLanguage.FR, ReportLayout.SIDE_BY_SIDE) == render_html(report, ReportLanguage.FR)


# ---- choosing


def test_the_language_and_layout_are_chosen_by_value_or_follow_the_work_at_hand() -> None:
    assert choose_language("en+fr") is ReportLanguage.EN_FR and choose_language(" FR ") is ReportLanguage.FR
    with language_scope(Language.HI):
        assert choose_language(None) is ReportLanguage.HI and choose_language("") is ReportLanguage.HI
        assert render_html(sample_report(with_charts=False)).startswith('<!DOCTYPE html>\n<html lang="hi">')
    assert ReportLanguage.EN_FR.languages == (Language.EN, Language.FR)
    assert (
        choose_layout(None) is ReportLayout.CONSECUTIVE and choose_layout("side-by-side") is ReportLayout.SIDE_BY_SIDE
    )


@pytest.mark.parametrize(
    ("choose", "value"), [(choose_language, "de"), (choose_language, "fr+en"), (choose_layout, "x")]
)
def test_a_language_or_layout_that_is_not_one_is_refused_naming_the_choices(choose: Any, value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        choose(value)
    assert refused.value.status == 422
    assert repr(value) in refused.value.detail
    choices = "en, fr, hi, en+fr" if choose is choose_language else "consecutive, side-by-side"
    assert choices in refused.value.detail


def test_files_are_named_after_their_language_and_the_json_form_is_the_data() -> None:
    assert report_filename("2026-Q4", ReportFormat.PDF, ReportLanguage.EN) == "accord-progress-2026-Q4.pdf"
    assert report_filename("2026-Q4", ReportFormat.PDF, ReportLanguage.EN_FR) == "accord-progress-2026-Q4.en-fr.pdf"
    assert report_filename("2026-Q4", ReportFormat.HTML, ReportLanguage.HI) == "accord-progress-2026-Q4.hi.html"
    assert report_filename("2026-Q4", ReportFormat.JSON, ReportLanguage.FR) == "accord-progress-2026-Q4.json"
    data = render(sample_report(), ReportFormat.JSON, ReportLanguage.HI)
    assert b'"rendering"' not in data and b'"agreement": "ca-in-2025"' in data


# ---- PDFs


def pdf_text(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(io.BytesIO(pdf))
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def pdf_fonts(pdf: bytes) -> set[str]:
    """The fonts the PDF's text is set in, without the subset prefix (ABCDEF+Noto-Sans-Devanagari)."""
    document = pypdfium2.PdfDocument(io.BytesIO(pdf))
    names: set[str] = set()
    buffer = ctypes.create_string_buffer(256)
    flags = ctypes.c_int()
    for page in document:
        text = page.get_textpage()
        for index in range(text.count_chars()):
            if pdfium.FPDFText_GetFontInfo(text, index, buffer, len(buffer), ctypes.byref(flags)):
                names.add(buffer.value.decode().split("+")[-1])
    return names


def test_the_hindi_pdf_sets_devanagari_as_text_in_an_embedded_noto_devanagari_font() -> None:
    pdf = render(sample_report(), ReportFormat.PDF, ReportLanguage.HI)
    text = pdf_text(pdf)
    assert "नव॰ 2026" in text and "1,23,456" in text
    assert DEVANAGARI.search(text)
    fonts = pdf_fonts(pdf)
    assert any("Devanagari" in name and "Noto" in name for name in fonts), fonts


def test_the_french_pdf_keeps_its_accents_as_text() -> None:
    pdf = render(sample_report(with_charts=False), ReportFormat.PDF, ReportLanguage.FR)
    text = pdf_text(pdf)
    assert "31 déc. 2026" in text and "31 mars 2026" in text
    assert "15234" in text  # a checkpoint's tree size identifies it (as the audit tools print it): never grouped
    assert re.search(r"25\s%", text)
