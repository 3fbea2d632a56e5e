"""What officers read of matching beside their queries: the agency's holdings by type, the persons it holds twice
(found by the matching engine), and the period's query volumes against the agreement's limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from accord.directory.officers import Officer
from accord.domain.parties import Party
from accord.matching.hitnohit import Direction, queried_in_period
from accord.matching.holdings import RecordType, count_by_type, holding_of, live_holdings, require_holder
from accord.matching.link import find_duplicates
from accord.node import Node
from accord.store.tables import match_holdings


def holdings_page(
    node: Node, officer: Officer, record_type: RecordType | None, limit: int, offset: int
) -> dict[str, Any]:
    require_holder(officer)
    query = select(match_holdings).where(match_holdings.c.owner_agency == officer.agency)
    if record_type is not None:
        query = query.where(match_holdings.c.record_type == record_type.value)
    with node.engine.connect() as conn:
        counts = count_by_type(conn, officer.agency)
        rows = conn.execute(
            query.order_by(match_holdings.c.imported_at.desc(), match_holdings.c.label).limit(limit).offset(offset)
        ).all()
    return {
        "agency": officer.agency,
        "counts": counts,
        "records": [
            {
                "id": r.label,
                "type": r.record_type,
                "fields": json.loads(r.fields),
                "source": r.source,
                "retain_until": r.retain_until.isoformat(),
                "imported_by": r.imported_by,
                "imported_at": r.imported_at.isoformat(),
            }
            for r in rows
        ],
    }


def holdings_duplicates(node: Node, officer: Officer) -> dict[str, Any]:
    """Pairs of the agency's persons the engine decides are one person, with what agreed."""
    require_holder(officer)
    with node.engine.connect() as conn:
        held = live_holdings(conn, officer.agency, node.clock.now().date(), RecordType.PERSON)
    people = [holding_of(r) for r in held]
    by_label = {h.label: h for h in people}
    pairs = find_duplicates([h.person() for h in people])
    return {
        "agency": officer.agency,
        "persons": len(people),
        "pairs": [
            {
                "left": {"id": p.left_id, "fields": dict(by_label[p.left_id].fields)},
                "right": {"id": p.right_id, "fields": dict(by_label[p.right_id].fields)},
                "score": p.score,
                "agreements": [{"field": a.field, "level": a.level, "weight": a.weight} for a in p.agreements],
            }
            for p in pairs
        ],
    }


def query_volumes(node: Node) -> dict[str, Any]:
    rules = node.agreement.hit_no_hit
    now = datetime.now(UTC)
    with node.engine.connect() as conn:
        used = {
            party.value: queried_in_period(
                conn, node, Direction.OUT if party is node.party else Direction.IN, party, now
            )
            for party in Party
        }
    return {
        "period_days": rules.period_days,
        "limit": rules.max_records_per_period,
        "max_batch": rules.max_batch,
        "queried": used,
    }
