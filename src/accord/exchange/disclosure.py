"""The disclosure decision, the same wherever it is asked for (sending, evaluating a draft, re-deciding a held
message): the evidence the screens need beyond the message is gathered here, then the party's pack decides."""

from __future__ import annotations

from sqlalchemy import Connection

from accord.domain.messages import Message
from accord.exchange.attachment_persons import count_attachment_persons
from accord.node import Node
from accord.policy.engine import DisclosureDecision, Principal
from accord.policy.screens import Evidence


def gather_evidence(node: Node, conn: Connection, message: Message) -> Evidence:
    """What the send path knows beyond the message itself, for the screens: the persons in each attachment (read
    here, so the screens stay pure)."""
    return Evidence(attachments=tuple(count_attachment_persons(node, a) for a in message.attachments))


def decide_disclosure(node: Node, conn: Connection, message: Message, principal: Principal) -> DisclosureDecision:
    return node.policy.decide(message, principal, gather_evidence(node, conn, message))
