"""The network indicators the work-plan report shows: entities shared each way, cross-references confirmed, and
networks (connected components of a case's graph, entities judged the same merged) with members in both countries.

A member is tied to a country by its country properties (nationality, jurisdiction, country, flag…), and, where it
names none, to the party whose entity it is."""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import select

from accord.domain.messages import DeliveryState, Direction, MessageKind
from accord.domain.parties import Party
from accord.focus.networks.entities import is_relation, links_of
from accord.focus.networks.judgements import Judgement, resolver
from accord.focus.networks.store import FOCUS_AREA, case_entities, case_provenance
from accord.i18n import N_
from accord.store.tables import messages, network_cases, network_judgements
from accord.workplan.indicators import Breakdown, Indicator, IndicatorContext, IndicatorResult

_NOT_SENT = {DeliveryState.HELD.value, DeliveryState.REFUSED.value, DeliveryState.FAILED.value}


def _shared(context: IndicatorContext) -> IndicatorResult:
    """Entities in the network shares of the period that left one node for the other, per direction."""
    rows = context.conn.execute(
        select(
            messages.c.sender_party,
            messages.c.recipient_party,
            messages.c.direction,
            messages.c.state,
            messages.c.content,
        ).where(
            messages.c.kind == MessageKind.SHARE.value,
            messages.c.focus_area == FOCUS_AREA,
            messages.c.created_at >= context.period.start,
            messages.c.created_at < context.period.end,
            messages.c.purged_at.is_(None),
        )
    ).all()
    entities: Counter[str] = Counter()
    shares: Counter[str] = Counter()
    for row in rows:
        if row.direction == Direction.OUTGOING.value and row.state in _NOT_SENT:
            continue
        network = json.loads(row.content).get("network")
        if not network:
            continue
        way = f"{row.sender_party} → {row.recipient_party}"
        shares[way] += 1
        entities[way] += len(network.get("entities") or ())
    ways = [f"{p.value} → {p.other.value}" for p in Party]
    breakdown = Breakdown(
        N_("Network entities shared each way"),
        (N_("shares"), N_("entities")),
        tuple((way, (float(shares[way]), float(entities[way]))) for way in ways),
    )
    total = sum(entities.values())
    return IndicatorResult(total, {FOCUS_AREA: total}, breakdown if total else None)


def _confirmed(context: IndicatorContext) -> IndicatorResult:
    count = len(
        context.conn.execute(
            select(network_judgements.c.left_key).where(
                network_judgements.c.judgement == Judgement.SAME.value,
                network_judgements.c.decided_at >= context.period.start,
                network_judgements.c.decided_at < context.period.end,
            )
        ).all()
    )
    return IndicatorResult(count, {FOCUS_AREA: count})


def _spanning(context: IndicatorContext) -> IndicatorResult:
    """Networks held now: things joined by relations within a case and by "same" judgements across cases; those
    whose members are tied to both countries."""
    # followthemoney reads its whole schema model at import (~0.9 s): imported where entities are handled.
    from followthemoney.types import registry

    conn = context.conn
    joined = resolver(conn)  # the "same" judgements, extended below by every link of every case
    countries = {p.value.casefold() for p in Party}
    tied: dict[str, set[str]] = {}
    for (case_id,) in conn.execute(select(network_cases.c.case_id).order_by(network_cases.c.case_id)):
        provenance = case_provenance(conn, case_id)
        for proxy in case_entities(conn, case_id):
            key = f"{case_id}/{proxy.id}"
            for link in links_of(proxy):
                joined.union(f"{case_id}/{link.source}", f"{case_id}/{link.target}")
            if is_relation(proxy):
                continue
            named = set(proxy.get_type_values(registry.country)) & countries
            parties = {a["party"].casefold() for a in provenance.get(proxy.id or "", [])}
            tied[key] = named or parties
            joined.find(key)
            joined.parent.setdefault(key, key)
    members: dict[str, set[str]] = {}
    sizes: Counter[str] = Counter()
    for key, ties in tied.items():
        root = joined.find(key)
        members.setdefault(root, set()).update(ties)
        sizes[root] += 1
    spanning = sum(1 for root, ties in members.items() if sizes[root] > 1 and countries <= ties)
    return IndicatorResult(spanning, {FOCUS_AREA: spanning})


NETWORK_INDICATORS = (
    Indicator(
        "network-entities-shared",
        N_("Network entities shared"),
        "count",
        N_("FollowTheMoney entities in the network shares of the period that reached the other party, each way."),
        _shared,
        module="networks",
    ),
    Indicator(
        "network-cross-references-confirmed",
        N_("Cross-references confirmed"),
        "count",
        N_("Pairs of entities an analyst judged the same in the period."),
        _confirmed,
        module="networks",
    ),
    Indicator(
        "networks-spanning-both",
        N_("Networks with members in both countries"),
        "count",
        N_(
            "Networks held now (things joined by relations, and across cases by entities judged the same) with members "
            "tied to Canada and to India, by their country properties or, lacking those, the party whose they are."
        ),
        _spanning,
        module="networks",
    ),
)
