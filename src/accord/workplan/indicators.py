"""Indicators computed from the live exchange and plan, never typed in; each capability registers its own.

Definitions (the report prints them too):
- a *request* counts in the period it was created; its direction is the party that sent it;
- *time to acknowledge*: from creation to the recipient first opening it (the read receipt's time);
- *time to first response*: from creation to the creation of the first response that left the responder's node
  (held, refused or failed responses do not count);
- *answered within target*: share of the requests that are answered or past their deadline which were answered
  by their deadline (the agreement's response target for the priority);
- *overdue now*: requests of the period with no response whose deadline has passed, unless withdrawn or retracted;
- medians are the usual median; the 90th percentile is the nearest-rank value (the ⌈0.9·n⌉-th smallest).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from accord.domain.agreement import Agreement
from accord.domain.messages import OPENING_KINDS, DeliveryState, MessageKind, Priority
from accord.domain.workplan import ActionStatus, ItemKind
from accord.i18n import N_
from accord.registry import Registry, Slot
from accord.store.tables import messages, workplan_items
from accord.workplan.periods import Period

_NOT_SENT = {DeliveryState.HELD.value, DeliveryState.REFUSED.value, DeliveryState.FAILED.value}
_VOID = {"withdrawn", "retracted"}


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the statistics see it."""

    id: str
    focus_area: str
    priority: str
    from_party: str
    created_at: datetime
    deadline: datetime | None
    acknowledged_at: datetime | None
    first_response_at: datetime | None
    void: bool

    def hours_to(self, moment: datetime | None) -> float | None:
        return None if moment is None else (moment - self.created_at).total_seconds() / 3600

    def answered_in_time(self, now: datetime) -> bool | None:
        """True/False once it is decidable (answered, or deadline passed); None while it is still open in time."""
        if self.deadline is None:
            return None
        if self.first_response_at is not None:
            return self.first_response_at <= self.deadline
        return False if self.deadline < now else None

    def overdue(self, now: datetime) -> bool:
        return self.deadline is not None and self.deadline < now and self.first_response_at is None and not self.void


@dataclass(frozen=True, slots=True)
class Opening:
    """Any opening message (request, share, alert) for volumes."""

    id: str
    kind: str
    focus_area: str
    from_party: str
    created_at: datetime


@dataclass(slots=True)
class ExchangeData:
    """The raw material every exchange indicator is computed from, read once per report."""

    period: Period
    now: datetime
    requests: list[Request] = field(default_factory=list)
    openings: list[Opening] = field(default_factory=list)


def load_exchange(conn: Connection, period: Period, now: datetime) -> ExchangeData:
    """Opening messages created in the period, with their first read and first response."""
    rows = conn.execute(
        select(
            messages.c.id,
            messages.c.kind,
            messages.c.focus_area,
            messages.c.priority,
            messages.c.sender_party,
            messages.c.created_at,
            messages.c.deadline,
            messages.c.read_at,
            messages.c.amendment,
            messages.c.state,
            messages.c.direction,
        ).where(
            messages.c.kind.in_([k.value for k in OPENING_KINDS]),
            messages.c.created_at >= period.start,
            messages.c.created_at < period.end,
        )
    ).all()
    data = ExchangeData(period, now)
    sent = [r for r in rows if not (r.direction == "outgoing" and r.state in _NOT_SENT)]
    request_ids = [r.id for r in sent if r.kind == MessageKind.REQUEST.value]
    first_response: dict[str, datetime] = {}
    for chunk in _chunks(request_ids, 500):
        for response in conn.execute(
            select(messages.c.in_reply_to, messages.c.created_at, messages.c.state, messages.c.direction).where(
                messages.c.kind == MessageKind.RESPONSE.value, messages.c.in_reply_to.in_(chunk)
            )
        ):
            if response.direction == "outgoing" and response.state in _NOT_SENT:
                continue
            known = first_response.get(response.in_reply_to)
            if known is None or response.created_at < known:
                first_response[response.in_reply_to] = response.created_at
    for r in sent:
        data.openings.append(Opening(r.id, r.kind, r.focus_area, r.sender_party, r.created_at))
        if r.kind == MessageKind.REQUEST.value:
            data.requests.append(
                Request(
                    r.id,
                    r.focus_area,
                    r.priority,
                    r.sender_party,
                    r.created_at,
                    r.deadline,
                    r.read_at,
                    first_response.get(r.id),
                    r.amendment in _VOID,
                )
            )
    return data


