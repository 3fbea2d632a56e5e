"""Changing the shared plan: a coordinator proposes, the other side's coordinator accepts or rejects.

A proposal names the item version it was made on. It takes effect on both sides only through the other side's
acceptance, and only while that version is still current; anything else is kept as `conflicted`, never dropped.
A side cannot accept the other side's proposal on an item while its own proposal on that item is waiting: so two
different changes can never both be accepted on the same version, and both nodes always hold the same plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import Connection, insert, select, update
from uuid6 import uuid7

from accord.crypto.canonical import canonical_json
from accord.directory.officers import Officer, Role, role_names
from accord.domain.parties import Party
from accord.domain.workplan import CODE_PATTERN, ActionStatus, ItemKind, apply_changes, transition_error
from accord.errors import AccordError, Forbidden, InvalidInput, NotFound, validation_text
from accord.exchange.errors import UnknownReference
from accord.exchange.outbox import OutboxEntry, enqueue
from accord.i18n import _
from accord.ledger.events import EventType, append_event, append_events, event_row
from accord.node import Node
from accord.store.tables import workplan_comments, workplan_proposals
from accord.trust.peers import peer_for_party
from accord.workplan.errors import (
    CrossingProposals,
    ForbiddenTransition,
    PlanRuleViolation,
    ProposalDecided,
    StaleProposal,
    UnknownItem,
)
from accord.workplan.plan import StoredItem, load_item, objective_codes, proposal_view, store_version

_RANK = 1  # plan changes overtake routine traffic, like read notices: a coordinator is waiting on them
WORKPLAN_KIND = "workplan"  # the envelope kind work-plan changes travel in


class PendingState:
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CONFLICTED = "conflicted"


# ---- what a coordinator submits


class ProposalDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    item: str = Field(pattern=CODE_PATTERN, description="the item's code; a new code proposes a new item")
    kind: ItemKind | None = Field(default=None, description="needed only for a new item")
    base_version: int = Field(ge=0, description="the version the change is made on; 0 for a new item")
    changes: dict[str, Any] = Field(min_length=1, description="the fields to set, e.g. {'status': 'in_progress'}")
    reason: str = Field(min_length=1, max_length=2000)


class DecisionDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str = Field(default="", max_length=2000, description="required to reject")


class CommentDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    body: str = Field(min_length=1, max_length=4000)


# ---- what travels between the nodes (the body of a `workplan` envelope)


class ProposalBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["proposal"] = "proposal"
    id: str = Field(max_length=36)
    item: str = Field(pattern=CODE_PATTERN)
    kind: ItemKind
    base_version: int = Field(ge=0)
    changes: dict[str, Any]
    reason: str = Field(max_length=2000)
    party: Party
    proposed_by: str = Field(max_length=128)
    proposed_at: datetime


class DecisionBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["decision"] = "decision"
    id: str = Field(max_length=36)
    proposal_id: str = Field(max_length=36)
    decision: Literal["accepted", "rejected"]
    reason: str = Field(max_length=2000)
    party: Party
    decided_by: str = Field(max_length=128)
    decided_at: datetime
    version: int | None = None


class CommentBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["comment"] = "comment"
    id: str = Field(max_length=36)
    item: str = Field(pattern=CODE_PATTERN)
    party: Party
    author: str = Field(max_length=128)
    body: str = Field(max_length=4000)
    at: datetime


WorkplanBody = Annotated[ProposalBody | DecisionBody | CommentBody, Field(discriminator="type")]
_BODY = TypeAdapter(WorkplanBody)


def parse_body(raw: dict[str, Any]) -> ProposalBody | DecisionBody | CommentBody:
    try:
        return _BODY.validate_python(raw)
    except ValidationError as exc:
        raise InvalidInput(
            _("the work-plan change is not valid: {errors}").format(errors=exc.errors(include_url=False)[:5])
        ) from exc


# ---- the coordinator's side


def _require_coordinator(officer: Officer) -> None:
    if Role.COORDINATOR not in officer.roles:
        raise Forbidden(
            _("role(s) {role_names} may read the work plan; changing it needs the coordinator role").format(
                role_names=role_names(officer)
            )
        )


@contextmanager
def _refusal_logged(node: Node, officer: Officer, action: str, refs: dict[str, str]) -> Iterator[None]:
    """Every refused attempt to change the plan is logged, in its own transaction, and then raised."""
    try:
        yield
    except AccordError as problem:
        with node.engine.begin() as conn:
            append_event(
                conn,
                EventType.WORKPLAN_REFUSED,
                officer.id,
                refs | {"action": action, "problem": problem.slug},
                problem.detail.encode(),
            )
        raise


def propose(node: Node, officer: Officer, draft: ProposalDraft) -> dict[str, Any]:
    with _refusal_logged(node, officer, "propose", {"item": draft.item}):
        _require_coordinator(officer)
        now = datetime.now(UTC)
        with node.engine.begin() as conn:
            item = load_item(conn, draft.item)
            kind = _proposal_kind(draft, item)
            current = item.version if item else 0
            if draft.base_version != current:
                raise StaleProposal(
                    _(
                        "{item} is at version {current}; the proposal was made on version {base_version}: reload "
                        "the item and propose again"
                    ).format(item=draft.item, current=current, base_version=draft.base_version)
                )
            _checked_doc(node, conn, draft.item, kind, item, draft.changes)
            body = ProposalBody(
                id=str(uuid7()),
                item=draft.item,
                kind=kind,
                base_version=draft.base_version,
                changes=draft.changes,
                reason=draft.reason,
                party=node.party,
                proposed_by=officer.username,
                proposed_at=now,
            )
            _insert_proposal(conn, body, PendingState.PENDING, None)
            _send(node, conn, body.id, body)
            append_event(
                conn,
                EventType.WORKPLAN_PROPOSED,
                officer.id,
                {"proposal": body.id, "item": body.item, "base_version": body.base_version},
                canonical_json(body.model_dump(mode="json")),
            )
            view = _proposal(conn, body.id)
    node.outbox_signal.set()
    return view


def _proposal_kind(draft: ProposalDraft, item: StoredItem | None) -> ItemKind:
    if item is None:
        if draft.base_version != 0:
            raise UnknownItem(
                _("the work plan has no item {item!r}; to propose a new one, give base_version 0").format(
                    item=draft.item
                )
            )
        if draft.kind is None:
            raise InvalidInput(_("a new item needs its kind: 'objective' or 'action'"))
        return draft.kind
    if draft.base_version == 0:
        raise StaleProposal(
            _("{item} exists already (version {version}); propose a change on that version").format(
                item=draft.item, version=item.version
            )
        )
    if draft.kind is not None and draft.kind is not item.kind:
        raise InvalidInput(
            _("{item} is an {kind}, not an {kind2}").format(item=draft.item, kind=item.kind, kind2=draft.kind)
        )
    return item.kind


def _checked_doc(
    node: Node, conn: Connection, code: str, kind: ItemKind, item: StoredItem | None, changes: dict[str, Any]
) -> dict[str, Any]:
    """The item's document after the change, checked against the document schema, the agreement and the workflow."""
    try:
        doc = apply_changes(kind, item.doc if item else None, changes)
    except ValueError as exc:
        raise PlanRuleViolation(_validation_text(exc)) from exc
    if item is not None and doc == item.doc:
        raise InvalidInput(_("the proposal changes nothing in {code}").format(code=code))
    objectives = objective_codes(conn) | ({code} if kind is ItemKind.OBJECTIVE else set())
    problems = node.agreement.plan_violations(kind, doc, objectives)
    if problems:
        raise PlanRuleViolation("; ".join(problems))
    if kind is ItemKind.ACTION:
        before = ActionStatus(item.doc["status"]) if item else ActionStatus.PLANNED
        why = transition_error(before, ActionStatus(doc["status"]))
        if why:
            raise ForbiddenTransition(why)
    return doc


