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
from accord.domain.messages import DeliveryState, SubjectRole
from accord.errors import AccordError, InvalidInput, validation_text
from accord.http.dependencies import NodeDep
from accord.i18n import _, pgettext
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
from accord.web import labels
from accord.web._pages import page, redirect
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)
QueryId = Annotated[str, Path(min_length=36, max_length=36)]
MessageId = Annotated[str, Path(min_length=36, max_length=36)]
RECORD_FIELDS = ("id", "name", "date_of_birth", "sex", "nationality", "document_number", "phone")
HOLDINGS_PAGE = 50


def _words() -> dict[str, dict[str, str]]:
    """The words the screens show for the values they hold (a record type, a field, a state), in the language of
    the request; a value missing here is shown as it is."""
    return {
        "record_types": {
            "person": pgettext("record type", "person"),
            "phone": pgettext("record type", "phone"),
            "account": pgettext("record type", "account"),
            "wallet": pgettext("record type", "wallet"),
            "admission_letter": pgettext("record type", "admission letter"),
            "consultant": pgettext("record type", "consultant"),
            "document": pgettext("record type", "document"),
        },
        "fields": _field_words(),
        "states": {
            "sent": pgettext("hit/no-hit query state", "sent"),
            "answered": pgettext("hit/no-hit query state", "answered"),
            "refused": pgettext("hit/no-hit query state", "refused"),
        },
        "bands": {
            "exact": pgettext("match score band", "exact"),
            "high": pgettext("match score band", "high"),
            "medium": pgettext("match score band", "medium"),
            "low": pgettext("match score band", "low"),
        },
        # A follow-up request is a message: its state is the message's, and a held one waits for a legal officer.
        "request_states": {s.value: labels.delivery_state(s.value) for s in DeliveryState}
        | {DeliveryState.HELD.value: _("held for a legal officer")},
        "roles": {r.value: labels.subject_role(r.value) for r in SubjectRole},
    }


def _field_words() -> dict[str, str]:
    return {
        "name": pgettext("record field", "name"),
        "date_of_birth": pgettext("record field", "date of birth"),
        "sex": pgettext("record field", "sex"),
        "nationality": pgettext("record field", "nationality"),
        "document_number": pgettext("record field", "document number"),
        "phone": pgettext("record field", "phone"),
        "notes": pgettext("record field", "notes"),
        "number": pgettext("record field", "number"),
        "holder_name": pgettext("record field", "holder name"),
        "account_number": pgettext("record field", "account number"),
        "bank": pgettext("record field", "bank"),
        "address": pgettext("record field", "address"),
        "currency": pgettext("record field", "currency"),
        "letter_number": pgettext("record field", "letter number"),
        "institution_id": pgettext("record field", "institution id"),
        "institution_name": pgettext("record field", "institution name"),
        "student_name": pgettext("record field", "student name"),
        "licence_number": pgettext("record field", "licence number"),
        "email": pgettext("record field", "email"),
        "document_type": pgettext("record field", "document type"),
        "issuing_country": pgettext("record field", "issuing country"),
        "status": pgettext("record field", "status"),
    }


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
        words=_words(),
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
            raise InvalidInput(_("choose a batch file (CSV with a header, or JSON) to query"))
        content = await upload.read(MAX_IMPORT_BYTES + 1)  # read_rows refuses more than the cap
        kind = record_type(values.get("type") or RecordType.PERSON.value)
        rows = check_rows(kind, read_rows(content, _("the batch {name!r}").format(name=upload.filename)))
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
        words=_words(),
    )


def _followup_draft(values: dict[str, str]) -> FollowUpDraft:
    """What the officer stated on a request or release form, checked as the API checks it."""
    role = values.get("role", "")
    if role and role not in {r.value for r in SubjectRole}:
        raise InvalidInput(
            _("role: {role!r} is none of {join}").format(role=role, join=", ".join(r.value for r in SubjectRole))
        )
    try:
        handling = HandlingDraft(classification=values.get("classification", "").strip())
        offence = values.get("offence", "").strip()
        context = DisclosureContext(offence=offence) if offence else None
    except ValidationError as exc:
        raise InvalidInput(
            _("the form is not complete: {validation_text}").format(validation_text=validation_text(exc))
        ) from exc
    reason = values.get("reason", "").strip()
    if not reason:
        raise InvalidInput(_("reason: say why the record is needed (the partner reads it)"))
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
            words=_words(),
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
        words=_words(),
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
        raise InvalidInput(
            _("type: {chosen!r} is none of {join}").format(chosen=chosen, join=", ".join(t.value for t in RecordType))
        )
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
        words=_words(),
    )
