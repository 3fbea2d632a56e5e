"""The cyber centres' share: STIX 2.1 objects in an ordinary `share`, checked at both ends, landing in the receiving
node's `from_partner` TAXII collections."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from accord.domain.messages import Message, MessageKind
from accord.exchange.kinds import ArrivalWarning, MessageKindHandler, register_message_kind
from accord.focus.cyber.checks import check_shared_bundle
from accord.focus.cyber.sharing import land_bundle
from accord.node import Node
from accord.registry import Registry


class StixShareKind(MessageKindHandler):
    kind = MessageKind.SHARE
    fields = frozenset({"stix"})

    def check_outgoing(self, node: Node, conn: Connection, message: Message, now: datetime) -> None:
        _check(message)

    def check_incoming(self, node: Node, message: Message) -> tuple[ArrivalWarning, ...]:
        _check(message)
        return ()

    def apply_incoming(self, node: Node, conn: Connection, message: Message) -> None:
        land_bundle(conn, message)


def _check(message: Message) -> None:
    handling = message.handling
    check_shared_bundle(message.kind, message.focus_area, handling.tlp, handling.named_recipients, message.stix)


def register_kinds(registry: Registry) -> None:
    register_message_kind(registry, StixShareKind())
