"""Pre-export notifications and precursor incidents in bulk: import a CSV or JSON file (the body, as text/csv or
application/json), export the ones the officer may read. Columns and shapes: docs/precursors-import.md."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from accord.api.schemas.precursors import ImportReport
from accord.exchange.sending import require_sender
from accord.focus.precursors.transfer import MAX_FILE_BYTES, FileFormat, TransferKind, export_file, import_file
from accord.http.dependencies import NodeDep, OfficerDep, read_capped_body
from accord.http.openapi import OFFICER_PROBLEMS, files, problems, request_body

router = APIRouter(prefix="/api/v1/precursors", tags=["precursors"])

_FILE_BODY = request_body(
    {
        "text/csv": {"schema": {"type": "string", "minLength": 1}},
        "application/json": {"schema": {"type": "array", "items": {}}},
    },
    f"the file itself, at most {MAX_FILE_BYTES:,} bytes, UTF-8: a CSV file, or a JSON array of notifications or "
    "incidents (an item that is not one comes back among the errors, with its index)",
)


# 415 for a body that is neither CSV nor JSON; 422 when the file as a whole is unusable (nothing is sent).
@router.post("/import", openapi_extra=_FILE_BODY, responses=problems(*OFFICER_PROBLEMS, 403, 413, 415))
async def import_(
    node: NodeDep,
    officer: OfficerDep,
    request: Request,
    kind: Annotated[TransferKind, Query(description="notifications or incidents")],
    dry_run: Annotated[bool, Query(description="check and ask the policy only; send nothing")] = False,
) -> ImportReport:
    """Send each good notification or incident of the file in its own transaction; every bad row comes back with its
    line (CSV; for JSON the array index) and reason. 422 when the file as a whole is unusable: nothing is sent."""
    require_sender(officer)
    form = FileFormat.for_media_type(request.headers.get("content-type", ""))
    data = await read_capped_body(request, MAX_FILE_BYTES)
    report = await run_in_threadpool(import_file, node, officer, data, kind, form, dry_run)
    return ImportReport.model_validate(report.as_json())


def _export(node: NodeDep, officer: OfficerDep, kind: TransferKind, form: FileFormat) -> Response:
    data, _ = export_file(node, officer, kind, form)
    name = f"{kind.value}-{node.party.value.lower()}-{datetime.now(UTC):%Y%m%d-%H%M%S}.{form.value}"
    return Response(
        data,
        media_type=form.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"},
    )


_FORMAT = Query(alias="format", description="csv or json")
_DOWNLOAD = files(
    "the file, in the import's columns (CSV) or shapes (JSON)",
    {
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
    },
) | problems(*OFFICER_PROBLEMS)


@router.get("/notifications/export", response_class=Response, responses=_DOWNLOAD)
def export_notifications(
    node: NodeDep, officer: OfficerDep, form: Annotated[FileFormat, _FORMAT] = FileFormat.CSV
) -> Response:
    """The notifications the officer may read, sent and received, in the import's columns (one row per item)."""
    return _export(node, officer, TransferKind.NOTIFICATIONS, form)


@router.get("/incidents/export", response_class=Response, responses=_DOWNLOAD)
def export_incidents(
    node: NodeDep, officer: OfficerDep, form: Annotated[FileFormat, _FORMAT] = FileFormat.CSV
) -> Response:
    """The incidents the officer may read, sent and received, in the import's columns (one row per item)."""
    return _export(node, officer, TransferKind.INCIDENTS, form)
