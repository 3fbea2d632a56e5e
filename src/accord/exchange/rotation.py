"""Taking this node's key rotation statements to the peer: before any envelope, so the peer knows the new key when
the first envelope signed with it arrives. A statement the peer refuses stays unsent and is offered again."""

from __future__ import annotations

import structlog

from accord.exchange.transport import PeerClient, PeerUnreachable
from accord.node import Node
from accord.trust.peers import load_peers
from accord.trust.rotation import mark_delivered, unsent_rotations

log = structlog.get_logger("accord.rotation")
HELD_STATUS = 202  # the peer holds an emergency statement for its operator's confirmation


def deliver_rotations(node: Node, client: PeerClient) -> int:
    """Offer each unsent statement to its peer; returns how many the peer took (applied or held)."""
    pending = unsent_rotations(node)
    if not pending:
        return 0
    with node.engine.connect() as conn:
        peers = {peer.node_id: peer for peer in load_peers(node, conn)}
    taken = 0
    for rotation in pending:
        peer = peers.get(rotation.peer)
        if peer is None:
            continue
        try:
            answer = client.send_rotation(peer, rotation.statement)
        except PeerUnreachable as exc:
            log.info("peer not reachable for a key rotation", peer=peer.node_id, error=exc.detail)
            return taken
        if answer.status in (200, HELD_STATUS):
            mark_delivered(node, rotation, held=answer.status == HELD_STATUS)
            taken += 1
        else:
            log.warning(
                "peer refused a key rotation",
                peer=peer.node_id,
                status=answer.status,
                problem=answer.problem_slug,
                detail=answer.detail,
            )
    return taken
