"""Hit/no-hit matching in the web UI: the query screen (one record or a batch file), a query's answers with the form
that requests a hit's record, the partner's follow-ups with the form that releases ours, and the agency's holdings
with the duplicates the engine found. The same services as the API's /api/v1/matching, as the signed-in officer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from accord.directory.officers import Officer
from accord.domain.drafts import DisclosureContext, HandlingDraft
from accord.domain.messages import SubjectRole
from accord.errors import AccordError, InvalidInput, validation_text
from accord.http.dependencies import NodeDep
from accord.matching.followup import FollowUpDraft, pending_followups, release_record, request_record
from accord.matching.hitnohit import (
    BatchRefused,
    QueryRow,
    check_rows,
    list_queries,
    query_view,
    query_volumes,
    require_querier,
    send_query,
)
from accord.matching.holdings import QUERY_SCHEME, RecordType, holdings_duplicates, holdings_page, record_type
from accord.matching.imports import MAX_IMPORT_BYTES, read_rows
from accord.node import Node
from accord.web._pages import page, redirect
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)
QueryId = Annotated[str, Path(min_length=36, max_length=36)]
MessageId = Annotated[str, Path(min_length=36, max_length=36)]
RECORD_FIELDS = ("id", "name", "date_of_birth", "sex", "nationality", "document_number", "phone")
HOLDINGS_PAGE = 50


# ------------------------------------------------------------------------------------------------ querying


def _query_screen(
    request: Request, node: Node, officer: Officer, status_code: int = 200, **context: Any
) -> HTMLResponse:
    rules = node.agreement.hit_no_hit
    return page(
        request,
        "matching.html.j2",
        officer,
        status_code,
        agencies=[a for a in node.agreement.agencies if a.party is node.party.other],
        focus_areas=rules.focus_areas,
        record_types=[t.value for t in RecordType if t is RecordType.PERSON or t in QUERY_SCHEME],
        queries=list_queries(node, officer),
        volumes=query_volumes(node),
        form=context.pop("form", {}),
        error=context.pop("error", None),
        refused_rows=context.pop("refused_rows", []),
        **context,
    )


@router.get("/matching")
def matching(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    return _query_screen(request, node, officer)


async def _send(node: Node, officer: Officer, rows: list[QueryRow], values: dict[str, str]) -> dict[str, Any]:
    agency, focus = values.get("queried_agency", ""), values.get("focus_area", "")
    return await run_in_threadpool(lambda: send_query(node, officer, rows, queried_agency=agency, focus_area=focus))


def _refused(request: Request, node: Node, officer: Officer, problem: AccordError, form: dict[str, str]) -> Response:
    rows = problem.errors if isinstance(problem, BatchRefused) else []
    return _query_screen(request, node, officer, problem.status, form=form, error=problem, refused_rows=rows[:200])


@router.post("/matching/query", dependencies=[CsrfChecked])
async def query_one(request: Request, node: NodeDep, officer: WebOfficerDep) -> Response:
    """One record typed into the form, queried as a batch of one."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    record = {field: values.get(field, "").strip() for field in RECORD_FIELDS}
    try:
        sent = await _send(node, officer, check_rows(RecordType.PERSON, [(1, record)]), values)
    except AccordError as problem:
        return _refused(request, node, officer, problem, values)
    return redirect(f"/matching/queries/{sent['query_id']}")


@router.post("/matching/batch", dependencies=[CsrfChecked])
async def query_batch(request: Request, node: NodeDep, officer: WebOfficerDep) -> Response:
    """A batch file of persons or identifiers (CSV with a header, or JSON): all of it is queried, or nothing if a row is
    bad."""
    form = await request.form()
    upload = form.get("file")
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        require_querier(officer)
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("choose a batch file (CSV with a header, or JSON) to query")
        content = await upload.read(MAX_IMPORT_BYTES + 1)  # read_rows refuses more than the cap
        kind = record_type(values.get("type") or RecordType.PERSON.value)
        rows = check_rows(kind, read_rows(content, f"the batch {upload.filename!r}"))
        sent = await _send(node, officer, rows, values)
    except AccordError as problem:
        return _refused(request, node, officer, problem, values)
    return redirect(f"/matching/queries/{sent['query_id']}")


# ------------------------------------------------------------------------------------------------ answers


