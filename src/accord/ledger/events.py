"""Appends an event record for every state change, inside the transaction that makes the change.

A record carries the event's type, time, actor and ids, and the SHA-256 of any sensitive payload rather than
the payload, so the record can be exported without disclosing message contents. Each record is a leaf of the
node's RFC 9162 Merkle tree: its index is assigned gap-free under the ledger_head row lock (so concurrent writers
on PostgreSQL append one after the other, and a rolled-back transaction leaves no hole), and the hash of every
perfect subtree the append completes is stored beside it, so roots and proofs need O(log n) reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from accord.crypto.canonical import canonical_json, sha256_hex
from accord.i18n import _
from accord.ledger.leaves import TIME_FORMAT as TIME_FORMAT
from accord.ledger.leaves import EventType as EventType
from accord.ledger.leaves import leaf_bytes, leaf_record
from accord.ledger.tree import EMPTY_ROOT, leaf_hash, node_hash, parents_completed
from accord.store.engine import give_way
from accord.store.tables import events, ledger_head, ledger_nodes

# An event's refs are ids, counts and names; a few events list several (a declared restore, the checkpoints it lost).
RefValue = str | int | Sequence[Mapping[str, str | int]] | None
# A bulk write appending many leaves may stop for an urgent writer (`give_way`) this often.
_GIVE_WAY_EVERY = 100


@dataclass(frozen=True, slots=True)
class Appended:
    """Where a batch of events landed: their leaf indexes and hashes, and the tree they make."""

    indexes: list[int]
    leaf_hashes: list[bytes]
    size: int
    root: bytes


def append_event(
    conn: Connection,
    event_type: EventType,
    actor: str,
    refs: Mapping[str, RefValue],
    payload: bytes | None = None,
    at: datetime | None = None,
) -> Appended:
    return append_events(conn, [event_row(event_type, actor, refs, payload, at)])


def append_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> Appended:
    """Append rows made by `event_row` as the next leaves, in order, in the caller's transaction."""
    if not rows:
        size = int(conn.execute(select(ledger_head.c.size).where(ledger_head.c.id == 1)).scalar_one())
        return Appended([], [], size, tree_root(conn, size))
    count = len(rows)
    new_size = int(
        conn.execute(
            update(ledger_head)
            .where(ledger_head.c.id == 1)
            .values(size=ledger_head.c.size + count)
            .returning(ledger_head.c.size)
        ).scalar_one()
    )
    start = new_size - count
    known = _frontier(conn, start)
    records, new_nodes, hashes = [], [], []
    for offset, row in enumerate(rows):
        if offset % _GIVE_WAY_EVERY == 0:
            give_way(conn)
        index = start + offset
        record = leaf_record(index, row["at"], row["type"], row["actor"], row["refs"], row["payload_sha256"])
        leaf = leaf_hash(leaf_bytes(record))
        hashes.append(leaf)
        known[(0, index)] = leaf
        for level, position, value in parents_completed(index, leaf, lambda lv, ix: known[(lv, ix)]):
            known[(level, position)] = value
            new_nodes.append({"level": level, "idx": position, "hash": value})
        records.append({**row, "id": index, "leaf_hash": leaf})
    conn.execute(insert(events), records)
    if new_nodes:
        conn.execute(insert(ledger_nodes), new_nodes)
    return Appended(list(range(start, new_size)), hashes, new_size, _fold(new_size, known))


def event_row(
    event_type: EventType,
    actor: str,
    refs: Mapping[str, RefValue],
    payload: bytes | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "at": at or datetime.now(UTC),
        "type": event_type.value,
        "actor": actor,
        "refs": canonical_json({k: v for k, v in refs.items() if v is not None}).decode(),
        "payload_sha256": sha256_hex(payload) if payload is not None else None,
    }


def _decomposition(size: int) -> list[tuple[int, int]]:
    """The perfect subtrees that make up D[0:size], largest (leftmost) first: one per 1 bit of size."""
    parts = []
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            parts.append((level, (size >> level) - 1))
    return parts


def _frontier(conn: Connection, size: int) -> dict[tuple[int, int], bytes]:
    parts = _decomposition(size)
    found: dict[tuple[int, int], bytes] = {}
    interior = [(level, index) for level, index in parts if level > 0]
    if interior:
        # (level = ? AND idx = ?) OR …: SQLite answers a row-value IN with a full scan, this with the primary key.
        wanted = or_(*(and_(ledger_nodes.c.level == level, ledger_nodes.c.idx == index) for level, index in interior))
        rows = conn.execute(select(ledger_nodes.c.level, ledger_nodes.c.idx, ledger_nodes.c.hash).where(wanted))
        found.update({(row.level, row.idx): bytes(row.hash) for row in rows})
    leaves = [index for level, index in parts if level == 0]
    if leaves:
        for row in conn.execute(select(events.c.id, events.c.leaf_hash).where(events.c.id.in_(leaves))):
            found[(0, row.id)] = bytes(row.leaf_hash)
    missing = [part for part in parts if part not in found]
    if missing:
        raise LedgerCorrupted(
            _("the ledger lacks the stored subtrees {missing} of its first {size} leaves").format(
                missing=missing, size=size
            )
        )
    return found


def _fold(size: int, known: Mapping[tuple[int, int], bytes]) -> bytes:
    parts = _decomposition(size)
    if not parts:
        return EMPTY_ROOT
    root = known[parts[-1]]
    for part in reversed(parts[:-1]):
        root = node_hash(known[part], root)
    return root


def tree_root(conn: Connection, size: int) -> bytes:
    """The root of the first `size` leaves, from at most log2(size) stored subtrees."""
    return _fold(size, _frontier(conn, size))


class LedgerCorrupted(RuntimeError):
    """The stored tree is missing parts it must have: the database was edited outside Accord."""
