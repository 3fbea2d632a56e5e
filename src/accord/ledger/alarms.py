"""Ledger alarms: evidence that a peer's history does not add up (a rewritten or truncated log, a split view, a key
that is not pinned), kept for operators and logged in the ledger itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, func, insert, select

from accord.ledger.events import EventType, append_event
from accord.store.tables import ledger_alarms

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Alarm:
    id: int
    at: datetime
    origin: str
    kind: str
    detail: str
    evidence: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "origin": self.origin,
            "kind": self.kind,
            "detail": self.detail,
            "evidence": json.loads(self.evidence),
        }


def raise_alarm(engine: Engine, node_id: str, origin: str, kind: str, detail: str, evidence: dict[str, Any]) -> None:
    """Record an alarm operators see (API, CLI, web) and log it in the ledger, in its own transaction."""
    now = datetime.now(UTC)
    text = json.dumps(evidence, sort_keys=True)
    with engine.begin() as conn:
        conn.execute(insert(ledger_alarms).values(at=now, origin=origin, kind=kind, detail=detail, evidence=text))
        append_event(conn, EventType.LEDGER_ALARM, node_id, {"origin": origin, "kind": kind}, text.encode())
    log.error("ledger alarm", origin=origin, kind=kind, detail=detail)


def list_alarms(conn: Connection, limit: int | None = None, newest_first: bool = True) -> list[Alarm]:
    """The alarms raised here; the newest `limit` of them when a limit is given."""
    order = ledger_alarms.c.id.desc() if newest_first else ledger_alarms.c.id
    query = select(ledger_alarms).order_by(order)
    if limit is not None:
        query = query.limit(limit)
    return [Alarm(r.id, r.at, r.origin, r.kind, r.detail, r.evidence) for r in conn.execute(query)]


def count_alarms(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(ledger_alarms)).scalar_one())
