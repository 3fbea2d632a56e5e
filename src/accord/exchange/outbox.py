"""The durable outbox: rows claimed by delivery workers with a lease (SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import Connection, Engine, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from accord.domain.messages import Priority
from accord.store.engine import any_row
from accord.store.tables import channel_counters, outbox


class OutboxKind(StrEnum):
    """The envelope kinds of the exchange itself; a capability adds its own (exchange.kinds.PayloadKindHandler)."""

    MESSAGE = "message"
    NOTICE = "notice"
    BLOB = "blob"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    kind: str  # an OutboxKind, or a registered payload kind
    ref_id: str
    rank: int
    body: str  # JSON of the envelope body


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    kind: str
    ref_id: str
    seq: int
    body: str
    attempts: int
    queued_at: datetime | None = None
    rank: int | None = None

    @property
    def urgent(self) -> bool:
        return self.rank is not None and self.rank <= URGENT_RANK


class ChannelHold(NamedTuple):
    until: datetime  # when the channel is next tried (past: due for a probe)
    error: str  # why its last try failed


URGENT_RANK = Priority.URGENT.outbox_rank  # immediate and urgent traffic: the urgent lane's
MAX_SEQ = 2**53  # a channel's sequence numbers stay exact in JSON (I-JSON, RFC 7493 §2.2)


def channel_name(sender_node_id: str, recipient_node_id: str) -> str:
    return f"{sender_node_id}>{recipient_node_id}"


def reserve_sequence(conn: Connection, channel: str, count: int) -> int:
    """Reserve `count` consecutive sequence numbers on a channel; returns the first."""
    counter = select(channel_counters.c.next_seq).where(channel_counters.c.channel == channel).with_for_update()
    row = conn.execute(counter).first()
    if row is None:
        # The channel's first use: FOR UPDATE locked nothing, so another transaction may be creating the row now
        # (several node processes on PostgreSQL). Whichever inserts second waits for the first and inserts nothing,
        # then both take the row's lock in turn.
        insert_counter = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(insert_counter(channel_counters).values(channel=channel, next_seq=1).on_conflict_do_nothing())
        row = conn.execute(counter).one()
    first = int(row.next_seq)
    conn.execute(update(channel_counters).where(channel_counters.c.channel == channel).values(next_seq=first + count))
    return first


def enqueue(conn: Connection, sender_node_id: str, peer_node_id: str, entries: Sequence[OutboxEntry]) -> list[int]:
    """Queue entries for the peer in this transaction; returns their channel sequence numbers."""
    if not entries:
        return []
    first = reserve_sequence(conn, channel_name(sender_node_id, peer_node_id), len(entries))
    now = datetime.now(UTC)
    conn.execute(
        insert(outbox),
        [
            {
                "peer_node_id": peer_node_id,
                "kind": str(entry.kind),
                "ref_id": entry.ref_id,
                "rank": entry.rank,
                "seq": first + offset,
                "body": entry.body,
                "attempts": 0,
                "next_attempt_at": now,  # on a held channel, claimed once the hold ends (`claim_due`)
                "created_at": now,
            }
            for offset, entry in enumerate(entries)
        ],
    )
    return [first + offset for offset in range(len(entries))]


def channel_due(conn: Connection, sender_node_id: str, peer_node_id: str, now: datetime) -> datetime:
    """When what is queued now on the channel to the peer is first tried: now, or when the channel's hold ends."""
    held_until = conn.scalar(
        select(channel_counters.c.held_until).where(
            channel_counters.c.channel == channel_name(sender_node_id, peer_node_id)
        )
    )
    return held_until if held_until is not None and held_until > now else now


def claim_due(
    engine: Engine, sender_node_id: str, peer_node_id: str, limit: int, lease_s: int, *, max_rank: int | None = None
) -> list[OutboxItem]:
    """Claim up to `limit` due rows of the most urgent rank due, oldest first; other workers skip them until the lease
    ends. Urgent rows leave in a batch of their own, never padded with routine ones: a small batch is sealed, carried,
    verified and receipted sooner than a full one. `max_rank`: claim nothing less urgent (the urgent lane). Nothing
    is due on a channel held until later (`hold_channel`)."""
    now = datetime.now(UTC)
    held = exists().where(
        channel_counters.c.channel == channel_name(sender_node_id, peer_node_id), channel_counters.c.held_until > now
    )
    due = [
        outbox.c.peer_node_id == peer_node_id,
        outbox.c.next_attempt_at <= now,
        or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
        ~held,
        *([] if max_rank is None else [outbox.c.rank <= max_rank]),
    ]
    if not any_row(engine, outbox.c.id, *due):
        return []
    with engine.begin() as conn:
        rows = conn.execute(
            select(
                outbox.c.id,
                outbox.c.kind,
                outbox.c.ref_id,
                outbox.c.seq,
                outbox.c.body,
                outbox.c.attempts,
                outbox.c.created_at,
                outbox.c.rank,
            )
            .where(*due)
            .order_by(outbox.c.rank, outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        rows = [row for row in rows if row.rank == rows[0].rank]
        if rows:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([row.id for row in rows]))
                .values(lease_until=now + timedelta(seconds=lease_s))
            )
    return [OutboxItem(r.id, r.kind, r.ref_id, r.seq, r.body, r.attempts, r.created_at, r.rank) for r in rows]


