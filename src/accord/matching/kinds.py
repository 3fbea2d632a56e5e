"""What matching plugs into the exchange: the query and answer envelopes, and the follow-up's reference carried by an
ordinary request (and the response that answers it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from accord.domain.messages import Message, MessageKind
from accord.exchange.kinds import (
    ArrivalWarning,
    MessageKindHandler,
    PayloadKind,
    register_message_kind,
    register_payload_kind,
)
from accord.matching import followup, hitnohit
from accord.node import Node
from accord.registry import Registry


class QueryKind:
    kind = hitnohit.QUERY_KIND

    def parse(self, body: dict[str, Any]) -> PayloadKind:
        return hitnohit.parse_query(body)

    def check_incoming(self, node: Node, conn: Connection, payload: Any) -> None:
        hitnohit.check_query(node, conn, payload)

    def apply_incoming(self, node: Node, conn: Connection, payload: Any, sender_node_id: str) -> None:
        hitnohit.answer_query(node, conn, payload)

    def on_refused(self, node: Node, conn: Connection, ref_id: str, reason: str, peer_node_id: str) -> None:
        hitnohit.refuse_query(conn, ref_id, reason, peer_node_id)


class AnswerKind:
    kind = hitnohit.ANSWER_KIND

    def parse(self, body: dict[str, Any]) -> PayloadKind:
        return hitnohit.parse_answer(body)

    def check_incoming(self, node: Node, conn: Connection, payload: Any) -> None:
        hitnohit.check_answer(conn, payload)

    def apply_incoming(self, node: Node, conn: Connection, payload: Any, sender_node_id: str) -> None:
        hitnohit.land_answer(conn, payload, sender_node_id)

    def on_refused(self, node: Node, conn: Connection, ref_id: str, reason: str, peer_node_id: str) -> None:
        """The partner refused our answer: nothing to undo (the references stay until they expire)."""


class FollowUpRequestKind(MessageKindHandler):
    kind = MessageKind.REQUEST
    fields = frozenset({"match_reference"})

    def check_outgoing(self, node: Node, conn: Connection, message: Message, now: datetime) -> None:
        followup.check_followup_outgoing(conn, message)

    def check_incoming(self, node: Node, message: Message) -> tuple[ArrivalWarning, ...]:
        return ()

    def apply_incoming(self, node: Node, conn: Connection, message: Message) -> None:
        followup.note_followup(conn, message)


class ReleaseResponseKind(MessageKindHandler):
    """A response that answers one of our follow-up requests releases the record to us."""

    kind = MessageKind.RESPONSE

    def apply_incoming(self, node: Node, conn: Connection, message: Message) -> None:
        followup.land_release(conn, message)


def register_kinds(registry: Registry) -> None:
    register_payload_kind(registry, QueryKind())
    register_payload_kind(registry, AnswerKind())
    register_message_kind(registry, FollowUpRequestKind())
    register_message_kind(registry, ReleaseResponseKind())
