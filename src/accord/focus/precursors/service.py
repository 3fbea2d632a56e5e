"""What the API, the web UI and the CLI call for precursors, as the signed-in officer: the notifications with their
status, and the follow-ups an officer sends on one (a risk alert, a reminder when the answer is overdue)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row, Select, select

from accord.directory.officers import Officer
from accord.domain.drafts import HandlingDraft, MessageDraft
from accord.domain.messages import Direction, MessageKind, Priority
from accord.errors import InvalidInput
from accord.exchange.mailbox import readable_rows, visible_row
from accord.exchange.sending import require_sender, send_messages
from accord.focus.precursors.notifications import (
    DRUGS,
    PRECURSOR_OFFENCE,
    NotificationView,
    notification_views,
    require_notification,
)
from accord.i18n import _
from accord.node import Node
from accord.store.keyset import Page, Position, SortKey, read_page
from accord.store.tables import messages

STATUSES = ("pending", "info_requested", "cleared", "objected", "overdue")
MAX_LISTED = 500


def _pen_messages() -> Select[Any]:
    """The pre-export notifications this node holds (sent and received) that are not purged."""
    return select(messages).where(messages.c.kind == MessageKind.PEN.value, messages.c.purged_at.is_(None))


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise InvalidInput(_("status is one of {join}").format(join=", ".join(STATUSES)))


def list_notifications(
    node: Node, officer: Officer, status: str | None = None, flagged: bool | None = None
) -> list[NotificationView]:
    _check_status(status)
    with node.engine.connect() as conn:
        rows = conn.execute(_pen_messages().order_by(messages.c.id.desc()).limit(MAX_LISTED)).all()
        views = notification_views(node, conn, readable_rows(node, officer, rows))
    return [
        v for v in views if (status is None or v.status == status) and (flagged is None or bool(v.flags) == flagged)
    ]


NOTIFICATION_ORDER = SortKey("notifications/created", (messages.c.created_at, messages.c.id))


def needs_follow_up(view: NotificationView) -> bool:
    """A risk rule flags it, or its answer is overdue: an alert or a reminder may be due."""
    return bool(view.flags) or view.status == "overdue"


def notification_page(
    node: Node,
    officer: Officer,
    status: str | None = None,
    flagged: bool | None = None,
    *,
    follow_up_due: bool = False,
    after: Position | None = None,
    limit: int = 50,
) -> Page[NotificationView]:
    """A page of the notifications the officer may read (the most recent first) with this status and flag, or only
    those where a follow-up may be due."""
    _check_status(status)

    def wanted(view: NotificationView) -> bool:
        return (
            (status is None or view.status == status)
            and (flagged is None or bool(view.flags) == flagged)
            and (not follow_up_due or needs_follow_up(view))
        )

    with node.engine.connect() as conn:

        def keep(rows: Sequence[Row[Any]]) -> list[tuple[Row[Any], NotificationView]]:
            readable = readable_rows(node, officer, rows)
            views = notification_views(node, conn, readable)
            return [(row, view) for row, view in zip(readable, views, strict=True) if wanted(view)]

        return read_page(conn, _pen_messages(), NOTIFICATION_ORDER, after=after, limit=limit, keep=keep)


def notification(node: Node, officer: Officer, message_id: str) -> NotificationView:
    with node.engine.connect() as conn:
        row = visible_row(node, conn, officer, message_id)
        require_notification(row)
        [view] = notification_views(node, conn, [row])
    return view


class FollowUpDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    note: str = Field(default="", max_length=4000, description="what the other side should do")
    priority: Priority = Priority.URGENT
    classification: str = Field(min_length=1, max_length=64, description="national marking, e.g. 'Protected A'")


def _other_side(view: NotificationView) -> str:
    message = view.message
    return str(message["recipient" if message["direction"] == Direction.OUTGOING.value else "sender"]["agency"])


def _send_follow_up(
    node: Node, officer: Officer, view: NotificationView, kind: MessageKind, title: str, body: str, draft: FollowUpDraft
) -> dict[str, Any]:
    follow_up = MessageDraft(
        kind=kind,
        recipient_agency=_other_side(view),
        focus_area=DRUGS,
        priority=draft.priority,
        handling=HandlingDraft(classification=draft.classification),
        title=title,
        body=f"{body}\n\n{draft.note}".strip(),
        case_id=view.message["case_id"],
        offence=PRECURSOR_OFFENCE,
    )
    [queued] = send_messages(node, officer, [follow_up])
    return {"id": queued.message.id, "state": queued.state.value, "kind": kind.value}


def raise_alert(node: Node, officer: Officer, message_id: str, draft: FollowUpDraft) -> dict[str, Any]:
    """An alert to the other side about a flagged notification, in the notification's case."""
    require_sender(officer)
    view = notification(node, officer, message_id)
    if not view.flags:
        raise InvalidInput(_("no risk rule flags this notification; an alert needs a reason"))
    reasons = "\n".join(f"- {f.rule}: {f.reason}" for f in view.flags)
    title = f"Risk alert on pre-export notification {message_id[:8]}"
    body = f"The notification {message_id} is flagged:\n{reasons}"
    sent = _send_follow_up(node, officer, view, MessageKind.ALERT, title, body, draft)
    return sent | {"flags": [f.as_json() for f in view.flags]}


def send_reminder(node: Node, officer: Officer, message_id: str, draft: FollowUpDraft) -> dict[str, Any]:
    """A request to the importing authority to answer a notification whose deadline has passed."""
    require_sender(officer)
    view = notification(node, officer, message_id)
    if view.message["direction"] != Direction.OUTGOING.value:
        raise InvalidInput(_("a reminder is sent by the notifying side; this notification came from the other party"))
    if view.status != "overdue":
        raise InvalidInput(
            _("the notification is {status}, not overdue: no reminder is due").format(status=view.status)
        )
    deadline = view.message["deadline"]
    title = f"Reminder: pre-export notification {message_id[:8]} unanswered past its deadline"
    body = (
        f"The notification {message_id} was due to be answered by {deadline:%Y-%m-%d %H:%M} UTC. "
        "Please clear it, object to it or ask for information."
    )
    return _send_follow_up(node, officer, view, MessageKind.REQUEST, title, body, draft)
