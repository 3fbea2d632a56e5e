"""The node's figures for Prometheus, read from the database at each scrape: what waits in the outbox and for review,
the ledger's size, checkpoints and alarms, the refusals counted, and the ledger's own tallies. Nothing is kept here
that the database holds, so every process of a node answers the same."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, func, select

from accord import __version__
from accord.domain.messages import DeliveryState, Direction, Priority
from accord.exchange.outbox import OutboxKind
from accord.ledger.events import EventType
from accord.ledger.notes import origin_for
from accord.monitoring.ledger_tally import LedgerTally
from accord.node import Node
from accord.store.tables import checkpoints, ledger_alarms, ledger_head, messages, outbox, peers, refusal_counts
from accord.store.tables import sign_in_failures as failures
from accord.trust.refusals import window_start

_PRIORITY_OF_RANK = {priority.outbox_rank: priority.value for priority in Priority}
_ENVELOPE_COUNTERS = (
    (EventType.ENVELOPE_SENT, "accord_envelopes_sent", "Envelopes posted to the peer, each attempt counted (ledger)"),
    (EventType.ENVELOPE_DELIVERED, "accord_envelopes_delivered", "Envelopes the peer receipted (ledger)"),
    (EventType.ENVELOPE_FAILED, "accord_envelopes_failed", "Envelopes the peer refused for good (ledger)"),
    (EventType.ENVELOPE_RECEIVED, "accord_envelopes_received", "Envelopes received from the peer (ledger)"),
)


def priority_of_rank(rank: int) -> str:
    """An outbox rank by the message priority that travels at it (other kinds share those ranks)."""
    return _PRIORITY_OF_RANK.get(rank, f"rank-{rank}")


class NodeCollector(Collector):
    def __init__(self, node: Node) -> None:
        self.node = node
        self.tally = LedgerTally()

    def describe(self) -> list[Metric]:
        return []  # described by collecting, at scrape time only: registering reads no database

    def collect(self) -> Iterator[Metric]:
        now = self.node.clock.now()
        with self.node.engine.connect() as conn:
            yield self._info()
            yield from self._outbox(conn, now)
            yield from self._reviews(conn, now)
            yield from self._ledger(conn, now)
            yield from self._refusals(conn, now)
            yield from self._tallies(conn)

    def _info(self) -> Metric:
        info = GaugeMetricFamily(
            "accord_node_info", "The node answering: its id, party and release", labels=["node", "party", "version"]
        )
        info.add_metric([self.node.node_id, self.node.party.value, __version__], 1)
        return info

    def _outbox(self, conn: Connection, now: datetime) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "accord_outbox_envelopes",
            "Envelopes waiting in the outbox, by peer, kind and the priority they travel at",
            labels=["peer", "kind", "priority"],
        )
        oldest = GaugeMetricFamily(
            "accord_outbox_oldest_age_seconds",
            "Seconds the oldest envelope waiting for the peer has waited",
            labels=["peer"],
        )
        o = outbox.c
        rows = conn.execute(
            select(
                o.peer_node_id, o.kind, o.rank, func.count().label("waiting"), func.min(o.created_at).label("first")
            ).group_by(o.peer_node_id, o.kind, o.rank)
        ).all()
        pinned = list(conn.scalars(select(peers.c.node_id)))
        # Every priority of every peer's messages is shown, 0 included: a drained outbox reads 0, not nothing.
        waiting = {(peer, OutboxKind.MESSAGE.value, p.value): 0 for peer in pinned for p in Priority}
        firsts: dict[str, datetime | None] = dict.fromkeys(pinned)
        for row in rows:
            key = (row.peer_node_id, row.kind, priority_of_rank(row.rank))
            waiting[key] = waiting.get(key, 0) + int(row.waiting)
            first = firsts.get(row.peer_node_id)
            firsts[row.peer_node_id] = row.first if first is None else min(first, row.first)
        for labels, count in sorted(waiting.items()):
            depth.add_metric(list(labels), count)
        for peer, first in sorted(firsts.items()):
            oldest.add_metric([peer], _age(now, first))
        yield depth
        yield oldest

    def _reviews(self, conn: Connection, now: datetime) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "accord_reviews_waiting", "Outgoing messages held for legal review, by priority", labels=["priority"]
        )
        m = messages.c
        held = (m.direction == Direction.OUTGOING.value, m.state == DeliveryState.HELD.value)
        query = select(m.priority, func.count().label("held")).where(*held).group_by(m.priority)
        counts = {str(row.priority): int(row.held) for row in conn.execute(query)}
        for priority in Priority:
            waiting.add_metric([priority.value], counts.get(priority.value, 0))
        first = conn.scalar(select(func.min(m.created_at)).where(*held))
        yield waiting
        yield GaugeMetricFamily(
            "accord_review_oldest_age_seconds",
            "Seconds the longest-held message has waited for review (0: none waits)",
            value=_age(now, first),
        )

    def _ledger(self, conn: Connection, now: datetime) -> Iterator[Metric]:
        size = conn.scalar(select(ledger_head.c.size).where(ledger_head.c.id == 1)) or 0
        yield GaugeMetricFamily("accord_ledger_size", "Events in the node's ledger (its Merkle tree's leaves)", size)
        own = origin_for(self.node.node_id)
        c = checkpoints.c
        issued = GaugeMetricFamily(
            "accord_checkpoint_age_seconds",
            "Seconds since the newest checkpoint: this node's own, or the peer's that this node countersigned",
            labels=["origin"],
        )
        cosigned = GaugeMetricFamily(
            "accord_checkpoint_cosigned_age_seconds",
            "Seconds since the peer last countersigned one of this node's checkpoints",
        )
        rows = conn.execute(
            select(c.origin, func.max(c.issued_at).label("issued"), func.max(c.cosigned_at).label("cosigned"))
            .group_by(c.origin)
            .order_by(c.origin)
        ).all()
        for row in rows:
            issued.add_metric(["own" if row.origin == own else "peer"], _age(now, row.issued))
            if row.origin == own and row.cosigned is not None:
                cosigned.add_metric([], _age(now, row.cosigned))
        yield issued
        yield cosigned
        alarms = GaugeMetricFamily(
            "accord_ledger_alarms",
            "Ledger alarms by kind, open (not acknowledged yet) or acknowledged",
            labels=["kind", "state"],
        )
        a = ledger_alarms.c
        state = a.acknowledged_at.is_(None).label("open")
        for row in conn.execute(select(a.kind, state, func.count().label("alarms")).group_by(a.kind, state)):
            alarms.add_metric([row.kind, "open" if row.open else "acknowledged"], int(row.alarms))
        yield alarms

    def _refusals(self, conn: Connection, now: datetime) -> Iterator[Metric]:
        settings = self.node.settings
        refused = GaugeMetricFamily(
            "accord_refusals_current_window",
            "Unauthenticated requests refused (failed and throttled sign-ins, envelopes from no pinned peer) in the "
            f"current counting window of {settings.refusal_window_s} s, by way in and problem",
            labels=["endpoint", "problem"],
        )
        r = refusal_counts.c
        window = window_start(now, settings.refusal_window_s)
        for row in conn.execute(
            select(r.endpoint, r.problem, func.sum(r.refusals).label("refusals"))
            .where(r.window_start == window)
            .group_by(r.endpoint, r.problem)
            .order_by(r.endpoint, r.problem)
        ):
            refused.add_metric([row.endpoint, row.problem], int(row.refusals))
        yield refused
        locked = conn.scalar(select(func.count()).select_from(failures).where(failures.c.locked_at.is_not(None)))
        yield GaugeMetricFamily(
            "accord_sign_in_locked", "Accounts (and names no account has) locked after failed sign-ins", locked or 0
        )

    def _tallies(self, conn: Connection) -> Iterator[Metric]:
        counts = self.tally.read(conn)
        for event_type, name, documentation in _ENVELOPE_COUNTERS:
            yield CounterMetricFamily(name, documentation, value=counts.envelopes[event_type.value])
        refused = CounterMetricFamily(
            "accord_envelopes_refused", "Envelopes of the pinned peer refused here, by problem", labels=["problem"]
        )
        for problem, count in sorted(counts.refused.items()):
            refused.add_metric([problem], count)
        yield refused
        decisions = CounterMetricFamily(
            "accord_policy_decisions", "Disclosure policy decisions by verdict (ledger)", labels=["verdict"]
        )
        for verdict, count in sorted(counts.decisions.items()):
            decisions.add_metric([verdict], count)
        yield decisions
        rules = CounterMetricFamily(
            "accord_policy_rule_decisions",
            "Disclosure policy decisions by verdict and the rule (policy or screen) they cite (ledger)",
            labels=["verdict", "rule"],
        )
        for (verdict, rule), count in sorted(counts.rule_hits.items()):
            rules.add_metric([verdict, rule], count)
        yield rules


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0
