"""Version-2 delivery receipts: one receipt signed for a batch, and for each message in it the inclusion of its ledger
leaf in the tree the receipt's root names (RFC 9162 §2.1.3), so one message is still proven on its own.

The receiver logs each stored envelope of a batch as one `envelope.received` leaf, in batch order; the batch tree's
leaves are those leaf hashes. A message's proof of delivery is the batch receipt, the envelope's leaf refs, its
position in the batch and its inclusion path: the verifier rebuilds the leaf (so it binds that envelope's digest),
checks it against the signed root, and then knows the leaf's index in the receiver's ledger, for the ledger's own
proofs.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from accord.crypto._claims import hash_hex, positive, required
from accord.crypto.envelope import PinnedPeer
from accord.crypto.errors import MalformedArtefact
from accord.crypto.keys import PublicKeys
from accord.crypto.receipts import (
    BATCH_RECEIPT_CLAIM_TYP,
    BatchReceiptClaims,
    LedgerPosition,
    ReceiptClaims,
    verify_batch_receipt,
    verify_receipt,
)
from accord.crypto.signing import unverified_claims
from accord.i18n import _
from accord.ledger.leaves import EventType, leaf_bytes, leaf_record
from accord.ledger.tree import MemoryTree, inclusion_proof, leaf_hash, verify_inclusion

MAX_PATH = 64


@dataclass(frozen=True, slots=True)
class BatchEntry:
    """One stored envelope of a batch, as its ledger leaf recorded it."""

    ref: str
    kind: str
    jti: str
    digest: str  # SHA-256 (hex) of the envelope's JWS
    seq: int
    actor: str  # the sending node, the leaf's actor
    refs: Mapping[str, Any]  # the leaf's refs, exactly as logged

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "kind": self.kind,
            "jti": self.jti,
            "digest": self.digest,
            "seq": self.seq,
            "actor": self.actor,
            "refs": dict(self.refs),
        }


def entry_leaf(entry: BatchEntry, ledger_index: int, received_at: datetime) -> bytes:
    """The receiver's `envelope.received` leaf hash for this envelope, rebuilt from what the proof carries."""
    record = leaf_record(
        ledger_index, received_at, EventType.ENVELOPE_RECEIVED.value, entry.actor, dict(entry.refs), entry.digest
    )
    return leaf_hash(leaf_bytes(record))


def batch_tree(leaves: Sequence[bytes]) -> tuple[bytes, list[list[bytes]]]:
    """The batch tree's root over the envelopes' ledger leaves, and each leaf's inclusion path."""
    tree = MemoryTree.from_leaf_hashes(leaves)
    size = len(leaves)
    return tree.root(), [inclusion_proof(tree, index, size) for index in range(size)]


def delivery_proof(receipt: str, entry: BatchEntry, index: int, path: Sequence[bytes]) -> str:
    """What the sender keeps for one message of a batch, in place of a receipt of its own: JSON, so that it cannot
    be mistaken for a compact JWS (a version-1 receipt)."""
    return orjson.dumps(
        {"receipt": receipt, "index": index, "path": [p.hex() for p in path], "envelope": entry.as_json()}
    ).decode()


def is_delivery_proof(token: str) -> bool:
    return token.startswith("{")


def receipt_signer_claims(token: str) -> dict[str, Any]:
    """The claims of a receipt of either version, unverified: to find which node's key to verify it with."""
    if is_delivery_proof(token):
        token = str(_parse_proof(token).get("receipt", ""))
    return unverified_claims(token)


