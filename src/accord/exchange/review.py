"""The legal review queue: disclosures the pack held, decided by a legal officer who neither drafted nor edited them.

The queue is ordered by urgency: priority (immediate, urgent, routine), then the earliest deadline, then the longest
wait. An approval may add caveats, record assurances and redact (a subject's field, a whole subject, an attachment);
the message is decided again as it would leave, and a gated hold that still applies cannot be approved. The sending
agency may revise a held disclosure (its reviser then counts as an editor). An escalation moves it up a level (the
deputy head decides); a refusal ends it. The sender sees every step in the message's state; every step is logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, delete, func, insert, select, update

from accord.crypto.canonical import canonical_json
from accord.directory.officers import Officer, Role
from accord.domain.messages import DeliveryState, Direction, Message, Priority
from accord.errors import Conflict, Forbidden, InvalidInput, NotFound
from accord.exchange.assurances import assurance_refs, with_refs
from accord.exchange.disclosure import decide_disclosure
from accord.exchange.outbox import OutboxEntry, OutboxKind, channel_due, enqueue
from accord.exchange.redaction import ReviewConditions, apply_conditions, removed_by
from accord.exchange.sending import mark_answered, require_sender
from accord.i18n import N_, _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.policy.engine import DisclosureDecision, Principal, Verdict
from accord.store.search import index_messages
from accord.store.tables import message_attachments, messages, review_decisions
from accord.trust.peers import peer_for_party

_LEVEL_ROLES = {1: {Role.LEGAL, Role.DEPUTY_HEAD}, 2: {Role.DEPUTY_HEAD}}
PRESSING = frozenset({Priority.IMMEDIATE, Priority.URGENT})


class ReviewAction(StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"
    ESCALATE = "escalate"
    REVISE = "revise"  # the sending agency (or a reviewer) changed the held message; not a decision


class FourEyes(Forbidden):
    slug = "four-eyes"
    title = N_("A disclosure is reviewed by someone who neither drafted nor edited it")


class GateNotCleared(Conflict):
    slug = "gate-not-cleared"
    title = N_("A hold that approval alone cannot lift still applies")


class ReviewDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: str = Field(pattern="^(approve|refuse|escalate)$")
    reason: str = Field(min_length=3, max_length=4000)
    conditions: ReviewConditions = ReviewConditions()


class Revision(BaseModel):
    """A change to a held disclosure before it is decided, with why (e.g. to apply a policy's remedy)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str = Field(min_length=3, max_length=4000)
    conditions: ReviewConditions


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
    deadline: datetime | None = None
    message: Message | None = None
    editors: tuple[str, ...] = ()

    @property
    def pressing(self) -> bool:
        return self.priority in PRESSING


@dataclass(frozen=True, slots=True)
class ReleasePreview:
    """The message as it would leave with the reviewer's conditions, and the pack's decision on it now."""

    message: Message
    decision: DisclosureDecision
    removed: tuple[str, ...]

    @property
    def approvable(self) -> bool:
        return not self.decision.gates and self.decision.verdict is not Verdict.DENY


def _require_reviewer(officer: Officer, level: int) -> None:
    if not _LEVEL_ROLES[level] & officer.roles:
        needed = " or ".join(sorted(r.value for r in _LEVEL_ROLES[level]))
        raise Forbidden(_("level {level} reviews are decided by the {needed} role").format(level=level, needed=needed))


def _level(conn: Connection, message_id: str, decision: str | None) -> int:
    """Who decides: the deputy head once a legal officer escalated it, or when a holding policy names the deputy
    head (@review("deputy_head"): ACMFEA Directions s.1(2)-(3)); otherwise a legal officer."""
    escalations = conn.execute(
        select(func.count())
        .select_from(review_decisions)
        .where(review_decisions.c.message_id == message_id, review_decisions.c.action == ReviewAction.ESCALATE.value)
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


def editors_of(conn: Connection, row: Any) -> tuple[str, ...]:
    """Who made the held message what it is: its drafter, everyone who revised it, and for a correction, withdrawal
    or retraction, whoever drafted or edited the message it amends. None of them may approve it (four eyes)."""
    editors: dict[str, None] = {}
    seen: set[str] = set()
    while row is not None and row.id not in seen:
        seen.add(row.id)
        if row.sender_officer:
            editors[row.sender_officer] = None
        revisers = conn.execute(
            select(review_decisions.c.reviewer)
            .where(review_decisions.c.message_id == row.id, review_decisions.c.action == ReviewAction.REVISE.value)
            .order_by(review_decisions.c.id)
        ).scalars()
        editors.update(dict.fromkeys(revisers))
        row = (
            conn.execute(
                select(messages).where(messages.c.id == row.refers_to, messages.c.direction == Direction.OUTGOING.value)
            ).first()
            if row.refers_to
            else None
        )
    return tuple(editors)


@dataclass(frozen=True, slots=True)
class Deciders:
    """Who may decide a held disclosure now: its level, the roles that decide at that level, and the officers who
    may not (its drafter and editors: four eyes)."""

    level: int
    roles: frozenset[Role]
    excluded: tuple[str, ...]


def deciders_of(conn: Connection, row: Any) -> Deciders:
    """The deciders of the held message `row` (a row of `messages`)."""
    level = _level(conn, row.id, row.decision)
    return Deciders(level, frozenset(_LEVEL_ROLES[level]), editors_of(conn, row))


def may_review(officer: Officer) -> bool:
    """Whether the officer decides holds at some level (a legal officer, the deputy head)."""
    return bool((_LEVEL_ROLES[1] | _LEVEL_ROLES[2]) & officer.roles)


def _require_any_reviewer(officer: Officer) -> None:
    if not may_review(officer):
        raise Forbidden(_("the review queue is for legal officers and the deputy head"))


def _urgency(item: HeldItem) -> tuple[int, int, datetime, datetime]:
    """Immediate before urgent before routine; then the earliest deadline (none last); then the longest wait."""
    deadline = item.deadline or datetime.max.replace(tzinfo=UTC)
    return (Priority(item.priority).outbox_rank, item.deadline is None, deadline, item.held_at)


def held_queue(node: Node, officer: Officer) -> list[HeldItem]:
    """The held disclosures this officer can decide, the most pressing first."""
    _require_any_reviewer(officer)
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(messages).where(
                messages.c.direction == Direction.OUTGOING.value, messages.c.state == DeliveryState.HELD.value
            )
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
                r.deadline,
                Message.model_validate_json(r.content),
                editors_of(conn, r),
            )
            for r in rows
        ]
    return sorted((item for item in items if _LEVEL_ROLES[item.level] & officer.roles), key=_urgency)


