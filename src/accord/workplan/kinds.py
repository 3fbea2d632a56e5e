"""Work-plan changes (a proposal, a decision on one, a comment) travel as `workplan` envelopes of their own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from accord.exchange.kinds import PayloadKind, register_payload_kind
from accord.node import Node
from accord.registry import Registry
from accord.workplan import proposals
from accord.workplan.proposals import WORKPLAN_KIND


class WorkplanChangeKind:
    kind = WORKPLAN_KIND

    def parse(self, body: dict[str, Any]) -> PayloadKind:
        return proposals.parse_body(body)

    def check_incoming(self, node: Node, conn: Connection, payload: Any) -> None:
        proposals.check_incoming(node, conn, payload)

    def apply_incoming(self, node: Node, conn: Connection, payload: Any, sender_node_id: str) -> None:
        proposals.apply_incoming(node, conn, payload, sender_node_id)

    def on_refused(self, node: Node, conn: Connection, ref_id: str, reason: str, peer_node_id: str) -> None:
        proposals.mark_refused_by_peer(conn, ref_id, reason, peer_node_id)


def register_kinds(registry: Registry) -> None:
    register_payload_kind(registry, WorkplanChangeKind())
