"""Controlled substances and pre-export notifications: look-up, notifications with status and risk flags, alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from accord.api.dependencies import NodeDep, OfficerDep
from accord.domain.drafts import HandlingDraft, MessageDraft
from accord.domain.messages import Direction, MessageKind, Priority
from accord.errors import InvalidInput
from accord.exchange.mailbox import readable_rows, visible_row
from accord.exchange.sending import require_sender, send_messages
from accord.focus.precursors.notifications import notification_views, require_notification
from accord.focus.precursors.substances import load_substances
from accord.store.tables import messages

router = APIRouter(tags=["precursors"])
STATUSES = {"pending", "info_requested", "cleared", "objected", "overdue"}


@router.get("/api/v1/substances")
def substances(
    officer: OfficerDep, q: Annotated[str, Query(min_length=1, max_length=200, description="name, CAS or HS")]
) -> dict[str, Any]:
    listed = load_substances()
    return {
        "query": q,
        "matches": [
            {"matched_on": m.matched_on, "score": m.score}
            | m.substance.model_dump(mode="json")
            | {"national": listed.national_classes(m.substance)}
            for m in listed.find(q)
        ],
    }


@router.get("/api/v1/precursors/notifications")
def notifications(
    node: NodeDep, officer: OfficerDep, state: Annotated[str | None, Query(alias="status")] = None
) -> dict[str, Any]:
    if state is not None and state not in STATUSES:
        raise InvalidInput(f"status is one of {sorted(STATUSES)}")
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(messages).where(messages.c.kind == MessageKind.PEN.value).order_by(messages.c.id.desc()).limit(500)
        ).all()
        views = notification_views(conn, readable_rows(node, officer, rows))
    found = [v.as_json() for v in views if state is None or v.status == state]
    return {"notifications": found}


class AlertDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    note: str = Field(default="", max_length=4000, description="what the importing side should do")
    priority: Priority = Priority.URGENT
    classification: str = Field(min_length=1, max_length=64)


@router.post("/api/v1/precursors/notifications/{message_id}/alert", status_code=status.HTTP_201_CREATED)
def raise_alert(node: NodeDep, officer: OfficerDep, message_id: str, draft: AlertDraft) -> dict[str, Any]:
    """An alert to the other side about a flagged notification, in the notification's case."""
    require_sender(officer)
    with node.engine.connect() as conn:
        row = visible_row(node, conn, officer, message_id)
        require_notification(row)
        [view] = notification_views(conn, [row])
    if not view.flags:
        raise InvalidInput("no risk rule flags this notification; an alert needs a reason")
    reasons = "\n".join(f"- {f.rule}: {f.reason}" for f in view.flags)
    outgoing = row.direction == Direction.OUTGOING.value
    alert = MessageDraft(
        kind=MessageKind.ALERT,
        recipient_agency=row.recipient_agency if outgoing else row.sender_agency,
        focus_area="drugs",
        priority=draft.priority,
        handling=HandlingDraft(classification=draft.classification),
        title=f"Risk alert on pre-export notification {row.id[:8]}",
        body=f"The notification {row.id} is flagged:\n{reasons}\n\n{draft.note}".strip(),
        case_id=row.case_id,
        offence="precursor_diversion",
    )
    [queued] = send_messages(node, officer, [alert])
    return {"id": queued.message.id, "state": queued.state.value, "flags": [f.as_json() for f in view.flags]}
