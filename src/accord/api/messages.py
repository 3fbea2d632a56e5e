"""Officers' mail: send, list, open (read receipt), reply, amend, case threads, attachments."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from accord.api.schemas.messages import (
    CaseThread,
    FocusAreaCounts,
    Mailbox,
    MessageContent,
    PolicyDecision,
    QueuedBatch,
    QueuedMessage,
    StoredAttachment,
)
from accord.domain.drafts import AmendmentDraft, MessageDraft, ReplyDraft
from accord.domain.messages import DeliveryState, MessageKind, Priority
from accord.domain.search import MAX_QUERY_CHARS
from accord.errors import PayloadTooLarge
from accord.exchange.attachments import read_attachment, store_blob
from accord.exchange.case_export import ExportFormat, export_case
from accord.exchange.mailbox import (
    MAX_PAGE,
    MailboxFilter,
    MailboxSort,
    case_thread,
    counts_by_focus_area,
    list_messages,
    mailbox_order,
    open_message,
)
from accord.exchange.sending import Queued, amend_message, evaluate_draft, reply_draft, send_messages
from accord.http.attachments import MULTIPART_OVERHEAD_BYTES, file_part
from accord.http.cursors import DEFAULT_PAGE_SIZE, AfterCursor, next_cursor, page_start
from accord.http.dependencies import NodeDep, OfficerDep, ScreenWorkersDep, read_capped_body
from accord.http.openapi import (
    BODY_PROBLEMS,
    OFFICER_PROBLEMS,
    files,
    next_link_response,
    problems,
    request_body,
    vocabulary,
)
from accord.i18n import _
from accord.reports.case_report import render_case_pdf

router = APIRouter(prefix="/api/v1", tags=["messages"])

MAX_BATCH = 1000
SHA256_PATTERN = r"^[0-9a-f]{64}$"
MessageId = Annotated[UUID, Path(description="the message's id")]
# Sending: 403 for a role that may not send, 404 for a case or message that is not there (or not the officer's to see).
SEND_PROBLEMS = (*BODY_PROBLEMS, 403, 404, 413)


class MessageBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[MessageDraft] = Field(min_length=1, max_length=MAX_BATCH)


def _queued_view(q: Queued) -> QueuedMessage:
    m = q.message
    return QueuedMessage.model_validate(
        {
            "id": m.id,
            "case_id": m.case_id,
            "kind": m.kind,
            "priority": m.priority,
            "deadline": m.deadline,
            "channel_seq": q.channel_seq,
            "delivery": {"state": q.state},
            "policy": q.decision.as_json(),
        }
    )


@router.post("/messages", status_code=201, responses=problems(*SEND_PROBLEMS))
def send(node: NodeDep, officer: OfficerDep, draft: MessageDraft) -> QueuedMessage:
    [queued] = send_messages(node, officer, [draft])
    return _queued_view(queued)


@router.post("/messages/evaluate", responses=problems(*SEND_PROBLEMS))
def evaluate(node: NodeDep, officer: OfficerDep, draft: MessageDraft) -> PolicyDecision:
    """What the policy pack would decide on this draft, with the policies, citations and findings; sends nothing."""
    # Recorded nowhere, so said in the officer's language (reasons and remedies), in the same shape as the record.
    return PolicyDecision.model_validate(evaluate_draft(node, officer, draft).shown())


@router.post("/messages/batch", status_code=201, responses=problems(*SEND_PROBLEMS))
def send_batch(node: NodeDep, officer: OfficerDep, batch: MessageBatch, workers: ScreenWorkersDep) -> QueuedBatch:
    return QueuedBatch(messages=[_queued_view(q) for q in send_messages(node, officer, batch.messages, workers)])


@router.get("/messages", responses=problems(*OFFICER_PROBLEMS) | next_link_response())
def mailbox(
    request: Request,
    response: Response,
    node: NodeDep,
    officer: OfficerDep,
    box: Literal["inbox", "outbox"] = "inbox",
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_CHARS,
            description=(
                "words to search for in the title, body and attachment names, in any language and script: a message "
                "matches when it has every word, whatever its case or its Latin accents (`precurseur` finds "
                "`précurseur`); a `*` right after a word matches words that begin with it (`anhydr*`); nothing "
                "else is syntax (quotes, `-`, `OR`, `NEAR`, parentheses are taken as words or spaces). Only messages "
                "the officer may read are searched; with `q`, each message says where it matched (`matched_in`)"
            ),
        ),
    ] = None,
    focus_area: Annotated[
        str | None, Query(description="a focus area of the agreement", json_schema_extra=vocabulary("focus-area"))
    ] = None,
    kind: MessageKind | None = None,
    priority: Priority | None = None,
    state: DeliveryState | None = None,
    overdue: bool | None = None,
    case_id: UUID | None = None,
    sort: Annotated[
        MailboxSort,
        Query(
            description="created: the newest first; deadline: the nearest first; priority: immediate first; focus: by "
            "focus area"
        ),
    ] = MailboxSort.CREATED,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="messages per page")] = DEFAULT_PAGE_SIZE,
    after: AfterCursor = None,
) -> Mailbox:
    order = mailbox_order(sort)
    flt = MailboxFilter(
        box=box,
        focus_area=focus_area,
        state=state,
        overdue=overdue,
        case_id=str(case_id) if case_id else None,
        limit=limit,
        after=page_start(node, order, after),
        kind=kind,
        priority=priority,
        q=q,
        sort=sort,
    )
    page = list_messages(node, officer, flt)
    cursor = next_cursor(request, response, node, order, page.next)
    return Mailbox.model_validate({"box": box, "messages": page.items, "next": cursor})


@router.get("/messages/counts", responses=problems(401))
def counts(node: NodeDep, officer: OfficerDep) -> FocusAreaCounts:
    return FocusAreaCounts.model_validate({"focus_areas": counts_by_focus_area(node, officer)})


@router.get("/messages/{message_id:uuid}", responses=problems(*OFFICER_PROBLEMS, 403, 404))
def read(node: NodeDep, officer: OfficerDep, message_id: MessageId) -> MessageContent:
    return MessageContent.model_validate(open_message(node, officer, str(message_id)))


@router.post("/messages/{message_id:uuid}/reply", status_code=201, responses=problems(*SEND_PROBLEMS, 409))
def reply(node: NodeDep, officer: OfficerDep, message_id: MessageId, draft: ReplyDraft) -> QueuedMessage:
    [queued] = send_messages(node, officer, [reply_draft(node, officer, str(message_id), draft)])
    return _queued_view(queued)


@router.post("/messages/{message_id:uuid}/amendments", status_code=201, responses=problems(*SEND_PROBLEMS, 409))
def amend(node: NodeDep, officer: OfficerDep, message_id: MessageId, draft: AmendmentDraft) -> QueuedMessage:
    return _queued_view(amend_message(node, officer, str(message_id), draft))


@router.get("/cases/{case_id:uuid}", responses=problems(*OFFICER_PROBLEMS, 404))
def case(node: NodeDep, officer: OfficerDep, case_id: Annotated[UUID, Path(description="the case's id")]) -> CaseThread:
    return CaseThread.model_validate({"case_id": str(case_id), "messages": case_thread(node, officer, str(case_id))})


_BYTES = {"schema": {"type": "string", "format": "binary", "minLength": 1}}


@router.post(
    "/attachments",
    status_code=201,
    responses=problems(*OFFICER_PROBLEMS, 413),
    openapi_extra=request_body(
        {
            "application/octet-stream": _BYTES,
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": _BYTES["schema"]}, "required": ["file"]}
            },
        },
        "the file itself, not empty, sent as any media type (kept as the attachment's); or a form with one file part "
        "(`curl -F file=@report.pdf`), whose name and media type are kept",
    ),
)
async def upload(node: NodeDep, officer: OfficerDep, request: Request) -> StoredAttachment:
    data = await read_capped_body(request, node.settings.max_attachment_bytes + MULTIPART_OVERHEAD_BYTES)
    media_type = request.headers.get("content-type", "application/octet-stream")
    name = None
    if media_type.lower().startswith("multipart/form-data"):
        data, media_type, name = await file_part(request.headers, data)
    if len(data) > node.settings.max_attachment_bytes:
        raise PayloadTooLarge(
            _("the file has {size} bytes; this node accepts at most {limit}").format(
                size=len(data), limit=node.settings.max_attachment_bytes
            )
        )
    blob = await run_in_threadpool(store_blob, node, data, media_type, "local", officer.id, officer.agency)
    return StoredAttachment(sha256=blob.sha256, size=blob.size, media_type=blob.media_type, name=name)


@router.get(
    "/attachments/{sha256}",
    response_class=Response,
    responses=files("the attachment, as its media type", {"*/*": _BYTES}) | problems(*OFFICER_PROBLEMS, 404),
)
def download(
    node: NodeDep,
    officer: OfficerDep,
    sha256: Annotated[str, Path(pattern=SHA256_PATTERN, description="the attachment's SHA-256, lower-case hex")],
) -> Response:
    data, media_type = read_attachment(node, officer, sha256)
    return Response(
        data, media_type=media_type, headers={"X-Content-Type-Options": "nosniff", "Content-Disposition": "attachment"}
    )


# The export's outline (ledger/case_format.py); `accord audit verify` checks the rest.
_CASE_EXPORT = {
    "type": "object",
    "required": ["format", "exported_at", "exported_by", "node", "peers", "case", "checkpoint", "leaves", "signature"],
    "properties": {
        "format": {"type": "string", "enum": ["accord-case-export/1"]},
        "exported_at": {"type": "string"},
        "exported_by": {"type": "object"},
        "node": {"type": "object"},
        "peers": {"type": "array", "items": {"type": "object"}},
        "case": {"type": "object", "description": "the thread: messages, reviews, forwards, attachments"},
        "checkpoint": {"type": ["object", "null"], "description": "the countersigned checkpoint the proofs lead to"},
        "leaves": {"type": "array", "items": {"type": "object"}, "description": "each with its inclusion proof"},
        "signature": {"type": "string", "description": "the node's compact JWS over the export's manifest"},
    },
}


@router.get(
    "/messages/{message_id:uuid}/export",
    response_class=Response,
    responses=files(
        "the case as a file: its JSON (`accord-case-export/1`), or a PDF that embeds that JSON",
        {"application/json": {"schema": _CASE_EXPORT}, "application/pdf": _BYTES},
    )
    | problems(*OFFICER_PROBLEMS, 403, 404),
)
async def export(
    node: NodeDep,
    officer: OfficerDep,
    message_id: MessageId,
    form: Annotated[ExportFormat, Query(alias="format", description="json or pdf")] = ExportFormat.JSON,
) -> Response:
    """The message's case as the officer may read it, with every ledger leaf about it proven against a countersigned
    checkpoint and signed by this node: `accord audit verify FILE` checks it offline. The export is recorded in the
    ledger."""
    exported = await run_in_threadpool(export_case, node, officer, str(message_id), form)
    if form is ExportFormat.PDF:
        data, media_type = await run_in_threadpool(render_case_pdf, exported), "application/pdf"
    else:
        data, media_type = exported.json_bytes(), "application/json"
    disposition = f'attachment; filename="{exported.filename(form)}"'
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})
