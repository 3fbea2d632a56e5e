"""The work plan as stored at a node: the default plan from the agreement, items with their versions, views."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from accord.crypto.canonical import canonical_json
from accord.domain.agreement import Agreement
from accord.domain.workplan import ItemKind
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.store.tables import workplan_comments, workplan_items, workplan_proposals, workplan_versions
from accord.workplan.errors import UnknownItem


@dataclass(frozen=True, slots=True)
class StoredItem:
    code: str
    kind: ItemKind
    version: int
    doc: dict[str, Any]


def plan_is_empty(conn: Connection) -> bool:
    return conn.execute(select(workplan_items.c.code).limit(1)).first() is None


def ensure_default_plan(conn: Connection, agreement: Agreement, actor: str) -> bool:
    """Load the agreement's default plan into an empty store (version 1 of every item); True if it did."""
    if not plan_is_empty(conn):
        return False
    now = datetime.now(UTC)
    items = agreement.work_plan.items()
    docs = {code: _canonical(doc.model_dump(mode="json")) for _, code, doc in items}
    conn.execute(
        insert(workplan_items),
        [
            {"code": code, "kind": kind.value, "version": 1, "doc": docs[code], "updated_at": now}
            for kind, code, _ in items
        ],
    )
    conn.execute(
        insert(workplan_versions),
        [{"code": code, "version": 1, "doc": docs[code], "proposal_id": None, "at": now} for _, code, _ in items],
    )
    plan_digest = canonical_json(docs)
    append_event(
        conn,
        EventType.WORKPLAN_INITIALISED,
        actor,
        {"agreement": agreement.id, "items": len(items)},
        plan_digest,
    )
    return True


def _canonical(doc: dict[str, Any]) -> str:
    return canonical_json(doc).decode()


def load_item(conn: Connection, code: str, for_update: bool = False) -> StoredItem | None:
    query = select(workplan_items).where(workplan_items.c.code == code)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    return StoredItem(row.code, ItemKind(row.kind), row.version, json.loads(row.doc))


def require_item(conn: Connection, code: str) -> StoredItem:
    item = load_item(conn, code)
    if item is None:
        raise UnknownItem(_("the work plan has no item {code!r}; GET /api/v1/workplan lists them").format(code=code))
    return item


def objective_codes(conn: Connection) -> set[str]:
    return set(conn.scalars(select(workplan_items.c.code).where(workplan_items.c.kind == ItemKind.OBJECTIVE.value)))


def store_version(
    conn: Connection, code: str, kind: ItemKind, version: int, doc: dict[str, Any], proposal_id: str, at: datetime
) -> None:
    """Make `doc` the item's version `version` (1 creates the item)."""
    text = _canonical(doc)
    if version == 1:
        conn.execute(
            insert(workplan_items), [{"code": code, "kind": kind.value, "version": 1, "doc": text, "updated_at": at}]
        )
    else:
        conn.execute(
            update(workplan_items)
            .where(workplan_items.c.code == code, workplan_items.c.version == version - 1)
            .values(version=version, doc=text, updated_at=at)
        )
    conn.execute(
        insert(workplan_versions),
        [{"code": code, "version": version, "doc": text, "proposal_id": proposal_id, "at": at}],
    )


def plan_view(conn: Connection, agreement: Agreement) -> dict[str, Any]:
    """Objectives (in the agreement's order, new ones after) with their actions and the proposals waiting on each."""
    rows = conn.execute(select(workplan_items).order_by(workplan_items.c.code)).all()
    pending: dict[str, int] = {}
    for code in conn.scalars(select(workplan_proposals.c.code).where(workplan_proposals.c.state == "pending")):
        pending[code] = pending.get(code, 0) + 1
    objectives: dict[str, dict[str, Any]] = {}
    actions: list[dict[str, Any]] = []
    for row in rows:
        entry = {"code": row.code, "version": row.version, "pending_proposals": pending.get(row.code, 0)}
        entry |= json.loads(row.doc)
        if row.kind == ItemKind.OBJECTIVE.value:
            objectives[row.code] = entry | {"actions": []}
        else:
            actions.append(entry)
    for action in sorted(actions, key=lambda a: (a["due"], a["code"])):
        objectives[action["objective"]]["actions"].append(action)
    order = {o.code: n for n, o in enumerate(agreement.work_plan.objectives)}
    ranked = sorted(objectives.values(), key=lambda o: (order.get(o["code"], len(order)), o["code"]))
    return {"objectives": ranked}


def item_view(conn: Connection, code: str) -> dict[str, Any]:
    """One item: its current document, every version with the proposal that made it, proposals, comments."""
    item = require_item(conn, code)
    versions = conn.execute(
        select(workplan_versions).where(workplan_versions.c.code == code).order_by(workplan_versions.c.version)
    ).all()
    proposals = conn.execute(
        select(workplan_proposals)
        .where(workplan_proposals.c.code == code)
        .order_by(workplan_proposals.c.proposed_at, workplan_proposals.c.id)
    ).all()
    comments = conn.execute(
        select(workplan_comments).where(workplan_comments.c.code == code).order_by(workplan_comments.c.at)
    ).all()
    return {
        "code": item.code,
        "kind": item.kind.value,
        "version": item.version,
        "doc": item.doc,
        "history": [
            {"version": v.version, "doc": json.loads(v.doc), "proposal": v.proposal_id, "at": v.at} for v in versions
        ],
        "proposals": [proposal_view(p) for p in proposals],
        "comments": [{"id": c.id, "party": c.party, "author": c.author, "body": c.body, "at": c.at} for c in comments],
    }


def proposal_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "item": row.code,
        "kind": row.kind,
        "base_version": row.base_version,
        "changes": json.loads(row.changes),
        "reason": row.reason,
        "party": row.party,
        "proposed_by": row.proposed_by,
        "proposed_at": row.proposed_at,
        "state": row.state,
        "state_reason": row.state_reason,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at,
        "version": row.version,
    }


def status_history(conn: Connection, code: str) -> list[tuple[datetime, str]]:
    """(when, status) each time an action's status changed, from its versions."""
    history: list[tuple[datetime, str]] = []
    for row in conn.execute(
        select(workplan_versions.c.doc, workplan_versions.c.at)
        .where(workplan_versions.c.code == code)
        .order_by(workplan_versions.c.version)
    ):
        status = json.loads(row.doc).get("status")
        if status and (not history or history[-1][1] != status):
            history.append((row.at, status))
    return history