def verify_delivery_receipt(
    token: str,
    peer: PinnedPeer | PublicKeys,
    expected_ref: str,
    at: datetime | None = None,
    verified: MutableMapping[str, BatchReceiptClaims] | None = None,
) -> ReceiptClaims:
    """A message's receipt, of either version: a version-1 receipt as `verify_receipt`; a version-2 proof by the batch
    receipt's signature, then the message's leaf included in the batch root. Raises the first failure, naming it.

    `verified`: batch receipts whose signature this caller verified already (with the same peer and time), by token;
    the messages of one batch share one signature check."""
    if not is_delivery_proof(token):
        return verify_receipt(token, peer, expected_ref, at)
    proof = _parse_proof(token)
    receipt = required(proof, "delivery proof", "receipt", str)
    batch = verified.get(receipt) if verified is not None else None
    if batch is None:
        batch = verify_batch_receipt(receipt, peer, at)
        if verified is not None:
            verified[receipt] = batch
    entry = _parse_entry(required(proof, "delivery proof", "envelope", dict))
    if entry.ref != expected_ref:
        raise MalformedArtefact(
            _("receipt is for {got!r}, not {expected!r}").format(got=entry.ref, expected=expected_ref)
        )
    index = required(proof, "delivery proof", "index", int)
    if not 0 <= index < batch.count:
        raise MalformedArtefact(
            _("delivery proof names envelope {index} of a batch of {count}").format(index=index, count=batch.count)
        )
    path = required(proof, "delivery proof", "path", list)
    if len(path) > MAX_PATH or not all(isinstance(p, str) for p in path):
        raise MalformedArtefact(_("delivery proof's path is a list of hex SHA-256 hashes"))
    ledger_index = batch.ledger.first + index
    leaf = entry_leaf(entry, ledger_index, batch.received_at)
    verify_inclusion(leaf, index, batch.count, [hash_hex(p, "delivery proof", "path") for p in path], batch.root)
    return ReceiptClaims(
        ref=entry.ref,
        kind=entry.kind,
        jti=entry.jti,
        digest=entry.digest,
        channel=batch.channel,
        seq=entry.seq,
        sender=batch.sender,
        receiver=batch.receiver,
        received_at=batch.received_at,
        ledger=LedgerPosition(ledger_index, leaf, batch.ledger.tree_size, batch.ledger.root),
        leaf_refs=dict(entry.refs),
    )


def batch_receipt_claims(
    *,
    digest: str,
    channel: str,
    sender: str,
    receiver: str,
    received_at: datetime,
    root: bytes,
    count: int,
    first: int,
    tree_size: int,
    ledger_root: bytes,
) -> dict[str, Any]:
    return {
        "typ": BATCH_RECEIPT_CLAIM_TYP,
        "digest": digest,
        "channel": channel,
        "sender": sender,
        "receiver": receiver,
        "received_at": received_at.isoformat(),
        "count": count,
        "root": root.hex(),
        "ledger": {"first": first, "tree_size": tree_size, "root": ledger_root.hex()},
    }


def _parse_proof(token: str) -> dict[str, Any]:
    try:
        proof = orjson.loads(token)
    except (ValueError, RecursionError) as exc:
        raise MalformedArtefact(_("a delivery proof is a JSON object: {exc}").format(exc=exc)) from exc
    if not isinstance(proof, dict):
        raise MalformedArtefact(_("a delivery proof is a JSON object"))
    return proof


def _parse_entry(value: dict[str, Any]) -> BatchEntry:
    what = "delivery proof envelope"
    refs = required(value, what, "refs", dict)
    entry = BatchEntry(
        ref=required(value, what, "ref", str),
        kind=required(value, what, "kind", str),
        jti=required(value, what, "jti", str),
        digest=required(value, what, "digest", str),
        seq=positive(required(value, what, "seq", int), what, "seq"),
        actor=required(value, what, "actor", str),
        refs=refs,
    )
    hash_hex(entry.digest, what, "digest")
    # The leaf names the envelope; the claims read from the proof must be the leaf's own.
    if (refs.get("ref"), refs.get("seq"), refs.get("kind"), refs.get("jti")) != (
        entry.ref,
        entry.seq,
        entry.kind,
        entry.jti,
    ):
        raise MalformedArtefact(_("the delivery proof's envelope does not match the ledger leaf it names"))
    return entry
