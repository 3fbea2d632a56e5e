"""The network share: FollowTheMoney entities in an ordinary `share`, checked at both ends (every entity valid,
relations inside the bundle, every person a subject too), landing in the receiver's case with provenance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from accord.domain.messages import Message, MessageKind
from accord.exchange.kinds import ArrivalWarning, MessageKindHandler, register_message_kind
from accord.focus.networks.sharing import check_bundle, land_share
from accord.node import Node
from accord.registry import Registry
from accord.store.tables import network_cases


class NetworkShareKind(MessageKindHandler):
    kind = MessageKind.SHARE
    fields = frozenset({"network"})

    def holds_case(self, node: Node, conn: Connection, agency: str, case_id: str) -> bool:
        owner = conn.execute(
            select(network_cases.c.owner_agency).where(network_cases.c.case_id == case_id)
        ).scalar_one_or_none()
        return owner == agency

    def check_outgoing(self, node: Node, conn: Connection, message: Message, now: datetime) -> None:
        check_bundle(message)

    def check_incoming(self, node: Node, message: Message) -> tuple[ArrivalWarning, ...]:
        check_bundle(message)
        return ()

    def apply_incoming(self, node: Node, conn: Connection, message: Message) -> None:
        land_share(node, conn, message)


def register_kinds(registry: Registry) -> None:
    register_message_kind(registry, NetworkShareKind())