def _chunks(values: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile_nearest_rank(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@dataclass(frozen=True, slots=True)
class RequestStats:
    """The exchange indicators for one group of requests (a focus area, a priority, a direction)."""

    count: int
    acknowledged: int
    ack_median_h: float | None
    ack_p90_h: float | None
    answered: int
    response_median_h: float | None
    response_p90_h: float | None
    decided: int  # answered, or past the deadline
    within_target: int
    within_target_share: float | None
    overdue_now: int

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def request_stats(requests: Sequence[Request], now: datetime) -> RequestStats:
    ack = [h for r in requests if (h := r.hours_to(r.acknowledged_at)) is not None]
    resp = [h for r in requests if (h := r.hours_to(r.first_response_at)) is not None]
    verdicts = [v for r in requests if (v := r.answered_in_time(now)) is not None]
    within = sum(verdicts)
    return RequestStats(
        count=len(requests),
        acknowledged=len(ack),
        ack_median_h=median(ack),
        ack_p90_h=percentile_nearest_rank(ack, 90),
        answered=len(resp),
        response_median_h=median(resp),
        response_p90_h=percentile_nearest_rank(resp, 90),
        decided=len(verdicts),
        within_target=within,
        within_target_share=within / len(verdicts) if verdicts else None,
        overdue_now=sum(r.overdue(now) for r in requests),
    )


def exchange_table(data: ExchangeData, agreement: Agreement) -> list[dict[str, Any]]:
    """One row per focus area × priority × sending party, every combination present (zeros included)."""
    rows = []
    for area in agreement.focus_areas:
        for priority in Priority:
            for party in agreement.parties:
                group = [
                    r
                    for r in data.requests
                    if r.focus_area == area.code and r.priority == priority.value and r.from_party == party.value
                ]
                stats = request_stats(group, data.now)
                rows.append({"focus_area": area.code, "priority": priority.value, "from_party": party.value})
                rows[-1] |= stats.as_json()
    return rows


def requests_per_area(data: ExchangeData, agreement: Agreement) -> dict[str, list[int]]:
    """Requests per focus area, one count per sending party (in the agreement's order of parties)."""
    return {
        area.code: [
            sum(r.focus_area == area.code and r.from_party == p.value for r in data.requests) for p in agreement.parties
        ]
        for area in agreement.focus_areas
    }


def weekly_volumes(data: ExchangeData, focus_area: str | None = None) -> list[dict[str, Any]]:
    """Opening messages per week (weeks start on Monday) and kind, in the period."""
    first_monday = (data.period.start - timedelta(days=data.period.start.weekday())).date()
    weeks: list[dict[str, Any]] = []
    week = first_monday
    while week < data.period.end.date():
        weeks.append({"week": week.isoformat()} | {kind.value: 0 for kind in OPENING_KINDS})
        week += timedelta(days=7)
    for opening in data.openings:
        if focus_area is not None and opening.focus_area != focus_area:
            continue
        index = (opening.created_at.date() - first_monday).days // 7
        weeks[index][opening.kind] += 1
    return weeks


# ---- the registry


@dataclass(frozen=True, slots=True)
class IndicatorContext:
    conn: Connection
    agreement: Agreement
    period: Period
    now: datetime
    exchange: ExchangeData


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A small table under an indicator (e.g. incidents by substance and month): one row per label."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[float, ...]], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "columns": list(self.columns),
            "rows": [{"label": label, "values": list(values)} for label, values in self.rows],
        }


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    value: float | None
    by_focus_area: dict[str, float | None] = field(default_factory=dict)
    breakdown: Breakdown | None = None


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    title: str
    unit: str  # "count", "share" (0..1) or "hours"
    description: str
    compute: Callable[[IndicatorContext], IndicatorResult]
    module: str = "exchange"


INDICATORS: Slot[Indicator] = Slot("indicator")


def register_indicator(registry: Registry, indicator: Indicator) -> Indicator:
    """Add an indicator to every report of the node; a capability calls this from its `register`."""
    known = registry.get(INDICATORS, indicator.code)
    if known is not None:
        raise ValueError(f"an indicator {indicator.code!r} is registered already (by {known.module})")
    registry.add(INDICATORS, indicator.code, indicator)
    return indicator


def compute_indicators(context: IndicatorContext, indicators: Sequence[Indicator]) -> list[dict[str, Any]]:
    return [
        {
            "code": i.code,
            "title": i.title,
            "unit": i.unit,
            "description": i.description,
            "module": i.module,
        }
        | {
            "value": (result := i.compute(context)).value,
            "by_focus_area": result.by_focus_area,
            "breakdown": result.breakdown.as_json() if result.breakdown else None,
        }
        for i in indicators
    ]


def measure(
    conn: Connection, registry: Registry, agreement: Agreement, period: Period, now: datetime
) -> tuple[ExchangeData, list[dict[str, Any]]]:
    """The period's exchange and every indicator registered on the node over it."""
    exchange = load_exchange(conn, period, now)
    context = IndicatorContext(conn, agreement, period, now, exchange)
    return exchange, compute_indicators(context, registry.all(INDICATORS))


def _per_area(context: IndicatorContext, measure: Callable[[list[Request]], float | None]) -> IndicatorResult:
    requests = context.exchange.requests
    return IndicatorResult(
        measure(requests),
        {a.code: measure([r for r in requests if r.focus_area == a.code]) for a in context.agreement.focus_areas},
    )


def _count_openings(kind: MessageKind) -> Callable[[IndicatorContext], IndicatorResult]:
    def compute(context: IndicatorContext) -> IndicatorResult:
        found = [o for o in context.exchange.openings if o.kind == kind.value]
        return IndicatorResult(
            len(found),
            {a.code: sum(o.focus_area == a.code for o in found) for a in context.agreement.focus_areas},
        )

    return compute


def _actions_done(context: IndicatorContext, objective: str | None = None) -> IndicatorResult:
    docs = [
        json.loads(doc)
        for doc in context.conn.scalars(
            select(workplan_items.c.doc).where(workplan_items.c.kind == ItemKind.ACTION.value)
        )
    ]
    if objective is not None:
        docs = [d for d in docs if d["objective"] == objective]
    done = sum(d["status"] == ActionStatus.DONE.value for d in docs)
    return IndicatorResult(done)


EXCHANGE_INDICATORS = (
    Indicator(
        "requests",
        N_("Requests exchanged"),
        "count",
        N_("Requests created in the period, both directions."),
        lambda c: _per_area(c, len),
    ),
    Indicator(
        "requests-answered-within-target",
        N_("Requests answered within target"),
        "share",
        N_("Of the requests answered or past their deadline, the share answered by the deadline."),
        lambda c: _per_area(c, lambda rs: request_stats(rs, c.now).within_target_share),
    ),
    Indicator(
        "median-hours-to-first-response",
        N_("Median time to first response"),
        "hours",
        N_("Median hours from a request to its first response."),
        lambda c: _per_area(c, lambda rs: request_stats(rs, c.now).response_median_h),
    ),
    Indicator(
        "requests-overdue-now",
        N_("Requests overdue now"),
        "count",
        N_("Requests of the period with no response whose deadline has passed."),
        lambda c: _per_area(c, lambda rs: sum(r.overdue(c.now) for r in rs)),
    ),
    Indicator(
        "alerts-shared",
        N_("Alerts sent"),
        "count",
        N_("Alerts created in the period."),
        _count_openings(MessageKind.ALERT),
    ),
    Indicator(
        "shares-sent",
        N_("Spontaneous shares"),
        "count",
        N_("Shares (information given without a request) created in the period."),
        _count_openings(MessageKind.SHARE),
    ),
    Indicator(
        "liaison-actions-done",
        N_("Liaison postings completed"),
        "count",
        N_("Actions of the liaison-officers objective whose status is done."),
        lambda c: _actions_done(c, "liaison-officers"),
        module="workplan",
    ),
    Indicator(
        "actions-done",
        N_("Work-plan actions done"),
        "count",
        N_("Actions of the work plan whose status is done."),
        _actions_done,
        module="workplan",
    ),
)
