"""The precursor indicators the work-plan report shows, registered without touching the work-plan code."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select

from accord.domain.incidents import Incident
from accord.domain.messages import Message, MessageKind
from accord.domain.notifications import PenDecision
from accord.errors import InvalidInput
from accord.focus.precursors.notifications import notification_status, pen_answers
from accord.focus.precursors.risk import identify
from accord.i18n import N_
from accord.store.tables import messages
from accord.workplan.indicators import Breakdown, Indicator, IndicatorContext, IndicatorResult

OUTCOMES = ("objected", "cleared", "info_requested", "pending", "overdue")


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


def _incidents(context: IndicatorContext) -> list[Incident]:
    """The incidents (sent or received) that happened in the period, by the date they happened."""
    found = []
    for row in context.conn.execute(
        select(messages.c.content).where(messages.c.kind == MessageKind.INCIDENT.value, messages.c.purged_at.is_(None))
    ):
        incident = Message.model_validate_json(row.content).incident
        if incident is not None and context.period.start.date() <= incident.occurred_on <= context.period.last_day:
            found.append(incident)
    return found


def _substance_name(name: str) -> str:
    try:
        return identify(name)[1]
    except InvalidInput:
        return name


def _incidents_by_substance(context: IndicatorContext) -> IndicatorResult:
    incidents = _incidents(context)
    months = context.period.months()
    counts: Counter[tuple[str, str]] = Counter()
    for incident in incidents:
        for substance in {_substance_name(item.substance) for item in incident.items}:
            counts[substance, f"{incident.occurred_on:%Y-%m}"] += 1
    substances = sorted({s for s, _ in counts})
    rows = tuple((s, tuple(float(counts[s, m]) for m in months)) for s in substances)
    breakdown = Breakdown(N_("Precursor incidents by substance and month"), tuple(months), rows) if rows else None
    return IndicatorResult(len(incidents), {"drugs": len(incidents)}, breakdown)


def _alerts(context: IndicatorContext) -> IndicatorResult:
    """Alerts raised in the cases of the period's notifications, by what became of the notification."""
    found = _notifications(context)
    cases = dict(
        context.conn.execute(
            select(messages.c.case_id, messages.c.id).where(messages.c.id.in_([i for i, _, _ in found]))
        ).all()
    )
    alerts = context.conn.execute(
        select(messages.c.case_id).where(
            messages.c.kind == MessageKind.ALERT.value, messages.c.case_id.in_(list(cases))
        )
    ).all()
    answers = pen_answers(context.conn, list(cases.values()))
    deadlines = {i: deadline for i, _, deadline in found}
    outcomes: Counter[str] = Counter()
    for (case_id,) in alerts:
        notification_id = cases[case_id]
        outcomes[notification_status(answers.get(notification_id, []), deadlines[notification_id], context.now)] += 1
    rows = tuple((outcome.replace("_", " "), (float(outcomes[outcome]),)) for outcome in OUTCOMES if outcomes[outcome])
    breakdown = Breakdown(N_("Risk alerts by what became of the notification"), (N_("alerts"),), rows) if rows else None
    return IndicatorResult(len(alerts), {"drugs": len(alerts)}, breakdown)


PRECURSOR_INDICATORS = (
    Indicator(
        "pen-notifications",
        N_("Pre-export notifications"),
        "count",
        N_("Notifications sent in the period, both ways."),
        _count,
        module="precursors",
    ),
    Indicator(
        "pen-answered-in-time",
        N_("Notifications answered before the deadline"),
        "share",
        N_("Of the notifications answered or past their deadline, the share first answered by the deadline."),
        _answered_in_time,
        module="precursors",
    ),
    Indicator(
        "pen-objections",
        N_("Shipments objected to"),
        "count",
        N_("Notifications the importing authority objected to."),
        _objections,
        module="precursors",
    ),
    Indicator(
        "precursor-incidents",
        N_("Precursor incidents"),
        "count",
        N_("Seizures, stopped shipments, diversions and suspicious orders that happened in the period, both ways."),
        _incidents_by_substance,
        module="precursors",
    ),
    Indicator(
        "pen-alerts",
        N_("Risk alerts on notifications"),
        "count",
        N_("Alerts raised in the cases of the period's notifications, with the notification's outcome."),
        _alerts,
        module="precursors",
    ),
)
