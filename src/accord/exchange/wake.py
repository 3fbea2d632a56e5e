"""A node that starts tells its peers, so traffic they held for it leaves now rather than at the next backoff."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import structlog
from sqlalchemy import and_, or_, select, update

from accord.exchange.transport import PeerClient, PeerUnreachable
from accord.node import Node
from accord.store.tables import messages, outbox
from accord.trust.peers import load_peers
from accord.trust.requests import sign_peer_request, verify_peer_request

HELLO_TYP = "accord-hello+jws"
log = structlog.get_logger(__name__)


def announce_when_listening(node: Node, stop: threading.Event, wait_s: float = 30.0) -> None:
    """Wait until this node answers on its own address (so the peer's retry finds it up), then announce."""
    own = f"http://{node.settings.host}:{node.settings.port}"
    deadline = time.monotonic() + wait_s
    with PeerClient(timeout_s=5.0, connect_timeout_s=2.0) as client:
        while not stop.is_set() and time.monotonic() < deadline:
            if client.is_healthy(own):
                announce_start(node, client)
                return
            stop.wait(0.1)


def announce_start(node: Node, client: PeerClient) -> None:
    """Send each pinned peer a signed hello; a peer that is down simply does not hear it."""
    with node.engine.connect() as conn:
        peers = load_peers(node, conn)
    for peer in peers:
        token = sign_peer_request(node, peer, HELLO_TYP)
        try:
            client.send_hello(peer, token)
        except PeerUnreachable as exc:
            log.info("peer not reachable at start", peer=peer.node_id, error=exc.detail)


def accept_hello(node: Node, token: str) -> str:
    """Verify a peer's hello and make everything waiting for that peer due now; returns the peer's node id.

    Only the retry time changes, so a replayed hello within the freshness window costs one early retry at most.
    """
    peer = verify_peer_request(node, token, HELLO_TYP).peer
    now = datetime.now(UTC)
    waiting = and_(
        outbox.c.peer_node_id == peer.node_id,
        outbox.c.next_attempt_at > now,
        or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
    )
    with node.engine.begin() as conn:
        conn.execute(
            update(messages)
            .where(messages.c.id.in_(select(outbox.c.ref_id).where(waiting)))
            .values(next_attempt_at=now)
        )
        conn.execute(update(outbox).where(waiting).values(next_attempt_at=now))
    node.outbox_signal.set()
    log.info("peer announced its start; its queue is due now", peer=peer.node_id)
    return peer.node_id
