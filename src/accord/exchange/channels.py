"""Channel health for operators: what waits in the outbox, and which inbound sequence numbers are missing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, text

from accord.exchange.outbox import ChannelHold, held_channels
from accord.node import Node
from accord.store.tables import inbound_envelopes, outbox

_GAPS_SQL = text(
    """
    SELECT seq + 1 AS first_missing, next_seq - 1 AS last_missing FROM (
        SELECT seq, LEAD(seq) OVER (ORDER BY seq) AS next_seq
        FROM inbound_envelopes WHERE channel = :channel
    ) AS ordered
    WHERE next_seq - seq > 1
    ORDER BY seq
    LIMIT 100
    """
)


def channel_status(node: Node) -> dict[str, Any]:
    now = datetime.now(UTC)
    with node.engine.connect() as conn:
        holds = {peer: hold for peer, hold in held_channels(conn, node.node_id).items() if hold.until > now}
        waiting = select(
            outbox.c.peer_node_id,
            func.count().label("pending"),
            func.min(outbox.c.created_at).label("oldest"),
            func.max(outbox.c.attempts).label("max_attempts"),
        ).group_by(outbox.c.peer_node_id)
        received = select(
            inbound_envelopes.c.channel,
            func.count().label("received"),
            func.min(inbound_envelopes.c.seq).label("first"),
            func.max(inbound_envelopes.c.seq).label("last"),
        ).group_by(inbound_envelopes.c.channel)
        return {
            "outbox": [_outbox_view(row, holds.get(row.peer_node_id)) for row in conn.execute(waiting)],
            "inbound": [_inbound_view(conn, row) for row in conn.execute(received)],
        }


def _outbox_view(row: Row[Any], hold: ChannelHold | None) -> dict[str, Any]:
    """What waits for one peer, and whether its channel is held (until when, and why)."""
    return {
        "peer": row.peer_node_id,
        "pending": int(row.pending),
        "oldest": row.oldest,
        "max_attempts": int(row.max_attempts or 0),
        "held_until": hold.until if hold else None,
        "held_because": hold.error if hold else None,
    }


def _inbound_view(conn: Connection, row: Row[Any]) -> dict[str, Any]:
    """What arrived on one channel, and the sequence numbers missing from it."""
    gaps = [[int(g.first_missing), int(g.last_missing)] for g in conn.execute(_GAPS_SQL, {"channel": row.channel})]
    if row.first > 1:
        gaps.insert(0, [1, int(row.first) - 1])
    return {
        "channel": row.channel,
        "received": int(row.received),
        "highest_seq": int(row.last),
        "missing": int(row.last) - int(row.received),
        "gaps": gaps,
    }
