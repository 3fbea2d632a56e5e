"""Signed checkpoints (RFC 9162 §4.1 tree heads as C2SP signed notes) of this node's ledger and of the peer's,
as stored here: issuing one, and keeping the peer's countersignature on ours and ours on the peer's. A peer's
checkpoints beyond the head of a restore it declared are set aside (kept, but no longer what its log must extend)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc.jwk import OKPKey
from sqlalchemy import Connection, Engine, Select, insert, select, update

from accord.errors import Conflict
from accord.i18n import N_
from accord.ledger.events import tree_root
from accord.ledger.notes import (
    CheckpointBody,
    SignedCheckpoint,
    origin_for,
    parse_note,
    sign_checkpoint,
)
from accord.store.tables import checkpoints, ledger_head


class CheckpointOutOfStep(Conflict):
    """Not an alarm: the peer last saw another size than the proof starts from; the sender retries from it."""

    slug = "checkpoint-out-of-step"
    title = N_("The consistency proof does not start at the last checkpoint this node saw")

    def __init__(self, detail: str, last_seen_size: int) -> None:
        super().__init__(detail)
        self.last_seen_size = last_seen_size

    def extensions(self) -> dict[str, object]:
        return {"last_seen_size": self.last_seen_size}


class StaleCheckpoint(Conflict):
    """Not an alarm: an older checkpoint than one this node countersigned (a replay, or one that was overtaken)."""

    slug = "stale-checkpoint"
    title = N_("A newer checkpoint of this log was countersigned here already")


class InconsistentCheckpoint(Conflict):
    """The signed checkpoint contradicts one countersigned here: `kind` names the contradiction (an alarm kind),
    `contradicts` is the note of the checkpoint countersigned here that it contradicts."""

    slug = "inconsistent-checkpoint"
    title = N_("The checkpoint contradicts an earlier one: the log's history was changed")

    def __init__(self, detail: str, kind: str, contradicts: str | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.contradicts = contradicts

    def extensions(self) -> dict[str, object]:
        return {"contradiction": self.kind}


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    id: int
    origin: str
    size: int
    root: bytes
    issued_at: datetime
    note: str
    cosigner: str | None
    cosignature: str | None
    cosigned_at: datetime | None

    @property
    def signed(self) -> SignedCheckpoint:
        body, lines = parse_note(self.note)
        return SignedCheckpoint(body, lines[0], self.cosignature)


def _stored(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(
        row.id,
        row.origin,
        row.size,
        bytes(row.root),
        row.issued_at,
        row.note,
        row.cosigner,
        row.cosignature,
        row.cosigned_at,
    )


def ledger_size(conn: Connection) -> int:
    return int(conn.execute(select(ledger_head.c.size).where(ledger_head.c.id == 1)).scalar_one())


def _current(origin: str) -> Select[Any]:
    """The checkpoints of `origin` its log must still extend: not those a declared restore set aside."""
    return select(checkpoints).where(checkpoints.c.origin == origin, checkpoints.c.lost_in_restore.is_(None))


def latest(conn: Connection, origin: str, cosigned_only: bool = False) -> StoredCheckpoint | None:
    query = _current(origin)
    if cosigned_only:
        query = query.where(checkpoints.c.cosignature.is_not(None))
    row = conn.execute(query.order_by(checkpoints.c.size.desc(), checkpoints.c.id.desc()).limit(1)).first()
    return _stored(row) if row else None


def newest_issued(conn: Connection, origin: str) -> StoredCheckpoint | None:
    """The checkpoint of `origin` stored here with the latest `time` line."""
    query = _current(origin)
    row = conn.execute(query.order_by(checkpoints.c.issued_at.desc(), checkpoints.c.id.desc()).limit(1)).first()
    return _stored(row) if row else None


def stored_of_size(conn: Connection, origin: str, size: int) -> list[StoredCheckpoint]:
    """Every checkpoint of `origin` stored here for a tree of `size` leaves."""
    query = _current(origin).where(checkpoints.c.size == size)
    return [_stored(row) for row in conn.execute(query.order_by(checkpoints.c.id))]


def latest_cosigned_within(conn: Connection, origin: str, size: int) -> StoredCheckpoint | None:
    """The largest countersigned checkpoint of `origin` (not set aside) of at most `size` leaves."""
    query = _current(origin).where(checkpoints.c.cosignature.is_not(None), checkpoints.c.size <= size)
    row = conn.execute(query.order_by(checkpoints.c.size.desc(), checkpoints.c.id.desc()).limit(1)).first()
    return _stored(row) if row else None


def beyond(conn: Connection, origin: str, size: int) -> list[StoredCheckpoint]:
    """The checkpoints of `origin` (not set aside) of more than `size` leaves, smallest first."""
    query = _current(origin).where(checkpoints.c.size > size)
    return [_stored(row) for row in conn.execute(query.order_by(checkpoints.c.size, checkpoints.c.id))]


def set_aside(conn: Connection, checkpoint_ids: list[int], restore_index: int) -> None:
    """Keep these checkpoints as evidence of a branch lost in the declared restore logged at `restore_index`."""
    if checkpoint_ids:
        conn.execute(
            update(checkpoints).where(checkpoints.c.id.in_(checkpoint_ids)).values(lost_in_restore=restore_index)
        )


def list_checkpoints(conn: Connection, origin: str | None = None, limit: int | None = None) -> list[StoredCheckpoint]:
    query = select(checkpoints).order_by(checkpoints.c.id.desc())
    if origin is not None:
        query = query.where(checkpoints.c.origin == origin)
    if limit is not None:
        query = query.limit(limit)
    return [_stored(row) for row in conn.execute(query)]


def issue_checkpoint(engine: Engine, node_id: str, signing_key: OKPKey, force: bool = False) -> StoredCheckpoint | None:
    """Sign the current tree head; without `force`, only if the ledger grew since the last checkpoint."""
    origin = origin_for(node_id)
    with engine.begin() as conn:
        size = ledger_size(conn)
        previous = latest(conn, origin)
        if previous is not None and previous.size >= size and not force:
            return None
        body = CheckpointBody(origin, size, tree_root(conn, size), int(time.time()))
        signed = sign_checkpoint(body, signing_key)
        row_id = conn.execute(
            insert(checkpoints).values(
                origin=origin,
                size=size,
                root=body.root,
                issued_at=datetime.fromtimestamp(body.issued_at, UTC),
                note=signed.note,
            )
        ).inserted_primary_key
        assert row_id is not None
        stored = conn.execute(select(checkpoints).where(checkpoints.c.id == row_id[0])).one()
    return _stored(stored)


def record_cosignature(conn: Connection, checkpoint_id: int, cosigner: str, line: str) -> None:
    """The peer countersigned our checkpoint `checkpoint_id`."""
    conn.execute(
        update(checkpoints)
        .where(checkpoints.c.id == checkpoint_id)
        .values(cosigner=cosigner, cosignature=line, cosigned_at=datetime.now(UTC))
    )


def store_witnessed(conn: Connection, checkpoint: SignedCheckpoint, cosigner: str, line: str, at: int) -> None:
    """Keep the peer's checkpoint with this node's countersignature on it."""
    body = checkpoint.body
    conn.execute(
        insert(checkpoints).values(
            origin=body.origin,
            size=body.size,
            root=body.root,
            issued_at=datetime.fromtimestamp(body.issued_at, UTC),
            note=checkpoint.note,
            cosigner=cosigner,
            cosignature=line,
            cosigned_at=datetime.fromtimestamp(at, UTC),
        )
    )
