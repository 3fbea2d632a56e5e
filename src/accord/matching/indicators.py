"""The hit/no-hit indicators the joint report shows, per focus area and each way: records queried, hits, follow-up
requests that left, and records released in answer (approved by the answering party's pack or its legal officer)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from accord.domain.matching import QueryDirection, QueryState
from accord.domain.messages import DeliveryState
from accord.domain.parties import Party
from accord.i18n import N_
from accord.store.tables import match_followups, match_queries, match_references, messages
from accord.workplan.indicators import Breakdown, Indicator, IndicatorContext, IndicatorResult

_NOT_LEFT = (DeliveryState.HELD.value, DeliveryState.REFUSED.value, DeliveryState.FAILED.value)


def _ways() -> list[str]:
    return [f"{p.value} → {p.other.value}" for p in Party]


def _queries(context: IndicatorContext) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """Records queried and hits, per (way, focus area), of the queries made (ours) or answered (theirs) in the
    period; a query the partner refused counts in neither."""
    rows = context.conn.execute(
        select(
            match_queries.c.querying_party,
            match_queries.c.focus_area,
            match_queries.c.size,
            match_queries.c.hits,
        ).where(
            match_queries.c.state != QueryState.REFUSED.value,
            match_queries.c.created_at >= context.period.start,
            match_queries.c.created_at < context.period.end,
        )
    ).all()
    records: Counter[tuple[str, str]] = Counter()
    hits: Counter[tuple[str, str]] = Counter()
    for row in rows:
        way = f"{row.querying_party} → {Party(row.querying_party).other.value}"
        records[(way, row.focus_area)] += int(row.size)
        hits[(way, row.focus_area)] += int(row.hits or 0)
    return records, hits


def _result(counts: Counter[tuple[str, str]], title: str) -> IndicatorResult:
    areas: Counter[str] = Counter()
    ways: Counter[str] = Counter()
    for (way, area), n in counts.items():
        areas[area] += n
        ways[way] += n
    total = sum(counts.values())
    breakdown = Breakdown(title, (N_("records"),), tuple((way, (float(ways[way]),)) for way in _ways()))
    return IndicatorResult(total, {a: float(n) for a, n in areas.items()}, breakdown if total else None)


def _queried(context: IndicatorContext) -> IndicatorResult:
    return _result(_queries(context)[0], N_("Records queried each way"))


def _hits(context: IndicatorContext) -> IndicatorResult:
    return _result(_queries(context)[1], N_("Hits each way"))


def _requested(context: IndicatorContext) -> IndicatorResult:
    """Follow-up requests of ours that left in the period, and the partner's that arrived."""
    ours = context.conn.execute(
        select(match_queries.c.querying_party, match_queries.c.focus_area)
        .join(match_followups, match_followups.c.query_id == match_queries.c.id)
        .join(messages, messages.c.id == match_followups.c.request_message_id)
        .where(
            messages.c.state.not_in(_NOT_LEFT),
            match_followups.c.requested_at >= context.period.start,
            match_followups.c.requested_at < context.period.end,
        )
    ).all()
    theirs = context.conn.execute(
        select(match_queries.c.querying_party, match_queries.c.focus_area)
        .join(match_references, match_references.c.query_id == match_queries.c.id)
        .join(messages, messages.c.id == match_references.c.request_message_id)
        .where(
            match_queries.c.direction == QueryDirection.IN.value,
            messages.c.received_at >= context.period.start,
            messages.c.received_at < context.period.end,
        )
    ).all()
    return _result(_by_way(ours, theirs), "Follow-up requests each way")


def _approved(context: IndicatorContext) -> IndicatorResult:
    """Records released in answer to follow-ups in the period: ours that arrived, and those this party sent once its
    pack (or its legal officer) allowed them."""
    ours = context.conn.execute(
        select(match_queries.c.querying_party, match_queries.c.focus_area)
        .join(match_followups, match_followups.c.query_id == match_queries.c.id)
        .where(
            match_followups.c.released_at >= context.period.start,
            match_followups.c.released_at < context.period.end,
        )
    ).all()
    theirs = context.conn.execute(
        select(match_queries.c.querying_party, match_queries.c.focus_area)
        .join(match_references, match_references.c.query_id == match_queries.c.id)
        .join(messages, messages.c.id == match_references.c.released_message_id)
        .where(
            match_queries.c.direction == QueryDirection.IN.value,
            messages.c.state.not_in(_NOT_LEFT),
            messages.c.created_at >= context.period.start,
            messages.c.created_at < context.period.end,
        )
    ).all()
    return _result(_by_way(ours, theirs), "Records released each way (by who queried)")


def _by_way(*found: Sequence[Any]) -> Counter[tuple[str, str]]:
    """Rows of (querying party, focus area), counted by (way, focus area)."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in (row for rows in found for row in rows):
        counts[(f"{row.querying_party} → {Party(row.querying_party).other.value}", row.focus_area)] += 1
    return counts


def _indicator(
    code: str, title: str, description: str, compute: Callable[[IndicatorContext], IndicatorResult]
) -> Indicator:
    return Indicator(code, title, "count", description, compute, module="matching")


MATCHING_INDICATORS = (
    _indicator(
        "hit-no-hit-records-queried",
        N_("Hit/no-hit records queried"),
        N_(
            "Records (persons and identifiers) in the hit/no-hit queries of the period, each way; "
            "refused ones excluded."
        ),
        _queried,
    ),
    _indicator(
        "hit-no-hit-hits",
        N_("Hit/no-hit hits"),
        N_(
            "Queried records the answering party's holdings matched (a hit answers with a reference, never the record)."
        ),
        _hits,
    ),
    _indicator(
        "hit-no-hit-followups-requested",
        N_("Follow-up requests"),
        N_("Requests for a hit's record that left the querying party (after its policy pack, or its legal officer)."),
        _requested,
    ),
    _indicator(
        "hit-no-hit-followups-approved",
        N_("Records released on follow-up"),
        N_(
            "Records the answering party released in answer to a follow-up, once its policy pack or legal "
            "officer allowed."
        ),
        _approved,
    ),
)
