"""What this process's delivery threads see: whether each peer answers (and since when), how many attempts an envelope
took and how long it waited from the outbox to the peer's receipt. Process-local: the database holds the outbox and
the ledger, which every process reads alike; this holds only what no table records."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Histogram

# From a batch on a quiet channel (tens of milliseconds) to a backlog held through a day-long outage.
LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, 86400.0)
ROUND_TRIP_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ATTEMPT_BUCKETS = (1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)


@dataclass(frozen=True, slots=True)
class PeerContact:
    """The peer answered (`reachable`) or did not, continuously `since` then, as this process last tried."""

    reachable: bool
    since: datetime
    last_attempt_at: datetime


class DeliveryWatch:
    """One per node process, shared by its delivery threads, read by /metrics and /readyz."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.latency = Histogram(
            "accord_delivery_latency_seconds",
            "Seconds from an envelope's queueing to the peer's verified receipt (this process's deliveries)",
            ["peer"],
            buckets=LATENCY_BUCKETS_S,
            registry=registry,
        )
        self.round_trip = Histogram(
            "accord_delivery_round_trip_seconds",
            "Seconds one batch POST to the peer took, answered or not (this process's deliveries)",
            ["peer"],
            buckets=ROUND_TRIP_BUCKETS_S,
            registry=registry,
        )
        self.attempts = Histogram(
            "accord_delivery_attempts",
            "Attempts an envelope took until the peer receipted or refused it for good (this process's deliveries)",
            ["peer", "outcome"],
            buckets=ATTEMPT_BUCKETS,
            registry=registry,
        )
        self._contacts: dict[str, PeerContact] = {}
        self._lock = threading.Lock()

    def answered(self, peer: str, at: datetime) -> None:
        self._record(peer, True, at)

    def unanswered(self, peer: str, at: datetime) -> None:
        self._record(peer, False, at)

    def contact(self, peer: str) -> PeerContact | None:
        """None until this process has tried the peer."""
        with self._lock:
            return self._contacts.get(peer)

    def _record(self, peer: str, reachable: bool, at: datetime) -> None:
        with self._lock:
            known = self._contacts.get(peer)
            since = known.since if known is not None and known.reachable is reachable else at
            self._contacts[peer] = PeerContact(reachable, since, at)
