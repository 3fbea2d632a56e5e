"""Re-sequencing a channel after a sequence collision: the envelopes waiting for the peer get fresh sequence numbers
past every number the peer holds, in one logged transaction, and are due at once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from accord.crypto.canonical import canonical_json
from accord.errors import Conflict, NotFound
from accord.exchange.outbox import MAX_SEQ, OutboxKind, channel_name
from accord.i18n import _
from accord.ledger.alarms import AlarmKind
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.store.tables import channel_counters, events, ledger_alarms, messages, outbox
from accord.trust.peers import load_peers


@dataclass(frozen=True, slots=True)
class Resequenced:
    """What a re-sequencing did: `count` waiting envelopes numbered from `first`; the channel goes on at `next_seq`."""

    peer: str
    channel: str
    count: int
    first: int
    next_seq: int
    highest_acknowledged: int  # the highest number in a receipt the peer signed
    highest_reported: int  # the highest number the peer said it holds, when it refused a collision


def resequence(node: Node, peer_node_id: str, actor: str = "operator") -> Resequenced:
    """Give every envelope waiting for the peer a fresh sequence number past the highest the peer acknowledged or
    reported, past the channel counter and past every number already waiting; logged in the ledger."""
    with node.engine.connect() as conn:
        if peer_node_id not in {p.node_id for p in load_peers(node, conn)}:
            raise NotFound(
                _("no pinned peer {peer_node_id!r}; `accord peer import` pins one").format(peer_node_id=peer_node_id)
            )
    channel = channel_name(node.node_id, peer_node_id)
    now = datetime.now(UTC)
    with node.engine.begin() as conn:
        counter = conn.execute(
            select(channel_counters.c.next_seq).where(channel_counters.c.channel == channel).with_for_update()
        ).scalar()
        waiting = conn.execute(
            select(outbox.c.id, outbox.c.kind, outbox.c.ref_id, outbox.c.seq)
            .where(outbox.c.peer_node_id == peer_node_id)
            .order_by(outbox.c.seq, outbox.c.id)
        ).all()
        acknowledged = _highest_acknowledged(conn, peer_node_id)
        reported = _highest_reported(conn, channel)
        first = 1 + max(acknowledged, reported, int(counter or 1) - 1, *(row.seq for row in waiting))
        next_seq = first + len(waiting)
        if next_seq > MAX_SEQ:
            raise Conflict(
                _("channel {channel} has no sequence numbers left below {MAX_SEQ}").format(
                    channel=channel, MAX_SEQ=MAX_SEQ
                )
            )
        renumbered = [(row, first + offset) for offset, row in enumerate(waiting)]
        if renumbered:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == bindparam("row_id"))
                .values(seq=bindparam("new_seq"), next_attempt_at=now),
                [{"row_id": row.id, "new_seq": seq} for row, seq in renumbered],
            )
        moved_messages = [(row, seq) for row, seq in renumbered if row.kind == OutboxKind.MESSAGE.value]
        if moved_messages:
            conn.execute(
                update(messages)
                .where(messages.c.id == bindparam("ref"))
                .values(channel_seq=bindparam("new_seq"), next_attempt_at=now),
                [{"ref": row.ref_id, "new_seq": seq} for row, seq in moved_messages],
            )
        if counter is None:
            conn.execute(insert(channel_counters), [{"channel": channel, "next_seq": next_seq}])
        else:
            conn.execute(
                update(channel_counters).where(channel_counters.c.channel == channel).values(next_seq=next_seq)
            )
        mapping = [[row.ref_id, row.seq, seq] for row, seq in renumbered]  # ref, old number, new number
        refs = {
            "peer": peer_node_id,
            "channel": channel,
            "count": len(renumbered),
            "first": first,
            "next": next_seq,
            "acknowledged": acknowledged,
            "reported": reported,
        }
        append_event(conn, EventType.CHANNEL_RESEQUENCED, actor, refs, canonical_json(mapping))
    node.outbox_signal.set()
    return Resequenced(peer_node_id, channel, len(renumbered), first, next_seq, acknowledged, reported)


def _highest_acknowledged(conn: Connection, peer_node_id: str) -> int:
    """The highest sequence number of an envelope the peer's verified receipt acknowledged (logged on delivery)."""
    highest = 0
    query = select(events.c.refs).where(
        events.c.type == EventType.ENVELOPE_DELIVERED.value, events.c.actor == peer_node_id
    )
    for refs in conn.execute(query).scalars():
        seq = json.loads(refs).get("seq")
        if type(seq) is int:
            highest = max(highest, seq)
    return highest


def _highest_reported(conn: Connection, channel: str) -> int:
    """The highest sequence number the peer said it holds when it refused a collision (kept in the alarms' evidence):
    after a restore from a backup this node may have lost the receipts for them."""
    highest = 0
    query = select(ledger_alarms.c.evidence).where(
        ledger_alarms.c.kind == AlarmKind.SEQUENCE_COLLISION.value, ledger_alarms.c.subject == channel
    )
    for evidence in conn.execute(query).scalars():
        seq = json.loads(evidence or "{}").get("peer_highest_seq")
        if type(seq) is int and 0 <= seq < MAX_SEQ:
            highest = max(highest, seq)
    return highest