def pressing_reviews(node: Node, officer: Officer) -> int:
    """How many urgent or immediate holds wait for this officer to decide (the in-app notice)."""
    if not (_LEVEL_ROLES[1] | _LEVEL_ROLES[2]) & officer.roles:
        return 0
    return sum(1 for item in held_queue(node, officer) if item.pressing and officer.username not in item.editors)


def _held_row(conn: Connection, message_id: str) -> Any:
    row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
    if row is None or row.direction != Direction.OUTGOING.value:
        raise NotFound(_("no outgoing message {message_id}").format(message_id=message_id))
    if row.state != DeliveryState.HELD.value:
        raise Conflict(
            _("message {message_id} is {state}, not waiting for review").format(message_id=message_id, state=row.state)
        )
    return row


def _principal(node: Node, row: Any) -> Principal:
    return Principal(row.sender_officer or "", node.party.value, row.sender_agency, ("officer",))


def preview_release(node: Node, officer: Officer, message_id: str, conditions: ReviewConditions) -> ReleasePreview:
    """What would leave if the held message were approved with `conditions`, and what the pack says of it; nothing
    is stored."""
    _require_any_reviewer(officer)
    with node.engine.connect() as conn:
        row = _held_row(conn, message_id)
        _require_reviewer(officer, _level(conn, message_id, row.decision))
        held = Message.model_validate_json(row.content)
        leaving = apply_conditions(held, conditions)
        decided = decide_disclosure(node, conn, leaving, _principal(node, row))
    return ReleasePreview(leaving, decided, tuple(removed_by(held, conditions)))


def decide(node: Node, officer: Officer, message_id: str, decision: ReviewDecision) -> dict[str, Any]:
    _require_any_reviewer(officer)  # before any lookup: a non-reviewer learns nothing, not even that it exists
    now = datetime.now(UTC)
    with node.engine.begin() as conn:
        row = _held_row(conn, message_id)
        level = _level(conn, message_id, row.decision)
        _require_reviewer(officer, level)
        editors = editors_of(conn, row)
        if officer.username in editors:
            role = "drafted" if officer.username == row.sender_officer else "edited"
            raise FourEyes(
                _(
                    "you {role} this disclosure (drafted and edited by {join}); another legal officer must review it"
                ).format(role=role, join=", ".join(editors))
            )
        if decision.action == ReviewAction.ESCALATE and level == 2:
            raise InvalidInput(_("the deputy head decides; there is no level above"))
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
        state, reason = _apply(node, conn, row, decision, officer)
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