def _validation_text(exc: ValueError) -> str:
    return validation_text(exc, unnamed="item") if isinstance(exc, ValidationError) else str(exc)


def accept(node: Node, officer: Officer, proposal_id: str, draft: DecisionDraft) -> dict[str, Any]:
    stale: StaleProposal | None = None
    with _refusal_logged(node, officer, "accept", {"proposal": proposal_id}):
        _require_coordinator(officer)
        now = datetime.now(UTC)
        with node.engine.begin() as conn:
            row = _decidable(node, conn, proposal_id)
            item = load_item(conn, row.code, for_update=True)
            current = item.version if item else 0
            if current != row.base_version:
                reason = f"made on version {row.base_version}; {row.code} is now at version {current}"
                _conflict(conn, [row.id], reason, officer.id, now)
                stale = StaleProposal(f"proposal {row.id} was {reason}; it is kept as conflicted")
            else:
                own = conn.execute(
                    select(workplan_proposals.c.id).where(
                        workplan_proposals.c.code == row.code,
                        workplan_proposals.c.party == node.party.value,
                        workplan_proposals.c.state == PendingState.PENDING,
                    )
                ).first()
                if own is not None:
                    raise CrossingProposals(
                        _(
                            "your side's proposal {id} on {code} is waiting for the other side; reject one of the "
                            "two before accepting"
                        ).format(id=own.id, code=row.code)
                    )
                kind = ItemKind(row.kind)
                doc = _checked_doc(node, conn, row.code, kind, item, json.loads(row.changes))
                body = DecisionBody(
                    id=str(uuid7()),
                    proposal_id=row.id,
                    decision="accepted",
                    reason=draft.reason,
                    party=node.party,
                    decided_by=officer.username,
                    decided_at=now,
                    version=current + 1,
                )
                _apply_acceptance(conn, row, kind, doc, body, officer.id)
                _send(node, conn, body.id, body)
            view = _proposal(conn, proposal_id)
        if stale is not None:
            raise stale
    node.outbox_signal.set()
    return view