@router.get("/matching/queries/{query_id}")
def query_result(request: Request, node: NodeDep, officer: WebOfficerDep, query_id: QueryId) -> HTMLResponse:
    """The query's answers; while it waits for them, htmx asks for the results section again every 2 s."""
    shown = query_view(node, officer, query_id)
    # Hits first, the surest first: what an officer acts on; the rest keep their order.
    order = {"exact": 0, "high": 1, "medium": 2, "low": 3}
    shown["rows"] = sorted(shown["rows"], key=lambda r: (not r["hit"], order.get(r["band"] or "", 4), r["row"]))
    name = "matching_results.html.j2" if request.headers.get("hx-request") else "matching_query.html.j2"
    return page(
        request,
        name,
        officer,
        query=shown,
        requested=request.query_params.get("requested"),
        roles_list=[r.value for r in SubjectRole],
    )


def _followup_draft(values: dict[str, str]) -> FollowUpDraft:
    """What the officer stated on a request or release form, checked as the API checks it."""
    role = values.get("role", "")
    if role and role not in {r.value for r in SubjectRole}:
        raise InvalidInput(f"role: {role!r} is none of {', '.join(r.value for r in SubjectRole)}")
    try:
        handling = HandlingDraft(classification=values.get("classification", "").strip())
        offence = values.get("offence", "").strip()
        context = DisclosureContext(offence=offence) if offence else None
    except ValidationError as exc:
        raise InvalidInput(f"the form is not complete: {validation_text(exc)}") from exc
    reason = values.get("reason", "").strip()
    if not reason:
        raise InvalidInput("reason: say why the record is needed (the partner reads it)")
    return FollowUpDraft(
        handling,
        values.get("legal_basis", "").strip(),
        reason,
        SubjectRole(role) if role else None,
        context,
    )


@router.post("/matching/queries/{query_id}/records/{row}/request", dependencies=[CsrfChecked])
async def request_hit(
    request: Request, node: NodeDep, officer: WebOfficerDep, query_id: QueryId, row: Annotated[int, Path(ge=1)]
) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        draft = _followup_draft(values)
        await run_in_threadpool(request_record, node, officer, query_id, row, draft)
    except AccordError as problem:
        shown = query_view(node, officer, query_id)
        return page(
            request,
            "matching_query.html.j2",
            officer,
            problem.status,
            query=shown,
            requested=None,
            roles_list=[r.value for r in SubjectRole],
            error=problem,
            error_row=row,
            form=values,
        )
    return redirect(f"/matching/queries/{query_id}?requested={row}")


# ------------------------------------------------------------------------------------------------ answering


def _followups_screen(
    request: Request, node: Node, officer: Officer, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return page(
        request,
        "matching_followups.html.j2",
        officer,
        status_code,
        followups=pending_followups(node, officer),
        roles_list=[r.value for r in SubjectRole],
        released=request.query_params.get("released"),
        left=request.query_params.get("left") == "1",
        **context,
    )


@router.get("/matching/followups")
def followups(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    return _followups_screen(request, node, officer)


@router.post("/matching/followups/{message_id}/release", dependencies=[CsrfChecked])
async def release(request: Request, node: NodeDep, officer: WebOfficerDep, message_id: MessageId) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        done = await run_in_threadpool(release_record, node, officer, message_id, _followup_draft(values))
    except AccordError as problem:
        return _followups_screen(
            request, node, officer, problem.status, error=problem, error_message=message_id, form=values
        )
    return redirect(f"/matching/followups?released={done['message_id']}&left={int(done['left'])}")


# ------------------------------------------------------------------------------------------------ holdings


@router.get("/matching/holdings")
def holdings(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    chosen = request.query_params.get("type") or ""
    if chosen and chosen not in {t.value for t in RecordType}:
        raise InvalidInput(f"type: {chosen!r} is none of {', '.join(t.value for t in RecordType)}")
    offset_text = request.query_params.get("offset", "0")
    offset = int(offset_text) if offset_text.isdigit() else 0
    held = holdings_page(node, officer, RecordType(chosen) if chosen else None, HOLDINGS_PAGE, offset)
    return page(
        request,
        "matching_holdings.html.j2",
        officer,
        held=held,
        duplicates=holdings_duplicates(node, officer),
        types=[t.value for t in RecordType],
        chosen=chosen,
        offset=offset,
        page_size=HOLDINGS_PAGE,
    )
