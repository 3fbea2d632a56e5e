"""Signed delivery receipts: the receiver's proof, kept by the sender, that it stored an envelope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.crypto._claims import hash_hex, positive, required, utc_time
from accord.crypto.envelope import PinnedPeer
from accord.crypto.errors import MalformedArtefact
from accord.crypto.keys import NodeKeys, PublicKeys
from accord.crypto.signing import sign_claims, signed_kid, verify_claims
from accord.i18n import _

RECEIPT_TYP = "accord-receipt+jws"
RECEIPT_CLAIM_TYP = "delivery-receipt"


@dataclass(frozen=True, slots=True)
class LedgerPosition:
    """Where the receiver's ledger recorded the envelope: its leaf (RFC 9162 leaf index and MTH({d})) and the tree
    head right after it was appended, against which the sender may later demand an inclusion proof."""

    index: int
    leaf_hash: bytes
    tree_size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class ReceiptClaims:
    """What the receiver signed about one envelope it stored, typed."""

    ref: str  # the message, change or notice the envelope carried
    kind: str  # the envelope's kind
    jti: str  # the envelope's id
    digest: str  # SHA-256 (hex) of the sealed token as the receiver got it
    channel: str  # sender>receiver
    seq: int  # the envelope's place on that channel
    sender: str
    receiver: str
    received_at: datetime
    ledger: LedgerPosition
    # The refs of the receiver's ledger leaf, when the receipt carries them (a message of a version-2 batch); a
    # version-1 receipt's leaf is rebuilt from its claims.
    leaf_refs: dict[str, Any] | None = None


def sign_receipt(claims: dict[str, Any], keys: NodeKeys) -> str:
    return sign_claims(claims, keys.signing, RECEIPT_TYP)


def _verified_receipt_claims(token: str, peer: PinnedPeer | PublicKeys, at: datetime | None) -> dict[str, Any]:
    """The claims of a receipt whose signature verifies under the peer's pinned key (a key a rotation retired only
    if accepted `at`; None: history)."""
    if isinstance(peer, PublicKeys):
        peer = PinnedPeer("", peer)
    kid = signed_kid(token, RECEIPT_TYP)
    key = peer.signing_key(kid, at)
    if key is None:
        raise MalformedArtefact(
            _("receipt is signed by key {kid}, not the peer's pinned key {signing_fingerprint}").format(
                kid=kid, signing_fingerprint=peer.keys.signing_fingerprint
            )
        )
    return verify_claims(token, key)


def verify_receipt(
    token: str, peer: PinnedPeer | PublicKeys, expected_message_id: str, at: datetime | None = None
) -> ReceiptClaims:
    """Verify the receiver's signature with its pinned key (a key a rotation retired only if accepted `at`; None:
    a receipt kept from before, verified as history) and that the receipt is for this message, then read every claim
    once; the first failure is raised, naming what was expected and what was found."""
    claims = _verified_receipt_claims(token, peer, at)
    if claims.get("ref") != expected_message_id:
        raise MalformedArtefact(
            _("receipt is for {get!r}, not {expected_message_id!r}").format(
                get=claims.get("ref"), expected_message_id=expected_message_id
            )
        )
    return _parse_claims(claims)


def _parse_claims(claims: dict[str, Any]) -> ReceiptClaims:
    typ = required(claims, "receipt", "typ", str)
    if typ != RECEIPT_CLAIM_TYP:
        raise MalformedArtefact(
            _("receipt claim 'typ' is {typ!r}, expected {RECEIPT_CLAIM_TYP!r}").format(
                typ=typ[:80], RECEIPT_CLAIM_TYP=RECEIPT_CLAIM_TYP
            )
        )
    digest = required(claims, "receipt", "digest", str)
    hash_hex(digest, "receipt", "digest")
    return ReceiptClaims(
        ref=required(claims, "receipt", "ref", str),
        kind=required(claims, "receipt", "kind", str),
        jti=required(claims, "receipt", "jti", str),
        digest=digest,
        channel=required(claims, "receipt", "channel", str),
        seq=positive(required(claims, "receipt", "seq", int), "receipt", "seq"),
        sender=required(claims, "receipt", "sender", str),
        receiver=required(claims, "receipt", "receiver", str),
        received_at=utc_time(required(claims, "receipt", "received_at", str), "receipt", "received_at"),
        ledger=_parse_position(required(claims, "receipt", "ledger", dict)),
    )


def _parse_position(ledger: dict[str, Any]) -> LedgerPosition:
    index = required(ledger, "receipt ledger", "index", int)
    tree_size = required(ledger, "receipt ledger", "tree_size", int)
    if not 0 <= index < tree_size:
        raise MalformedArtefact(
            _("receipt names leaf {index} of a tree of {tree_size} leaves, expected one inside it").format(
                index=index, tree_size=tree_size
            )
        )
    return LedgerPosition(
        index=index,
        leaf_hash=hash_hex(required(ledger, "receipt ledger", "leaf_hash", str), "receipt ledger", "leaf_hash"),
        tree_size=tree_size,
        root=hash_hex(required(ledger, "receipt ledger", "root", str), "receipt ledger", "root"),
    )


BATCH_RECEIPT_CLAIM_TYP = "batch-delivery-receipt"


@dataclass(frozen=True, slots=True)
class BatchLedger:
    """Where the receiver's ledger recorded the batch: the envelopes' leaves are `first`, `first + 1`, … in the order
    of the batch tree, and `tree_size`/`root` its tree head right after they were appended."""

    first: int
    tree_size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class BatchReceiptClaims:
    """What the receiver signed about the envelopes of one version-2 batch it stored: the RFC 9162 root of a tree
    whose leaves are their ledger leaves, in order; a message is proven by its leaf and an inclusion path."""

    digest: str  # SHA-256 (hex) of the sealed batch as the receiver got it
    channel: str
    sender: str
    receiver: str
    received_at: datetime
    count: int  # the envelopes stored, the leaves of the batch tree
    root: bytes  # MTH of their ledger leaves
    ledger: BatchLedger


def verify_batch_receipt(token: str, peer: PinnedPeer | PublicKeys, at: datetime | None = None) -> BatchReceiptClaims:
    """Verify the receiver's signature on a batch receipt with its pinned key, then read every claim once."""
    claims = _verified_receipt_claims(token, peer, at)
    typ = required(claims, "receipt", "typ", str)
    if typ != BATCH_RECEIPT_CLAIM_TYP:
        raise MalformedArtefact(
            _("receipt claim 'typ' is {typ!r}, expected {expected!r}").format(
                typ=typ[:80], expected=BATCH_RECEIPT_CLAIM_TYP
            )
        )
    digest = required(claims, "receipt", "digest", str)
    hash_hex(digest, "receipt", "digest")
    ledger = required(claims, "receipt", "ledger", dict)
    count = positive(required(claims, "receipt", "count", int), "receipt", "count")
    first = required(ledger, "receipt ledger", "first", int)
    tree_size = required(ledger, "receipt ledger", "tree_size", int)
    if not first >= 0 or first + count > tree_size:
        raise MalformedArtefact(
            _("receipt names leaves {first} to {last} of a tree of {tree_size} leaves, expected them inside it").format(
                first=first, last=first + count - 1, tree_size=tree_size
            )
        )
    return BatchReceiptClaims(
        digest=digest,
        channel=required(claims, "receipt", "channel", str),
        sender=required(claims, "receipt", "sender", str),
        receiver=required(claims, "receipt", "receiver", str),
        received_at=utc_time(required(claims, "receipt", "received_at", str), "receipt", "received_at"),
        count=count,
        root=hash_hex(required(claims, "receipt", "root", str), "receipt", "root"),
        ledger=BatchLedger(
            first=first,
            tree_size=tree_size,
            root=hash_hex(required(ledger, "receipt ledger", "root", str), "receipt ledger", "root"),
        ),
    )
