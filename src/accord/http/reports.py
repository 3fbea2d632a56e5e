"""The joint progress report as an HTTP response, the same for the API and the web UI (only the disposition differs)."""

from __future__ import annotations

from enum import StrEnum

from fastapi import Response
from fastapi.concurrency import run_in_threadpool

from accord.node import Node
from accord.reports.progress import build_report
from accord.reports.render import MEDIA_TYPES, ReportFormat, render, report_filename
from accord.workplan.periods import Period


class Disposition(StrEnum):
    """RFC 6266: shown in the browser (the API) or saved as a file (the web UI's download)."""

    INLINE = "inline"
    ATTACHMENT = "attachment"


async def report_response(node: Node, period: Period, form: ReportFormat, disposition: Disposition) -> Response:
    """Build and render the report off the event loop (a PDF takes a while), named after its period."""
    report = await run_in_threadpool(build_report, node, period, None, form is not ReportFormat.JSON)
    body = await run_in_threadpool(render, report, form)
    return Response(
        body,
        media_type=MEDIA_TYPES[form],
        headers={
            "Content-Disposition": f'{disposition.value}; filename="{report_filename(period.label, form)}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
