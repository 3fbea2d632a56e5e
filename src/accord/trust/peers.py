"""Pinned peers: export this node's signed descriptor, import and pin the peer's."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc.jwk import OKPKey
from sqlalchemy import Connection, Row, insert, select, update

from accord.crypto.descriptors import NodeDescriptor, sign_descriptor, verify_descriptor
from accord.crypto.envelope import PinnedPeer, RetiredKey
from accord.crypto.keys import KeyRole, PublicKeys
from accord.crypto.signing import unverified_claims
from accord.crypto.versions import OWN_VERSIONS
from accord.domain.parties import Party
from accord.errors import Conflict, InvalidInput, NotFound
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.store.tables import key_rotations, peers
from accord.trust.peer_versions import VersionSource, record_versions

ACCEPTED = "accepted"  # a peer's rotation applied here (key_rotations.state)


def export_descriptor(node: Node) -> str:
    descriptor = NodeDescriptor(
        node_id=node.node_id,
        party=node.party.value,
        url=node.settings.resolved_public_url,
        keys=node.keys.public,
        issued_at=datetime.now(UTC).isoformat(),
        versions=OWN_VERSIONS,
    )
    return sign_descriptor(descriptor, node.keys)


def pin_peer(node: Node, token: str, url_override: str | None = None) -> NodeDescriptor:
    descriptor = verify_descriptor(token)
    if descriptor.node_id == node.node_id:
        raise InvalidInput(_("that descriptor is this node's own; import the peer's descriptor"))
    if descriptor.party not in {p.value for p in Party} or descriptor.party == node.party.value:
        raise InvalidInput(
            _("a peer must be the other party to the agreement, not {party!r}").format(party=descriptor.party)
        )
    with node.engine.begin() as conn:
        existing = conn.execute(select(peers).where(peers.c.party == descriptor.party)).first()
        if existing is not None:
            raise Conflict(
                _(
                    "party {party} is already pinned as node {node_id} (key {signing_fingerprint}); key "
                    "rotation is a separate, logged step"
                ).format(
                    party=descriptor.party, node_id=existing.node_id, signing_fingerprint=existing.signing_fingerprint
                )
            )
        conn.execute(
            insert(peers),
            [
                {
                    "node_id": descriptor.node_id,
                    "party": descriptor.party,
                    "url": url_override or descriptor.url,
                    "signing_fingerprint": descriptor.keys.signing_fingerprint,
                    "encryption_fingerprint": descriptor.keys.encryption_fingerprint,
                    "descriptor": token.strip(),
                    "pinned_at": datetime.now(UTC),
                }
            ],
        )
        record_versions(conn, descriptor.node_id, descriptor.versions, VersionSource.DESCRIPTOR, datetime.now(UTC))
        append_event(
            conn,
            EventType.PEER_PINNED,
            "operator",
            {"peer": descriptor.node_id, "fingerprint": descriptor.keys.signing_fingerprint},
        )
    return descriptor


@dataclass(frozen=True, slots=True)
class PeerRecord:
    """A pinned peer as this node knows it: how to reach it and which keys to trust."""

    node_id: str
    party: Party
    url: str
    pinned: PinnedPeer


def load_peers(node: Node, conn: Connection) -> list[PeerRecord]:
    """Pinned peers with the keys in force: the descriptor's, with each rotation accepted here applied in order (each
    statement was verified against the key then pinned when it was accepted). Each stored descriptor is verified once
    per process and then remembered."""
    records = []
    rotations = conn.execute(
        select(key_rotations).where(key_rotations.c.state == ACCEPTED).order_by(key_rotations.c.id)
    ).all()
    for row in conn.execute(select(peers)):
        descriptor = node.verified_descriptors.get(row.descriptor)
        if descriptor is None:
            descriptor = verify_descriptor(row.descriptor)
            node.verified_descriptors[row.descriptor] = descriptor
        pinned = apply_rotations(
            PinnedPeer(node_id=row.node_id, keys=descriptor.keys), [r for r in rotations if r.node_id == row.node_id]
        )
        records.append(PeerRecord(row.node_id, Party(row.party), row.url, pinned))
    return records


def own_signing_keys(conn: Connection, node_id: str, current: OKPKey) -> tuple[OKPKey, ...]:
    """This node's signing keys, the one in force first, then those its own rotations replaced, the newest first: what
    its older checkpoints and notes are verified with. The statements are this node's own, kept in its database."""
    rows = conn.execute(
        select(key_rotations.c.statement)
        .where(key_rotations.c.node_id == node_id, key_rotations.c.role == KeyRole.SIGNING.value)
        .order_by(key_rotations.c.id.desc())
    ).scalars()
    return (current, *(OKPKey.import_key(unverified_claims(token)["old"]["jwk"]) for token in rows))


def apply_rotations(pinned: PinnedPeer, rotations: Sequence[Row[Any]]) -> PinnedPeer:
    """The peer's keys after `rotations` (rows of key_rotations, in order): the new key in force, a replaced signing
    key kept, accepted until the overlap's end (an emergency rotation's old key, until it was accepted here)."""
    for rotation in rotations:
        new_key = OKPKey.import_key(json.loads(rotation.new_key))
        if rotation.role == KeyRole.SIGNING:
            until = rotation.settled_at if rotation.emergency else rotation.overlap_until
            retired = RetiredKey(pinned.keys.signing, until)
            keys = PublicKeys(signing=new_key, encryption=pinned.keys.encryption)
            pinned = PinnedPeer(pinned.node_id, keys, (*pinned.retired_signing, retired))
        else:
            keys = PublicKeys(signing=pinned.keys.signing, encryption=new_key)
            pinned = PinnedPeer(pinned.node_id, keys, pinned.retired_signing)
    return pinned


def peer_for_party(node: Node, conn: Connection, party: Party) -> PeerRecord:
    for peer in load_peers(node, conn):
        if peer.party is party:
            return peer
    raise NotFound(_("no peer node is pinned for party {party}; run `accord peer import`").format(party=party))


def repoint_peer(node: Node, peer_node_id: str, url: str) -> None:
    """Record that a pinned peer is now reached at another URL (its keys stay pinned)."""
    with node.engine.begin() as conn:
        result = conn.execute(update(peers).where(peers.c.node_id == peer_node_id, peers.c.url != url).values(url=url))
        if result.rowcount:
            append_event(conn, EventType.PEER_REPOINTED, "operator", {"peer": peer_node_id, "url": url})
