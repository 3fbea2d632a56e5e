"""Signed delivery receipts: the receiver's proof, kept by the sender, that it stored an envelope."""

from __future__ import annotations

from typing import Any

from accord.crypto.errors import MalformedArtefact
from accord.crypto.keys import NodeKeys, PublicKeys
from accord.crypto.signing import sign_claims, signed_kid, verify_claims

RECEIPT_TYP = "accord-receipt+jws"


def sign_receipt(claims: dict[str, Any], keys: NodeKeys) -> str:
    return sign_claims(claims, keys.signing, RECEIPT_TYP)


def verify_receipt(token: str, peer: PublicKeys, expected_message_id: str) -> dict[str, Any]:
    kid = signed_kid(token, RECEIPT_TYP)
    if kid != peer.signing_fingerprint:
        raise MalformedArtefact(f"receipt is signed by key {kid}, not the peer's pinned key")
    claims = verify_claims(token, peer.signing)
    if claims.get("ref") != expected_message_id:
        raise MalformedArtefact(f"receipt is for {claims.get('ref')!r}, not {expected_message_id!r}")
    return claims
