"""Officers' mail: send, list, open (read receipt), reply, amend, case threads, attachments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from accord.domain.drafts import AmendmentDraft, MessageDraft, ReplyDraft
from accord.domain.messages import DeliveryState
from accord.exchange.attachments import read_attachment, store_blob
from accord.exchange.mailbox import MailboxFilter, case_thread, counts_by_focus_area, list_messages, open_message
from accord.exchange.sending import Queued, amend_message, evaluate_draft, reply_draft, send_messages
from accord.http.dependencies import NodeDep, OfficerDep, read_capped_body

router = APIRouter(prefix="/api/v1", tags=["messages"])

MAX_BATCH = 1000


class MessageBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[MessageDraft] = Field(min_length=1, max_length=MAX_BATCH)


def _queued_view(q: Queued) -> dict[str, Any]:
    m = q.message
    return {
        "id": m.id,
        "case_id": m.case_id,
        "kind": m.kind.value,
        "priority": m.priority.value,
        "deadline": m.deadline,
        "channel_seq": q.channel_seq,
        "delivery": {"state": q.state.value},
        "policy": q.decision.as_json(),
    }


@router.post("/messages", status_code=201)
def send(node: NodeDep, officer: OfficerDep, draft: MessageDraft) -> dict[str, Any]:
    [queued] = send_messages(node, officer, [draft])
    return _queued_view(queued)


@router.post("/messages/evaluate")
def evaluate(node: NodeDep, officer: OfficerDep, draft: MessageDraft) -> dict[str, Any]:
    """What the policy pack would decide on this draft, with the policies, citations and findings; sends nothing."""
    return evaluate_draft(node, officer, draft).as_json()


@router.post("/messages/batch", status_code=201)
def send_batch(node: NodeDep, officer: OfficerDep, batch: MessageBatch) -> dict[str, Any]:
    return {"messages": [_queued_view(q) for q in send_messages(node, officer, batch.messages)]}


@router.get("/messages")
def mailbox(
    node: NodeDep,
    officer: OfficerDep,
    box: Annotated[str, Query(pattern="^(inbox|outbox)$")] = "inbox",
    focus_area: str | None = None,
    state: DeliveryState | None = None,
    overdue: bool | None = None,
    case_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: str | None = None,
) -> dict[str, Any]:
    flt = MailboxFilter(box, focus_area, state, overdue, case_id, limit, before)
    items = list_messages(node, officer, flt)
    return {"box": box, "messages": items, "next_before": items[-1]["id"] if len(items) == limit else None}


@router.get("/messages/counts")
def counts(node: NodeDep, officer: OfficerDep) -> dict[str, Any]:
    return {"focus_areas": counts_by_focus_area(node, officer)}


@router.get("/messages/{message_id}")
def read(node: NodeDep, officer: OfficerDep, message_id: str) -> dict[str, Any]:
    return open_message(node, officer, message_id)


@router.post("/messages/{message_id}/reply", status_code=201)
def reply(node: NodeDep, officer: OfficerDep, message_id: str, draft: ReplyDraft) -> dict[str, Any]:
    [queued] = send_messages(node, officer, [reply_draft(node, officer, message_id, draft)])
    return _queued_view(queued)


@router.post("/messages/{message_id}/amendments", status_code=201)
def amend(node: NodeDep, officer: OfficerDep, message_id: str, draft: AmendmentDraft) -> dict[str, Any]:
    return _queued_view(amend_message(node, officer, message_id, draft))


@router.get("/cases/{case_id}")
def case(node: NodeDep, officer: OfficerDep, case_id: str) -> dict[str, Any]:
    return {"case_id": case_id, "messages": case_thread(node, officer, case_id)}


@router.post("/attachments", status_code=201)
async def upload(node: NodeDep, officer: OfficerDep, request: Request) -> dict[str, Any]:
    data = await read_capped_body(request, node.settings.max_attachment_bytes)
    media_type = request.headers.get("content-type", "application/octet-stream")
    from fastapi.concurrency import run_in_threadpool

    blob = await run_in_threadpool(store_blob, node, data, media_type, "local", officer.id, officer.agency)
    return {"sha256": blob.sha256, "size": blob.size, "media_type": blob.media_type}


@router.get("/attachments/{sha256}")
def download(node: NodeDep, officer: OfficerDep, sha256: str) -> Response:
    data, media_type = read_attachment(node, officer, sha256)
    return Response(
        data, media_type=media_type, headers={"X-Content-Type-Options": "nosniff", "Content-Disposition": "attachment"}
    )
