"""The joint progress report as an HTTP response, the same for the API and the web UI (only the disposition differs)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import Response
from fastapi.concurrency import run_in_threadpool

from accord.i18n import current_language, language_scope
from accord.node import Node
from accord.reports.progress import build_report
from accord.reports.render import MEDIA_TYPES, ReportFormat, ReportLanguage, ReportLayout, render, report_filename
from accord.workplan.periods import Period


class Disposition(StrEnum):
    """RFC 6266: shown in the browser (the API) or saved as a file (the web UI's download)."""

    INLINE = "inline"
    ATTACHMENT = "attachment"


def _build(node: Node, period: Period, language: ReportLanguage, form: ReportFormat) -> dict[str, Any]:
    """The report's data, its few words in the report's (first) language: the JSON form has those only."""
    with language_scope(language.languages[0]):
        return build_report(node, period, None, form is not ReportFormat.JSON)


async def report_response(
    node: Node,
    period: Period,
    form: ReportFormat,
    disposition: Disposition,
    language: ReportLanguage | None = None,
    layout: ReportLayout = ReportLayout.CONSECUTIVE,
) -> Response:
    """Build and render the report off the event loop (a PDF takes a while), named after its period and language;
    in the language of the request unless another is asked for."""
    chosen = language or ReportLanguage.of(current_language())
    report = await run_in_threadpool(_build, node, period, chosen, form)
    body = await run_in_threadpool(render, report, form, chosen, layout)
    written_in = chosen.languages[:1] if form is ReportFormat.JSON else chosen.languages
    return Response(
        body,
        media_type=MEDIA_TYPES[form],
        headers={
            "Content-Disposition": f'{disposition.value}; filename="{report_filename(period.label, form, chosen)}"',
            "Content-Language": ", ".join(each.value for each in written_in),
            "X-Content-Type-Options": "nosniff",
        },
    )