def reject(node: Node, officer: Officer, proposal_id: str, draft: DecisionDraft) -> dict[str, Any]:
    with _refusal_logged(node, officer, "reject", {"proposal": proposal_id}):
        _require_coordinator(officer)
        if not draft.reason.strip():
            raise InvalidInput(_("a rejection states its reason, for the other side and for the record"))
        now = datetime.now(UTC)
        with node.engine.begin() as conn:
            row = _decidable(node, conn, proposal_id)
            body = DecisionBody(
                id=str(uuid7()),
                proposal_id=row.id,
                decision="rejected",
                reason=draft.reason,
                party=node.party,
                decided_by=officer.username,
                decided_at=now,
            )
            _apply_rejection(conn, body, officer.id)
            _send(node, conn, body.id, body)
            view = _proposal(conn, proposal_id)
    node.outbox_signal.set()
    return view


def comment(node: Node, officer: Officer, code: str, draft: CommentDraft) -> dict[str, Any]:
    with _refusal_logged(node, officer, "comment", {"item": code}):
        _require_coordinator(officer)
        with node.engine.begin() as conn:
            if load_item(conn, code) is None:
                raise UnknownItem(_("the work plan has no item {code!r}").format(code=code))
            body = CommentBody(
                id=str(uuid7()),
                item=code,
                party=node.party,
                author=officer.username,
                body=draft.body,
                at=datetime.now(UTC),
            )
            _store_comment(conn, body, officer.id)
            _send(node, conn, body.id, body)
    node.outbox_signal.set()
    return body.model_dump(mode="json", exclude={"type"})


def list_proposals(node: Node, state: str | None) -> list[dict[str, Any]]:
    known = {PendingState.PENDING, PendingState.ACCEPTED, PendingState.REJECTED, PendingState.CONFLICTED}
    if state is not None and state not in known:
        raise InvalidInput(_("state is one of {sorted}").format(sorted=sorted(known)))
    query = select(workplan_proposals).order_by(workplan_proposals.c.proposed_at, workplan_proposals.c.id)
    if state is not None:
        query = query.where(workplan_proposals.c.state == state)
    with node.engine.connect() as conn:
        return [proposal_view(row) for row in conn.execute(query)]


