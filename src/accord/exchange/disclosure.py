"""The disclosure decision, the same wherever it is asked for (sending, evaluating a draft, re-deciding a held
message): the evidence the screens need beyond the message is gathered here, then the party's pack decides. Also
the neutrality screening of a message on arrival, which a reply to it inherits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from accord.domain.messages import OPENING_KINDS, Direction, Message
from accord.exchange.assessment_records import assessments_for_cases
from accord.exchange.attachment_persons import count_attachment_persons
from accord.node import Node
from accord.policy.engine import CedarPolicy, DisclosureDecision, DisclosurePolicy, Principal, Verdict
from accord.policy.installed import InstalledPolicy
from accord.policy.pack import PolicyPack
from accord.policy.screens import Evidence
from accord.policy.screens.neutrality import AnsweredRequest, NeutralityOutcome, NeutralityRules, assess_neutrality
from accord.store.tables import messages

ARRIVAL_SCREEN = "neutrality-on-arrival"
# The findings the neutrality screen contributes to a decision: a decision that held or refused a message and
# carries one of them held or refused it (also) on neutrality.
_NEUTRALITY_FINDINGS = ("protected_grounds", "protected_grounds_detected", "neutrality_structure", "neutrality_reply")


def gather_evidence(node: Node, conn: Connection, message: Message) -> Evidence:
    """What the send path knows beyond the message itself, for the screens (read here, so the screens stay pure):
    the mistreatment-risk assessments recorded for the message's case, the moment of the decision (an expired
    assessment does not count), for a reply how the request it answers fared on neutrality, and the persons in each
    attachment."""
    [evidence] = gather_evidence_for(node, conn, [message])
    return evidence


def gather_evidence_for(node: Node, conn: Connection, batch: Sequence[Message]) -> list[Evidence]:
    """`gather_evidence` for each message of a batch, the assessments of all their cases read at once."""
    assessments = assessments_for_cases(conn, (m.case_id for m in batch))
    at = datetime.now(UTC)
    return [
        Evidence(
            assessments=assessments[message.case_id],
            at=at,
            answered_request=answered_request(node, conn, message),
            attachments=tuple(count_attachment_persons(node, a) for a in message.attachments),
        )
        for message in batch
    ]


def current_pack_label(node: Node) -> str | None:
    """The label of the pack deciding now (None: no pack, or none that loads)."""
    pack = _pack_of(node.policy)
    return pack.label if pack is not None else None


def decide_disclosure(node: Node, conn: Connection, message: Message, principal: Principal) -> DisclosureDecision:
    return node.policy.decide(message, principal, gather_evidence(node, conn, message))


@dataclass(frozen=True, slots=True)
class ArrivalScreen:
    """What the neutrality screen on arrival needs of the deciding pack: its label and its neutrality rules (the
    names of shipped term files), small enough to hand to a worker process with each batch."""

    pack: str
    rules: NeutralityRules


def arrival_screen(node: Node) -> ArrivalScreen | None:
    """The screen of the pack deciding now; None where no pack is installed."""
    pack = _pack_of(node.policy)
    return None if pack is None else ArrivalScreen(pack.label, pack.manifest.screens.neutrality)


def screen_arriving(screen: ArrivalScreen | None, message: Message) -> dict[str, Any] | None:
    """`screen_on_arrival` with the pack's screen in hand (in any process)."""
    if screen is None or message.kind not in OPENING_KINDS:
        return None
    assessment = assess_neutrality(message, screen.rules)
    return {
        "screen": ARRIVAL_SCREEN,
        "pack": screen.pack,
        "outcome": assessment.outcome.value,
        "reasons": list(assessment.reasons()),
        "findings": {k: v for k, v in assessment.findings().items() if v},
    }


def screen_on_arrival(node: Node, message: Message) -> dict[str, Any] | None:
    """This node's pack's neutrality screen applied to a message that opens an exchange as it arrives, recorded
    with the message so that a reply to it inherits the outcome; None where no pack is installed."""
    return screen_arriving(arrival_screen(node), message)


def answered_request(node: Node, conn: Connection, message: Message) -> AnsweredRequest | None:
    """The request a reply answers, as this node decided it (it sent it) or screened it (it received it)."""
    if message.in_reply_to is None:
        return None
    row = conn.execute(
        select(messages.c.id, messages.c.direction, messages.c.decision, messages.c.content).where(
            messages.c.id == message.in_reply_to
        )
    ).first()
    if row is None:
        return None
    recorded: dict[str, Any] = json.loads(row.decision) if row.decision else {}
    if row.direction == Direction.OUTGOING.value:
        return _from_own_decision(row.id, recorded)
    if recorded.get("screen") != ARRIVAL_SCREEN:  # received before arrivals were screened: screen it now
        recorded = screen_on_arrival(node, Message.model_validate_json(row.content)) or {}
    if not recorded:
        return None
    return AnsweredRequest(
        row.id,
        NeutralityOutcome(recorded["outcome"]),
        f"screened by this node's pack ({recorded['pack']}) when it arrived",
        tuple(recorded.get("reasons", ())),
    )


def _from_own_decision(message_id: str, decision: dict[str, Any]) -> AnsweredRequest:
    findings = decision.get("findings", {})
    on_neutrality = any(findings.get(key) for key in _NEUTRALITY_FINDINGS)
    verdict = decision.get("verdict", Verdict.ALLOW.value)
    if not on_neutrality or verdict == Verdict.ALLOW.value:
        outcome = NeutralityOutcome.CLEAR
    else:
        outcome = NeutralityOutcome.REFUSED if verdict == Verdict.DENY.value else NeutralityOutcome.HELD
    because = tuple(str(p.get("id", "")) + ": " + str(p.get("citation", "")) for p in decision.get("policies", ()))
    return AnsweredRequest(message_id, outcome, f"this node's decision when it sent it ({verdict})", because)


def deciding_engine(policy: DisclosurePolicy) -> CedarPolicy | None:
    """The engine that decides for `policy` now, which a worker process can decide with as `policy` would (it
    pickles with its pack); None when there is none (no pack loads, or a policy of another kind)."""
    if isinstance(policy, InstalledPolicy):
        return policy.engine()
    return policy if isinstance(policy, CedarPolicy) else None


def _pack_of(policy: DisclosurePolicy) -> PolicyPack | None:
    if isinstance(policy, InstalledPolicy | CedarPolicy):
        return policy.pack
    return None
