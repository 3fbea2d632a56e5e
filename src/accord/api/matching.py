"""Fraud and immigration matching: an agency's own holdings (import, list, duplicates), hit/no-hit queries on
encodings to the partner (one record or a batch file), their answers, and the lawful follow-up that requests, and on
the other side releases, a hit's record through the ordinary exchange."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from accord.api.schemas import ApiModel
from accord.domain.drafts import DisclosureContext, HandlingDraft
from accord.domain.messages import Priority, SubjectRole
from accord.http.dependencies import NodeDep, OfficerDep, read_capped_body
from accord.http.openapi import BODY_PROBLEMS, OFFICER_PROBLEMS, problems, request_body
from accord.matching.followup import FollowUpDraft, pending_followups, release_record, request_record
from accord.matching.hitnohit import check_rows, list_queries, query_view, query_volumes, require_querier, send_query
from accord.matching.holdings import RecordType, holdings_duplicates, holdings_page, require_holder
from accord.matching.imports import MAX_IMPORT_BYTES, import_holdings, read_rows

router = APIRouter(prefix="/api/v1/matching", tags=["matching"])
QueryId = Annotated[UUID, Path(description="the query's id")]
MessageId = Annotated[str, Path(description="the follow-up request's message id", min_length=36, max_length=36)]

_FILE_BODY = request_body(
    {
        "text/csv": {"schema": {"type": "string", "minLength": 1}},
        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        "application/x-ndjson": {"schema": {"type": "string", "minLength": 1}},
    },
    f"the file itself, at most {MAX_IMPORT_BYTES:,} bytes, UTF-8: a CSV file with a header (an `id` column and the "
    "record type's fields), a JSON array of objects, or JSON lines",
)


# ------------------------------------------------------------------------------------------------ models


class QueryDraft(BaseModel):
    """Records to query: each an object of the record type's fields with the id it has in your own files."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    queried_agency: str = Field(min_length=1, max_length=32, json_schema_extra={"x-accord-vocabulary": "peer-agency"})
    focus_area: str = Field(min_length=1, max_length=32, examples=["immigration"])
    type: RecordType = RecordType.PERSON
    records: list[dict[str, str | None]] = Field(
        min_length=1,
        max_length=10_000,
        examples=[[{"id": "A-1", "name": "Gurpreet Kaur Sandhu", "date_of_birth": "1998-04-03"}]],
    )


class FollowUpIn(BaseModel):
    """A follow-up: the law it is made under, why, the handling, and what the person is to the case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    legal_basis: str = Field(min_length=1, max_length=1000)
    body: str = Field(min_length=1, max_length=20_000)
    handling: HandlingDraft
    role: SubjectRole | None = None
    context: DisclosureContext | None = None
    priority: Priority = Priority.ROUTINE

    def draft(self) -> FollowUpDraft:
        return FollowUpDraft(self.handling, self.legal_basis, self.body, self.role, self.context, self.priority)


class HoldingsImportOut(ApiModel):
    import_id: str | None
    record_type: str
    rows: int
    stored: int = Field(description="stored, or in a dry run, would be")
    refused: int
    errors: list[dict[str, Any]] = Field(description="each refused row: its line, id and reason (the first 200)")
    dry_run: bool


class QueryOut(ApiModel):
    query_id: str
    querying_agency: str
    queried_agency: str
    officer: str
    focus_area: str
    key_id: str = Field(description="the matching key the records were encoded with")
    size: int
    hits: int | None = Field(description="none until the partner answers")
    state: str = Field(description="sent, answered or refused")
    reason: str | None
    created_at: str
    answered_at: str | None
    rows: list[dict[str, Any]] | None = None


class QueryList(ApiModel):
    queries: list[QueryOut]


class FollowUpOut(ApiModel):
    query_id: str
    row: int
    message_id: str
    case_id: str
    state: str = Field(description="the request's state: queued, or held for a legal officer, or refused")
    decision: dict[str, Any]


class ReleaseOut(ApiModel):
    message_id: str
    state: str
    decision: dict[str, Any]
    left: bool = Field(description="whether the record left (false while a legal officer holds it)")


# ------------------------------------------------------------------------------------------------ holdings


@router.post("/holdings/import", openapi_extra=_FILE_BODY, responses=problems(*OFFICER_PROBLEMS, 403, 413, 415))
async def import_file(
    node: NodeDep,
    officer: OfficerDep,
    request: Request,
    record_type: Annotated[RecordType, Query(alias="type", description="the records' type")],
    source: Annotated[str | None, Query(max_length=200, description="where the records come from")] = None,
    retain_until: Annotated[date | None, Query(description="kept until (a row's own retain_until wins)")] = None,
    dry_run: Annotated[bool, Query(description="check every row; store nothing")] = False,
) -> HoldingsImportOut:
    """Import the agency's own records: every row checked, each refused one listed with its line and reason; the
    valid rows stored together (nothing in a dry run)."""
    require_holder(officer)  # before the body is read
    content = await read_capped_body(request, MAX_IMPORT_BYTES)
    rows = read_rows(content, "the body", _media_type(request))
    done = await run_in_threadpool(
        import_holdings, node, officer, record_type, rows, source=source, retain_until=retain_until, dry_run=dry_run
    )
    return HoldingsImportOut.model_validate(done.as_json())


@router.get("/holdings", responses=problems(*OFFICER_PROBLEMS, 403))
def holdings(
    node: NodeDep,
    officer: OfficerDep,
    record_type: Annotated[RecordType | None, Query(alias="type")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The agency's holdings: counts per type, and a page of records (the newest imports first)."""
    return holdings_page(node, officer, record_type, limit, offset)


