"""Pre-export notifications as Accord messages: the rules a notification and its answer must keep, the status of
each notification (pending, information requested, cleared, objected, overdue), and its risk flags."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select

from accord.domain.agreement import Agreement
from accord.domain.messages import Message, MessageKind
from accord.domain.notifications import ImportRecord, PenAnswer, PenDecision, PreExportNotification
from accord.domain.parties import Party
from accord.errors import InvalidInput, NotFound
from accord.exchange.errors import NotAmendable
from accord.exchange.mailbox import delivery_holds, message_view
from accord.focus.precursors.risk import (
    PastNotification,
    ResolvedItem,
    RiskFlag,
    assess,
    importer_key,
    resolve_substance,
)
from accord.i18n import N_, _
from accord.node import Node
from accord.store.tables import messages

DRUGS = "drugs"
# ICCS v1.0 06012: unlawful trafficking ... of controlled drugs or precursors — what a precursor diversion is.
PRECURSOR_OFFENCE = "06012"


class NotCompetentAuthority(InvalidInput):
    slug = "not-competent-authority"
    title = N_("Only the competent authority sends pre-export notifications")


def resolve_items(notification: PreExportNotification) -> list[ResolvedItem]:
    resolved = []
    for index, item in enumerate(notification.items):
        substance, analogue = resolve_substance(item.substance)
        resolved.append(ResolvedItem(index, substance, analogue, item.quantity_kg, item.hs_code))
    return resolved


def check_notification(
    agreement: Agreement,
    sender: Party,
    recipient_agency: str,
    focus_area: str,
    notification: PreExportNotification | None,
    today: date,
) -> None:
    """What makes a notification impossible to send (a bad one is refused, a risky one is flagged, not refused)."""
    if notification is None:
        raise InvalidInput(_("a 'pen' carries the notification: exporter, importer, items, route, dates, permits"))
    if focus_area != DRUGS:
        raise InvalidInput(_("a pre-export notification belongs to the '{DRUGS}' focus area").format(DRUGS=DRUGS))
    authority = agreement.pre_export_notifications.authorities[sender.other]
    if recipient_agency != authority:
        raise InvalidInput(
            _("notifications go to {other}'s competent authority {authority}, not {recipient_agency}").format(
                other=sender.other, authority=authority, recipient_agency=recipient_agency
            )
        )
    if notification.exporter.country != sender.value:
        raise InvalidInput(
            _("the exporter of a notification sent by {sender} is in {sender}, not {country}").format(
                sender=sender, country=notification.exporter.country
            )
        )
    if notification.importer.country != sender.other.value:
        raise InvalidInput(_("the importer must be in {other}, the party notified").format(other=sender.other))
    if notification.dispatch_date < today:
        raise InvalidInput(
            _("the expected dispatch date {dispatch_date} is already past").format(
                dispatch_date=notification.dispatch_date
            )
        )
    if (notification.dispatch_date - today).days > 366:
        raise InvalidInput(_("the expected dispatch date is more than a year away; notify nearer the shipment"))
    resolve_items(notification)


def check_competent_authority(agreement: Agreement, sender: Party, sender_agency: str) -> None:
    """Only the exporting party's competent authority notifies: 1988 Convention Art. 12(10)(a) puts the duty on the
    authorities of the exporting party, and PEN Online accepts notifications only from the competent national
    authority each Government registered with INCB (the agreement's `pre_export_notifications.authorities`)."""
    authority = agreement.pre_export_notifications.authorities[sender]
    if sender_agency != authority:
        raise NotCompetentAuthority(
            _(
                "{sender_agency} is not {sender}'s competent authority for pre-export notifications; "
                "only {authority} notifies (1988 Convention Art. 12(10)(a); PEN Online: the competent "
                "national authority registered with INCB)"
            ).format(sender_agency=sender_agency, sender=sender, authority=authority)
        )


def check_answer(conn: Connection, original: Any, answer: PenAnswer | None) -> None:
    """An answer belongs to a notification, is given once it is open, and only a final answer closes it."""
    if original.kind != MessageKind.PEN.value:
        if answer is not None:
            raise InvalidInput(_("pen_answer answers a pre-export notification; this message is not one"))
        return
    if answer is None:
        raise InvalidInput(
            _("the answer to a pre-export notification gives pen_answer: cleared, objected or info_requested")
        )
    if original.purged_at is not None:
        raise NotAmendable(_("the notification was purged"))
    decided = pen_answers(conn, [original.id]).get(original.id, [])
    closing = next((d for d in decided if PenDecision(d["decision"]).closes), None)
    if closing is not None:
        raise NotAmendable(
            _("the notification was closed already: {decision} on {at}").format(
                decision=closing["decision"], at=closing["at"]
            )
        )


def pen_answers(conn: Connection, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    if not ids:
        return found
    for row in conn.execute(
        select(
            messages.c.in_reply_to, messages.c.content, messages.c.created_at, messages.c.state, messages.c.direction
        )
        .where(messages.c.kind == MessageKind.RESPONSE.value, messages.c.in_reply_to.in_(ids))
        .order_by(messages.c.created_at)
    ):
        if row.direction == "outgoing" and row.state in {"held", "refused", "failed"}:
            continue
        answer = json.loads(row.content).get("pen_answer")
        if answer:
            found.setdefault(row.in_reply_to, []).append(answer | {"at": row.created_at.isoformat()})
    return found


@dataclass(frozen=True, slots=True)
class NotificationView:
    message: dict[str, Any]
    status: str
    answers: list[dict[str, Any]]
    flags: list[RiskFlag]
    escalation: dict[str, Any] | None
    follow_ups: list[dict[str, Any]]  # alerts and reminders in the notification's case

    @property
    def shipment(self) -> str:
        return {"objected": "blocked", "cleared": "may ship"}.get(self.status, "waiting")

    def as_json(self) -> dict[str, Any]:
        return self.message | {
            "status": self.status,
            "shipment": self.shipment,
            "escalation": self.escalation,
            "answers": self.answers,
            "flags": [f.as_json() for f in self.flags],
            "follow_ups": self.follow_ups,
        }


def notification_status(answers: list[dict[str, Any]], deadline: datetime | None, now: datetime) -> str:
    final = next((a for a in reversed(answers) if PenDecision(a["decision"]).closes), None)
    if final is not None:
        return str(final["decision"])
    if deadline is not None and deadline < now:
        return "overdue"
    return "info_requested" if answers else "pending"


def escalation(agreement: Agreement, status: str, deadline: datetime | None, now: datetime) -> dict[str, Any] | None:
    """Silence past the deadline: first a reminder is due to the importing authority; after the agreed working
    days more, the notification goes up to both sides' work-plan coordinators."""
    if status != "overdue" or deadline is None:
        return None
    up = agreement.pen_escalation(deadline)
    if now < up:
        return {"level": 1, "since": deadline.isoformat(), "to": "importing authority (reminder due)"}
    return {"level": 2, "since": up.isoformat(), "to": "both sides' work-plan coordinators"}


@dataclass(frozen=True, slots=True)
class _Notified:
    at: datetime
    past: list[PastNotification]


def notification_history(conn: Connection) -> list[_Notified]:
    """Every notification this node holds, as the history rules see it (read once per listing)."""
    found = []
    for row in conn.execute(
        select(messages.c.content, messages.c.created_at).where(messages.c.kind == MessageKind.PEN.value)
    ):
        notification = Message.model_validate_json(row.content).notification
        if notification is None:
            continue
        key = importer_key(notification)
        past = [
            PastNotification(key, item.substance.code, item.quantity_kg)
            for item in resolve_items_quietly(notification)
            if item.substance is not None
        ]
        found.append(_Notified(row.created_at, past))
    return found


def resolve_items_quietly(notification: PreExportNotification) -> list[ResolvedItem]:
    try:
        return resolve_items(notification)
    except InvalidInput:
        return []  # a notification that arrived with a substance this node does not know is flagged elsewhere


def case_follow_ups(conn: Connection, case_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The alerts and reminders sent or received in each case (other than the notification and its answers)."""
    found: dict[str, list[dict[str, Any]]] = {}
    if not case_ids:
        return found
    for row in conn.execute(
        select(messages.c.id, messages.c.case_id, messages.c.kind, messages.c.title, messages.c.created_at)
        .where(
            messages.c.case_id.in_(case_ids),
            messages.c.kind.in_([MessageKind.ALERT.value, MessageKind.REQUEST.value]),
        )
        .order_by(messages.c.created_at)
    ):
        found.setdefault(row.case_id, []).append(
            {"id": row.id, "kind": row.kind, "title": row.title, "at": row.created_at.isoformat()}
        )
    return found


def notification_views(
    node: Node, conn: Connection, rows: list[Any], now: datetime | None = None
) -> list[NotificationView]:
    now = now or datetime.now(UTC)
    holds = delivery_holds(node, conn)
    decisions = pen_answers(conn, [r.id for r in rows])
    follow_ups = case_follow_ups(conn, list({r.case_id for r in rows}))
    history = notification_history(conn)
    views = []
    for row in rows:
        message = Message.model_validate_json(row.content)
        notification = message.notification
        answers = decisions.get(row.id, [])
        flags: list[RiskFlag] = []
        if notification is not None:
            earlier = [p for n in history if n.at < row.created_at for p in n.past]
            records = [ImportRecord.model_validate(a["import_record"]) for a in answers if a.get("import_record")]
            flags = assess(notification, resolve_items_quietly(notification), earlier, records=records)
        view = message_view(row, now, holds, with_content=True) | {
            "notification": notification.model_dump(mode="json") if notification else None
        }
        status = notification_status(answers, row.deadline, now)
        views.append(
            NotificationView(
                view,
                status,
                answers,
                flags,
                escalation(node.agreement, status, row.deadline, now),
                follow_ups.get(row.case_id, []),
            )
        )
    return views


def require_notification(row: Any) -> None:
    if row is None or row.kind != MessageKind.PEN.value:
        raise NotFound(_("no pre-export notification with that id"))
