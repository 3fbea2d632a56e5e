"""Writes the audit bundle: every leaf, signed checkpoint and countersignature of this node's ledger, with both
nodes' self-signed descriptors, in one JSON file an oversight body verifies offline with nothing but that file; and
the witnessed-head file: the newest checkpoint of the peer's log this node countersigned, the peer's evidence against
a bundle cut back to an earlier checkpoint."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, Row, or_, select

from accord.errors import NotFound
from accord.i18n import _
from accord.ledger.bundle import CHUNK, FORMAT, WITNESSED_FORMAT, BundleSummary, NodeKey, Progress
from accord.ledger.checkpoints import StoredCheckpoint, latest, ledger_size
from accord.ledger.leaves import TIME_FORMAT, leaf_record
from accord.ledger.notes import origin_for
from accord.ledger.proofs import StoredTree
from accord.ledger.tree import consistency_proof
from accord.store.tables import checkpoints, events, key_rotations, peers


@dataclass(frozen=True, slots=True)
class ExportingNode:
    """The node whose ledger is exported, with its signed descriptor and signing-key fingerprint."""

    node_id: str
    party: str
    descriptor: str
    fingerprint: str


def export_bundle(engine: Engine, node: ExportingNode, out: Path, progress: Progress | None = None) -> BundleSummary:
    """Write the bundle to `out` (gzip-compressed if it ends in .gz), replacing it only once it is complete."""
    origin = origin_for(node.node_id)
    with engine.connect() as conn:
        # Checkpoints are read before the ledger size, and the leaves after it: the log only grows, so every
        # checkpoint exported lies within the leaves exported.
        own = conn.execute(
            select(checkpoints).where(checkpoints.c.origin == origin).order_by(checkpoints.c.size, checkpoints.c.id)
        ).all()
        witnessed = conn.execute(
            select(checkpoints.c.note, checkpoints.c.cosignature)
            .where(checkpoints.c.origin != origin, checkpoints.c.cosignature.is_not(None))
            .order_by(checkpoints.c.origin, checkpoints.c.size, checkpoints.c.id)
        ).all()
        peer_rows = conn.execute(select(peers).order_by(peers.c.node_id)).all()
        rotations = _rotations(conn, node.node_id)
        size = ledger_size(conn)
        consistency = _consistency_proofs(conn, [c.size for c in own])
    head = {
        "format": FORMAT,
        "exported_at": datetime.now(UTC).strftime(TIME_FORMAT),
        "node": {"node_id": node.node_id, "party": node.party, "descriptor": node.descriptor},
        "peers": [{"node_id": p.node_id, "party": p.party, "descriptor": p.descriptor} for p in peer_rows],
        "checkpoints": [{"note": c.note, "cosigner": c.cosigner, "cosignature": c.cosignature} for c in own],
        "witnessed": [{"note": w.note, "cosignature": w.cosignature} for w in witnessed],
        "consistency": consistency,
        # Only once a key has rotated, so a bundle of a node that never rotated reads as it always did.
        **({"rotations": rotations} if rotations else {}),
    }
    exported = _write_atomically(out, lambda handle: _write_bundle(handle, head, _leaves(engine, size, progress)))
    return BundleSummary(
        node=NodeKey(node.node_id, node.party, node.fingerprint),
        peers=tuple(NodeKey(p.node_id, p.party, p.signing_fingerprint) for p in peer_rows),
        leaves=exported,
        checkpoints=len(own),
        countersigned=sum(1 for c in own if c.cosignature is not None),
        witnessed=len(witnessed),
    )


def export_witnessed_heads(
    engine: Engine, node: ExportingNode, out: Path, origin: str | None = None
) -> list[StoredCheckpoint]:
    """Write the newest checkpoint of each pinned peer's log (or of `origin` only) that this node countersigned, with
    its cosignature, and the descriptors to check both signatures; the checkpoints written are returned."""
    with engine.connect() as conn:
        logs = [
            p
            for p in conn.execute(select(peers).order_by(peers.c.node_id)).all()
            if origin is None or origin_for(p.node_id) == origin
        ]
        if not logs:
            missing = f"{origin} is not the log of a peer pinned here" if origin else "no peer is pinned here"
            raise NotFound(_("{missing}; see `accord peer import`").format(missing=missing))
        heads = []
        for log in logs:
            head = latest(conn, origin_for(log.node_id), cosigned_only=True)
            if head is None:
                raise NotFound(
                    _("this node has countersigned no checkpoint of {origin_for} yet").format(
                        origin_for=origin_for(log.node_id)
                    )
                )
            heads.append(head)
    document = {
        "format": WITNESSED_FORMAT,
        "exported_at": datetime.now(UTC).strftime(TIME_FORMAT),
        "node": {"node_id": node.node_id, "party": node.party, "descriptor": node.descriptor},
        "peers": [{"node_id": p.node_id, "party": p.party, "descriptor": p.descriptor} for p in logs],
        "witnessed": [{"note": h.note, "cosignature": h.cosignature} for h in heads],
    }
    _write_atomically(out, lambda handle: handle.write(json.dumps(document, indent=1) + "\n"))
    return heads


def _rotations(conn: Connection, own_node_id: str) -> list[dict[str, str]]:
    """The key rotation statements in force: this node's own, and each peer's that this node applied (a held
    emergency statement is not one), in the order they took effect."""
    rows = conn.execute(
        select(key_rotations.c.node_id, key_rotations.c.statement, key_rotations.c.state)
        .where(or_(key_rotations.c.node_id == own_node_id, key_rotations.c.state == "accepted"))
        .order_by(key_rotations.c.id)
    ).all()
    return [{"node_id": row.node_id, "statement": row.statement} for row in rows]


def _consistency_proofs(conn: Connection, sizes: Sequence[int]) -> list[dict[str, Any]]:
    """RFC 9162 §2.1.4 proofs between consecutive checkpoints, from the stored tree."""
    proofs = []
    for old, new in pairwise(sizes):
        try:
            proof: list[str] | None = [p.hex() for p in consistency_proof(StoredTree(conn), old, new)]
        except NotFound:
            proof = None  # the stored tree lacks a subtree it must have; the verifier names the pair
        proofs.append({"from_size": old, "to_size": new, "proof": proof})
    return proofs


def _leaves(engine: Engine, size: int, progress: Progress | None) -> Iterator[dict[str, Any]]:
    """Every event row as its leaf record, in index order, CHUNK rows per query.

    Each chunk is its own short transaction (on SQLite every transaction takes the write lock, so one long read
    would stall the node's writers); paging by index (keyset) is unaffected by rows appended meanwhile or missing.
    """
    done, after = 0, -1
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(events).where(events.c.id > after).order_by(events.c.id).limit(CHUNK)).all()
        if not rows:
            return
        for row in rows:
            yield _leaf(row)
        done, after = done + len(rows), rows[-1].id
        if progress is not None:
            progress(done, max(size, done))


def _leaf(row: Row[Any]) -> dict[str, Any]:
    record = leaf_record(row.id, row.at, row.type, row.actor, row.refs, row.payload_sha256)
    return {**record, "leaf_hash": bytes(row.leaf_hash).hex()}


def _write_atomically(out: Path, write: Callable[[IO[str]], int]) -> int:
    """What `write` writes, to `out` (gzip-compressed if its name ends in .gz) once it has all been written."""
    partial = out.with_name(out.name + ".partial")
    try:
        with _open_for_writing(partial, compressed=out.name.endswith(".gz")) as handle:
            count = write(handle)
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


def _open_for_writing(path: Path, compressed: bool) -> IO[str]:
    if compressed:
        return gzip.open(path, "wt", encoding="utf-8")
    return path.open("w", encoding="utf-8")


def _write_bundle(handle: IO[str], head: dict[str, Any], leaves: Iterator[dict[str, Any]]) -> int:
    """The small members first, one per line, then the leaves one per line, so the file reads top-down."""
    handle.write("{\n")
    for key, value in head.items():
        handle.write(f"{json.dumps(key)}: {json.dumps(value)},\n")
    handle.write('"leaves": [')
    count = 0
    for leaf in leaves:
        handle.write(("\n" if count == 0 else ",\n") + json.dumps(leaf, separators=(",", ":")))
        count += 1
    handle.write("\n]\n}\n")
    return count
