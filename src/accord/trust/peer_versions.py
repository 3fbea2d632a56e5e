"""What each pinned peer last advertised of the wire versions it speaks (its descriptor when pinned, then each signed
hello), and the versions this node sends it in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from accord.crypto.versions import (
    OWN_VERSIONS,
    UNADVERTISED,
    VERSIONS_CLAIM,
    Negotiated,
    NoCommonVersion,
    WireVersions,
    negotiate,
    read_versions,
)
from accord.store.tables import peer_versions


class VersionSource(StrEnum):
    DESCRIPTOR = "descriptor"  # the descriptor pinned out of band
    HELLO = "hello"  # a signed hello: the peer's, or its signed answer to ours


@dataclass(frozen=True, slots=True)
class PeerVersions:
    """The versions a peer advertised, as last seen; `advertised` None: it advertised none, a release before versions.
    `seen_at` None: nothing seen since this node learnt to record versions."""

    peer_node_id: str
    advertised: WireVersions | None
    source: VersionSource | None = None
    seen_at: datetime | None = None

    @property
    def understood(self) -> WireVersions:
        return self.advertised or UNADVERTISED

    def negotiated(self) -> Negotiated | NoCommonVersion:
        """The versions to send this peer in, or the refusal that says why there are none."""
        try:
            return negotiate(OWN_VERSIONS, self.advertised)
        except NoCommonVersion as problem:
            return problem


def record_versions(
    conn: Connection, peer_node_id: str, advertised: WireVersions | None, source: VersionSource, at: datetime
) -> None:
    """Remember what `peer_node_id` advertised in a signed artefact, in the caller's transaction."""
    values = {
        "advertised": None if advertised is None else json.dumps(advertised.claim(), sort_keys=True),
        "source": source.value,
        "seen_at": at,
    }
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(peer_versions)
        .values(peer_node_id=peer_node_id, **values)
        .on_conflict_do_update(index_elements=[peer_versions.c.peer_node_id], set_=values)
    )


def load_peer_versions(conn: Connection) -> dict[str, PeerVersions]:
    """Every peer's last advertised versions; a peer missing here has advertised nothing yet (version 1)."""
    return {
        row.peer_node_id: PeerVersions(
            peer_node_id=row.peer_node_id,
            advertised=_stored(row.advertised),
            source=VersionSource(row.source),
            seen_at=row.seen_at,
        )
        for row in conn.execute(select(peer_versions))
    }


def _stored(advertised: str | None) -> WireVersions | None:
    return None if advertised is None else read_versions({VERSIONS_CLAIM: json.loads(advertised)}, "stored versions")


def versions_of(conn: Connection, peer_node_id: str) -> PeerVersions:
    return load_peer_versions(conn).get(peer_node_id) or PeerVersions(peer_node_id, None)