def release_leases(engine: Engine, ids: Sequence[int]) -> None:
    """Make claimed rows due again at once (their round failed before it could settle them)."""
    if not ids:
        return
    try:
        with engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id.in_(list(ids))).values(lease_until=None))
    except SQLAlchemyError:
        pass  # the database itself is failing: the leases run out on their own


def remove(conn: Connection, ids: Sequence[int]) -> None:
    if ids:
        conn.execute(delete(outbox).where(outbox.c.id.in_(list(ids))))


def retry_at(attempts: int, base_s: float, max_s: float) -> datetime:
    """Exponential backoff with jitter, capped; a peer down for days is retried every `max_s`."""
    delay = min(max_s, base_s * (2 ** min(attempts, 30)))
    return datetime.now(UTC) + timedelta(seconds=delay * random.uniform(0.8, 1.2))


def reschedule(conn: Connection, items: Sequence[tuple[int, int, datetime, str]]) -> None:
    """(id, attempts, next_attempt_at, error) per row: release the lease and wait."""
    if items:
        conn.execute(
            update(outbox)
            .where(outbox.c.id == bindparam("row_id"))
            .values(
                attempts=bindparam("new_attempts"),
                next_attempt_at=bindparam("due"),
                last_error=bindparam("error"),
                lease_until=None,
            ),
            [{"row_id": i, "new_attempts": a, "due": d, "error": e} for i, a, d, e in items],
        )


def hold_channel(conn: Connection, sender_node_id: str, peer_node_id: str, due: datetime, error: str) -> None:
    """The peer is unreachable: nothing waiting for it, or queued for it meanwhile, is due until `due` (`claim_due`);
    a waiting message shows the channel's next try and its error (`accord.exchange.mailbox.message_view`).

    Backoff belongs to the channel, not to each row: rows retried on their own jittered schedules would come due
    in random order when the peer returns and routine traffic would overtake urgent traffic queued behind it.
    Held together, they all come due at once and leave in priority order; a peer that is down gets one probe
    per interval instead of one per batch of the backlog, however much is queued meanwhile. The hold is one row,
    whatever waits: a probe that fails rewrites nothing queued (rewriting 50,000 waiting rows held the store's writer
    for over a second, and every officer's send with it). A hold is never shortened: two workers that fail at once,
    one with rows tried before and one with rows queued since, hold it for the longer.
    """
    longer = or_(channel_counters.c.held_until.is_(None), channel_counters.c.held_until < due)  # atomic, on PostgreSQL
    channel = channel_counters.c.channel == channel_name(sender_node_id, peer_node_id)
    conn.execute(update(channel_counters).where(channel, longer).values(held_until=due, hold_error=error))


def held_channels(conn: Connection, sender_node_id: str) -> dict[str, ChannelHold]:
    """The peers whose channel from this node is held, with when the hold ends and why: the last try found the peer
    unreachable, and neither an answer nor its hello has released it since (its hold may have ended: the channel is
    then due, for a probe)."""
    prefix = channel_name(sender_node_id, "")
    held = conn.execute(
        select(channel_counters.c.channel, channel_counters.c.held_until, channel_counters.c.hold_error).where(
            channel_counters.c.channel.startswith(prefix, autoescape=True), channel_counters.c.held_until.is_not(None)
        )
    )
    return {channel.removeprefix(prefix): ChannelHold(until, error or "") for channel, until, error in held}


def release_channel(conn: Connection, sender_node_id: str, peer_node_id: str) -> None:
    """The peer answered or announced itself: what is queued for it from now on is due at once."""
    conn.execute(
        update(channel_counters)
        .where(
            channel_counters.c.channel == channel_name(sender_node_id, peer_node_id),
            channel_counters.c.held_until.is_not(None),
        )
        .values(held_until=None, hold_error=None)
    )


def pending_count(conn: Connection) -> int:
    from sqlalchemy import func

    return int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())
