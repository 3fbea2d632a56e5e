"""Counts read from the ledger: envelopes sent, delivered, refused; policy decisions by verdict and rule. The ledger is
append-only and gap-free, so each process tallies it once and then reads only the leaves added since: the figures
survive restarts and agree between processes, since they are the ledger's own."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from accord.ledger.events import EventType
from accord.store.tables import events, ledger_head

_TALLIED = (
    EventType.ENVELOPE_SENT,
    EventType.ENVELOPE_DELIVERED,
    EventType.ENVELOPE_FAILED,
    EventType.ENVELOPE_RECEIVED,
    EventType.ENVELOPE_REFUSED,
    EventType.POLICY_DECIDED,
)
_CHUNK = 10_000  # leaves per read: a long ledger's first tally does not hold one huge result in memory


@dataclass(slots=True)
class LedgerCounts:
    leaves: int = 0  # the leaves tallied: indexes 0 .. leaves - 1
    envelopes: Counter[str] = field(default_factory=Counter)  # event type -> events
    refused: Counter[str] = field(default_factory=Counter)  # problem -> envelopes refused here
    decisions: Counter[str] = field(default_factory=Counter)  # verdict -> decisions
    rule_hits: Counter[tuple[str, str]] = field(default_factory=Counter)  # (verdict, rule) -> decisions citing it

    def copy(self) -> LedgerCounts:
        return LedgerCounts(
            self.leaves, self.envelopes.copy(), self.refused.copy(), self.decisions.copy(), self.rule_hits.copy()
        )

    def add(self, event_type: str, refs: dict[str, object]) -> None:
        if event_type == EventType.POLICY_DECIDED.value:
            # An outgoing message's decision names its verdict and the policies it cites; a neutrality screen on
            # arrival names its outcome and the screen.
            verdict = str(refs.get("verdict") or refs.get("outcome") or "unknown")
            self.decisions[verdict] += 1
            cited = str(refs.get("policies") or refs.get("screen") or "")
            for rule in filter(None, cited.split(",")):
                self.rule_hits[(verdict, rule)] += 1
            return
        self.envelopes[event_type] += 1
        if event_type == EventType.ENVELOPE_REFUSED.value:
            self.refused[str(refs.get("problem") or "unknown")] += 1


class LedgerTally:
    """One per node process; `read` is safe from any thread."""

    def __init__(self) -> None:
        self._counts = LedgerCounts()
        self._lock = threading.Lock()

    def read(self, conn: Connection) -> LedgerCounts:
        """The counts over the whole ledger as `conn` sees it, reading the leaves not tallied yet."""
        with self._lock:
            size = int(conn.execute(select(ledger_head.c.size).where(ledger_head.c.id == 1)).scalar_one())
            if size < self._counts.leaves:  # a restored database holds a shorter ledger: count it again
                self._counts = LedgerCounts()
            while self._counts.leaves < size:
                rows = conn.execute(
                    select(events.c.id, events.c.type, events.c.refs)
                    .where(
                        events.c.id >= self._counts.leaves,
                        events.c.id < size,
                        events.c.type.in_([t.value for t in _TALLIED]),
                    )
                    .order_by(events.c.id)
                    .limit(_CHUNK)
                ).all()
                counts = self._counts.copy()  # a chunk counts whole or not at all
                for row in rows:
                    counts.add(row.type, json.loads(row.refs))
                counts.leaves = rows[-1].id + 1 if len(rows) == _CHUNK else size
                self._counts = counts
            return self._counts.copy()
