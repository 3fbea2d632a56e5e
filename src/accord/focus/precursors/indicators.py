"""The precursor indicators the work-plan report shows, registered without touching the work-plan code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from accord.domain.messages import MessageKind
from accord.domain.notifications import PenDecision
from accord.focus.precursors.notifications import pen_answers
from accord.store.tables import messages
from accord.workplan.indicators import Indicator, IndicatorContext, IndicatorResult, register_indicator


def _notifications(context: IndicatorContext) -> list[tuple[str, str, datetime | None]]:
    """(id, sending party, deadline) of the notifications created in the period."""
    rows = context.conn.execute(
        select(messages.c.id, messages.c.sender_party, messages.c.deadline).where(
            messages.c.kind == MessageKind.PEN.value,
            messages.c.created_at >= context.period.start,
            messages.c.created_at < context.period.end,
        )
    ).all()
    return [(r.id, r.sender_party, r.deadline) for r in rows]


def _count(context: IndicatorContext) -> IndicatorResult:
    found = _notifications(context)
    return IndicatorResult(len(found), {"drugs": len(found)})


def _answered_in_time(context: IndicatorContext) -> IndicatorResult:
    found = _notifications(context)
    answers = pen_answers(context.conn, [i for i, _, _ in found])
    decided = in_time = 0
    for notification_id, _, deadline in found:
        first = next(iter(answers.get(notification_id, [])), None)
        if first is None and deadline is not None and deadline > context.now:
            continue  # still open in time: not decided either way
        decided += 1
        answered_at = datetime.fromisoformat(first["at"]) if first is not None else None
        in_time += int(answered_at is not None and (deadline is None or answered_at <= deadline))
    share = in_time / decided if decided else None
    return IndicatorResult(share, {"drugs": share})


def _objections(context: IndicatorContext) -> IndicatorResult:
    found = _notifications(context)
    answers = pen_answers(context.conn, [i for i, _, _ in found])
    objected = sum(any(a["decision"] == PenDecision.OBJECTED.value for a in answers.get(i, [])) for i, _, _ in found)
    return IndicatorResult(objected, {"drugs": objected})


for _indicator in (
    Indicator(
        "pen-notifications",
        "Pre-export notifications",
        "count",
        "Notifications sent in the period, both ways.",
        _count,
        module="precursors",
    ),
    Indicator(
        "pen-answered-in-time",
        "Notifications answered before the deadline",
        "share",
        "Of the notifications answered or past their deadline, the share first answered by the deadline.",
        _answered_in_time,
        module="precursors",
    ),
    Indicator(
        "pen-objections",
        "Shipments objected to",
        "count",
        "Notifications the importing authority objected to.",
        _objections,
        module="precursors",
    ),
):
    register_indicator(_indicator)
