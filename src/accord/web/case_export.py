"""A case exported from the message page as a file (a PDF that embeds the signed JSON, or the JSON), under the same
need-to-know and the same service as `GET /api/v1/messages/{id}/export`. A form post with the CSRF token: an export
is a disclosure to a file and is recorded in the ledger, so no link from elsewhere may make one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from accord.exchange.case_export import ExportFormat, export_case
from accord.http.dependencies import NodeDep
from accord.reports.case_report import render_case_pdf
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)


@router.post("/messages/{message_id}/export", dependencies=[CsrfChecked])
async def export(
    node: NodeDep,
    officer: WebOfficerDep,
    message_id: str,
    form: Annotated[ExportFormat, Form(alias="format")] = ExportFormat.PDF,
) -> Response:
    exported = await run_in_threadpool(export_case, node, officer, message_id, form)
    if form is ExportFormat.PDF:
        data, media_type = await run_in_threadpool(render_case_pdf, exported), "application/pdf"
    else:
        data, media_type = exported.json_bytes(), "application/json"
    disposition = f'attachment; filename="{exported.filename(form)}"'
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})