def revise_held(node: Node, officer: Officer, message_id: str, revision: Revision) -> dict[str, Any]:
    """The sending agency changes a held disclosure (to apply a remedy, say): decided again, still held for a
    reviewer, who must be someone else; a revision the pack would refuse changes nothing."""
    reviewer = bool((_LEVEL_ROLES[1] | _LEVEL_ROLES[2]) & officer.roles)
    if not reviewer:
        require_sender(officer)  # before any lookup: one who may not revise learns nothing
    now = datetime.now(UTC)
    with node.engine.begin() as conn:
        row = _held_row(conn, message_id)
        if not reviewer and row.sender_agency != officer.agency:
            raise NotFound(_("no held message {message_id} of your agency").format(message_id=message_id))
        if revision.conditions.empty:
            raise InvalidInput(_("a revision changes a field, a subject, an attachment, a caveat or an assurance"))
        held = Message.model_validate_json(row.content)
        revised = apply_conditions(held, revision.conditions)
        decided = decide_disclosure(node, conn, revised, _principal(node, row))
        if decided.verdict is Verdict.DENY:
            raise InvalidInput(
                _("the revised message would be refused: {join}").format(join="; ".join(decided.explained()))
            )
        content = canonical_json(revised.model_dump(mode="json")).decode()
        reason = f"revised by {officer.username}: {revision.reason}"
        conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(content=content, decision=json.dumps(decided.as_json()), state_reason=reason)
        )
        index_messages(conn, {message_id: content})
        _unlink_removed(conn, held, revised)
        conn.execute(
            insert(review_decisions).values(
                message_id=message_id,
                action=ReviewAction.REVISE.value,
                level=_level(conn, message_id, json.dumps(decided.as_json())),
                reviewer=officer.username,
                reason=revision.reason,
                conditions=revision.conditions.model_dump_json(),
                at=now,
            )
        )
        append_event(
            conn,
            EventType.REVIEW_DECIDED,
            officer.id,
            {"message": message_id, "action": ReviewAction.REVISE.value, "verdict": decided.verdict.value},
            canonical_json({"revision": json.loads(revision.model_dump_json()), "decision": decided.as_json()}),
            now,
        )
    held_state = DeliveryState.HELD.value
    return {"message": message_id, "verdict": decided.verdict.value, "state": held_state, "reason": reason}


def _apply(node: Node, conn: Connection, row: Any, decision: ReviewDecision, officer: Officer) -> tuple[str, str]:
    if decision.action == ReviewAction.ESCALATE:
        reason = f"escalated by {officer.username} to the deputy head: {decision.reason}"
        conn.execute(update(messages).where(messages.c.id == row.id).values(state_reason=reason))
        return DeliveryState.HELD.value, reason
    if decision.action == ReviewAction.REFUSE:
        reason = f"refused by {officer.username}: {decision.reason}"
        conn.execute(
            update(messages)
            .where(messages.c.id == row.id)
            .values(state=DeliveryState.REFUSED.value, state_reason=reason)
        )
        return DeliveryState.REFUSED.value, reason
    held = Message.model_validate_json(row.content)
    message = apply_conditions(held, decision.conditions)
    _require_gates_cleared(node, conn, row, message)
    content = canonical_json(message.model_dump(mode="json")).decode()
    reason = f"approved by {officer.username}: {decision.reason}"
    _unlink_removed(conn, held, message)
    _release(node, conn, message, content, {"state_reason": reason, "content": content})
    return DeliveryState.QUEUED.value, reason


def _unlink_removed(conn: Connection, before: Message, after: Message) -> None:
    """An attachment redacted from the message no longer travels with it, nor is it read through it."""
    kept = {a.sha256 for a in after.attachments}
    removed = [a.sha256 for a in before.attachments if a.sha256 not in kept]
    if removed:
        conn.execute(
            delete(message_attachments).where(
                message_attachments.c.message_id == before.id, message_attachments.c.sha256.in_(removed)
            )
        )


def _require_gates_cleared(node: Node, conn: Connection, row: Any, message: Message) -> None:
    """Approval re-decides the message as it would leave (with the reviewer's conditions): a gated hold that still
    applies cannot be approved; its remedy says what would lift it."""
    decided = decide_disclosure(node, conn, message, _principal(node, row))
    if decided.verdict is Verdict.DENY:
        refusals = "; ".join(decided.explained())
        raise GateNotCleared(
            _("this disclosure would be refused as it would leave: {refusals}").format(refusals=refusals)
        )
    open_gates = decided.gates
    if open_gates:
        remedies = "; ".join(f"{g.id} ({g.citation}): {g.remedy_text()}" for g in open_gates)
        raise GateNotCleared(_("this disclosure cannot be approved as it stands: {remedies}").format(remedies=remedies))


def _release(node: Node, conn: Connection, message: Message, content: str, values: dict[str, Any]) -> None:
    """Queue a held message for the peer now, with its new state and whatever else changed."""
    peer = peer_for_party(node, conn, node.party.other)
    entry = OutboxEntry(OutboxKind.MESSAGE, message.id, message.priority.outbox_rank, content)
    [seq] = enqueue(conn, node.node_id, peer.node_id, [entry])
    now = datetime.now(UTC)
    due = channel_due(conn, node.node_id, peer.node_id, now)
    queued = {"state": DeliveryState.QUEUED.value, "channel_seq": seq, "next_attempt_at": due}
    conn.execute(update(messages).where(messages.c.id == message.id).values(**(values | queued)))
    mark_answered(conn, [message], now)


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