@router.get("/holdings/duplicates", responses=problems(*OFFICER_PROBLEMS, 403))
def duplicates(node: NodeDep, officer: OfficerDep) -> dict[str, Any]:
    """Persons the agency holds twice (spellings, scripts, swapped dates), with the fields that agreed."""
    return holdings_duplicates(node, officer)


# ------------------------------------------------------------------------------------------------ queries


@router.post("/queries", status_code=status.HTTP_202_ACCEPTED, responses=problems(*BODY_PROBLEMS, 403, 409, 429))
def query(node: NodeDep, officer: OfficerDep, draft: QueryDraft) -> QueryOut:
    """Encode the records with the matching key and send only the encodings; the answer (hit or no hit per record)
    arrives on the exchange. 422 lists every record that cannot be queried (nothing is sent); 429 past the
    agreement's limit for the period."""
    require_querier(officer)
    rows = check_rows(draft.type, list(enumerate(draft.records, start=1)))
    return QueryOut.model_validate(
        send_query(node, officer, rows, queried_agency=draft.queried_agency, focus_area=draft.focus_area)
    )


@router.post(
    "/queries/batch",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=_FILE_BODY,
    responses=problems(*OFFICER_PROBLEMS, 403, 409, 413, 415, 429),
)
async def query_batch(
    node: NodeDep,
    officer: OfficerDep,
    request: Request,
    queried_agency: Annotated[str, Query(min_length=1, max_length=32)],
    focus_area: Annotated[str, Query(min_length=1, max_length=32)],
    record_type: Annotated[RecordType, Query(alias="type")] = RecordType.PERSON,
) -> QueryOut:
    """A batch file of records to query (CSV with a header, or JSON): all of it, or nothing if a row is bad."""
    require_querier(officer)  # before the body is read
    content = await read_capped_body(request, MAX_IMPORT_BYTES)
    rows = check_rows(record_type, read_rows(content, "the batch", _media_type(request)))
    sent = await run_in_threadpool(
        lambda: send_query(node, officer, rows, queried_agency=queried_agency, focus_area=focus_area)
    )
    return QueryOut.model_validate(sent)


@router.get("/queries", responses=problems(*OFFICER_PROBLEMS))
def queries(node: NodeDep, officer: OfficerDep) -> QueryList:
    """The agency's queries, the newest first."""
    return QueryList.model_validate({"queries": list_queries(node, officer)})


@router.get("/queries/{query_id:uuid}", responses=problems(*OFFICER_PROBLEMS, 404))
def query_result(node: NodeDep, officer: OfficerDep, query_id: QueryId) -> QueryOut:
    """A query with each record's answer: hit (with its reference and score band) or no hit, and any follow-up."""
    return QueryOut.model_validate(query_view(node, officer, str(query_id)))


@router.post(
    "/queries/{query_id:uuid}/records/{row}/request",
    status_code=status.HTTP_201_CREATED,
    responses=problems(*BODY_PROBLEMS, 403, 404, 409),
)
def request_hit_record(
    node: NodeDep,
    officer: OfficerDep,
    query_id: QueryId,
    row: Annotated[int, Path(ge=1, le=10_000)],
    followup: FollowUpIn,
) -> FollowUpOut:
    """Request a hit's record: an ordinary request naming the queried person and the hit's reference, decided by
    this party's policy pack (it may wait for a legal officer)."""
    return FollowUpOut.model_validate(request_record(node, officer, str(query_id), row, followup.draft()))


# ------------------------------------------------------------------------------------------------ answering


@router.get("/followups", responses=problems(*OFFICER_PROBLEMS))
def followups(node: NodeDep, officer: OfficerDep) -> dict[str, Any]:
    """The partner's follow-up requests to the officer's agency, each with the record of ours it names."""
    return {"followups": pending_followups(node, officer)}


@router.post(
    "/followups/{message_id}/release",
    status_code=status.HTTP_201_CREATED,
    responses=problems(*BODY_PROBLEMS, 403, 404, 409),
)
def release(node: NodeDep, officer: OfficerDep, message_id: MessageId, followup: FollowUpIn) -> ReleaseOut:
    """Answer a follow-up with the record: an ordinary response this party's pack decides on before it leaves."""
    return ReleaseOut.model_validate(release_record(node, officer, message_id, followup.draft()))


def _media_type(request: Request) -> str | None:
    """The body's media type (CSV, a JSON array or JSON lines); None when not given (the content tells)."""
    return request.headers.get("content-type", "").partition(";")[0].strip().lower() or None


@router.get("/volumes", responses=problems(*OFFICER_PROBLEMS))
def volumes(node: NodeDep, officer: OfficerDep) -> dict[str, Any]:
    """Records queried in the current period each way, against the agreement's limit."""
    return query_volumes(node)
