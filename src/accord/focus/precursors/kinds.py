"""The precursor message kinds: pre-export notifications (`pen`, answered by the importing authority within the
agreement's working days) and incidents (seizures, stopped shipments, diversions, suspicious orders)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from accord.domain.agreement import Agreement
from accord.domain.messages import Message, MessageKind
from accord.errors import InvalidInput
from accord.exchange.kinds import ArrivalWarning, MessageKindHandler, register_message_kind
from accord.focus.precursors.incidents import check_incident, check_incident_reference
from accord.focus.precursors.notifications import (
    check_answer,
    check_competent_authority,
    check_notification,
    resolve_items,
)
from accord.focus.precursors.plausibility import check_plausible, implausibilities
from accord.i18n import _
from accord.node import Node
from accord.registry import Registry


class PreExportNotificationKind(MessageKindHandler):
    kind = MessageKind.PEN
    fields = frozenset({"notification"})
    answer_fields = frozenset({"pen_answer"})

    def deadline(self, agreement: Agreement, now: datetime) -> datetime | None:
        return agreement.pen_deadline(now)

    def check_outgoing(self, node: Node, conn: Connection, message: Message, now: datetime) -> None:
        check_competent_authority(node.agreement, node.party, message.sender.agency)
        check_notification(
            node.agreement, node.party, message.recipient.agency, message.focus_area, message.notification, now.date()
        )

    def check_outgoing_answer(self, node: Node, conn: Connection, answered: Row[Any], response: Message) -> None:
        check_answer(conn, answered, response.pen_answer)

    def check_incoming(self, node: Node, message: Message) -> tuple[ArrivalWarning, ...]:
        if message.notification is None:
            raise InvalidInput(_("a pre-export notification must carry its notification"))
        # A notification from any other agency is not one the importing authority may act on: refused, not stored.
        check_competent_authority(node.agreement, message.sender.party, message.sender.agency)
        resolve_items(message.notification)  # a substance this node does not know is refused, not stored
        return ()


class IncidentKind(MessageKindHandler):
    kind = MessageKind.INCIDENT
    fields = frozenset({"incident"})

    def check_outgoing(self, node: Node, conn: Connection, message: Message, now: datetime) -> None:
        incident = check_incident(message.focus_area, message.incident, now.date())
        check_plausible(incident)  # the sender can correct it: refused with what is wrong
        check_incident_reference(conn, incident)

    def check_incoming(self, node: Node, message: Message) -> tuple[ArrivalWarning, ...]:
        incident = check_incident(message.focus_area, message.incident, None)  # another clock: dates are skipped
        # Accepted, since the incident happened and the sender stands by it, but its readers are told what cannot be.
        return implausibilities(incident)


def register_kinds(registry: Registry) -> None:
    register_message_kind(registry, PreExportNotificationKind())
    register_message_kind(registry, IncidentKind())
