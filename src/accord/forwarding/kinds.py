"""The kinds a forward travels in: the consent request to the originator, its answer (a response carrying
`onward_consent`), and the notice of a forward done."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from accord.domain.messages import Message, MessageKind
from accord.errors import InvalidInput
from accord.exchange.kinds import ArrivalWarning, MessageKindHandler, register_message_kind
from accord.forwarding.service import apply_consent_answer, record_consent_request, record_forward_notice
from accord.i18n import _
from accord.node import Node
from accord.registry import Registry


def _check_onward(node: Node, message: Message, *, incoming: bool) -> None:
    """A forward is about a message of the party asked (in_reply_to), inside the forwarder's own state."""
    onward = message.onward
    if onward is None:
        raise InvalidInput(_("a {value} names the forward in `onward`").format(value=message.kind.value))
    if message.in_reply_to != onward.message_id:
        raise InvalidInput(
            _("a {value} answers (in_reply_to) the message it would forward").format(value=message.kind.value)
        )
    forwarder = message.sender.party
    if onward.to_party is not forwarder:
        raise InvalidInput(
            _("a forward stays inside {forwarder}; {to_party} is another state").format(
                forwarder=forwarder, to_party=onward.to_party
            )
        )
    if incoming and node.agreement.agency(forwarder, onward.to_agency) is None:
        raise InvalidInput(
            _("{to_agency!r} is not an agency of {forwarder}").format(to_agency=onward.to_agency, forwarder=forwarder)
        )


class ForwardConsentKind(MessageKindHandler):
    kind = MessageKind.FORWARD_CONSENT
    fields = frozenset({"onward"})
    answer_fields = frozenset({"onward_consent"})

    def check_outgoing(self, node: Node, conn: Connection, message: Message, now: datetime) -> None:
        _check_onward(node, message, incoming=False)

    def check_outgoing_answer(self, node: Node, conn: Connection, answered: Row[Any], response: Message) -> None:
        if response.onward_consent is None:
            raise InvalidInput(_("the answer to a consent request grants or refuses it (onward_consent)"))

    def check_incoming(self, node: Node, message: Message) -> tuple[ArrivalWarning, ...]:
        _check_onward(node, message, incoming=True)
        return ()

    def apply_incoming(self, node: Node, conn: Connection, message: Message) -> None:
        record_consent_request(conn, message)


class ForwardNoticeKind(MessageKindHandler):
    kind = MessageKind.FORWARD_NOTICE
    fields = frozenset({"onward"})

    def check_outgoing(self, node: Node, conn: Connection, message: Message, now: datetime) -> None:
        _check_onward(node, message, incoming=False)

    def check_incoming(self, node: Node, message: Message) -> tuple[ArrivalWarning, ...]:
        _check_onward(node, message, incoming=True)
        return ()

    def apply_incoming(self, node: Node, conn: Connection, message: Message) -> None:
        record_forward_notice(conn, message)


class ConsentAnswerKind(MessageKindHandler):
    """A response carrying the originator's answer to our consent request completes or ends the forward."""

    kind = MessageKind.RESPONSE

    def apply_incoming(self, node: Node, conn: Connection, message: Message) -> None:
        if message.onward_consent is not None:
            apply_consent_answer(node, conn, message)


def register_kinds(registry: Registry) -> None:
    register_message_kind(registry, ForwardConsentKind())
    register_message_kind(registry, ForwardNoticeKind())
    register_message_kind(registry, ConsentAnswerKind())
