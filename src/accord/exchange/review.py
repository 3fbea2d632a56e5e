"""The legal review queue: disclosures the pack held, decided by a legal officer who is not their sender.

An approval may add caveats, remove fields and record an assurance; the message then leaves unchanged otherwise.
An escalation moves it up a level (the deputy head decides); a refusal ends it. The sender sees every step in the
message's state, and every decision is logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, func, insert, select, update

from accord.crypto.canonical import canonical_json
from accord.directory.officers import Officer, Role
from accord.domain.handling import Caveat
from accord.domain.messages import Assurance, DeliveryState, Direction, Message
from accord.errors import Conflict, Forbidden, InvalidInput, NotFound
from accord.exchange.assurances import assurance_refs, with_refs
from accord.exchange.disclosure import decide_disclosure
from accord.exchange.outbox import OutboxEntry, OutboxKind, enqueue
from accord.exchange.sending import mark_answered
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.policy.engine import Principal, Verdict
from accord.store.tables import messages, review_decisions
from accord.trust.peers import peer_for_party

_LEVEL_ROLES = {1: {Role.LEGAL, Role.DEPUTY_HEAD}, 2: {Role.DEPUTY_HEAD}}
_REMOVABLE = frozenset({"date_of_birth", "nationality", "identifiers", "aliases", "role"})


class FourEyes(Forbidden):
    slug = "four-eyes"
    title = "A disclosure is reviewed by someone other than its sender"


class GateNotCleared(Conflict):
    slug = "gate-not-cleared"
    title = "A hold that approval alone cannot lift still applies"


class ReviewConditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    add_caveats: tuple[Caveat, ...] = ()
    remove_fields: tuple[str, ...] = Field(default=(), description="e.g. 'subjects[0].date_of_birth'")
    assurance: Assurance | None = None


class ReviewDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: str = Field(pattern="^(approve|refuse|escalate)$")
    reason: str = Field(min_length=3, max_length=4000)
    conditions: ReviewConditions = ReviewConditions()


@dataclass(frozen=True, slots=True)
class HeldItem:
    message_id: str
    title: str
    sender: str
    focus_area: str
    priority: str
    held_at: datetime
    level: int
    decision: dict[str, Any]
    history: list[dict[str, Any]]


def _require_reviewer(officer: Officer, level: int) -> None:
    if not _LEVEL_ROLES[level] & officer.roles:
        needed = " or ".join(sorted(r.value for r in _LEVEL_ROLES[level]))
        raise Forbidden(f"level {level} reviews are decided by the {needed} role")


def _level(conn: Connection, message_id: str, decision: str | None) -> int:
    """Who decides: the deputy head once a legal officer escalated it, or when a holding policy names the deputy
    head (@review("deputy_head"): ACMFEA Directions s.1(2)-(3)); otherwise a legal officer."""
    escalations = conn.execute(
        select(func.count())
        .select_from(review_decisions)
        .where(review_decisions.c.message_id == message_id, review_decisions.c.action == "escalate")
    ).scalar_one()
    return max(1 + min(int(escalations), 1), _required_level(decision))


def _required_level(decision: str | None) -> int:
    policies = json.loads(decision or "{}").get("policies") or []
    return 2 if any(p.get("review") and p.get("level") == 2 for p in policies) else 1


def _history(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(review_decisions).where(review_decisions.c.message_id == message_id).order_by(review_decisions.c.id)
    )
    return [
        {"action": r.action, "level": r.level, "reviewer": r.reviewer, "reason": r.reason, "at": r.at} for r in rows
    ]


def _require_any_reviewer(officer: Officer) -> None:
    if not (_LEVEL_ROLES[1] | _LEVEL_ROLES[2]) & officer.roles:
        raise Forbidden("the review queue is for legal officers and the deputy head")


def held_queue(node: Node, officer: Officer) -> list[HeldItem]:
    _require_any_reviewer(officer)
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(messages)
            .where(messages.c.direction == Direction.OUTGOING.value, messages.c.state == DeliveryState.HELD.value)
            .order_by(messages.c.created_at)
        ).all()
        items = [
            HeldItem(
                r.id,
                r.title,
                f"{r.sender_agency}/{r.sender_officer}",
                r.focus_area,
                r.priority,
                r.created_at,
                _level(conn, r.id, r.decision),
                json.loads(r.decision or "{}"),
                _history(conn, r.id),
            )
            for r in rows
        ]
    return [item for item in items if _LEVEL_ROLES[item.level] & officer.roles]


def decide(node: Node, officer: Officer, message_id: str, decision: ReviewDecision) -> dict[str, Any]:
    _require_any_reviewer(officer)  # before any lookup: a non-reviewer learns nothing, not even that it exists
    now = datetime.now(UTC)
    with node.engine.begin() as conn:
        row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
        if row is None or row.direction != Direction.OUTGOING.value:
            raise NotFound(f"no outgoing message {message_id}")
        if row.state != DeliveryState.HELD.value:
            raise Conflict(f"message {message_id} is {row.state}, not waiting for review")
        level = _level(conn, message_id, row.decision)
        _require_reviewer(officer, level)
        if row.sender_officer == officer.username:
            raise FourEyes("you sent this disclosure; another legal officer must review it")
        if decision.action == "escalate" and level == 2:
            raise InvalidInput("the deputy head decides; there is no level above")
        conn.execute(
            insert(review_decisions).values(
                message_id=message_id,
                action=decision.action,
                level=level,
                reviewer=officer.username,
                reason=decision.reason,
                conditions=decision.conditions.model_dump_json(),
                at=now,
            )
        )
        state, reason = _apply(node, conn, row, decision, officer, now)
        append_event(
            conn,
            EventType.REVIEW_DECIDED,
            officer.id,
            with_refs(
                {"message": message_id, "action": decision.action, "level": level},
                assurance_refs((decision.conditions.assurance,) if decision.conditions.assurance else ()),
            ),
            canonical_json(json.loads(decision.model_dump_json())),
            now,
        )
    node.outbox_signal.set()
    return {"message": message_id, "action": decision.action, "level": level, "state": state, "reason": reason}


def _apply(
    node: Node, conn: Connection, row: Any, decision: ReviewDecision, officer: Officer, now: datetime
) -> tuple[str, str]:
    if decision.action == "escalate":
        reason = f"escalated by {officer.username} to the deputy head: {decision.reason}"
        conn.execute(update(messages).where(messages.c.id == row.id).values(state_reason=reason))
        return DeliveryState.HELD.value, reason
    if decision.action == "refuse":
        reason = f"refused by {officer.username}: {decision.reason}"
        conn.execute(
            update(messages)
            .where(messages.c.id == row.id)
            .values(state=DeliveryState.REFUSED.value, state_reason=reason)
        )
        return DeliveryState.REFUSED.value, reason
    message = _with_conditions(Message.model_validate_json(row.content), decision.conditions)
    _require_gates_cleared(node, conn, row, message)
    content = canonical_json(message.model_dump(mode="json")).decode()
    reason = f"approved by {officer.username}: {decision.reason}"
    _release(node, conn, message, content, {"state_reason": reason, "content": content})
    return DeliveryState.QUEUED.value, reason


def _require_gates_cleared(node: Node, conn: Connection, row: Any, message: Message) -> None:
    """Approval re-decides the message as it would leave (with the reviewer's conditions): a gated hold that still
    applies cannot be approved; its remedy says what would lift it."""
    principal = Principal(row.sender_officer or "", node.party.value, row.sender_agency, ("officer",))
    open_gates = decide_disclosure(node, conn, message, principal).gates
    if open_gates:
        remedies = "; ".join(f"{g.id} ({g.citation}): {g.remedy}" for g in open_gates)
        raise GateNotCleared(f"this disclosure cannot be approved as it stands: {remedies}")


def _release(node: Node, conn: Connection, message: Message, content: str, values: dict[str, Any]) -> None:
    """Queue a held message for the peer now, with its new state and whatever else changed."""
    peer = peer_for_party(node, conn, node.party.other)
    entry = OutboxEntry(OutboxKind.MESSAGE, message.id, message.priority.outbox_rank, content)
    [seq] = enqueue(conn, node.node_id, peer.node_id, [entry])
    now = datetime.now(UTC)
    queued = {"state": DeliveryState.QUEUED.value, "channel_seq": seq, "next_attempt_at": now}
    conn.execute(update(messages).where(messages.c.id == message.id).values(**(values | queued)))
    mark_answered(conn, [message], now)


def _with_conditions(message: Message, conditions: ReviewConditions) -> Message:
    subjects = [s.model_dump() for s in message.subjects]
    for path in conditions.remove_fields:
        index, name = _field_path(path, len(subjects))
        subjects[index][name] = () if name in {"identifiers", "aliases"} else None
    handling = message.handling.model_copy(
        update={"caveats": tuple(dict.fromkeys(message.handling.caveats + conditions.add_caveats))}
    )
    assurances = message.assurances + ((conditions.assurance,) if conditions.assurance else ())
    return Message.model_validate(
        message.model_dump() | {"subjects": subjects, "handling": handling.model_dump(), "assurances": assurances}
    )


def _field_path(path: str, count: int) -> tuple[int, str]:
    head, _, name = path.partition(".")
    if not head.startswith("subjects[") or not head.endswith("]") or name not in _REMOVABLE:
        raise InvalidInput(f"{path!r}: fields are removed as subjects[N].<{'|'.join(sorted(_REMOVABLE))}>")
    try:
        index = int(head[len("subjects[") : -1])
    except ValueError as exc:
        raise InvalidInput(f"{path!r}: N must be a number") from exc
    if not 0 <= index < count:
        raise InvalidInput(f"{path!r}: the message has {count} subjects")
    return index, name


def reevaluate_held(node: Node) -> dict[str, int]:
    """After a pack change: decide every held disclosure again; what is now allowed leaves, refused ends."""
    with node.engine.begin() as conn:
        counts = redecide_held(node, conn)
    node.outbox_signal.set()
    return counts


def redecide_held(node: Node, conn: Connection, *, case_id: str | None = None) -> dict[str, int]:
    """Decide held disclosures again (those of one case, after an assessment is recorded for it), in the caller's
    transaction: what is now allowed leaves, refused ends, the rest waits with its new decision. One a person has
    already acted on (escalated, say) stays with them."""
    counts = {"allow": 0, "deny": 0, "review": 0}
    query = select(messages).where(
        messages.c.direction == Direction.OUTGOING.value, messages.c.state == DeliveryState.HELD.value
    )
    if case_id is not None:
        query = query.where(messages.c.case_id == case_id)
    for row in conn.execute(query.order_by(messages.c.created_at)).all():
        if conn.execute(
            select(func.count()).select_from(review_decisions).where(review_decisions.c.message_id == row.id)
        ).scalar_one():
            counts["review"] += 1  # a person is already deciding it; a new decision does not take it away
            continue
        message = Message.model_validate_json(row.content)
        principal = Principal(row.sender_officer or "", node.party.value, row.sender_agency, ("officer",))
        decided = decide_disclosure(node, conn, message, principal)
        counts[decided.verdict.value] += 1
        values: dict[str, Any] = {
            "decision": json.dumps(decided.as_json()),
            "state_reason": "; ".join(decided.reasons),
        }
        if decided.verdict is Verdict.ALLOW:
            _release(node, conn, message, row.content, values)
        else:
            if decided.verdict is Verdict.DENY:
                values["state"] = DeliveryState.REFUSED.value
            conn.execute(update(messages).where(messages.c.id == row.id).values(**values))
        append_event(
            conn,
            EventType.POLICY_DECIDED,
            "policy",
            {"message": row.id, "verdict": decided.verdict.value, "pack": decided.pack, "reevaluated": 1},
            canonical_json(decided.as_json()),
        )
    return counts
