"""The backup's manifest: what the archive holds (each file's SHA-256), the ledger head the database snapshot holds
(its size and root, its latest checkpoint and the latest one the peer countersigned) and the channels' positions,
signed with the node's signing key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import OKPKey
from sqlalchemy import Connection, func, select

from accord.backup.errors import DamagedArchive
from accord.crypto.errors import BadSignature, MalformedArtefact
from accord.crypto.signing import sign_claims, signed_kid, unverified_claims, verify_claims
from accord.i18n import _
from accord.ledger.checkpoints import StoredCheckpoint, latest, ledger_size
from accord.ledger.events import tree_root
from accord.ledger.notes import origin_for
from accord.store.tables import blobs, channel_counters, inbound_envelopes, node_identity

MANIFEST_TYP = "accord-backup-manifest+jws"
FORMAT = "accord-backup/1"


@dataclass(frozen=True, slots=True)
class SnapshotState:
    """What the database snapshot holds that the manifest records and a restore checks."""

    node_id: str
    party: str
    ledger: dict[str, Any]
    channels: dict[str, Any]
    blobs: tuple[str, ...]


def _checkpoint(stored: StoredCheckpoint | None) -> dict[str, Any] | None:
    if stored is None:
        return None
    return {
        "size": stored.size,
        "root": stored.root.hex(),
        "note": stored.note,
        "cosigner": stored.cosigner,
        "cosignature": stored.cosignature,
    }


def read_snapshot(conn: Connection) -> SnapshotState:
    """The snapshot's identity, ledger head, channel positions and stored blobs."""
    identity = conn.execute(select(node_identity.c.node_id, node_identity.c.party)).one()
    origin = origin_for(identity.node_id)
    size = ledger_size(conn)
    ledger = {
        "size": size,
        "root": tree_root(conn, size).hex(),
        "checkpoint": _checkpoint(latest(conn, origin)),
        "countersigned": _checkpoint(latest(conn, origin, cosigned_only=True)),
    }
    inbound = {
        row.channel: int(row.highest)
        for row in conn.execute(
            select(inbound_envelopes.c.channel, func.max(inbound_envelopes.c.seq).label("highest")).group_by(
                inbound_envelopes.c.channel
            )
        )
    }
    counters = {row.channel: int(row.next_seq) for row in conn.execute(select(channel_counters))}
    held = tuple(sorted(conn.scalars(select(blobs.c.sha256))))
    return SnapshotState(
        identity.node_id, identity.party, ledger, {"inbound_highest": inbound, "next_seq": counters}, held
    )


def sign_manifest(manifest: dict[str, Any], signing_key: OKPKey) -> bytes:
    return sign_claims(manifest | {"format": FORMAT}, signing_key, MANIFEST_TYP).encode()


def unverified_node_id(token: bytes) -> str:
    """The node the manifest names, read only to find the sealed keys to verify it with."""
    try:
        node_id = unverified_claims(token.decode("ascii")).get("node_id")
    except (MalformedArtefact, UnicodeDecodeError) as exc:
        raise DamagedArchive(_("the archive's manifest is not a signed manifest: {exc}").format(exc=exc)) from exc
    if not isinstance(node_id, str):
        raise DamagedArchive(_("the archive's manifest names no node"))
    return node_id


def verify_manifest(token: bytes, signing_key: OKPKey) -> dict[str, Any]:
    """The manifest's claims, once its signature verified under the node's own signing key (from the sealed keys)."""
    try:
        kid = signed_kid(token, MANIFEST_TYP)
        if kid != signing_key.thumbprint():
            raise DamagedArchive(
                _(
                    "the manifest is signed by key {kid}, not by the node's signing key in the archive ({ours}): the "
                    "archive mixes parts of two nodes"
                ).format(kid=kid, ours=signing_key.thumbprint())
            )
        claims = verify_claims(token, signing_key)
    except (BadSignature, MalformedArtefact) as exc:
        raise DamagedArchive(
            _("the manifest's signature does not verify: it was changed after the backup ({detail})").format(
                detail=exc.detail
            )
        ) from exc
    if claims.get("format") != FORMAT:
        raise DamagedArchive(
            _("the archive is in format {got!r}; this version restores {want!r}").format(
                got=claims.get("format"), want=FORMAT
            )
        )
    return claims


def manifest_text(claims: dict[str, Any]) -> str:
    return json.dumps(claims, indent=2, sort_keys=True)
