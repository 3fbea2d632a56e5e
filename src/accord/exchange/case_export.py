"""Exports a case for a file or a court: the thread an officer may read (messages, policy and review decisions,
receipts, forwards, attachments by SHA-256), every ledger leaf about it with its inclusion proof up to the newest
countersigned checkpoint, signed by this node; the export itself is recorded in the ledger, since writing protected
information to a file is a disclosure. `accord audit verify` checks the result offline (ledger/case_verify.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, or_, select

from accord.crypto.canonical import canonical_json
from accord.crypto.signing import sign_claims
from accord.directory.officers import Officer
from accord.exchange.mailbox import case_rows, check_readable, visible_row
from accord.exchange.transport import PeerClient
from accord.exchange.witnessing import checkpoint_round
from accord.ledger.case_format import FORMAT, SIGNATURE_TYP, case_manifest
from accord.ledger.checkpoints import StoredCheckpoint, latest
from accord.ledger.events import EventType, append_event
from accord.ledger.leaves import TIME_FORMAT, leaf_record
from accord.ledger.notes import origin_for
from accord.ledger.proofs import prove_inclusion
from accord.node import Node
from accord.store.tables import events, forwards, messages, peers, review_decisions
from accord.trust.peers import export_descriptor


class ExportFormat(StrEnum):
    JSON = "json"
    PDF = "pdf"


@dataclass(frozen=True, slots=True)
class CaseExport:
    """The export's document (JSON-ready) and what names it."""

    document: dict[str, Any]

    @property
    def message_id(self) -> str:
        return str(self.document["case"]["message_id"])

    def json_bytes(self) -> bytes:
        return (json.dumps(self.document, indent=1, ensure_ascii=False) + "\n").encode()

    def filename(self, form: ExportFormat) -> str:
        return f"accord-case-{self.message_id}.{form.value}"


def export_case(
    node: Node, officer: Officer, message_id: str, form: ExportFormat, *, witness: bool = True
) -> CaseExport:
    """The case of `message_id` as the officer may read it. With `witness`, a checkpoint round first covers the
    case's newest leaves if no countersigned checkpoint does yet (a leaf it cannot cover is exported unproven)."""
    check_readable(node, officer, message_id)
    if witness and _uncovered(node, officer, message_id):
        with PeerClient(timeout_s=10.0) as client:
            checkpoint_round(node, client)
    with node.engine.connect() as conn:
        row = visible_row(node, conn, officer, message_id)
        rows = case_rows(node, conn, officer, row.case_id)
        anchor = latest(conn, origin_for(node.node_id), cosigned_only=True)
        leaves = [_leaf(conn, leaf, anchor) for leaf in _case_events(conn, rows)]
        peer_rows = conn.execute(select(peers).order_by(peers.c.node_id)).all()
        case = _case(conn, row.case_id, message_id, rows)
    checkpoint = (
        {"note": anchor.note, "cosigner": anchor.cosigner, "cosignature": anchor.cosignature} if anchor else None
    )
    document: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": datetime.now(UTC).strftime(TIME_FORMAT),
        "exported_by": {"party": officer.party.value, "agency": officer.agency, "officer": officer.username},
        "node": {"node_id": node.node_id, "party": node.party.value, "descriptor": export_descriptor(node)},
        "peers": [{"node_id": p.node_id, "party": p.party, "descriptor": p.descriptor} for p in peer_rows],
        "case": case,
        "checkpoint": checkpoint,
        "leaves": leaves,
    }
    manifest = case_manifest(document, leaves, checkpoint)
    document["signature"] = sign_claims(manifest, node.keys.signing, SIGNATURE_TYP)
    with node.engine.begin() as conn:
        refs = {"message": message_id, "case": row.case_id, "format": form.value, "leaves": len(leaves)}
        append_event(conn, EventType.CASE_EXPORTED, officer.id, refs, canonical_json(manifest))
    return CaseExport(document)


