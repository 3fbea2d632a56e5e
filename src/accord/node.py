"""The node context: one party's settings, identity, keys, database, policy and registered capabilities, opened once
per process by the composition root (`accord.bootstrap`) and passed explicitly to every use case."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from sqlalchemy import Engine

from accord.clock import Clock, SystemClock
from accord.config import Settings
from accord.crypto.descriptors import NodeDescriptor
from accord.crypto.keys import NodeKeys
from accord.domain.agreement import Agreement
from accord.domain.parties import Party
from accord.i18n.zones import parse_zone
from accord.policy.engine import DisclosurePolicy
from accord.registry import Registry

KEY_DIR = "keys"
BLOB_DIR = "blobs"


@dataclass(slots=True)
class Node:
    settings: Settings
    node_id: str
    party: Party
    agreement: Agreement
    keys: NodeKeys
    engine: Engine
    policy: DisclosurePolicy
    registry: Registry = field(default_factory=Registry)
    outbox_signal: threading.Event = field(default_factory=threading.Event)
    urgent_signal: threading.Event = field(default_factory=threading.Event)  # wakes the urgent delivery lane
    verified_descriptors: dict[str, NodeDescriptor] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)

    def wake_delivery(self, *, urgent: bool = False) -> None:
        """Tell the delivery workers something is queued (`urgent`: immediate or urgent traffic among it)."""
        self.outbox_signal.set()
        if urgent:
            self.urgent_signal.set()

    @property
    def blob_dir(self) -> Path:
        return self.settings.data_dir / BLOB_DIR

    @property
    def time_zone(self) -> tzinfo:
        """The zone the node shows times in to whoever has not chosen one: its operator's, else its party's."""
        if self.settings.time_zone:
            return parse_zone(self.settings.time_zone)
        return self.agreement.time_zone(self.party)

    def close(self) -> None:
        self.engine.dispose()


def default_node_id(party: Party) -> str:
    return f"{party.value.lower()}-node-1"