def _decidable(node: Node, conn: Connection, proposal_id: str) -> Any:
    row = conn.execute(
        select(workplan_proposals).where(workplan_proposals.c.id == proposal_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(_("no work-plan proposal {proposal_id}").format(proposal_id=proposal_id))
    if row.party == node.party.value:
        raise Forbidden(_("your side made this proposal; the other side accepts or rejects it"))
    if row.state != PendingState.PENDING:
        raise ProposalDecided(
            _("proposal {proposal_id} is {state} already ({value})").format(
                proposal_id=proposal_id, state=row.state, value=row.state_reason or "no reason"
            )
        )
    return row


def _proposal(conn: Connection, proposal_id: str) -> dict[str, Any]:
    return proposal_view(conn.execute(select(workplan_proposals).where(workplan_proposals.c.id == proposal_id)).one())


def _send(node: Node, conn: Connection, ref_id: str, body: ProposalBody | DecisionBody | CommentBody) -> None:
    peer = peer_for_party(node, conn, node.party.other)
    payload = json.dumps(body.model_dump(mode="json"))
    enqueue(conn, node.node_id, peer.node_id, [OutboxEntry(WORKPLAN_KIND, ref_id, _RANK, payload)])


def _insert_proposal(conn: Connection, body: ProposalBody, state: str, reason: str | None) -> None:
    conn.execute(
        insert(workplan_proposals),
        [
            {
                "id": body.id,
                "code": body.item,
                "kind": body.kind.value,
                "base_version": body.base_version,
                "changes": json.dumps(body.changes),
                "reason": body.reason,
                "party": body.party.value,
                "proposed_by": body.proposed_by,
                "proposed_at": body.proposed_at,
                "state": state,
                "state_reason": reason,
            }
        ],
    )


def _apply_acceptance(
    conn: Connection, row: Any, kind: ItemKind, doc: dict[str, Any], decision: DecisionBody, actor: str
) -> None:
    """The accepted change becomes the item's next version; proposals made on older versions become conflicted."""
    version = row.base_version + 1
    store_version(conn, row.code, kind, version, doc, row.id, decision.decided_at)
    conn.execute(
        update(workplan_proposals)
        .where(workplan_proposals.c.id == row.id)
        .values(
            state=PendingState.ACCEPTED,
            state_reason=decision.reason or None,
            decided_by=f"{decision.party}:{decision.decided_by}",
            decided_at=decision.decided_at,
            version=version,
        )
    )
    refs = {"proposal": row.id, "item": row.code, "version": version}
    append_events(
        conn,
        [
            event_row(EventType.WORKPLAN_ACCEPTED, actor, refs | {"decision": decision.id}, at=decision.decided_at),
            event_row(EventType.WORKPLAN_CHANGED, actor, refs, canonical_json(doc), decision.decided_at),
        ],
    )
    overtaken = list(
        conn.scalars(
            select(workplan_proposals.c.id).where(
                workplan_proposals.c.code == row.code,
                workplan_proposals.c.state == PendingState.PENDING,
                workplan_proposals.c.base_version < version,
            )
        )
    )
    _conflict(conn, overtaken, f"overtaken: proposal {row.id} moved {row.code} to version {version}", actor)


def _apply_rejection(conn: Connection, decision: DecisionBody, actor: str) -> None:
    conn.execute(
        update(workplan_proposals)
        .where(workplan_proposals.c.id == decision.proposal_id)
        .values(
            state=PendingState.REJECTED,
            state_reason=decision.reason,
            decided_by=f"{decision.party}:{decision.decided_by}",
            decided_at=decision.decided_at,
        )
    )
    append_event(
        conn,
        EventType.WORKPLAN_REJECTED,
        actor,
        {"proposal": decision.proposal_id, "decision": decision.id},
        decision.reason.encode(),
        decision.decided_at,
    )


def _conflict(conn: Connection, ids: list[str], reason: str, actor: str, at: datetime | None = None) -> None:
    if not ids:
        return
    conn.execute(
        update(workplan_proposals)
        .where(workplan_proposals.c.id.in_(ids))
        .values(state=PendingState.CONFLICTED, state_reason=reason)
    )
    append_events(
        conn, [event_row(EventType.WORKPLAN_CONFLICTED, actor, {"proposal": i}, reason.encode(), at) for i in ids]
    )


def _store_comment(conn: Connection, body: CommentBody, actor: str) -> None:
    conn.execute(
        insert(workplan_comments),
        [
            {
                "id": body.id,
                "code": body.item,
                "party": body.party.value,
                "author": body.author,
                "body": body.body,
                "at": body.at,
            }
        ],
    )
    append_event(
        conn, EventType.WORKPLAN_COMMENTED, actor, {"comment": body.id, "item": body.item}, body.body.encode(), body.at
    )


# ---- the other side's changes, arriving through the inbox (inside its transaction)


def check_incoming(node: Node, conn: Connection, body: ProposalBody | DecisionBody | CommentBody) -> None:
    """Refuse what can never apply here (raise) or must wait for something still in flight (UnknownReference)."""
    if body.party is not node.party.other:
        raise InvalidInput(
            _("a work-plan change from the peer must come from {other}, not {party}").format(
                other=node.party.other, party=body.party
            )
        )
    if isinstance(body, ProposalBody):
        item = load_item(conn, body.item)
        current = item.version if item else 0
        if body.base_version > current:
            raise UnknownReference(
                _(
                    "the proposal was made on version {base_version} of {item}; this node holds version "
                    "{current} and waits for the acceptance that made the newer one"
                ).format(base_version=body.base_version, item=body.item, current=current)
            )
        if body.base_version == current:
            kind = item.kind if item else body.kind
            _checked_doc(node, conn, body.item, kind, item, body.changes)
    elif isinstance(body, DecisionBody):
        row = conn.execute(
            select(workplan_proposals.c.party).where(workplan_proposals.c.id == body.proposal_id)
        ).first()
        if row is None or row.party != node.party.value:
            raise InvalidInput(
                _("a decision on proposal {proposal_id}, which this node never made").format(
                    proposal_id=body.proposal_id
                )
            )
    elif load_item(conn, body.item) is None:
        raise UnknownReference(_("a comment on {item}, which this node does not hold yet").format(item=body.item))


def apply_incoming(node: Node, conn: Connection, body: ProposalBody | DecisionBody | CommentBody, actor: str) -> None:
    if isinstance(body, ProposalBody):
        item = load_item(conn, body.item)
        current = item.version if item else 0
        if body.base_version == current:
            _insert_proposal(conn, body, PendingState.PENDING, None)
            event = EventType.WORKPLAN_PROPOSED
        else:
            reason = f"made on version {body.base_version}; {body.item} was already at version {current} here"
            _insert_proposal(conn, body, PendingState.CONFLICTED, reason)
            event = EventType.WORKPLAN_CONFLICTED
        append_event(
            conn,
            event,
            actor,
            {"proposal": body.id, "item": body.item, "base_version": body.base_version},
            canonical_json(body.model_dump(mode="json")),
        )
    elif isinstance(body, DecisionBody):
        _apply_decision(node, conn, body, actor)
    else:
        _store_comment(conn, body, actor)


def _apply_decision(node: Node, conn: Connection, decision: DecisionBody, actor: str) -> None:
    row = conn.execute(select(workplan_proposals).where(workplan_proposals.c.id == decision.proposal_id)).one()
    if row.state != PendingState.PENDING:
        # Both sides follow the same rules, so this means the plans diverged: keep the evidence and say so.
        _conflict(conn, [row.id], f"the other side {decision.decision} it, but here it was already {row.state}", actor)
        return
    if decision.decision == "rejected":
        _apply_rejection(conn, decision, actor)
        return
    item = load_item(conn, row.code, for_update=True)
    current = item.version if item else 0
    if current != row.base_version or decision.version != current + 1:
        reason = f"accepted by the other side as version {decision.version}, but here {row.code} is at {current}"
        _conflict(conn, [row.id], reason, actor)
        return
    kind = ItemKind(row.kind)
    try:
        doc = _checked_doc(node, conn, row.code, kind, item, json.loads(row.changes))
    except AccordError as problem:
        _conflict(conn, [row.id], f"accepted by the other side, but it no longer applies here: {problem.detail}", actor)
        return
    _apply_acceptance(conn, row, kind, doc, decision, actor)


def mark_refused_by_peer(conn: Connection, ref_id: str, reason: str, actor: str) -> None:
    """A proposal the peer refused for good stays visible here as conflicted, with the peer's reason."""
    pending = list(
        conn.scalars(
            select(workplan_proposals.c.id).where(
                workplan_proposals.c.id == ref_id, workplan_proposals.c.state == PendingState.PENDING
            )
        )
    )
    _conflict(conn, pending, f"the other side's node refused it: {reason}", actor)
