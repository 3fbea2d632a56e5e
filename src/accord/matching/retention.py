"""Holdings past their retention date are deleted with their encodings and blind indexes (a reference a partner was
given for one can then no longer be followed up); each purge is one ledger event with the count per agency."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime

import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.store.tables import match_encodings, match_holdings, match_lookups

BATCH = 500
log = structlog.get_logger(__name__)


def purge_expired_holdings(node: Node, today: date | None = None) -> dict[str, int]:
    """Delete every holding whose retention date has passed; returns how many, per agency."""
    as_of = today or datetime.now(UTC).date()
    purged: Counter[str] = Counter()
    while True:
        with node.engine.begin() as conn:
            rows = conn.execute(
                select(match_holdings.c.id, match_holdings.c.owner_agency)
                .where(match_holdings.c.retain_until < as_of)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            ids = [r.id for r in rows]
            conn.execute(delete(match_lookups).where(match_lookups.c.holding_id.in_(ids)))
            conn.execute(delete(match_encodings).where(match_encodings.c.holding_id.in_(ids)))
            conn.execute(delete(match_holdings).where(match_holdings.c.id.in_(ids)))
            batch = Counter(r.owner_agency for r in rows)
            for agency, count in sorted(batch.items()):
                append_event(
                    conn, EventType.DATA_PURGED, "retention", {"holdings": count, "agency": agency, "as_of": str(as_of)}
                )
            purged.update(batch)
    return dict(purged)


def run_holdings_retention(node: Node, stop: threading.Event, interval_s: float = 24 * 3600.0) -> None:
    """The daily purge of expired holdings, for the process's lifetime (an expired holding is never matched, so
    nothing waits on the first run)."""
    while not stop.wait(interval_s):
        try:
            purged = purge_expired_holdings(node)
            if purged:
                log.info("holdings purged", **purged)
        except (SQLAlchemyError, OSError) as exc:
            log.error("holdings purge failed; next run retries", error=str(exc))
