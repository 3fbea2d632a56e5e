"""What an operator sees of each pinned peer: where it is reached, its keys, the wire versions it last advertised and
the ones this node sends it in."""

from __future__ import annotations

from dataclasses import dataclass

from accord.crypto.versions import OWN_VERSIONS, Negotiated, NoCommonVersion, WireVersions
from accord.errors import NotFound
from accord.i18n import _
from accord.node import Node
from accord.trust.peer_versions import PeerVersions, load_peer_versions
from accord.trust.peers import PeerRecord, load_peers


@dataclass(frozen=True, slots=True)
class PeerStatus:
    peer: PeerRecord
    versions: PeerVersions
    own: WireVersions
    negotiated: Negotiated | NoCommonVersion  # what this node sends it in, or why it can send nothing


def peer_statuses(node: Node) -> list[PeerStatus]:
    with node.engine.connect() as conn:
        peers = load_peers(node, conn)
        versions = load_peer_versions(conn)
    statuses = []
    for peer in sorted(peers, key=lambda p: p.node_id):
        seen = versions.get(peer.node_id) or PeerVersions(peer.node_id, None)
        statuses.append(PeerStatus(peer, seen, OWN_VERSIONS, seen.negotiated()))
    return statuses


def peer_status(node: Node, node_id: str) -> PeerStatus:
    for status in peer_statuses(node):
        if status.peer.node_id == node_id:
            return status
    raise NotFound(
        _("no peer node {node_id} is pinned; `accord peer list` shows those that are").format(node_id=node_id)
    )
