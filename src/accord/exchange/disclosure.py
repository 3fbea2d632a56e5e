"""The disclosure decision, the same wherever it is asked for (sending, evaluating a draft, re-deciding a held
message): the evidence the screens need beyond the message is gathered here, then the party's pack decides."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection

from accord.domain.messages import Message
from accord.exchange.assessment_records import assessments_for_case
from accord.node import Node
from accord.policy.engine import DisclosureDecision, Principal
from accord.policy.screens import Evidence


def gather_evidence(node: Node, conn: Connection, message: Message) -> Evidence:
    """What the send path knows beyond the message itself, for the screens: the mistreatment-risk assessments
    recorded for the message's case, and the moment of the decision (an expired assessment does not count)."""
    return Evidence(assessments=assessments_for_case(conn, message.case_id), at=datetime.now(UTC))


def decide_disclosure(node: Node, conn: Connection, message: Message, principal: Principal) -> DisclosureDecision:
    return node.policy.decide(message, principal, gather_evidence(node, conn, message))