def _uncovered(node: Node, officer: Officer, message_id: str) -> bool:
    """Whether a leaf of the case lies beyond the newest countersigned checkpoint."""
    with node.engine.connect() as conn:
        row = visible_row(node, conn, officer, message_id)
        found = _case_events(conn, case_rows(node, conn, officer, row.case_id))
        anchor = latest(conn, origin_for(node.node_id), cosigned_only=True)
    return bool(found) and (anchor is None or found[-1].id >= anchor.size)


def _case_events(conn: Connection, rows: Sequence[Row[Any]]) -> list[Row[Any]]:
    """Every ledger event naming the case, one of its messages or one of their attachments, in ledger order."""
    names = {rows[0].case_id} | {row.id for row in rows}
    for row in rows:
        names |= {a["sha256"] for a in json.loads(row.content).get("attachments") or ()}
    naming = or_(*(events.c.refs.contains(f'"{name}"', autoescape=True) for name in sorted(names)))
    # The case's earlier exports are about it too, but name it by the same ids: kept, they show who exported it.
    found = conn.execute(select(events).where(naming).order_by(events.c.id)).all()
    # Need-to-know holds for the ledger too: an event about a message of the case the officer may not read is left
    # out, so the export does not even tell that it exists.
    hidden = set(conn.execute(select(messages.c.id).where(messages.c.case_id == rows[0].case_id)).scalars()) - names
    return [event for event in found if not any(f'"{name}"' in event.refs for name in hidden)]


def _leaf(conn: Connection, row: Row[Any], anchor: StoredCheckpoint | None) -> dict[str, Any]:
    """The leaf record as the audit bundle has it, with its inclusion proof (None beyond the checkpoint)."""
    record = leaf_record(row.id, row.at, row.type, row.actor, row.refs, row.payload_sha256)
    proof = None
    if anchor is not None and row.id < anchor.size:
        proof = [p.hex() for p in prove_inclusion(conn, row.id, anchor.size)]
    return {**record, "leaf_hash": bytes(row.leaf_hash).hex(), "proof": proof}


def _case(conn: Connection, case_id: str, message_id: str, rows: Sequence[Row[Any]]) -> dict[str, Any]:
    ids = [row.id for row in rows]
    reviews = conn.execute(
        select(review_decisions).where(review_decisions.c.message_id.in_(ids)).order_by(review_decisions.c.id)
    ).all()
    onward = conn.execute(select(forwards).where(forwards.c.message_id.in_(ids)).order_by(forwards.c.created_at)).all()
    messages = [_record(row, MESSAGE_FIELDS) for row in rows]
    return {
        "case_id": case_id,
        "message_id": message_id,
        "messages": messages,
        "reviews": [_record(r, REVIEW_FIELDS) for r in reviews],
        "forwards": [_record(f, FORWARD_FIELDS) for f in onward],
        "attachments": [
            {"message_id": m["id"], **attachment}
            for m in messages
            for attachment in m["content"].get("attachments") or ()
        ],
    }


# The columns each record of the case carries, in the order the export shows them.
MESSAGE_FIELDS = (
    "id",
    "direction",
    "kind",
    "title",
    "created_at",
    "deadline",
    "content",
    "state",
    "state_reason",
    "decision",
    "delivered_at",
    "received_at",
    "read_at",
    "answered_at",
    "receipt",
    "in_reply_to",
    "refers_to",
    "amendment",
    "amended_by",
    "purged_at",
)
REVIEW_FIELDS = ("message_id", "action", "level", "reviewer", "reason", "conditions", "at")
FORWARD_FIELDS = (
    "id",
    "role",
    "message_id",
    "from_agency",
    "to_party",
    "to_agency",
    "to_officer",
    "reason",
    "state",
    "decision",
    "created_at",
    "decided_at",
)
JSON_COLUMNS = frozenset({"content", "decision", "conditions"})  # stored as JSON text, exported as JSON


def _record(row: Row[Any], fields: Sequence[str]) -> dict[str, Any]:
    """The row's `fields` as JSON values: times in UTC (ISO 8601), JSON columns parsed."""
    return {name: _value(name, getattr(row, name)) for name in fields}


def _value(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if name in JSON_COLUMNS:
        return json.loads(value) if value else None
    return value
