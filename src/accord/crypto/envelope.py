"""Envelopes: a JWS (Ed25519) over the canonical JSON claims, inside a JWE (ECDH-ES, A256GCM) to the peer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jwe
from joserfc.errors import JoseError

from accord.crypto.canonical import sha256_hex
from accord.crypto.errors import MalformedArtefact, StaleEnvelope, UndecryptableEnvelope, UnknownSender
from accord.crypto.keys import NodeKeys, PublicKeys
from accord.crypto.signing import PARSE_ERRORS, sign_claims, signed_kid, verify_claims

ENVELOPE_TYP = "accord-envelope+jws"
KEY_ALG = "ECDH-ES"
CONTENT_ENC = "A256GCM"
_REQUIRED_CLAIMS = {"iss": str, "aud": str, "jti": str, "iat": int, "kind": str, "body": dict}


@dataclass(frozen=True, slots=True)
class PinnedPeer:
    node_id: str
    keys: PublicKeys


@dataclass(frozen=True, slots=True)
class OpenedEnvelope:
    claims: dict[str, Any]
    sender: PinnedPeer
    digest: str  # SHA-256 of the sealed token as received

    @property
    def jti(self) -> str:
        return str(self.claims["jti"])

    @property
    def kind(self) -> str:
        return str(self.claims["kind"])

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = self.claims["body"]
        return body


def _registry(token: bytes) -> jwe.JWERegistry:
    """joserfc caps a JWE ciphertext at 64 KiB by default, below a legitimate envelope (a 64 KiB body, attachments);
    sizes are policed before decryption (HTTP body caps, the inbox's body limit), so let it hold this token."""
    registry = jwe.JWERegistry(algorithms=[KEY_ALG, CONTENT_ENC])
    registry.max_ciphertext_length = max(registry.max_ciphertext_length, len(token))
    return registry


def seal_envelope(claims: dict[str, Any], sender: NodeKeys, recipient: PublicKeys) -> str:
    signed = sign_claims(claims, sender.signing, ENVELOPE_TYP)
    header = {
        "alg": KEY_ALG,
        "enc": CONTENT_ENC,
        "kid": recipient.encryption_fingerprint,
        "cty": ENVELOPE_TYP,
    }
    return jwe.encrypt_compact(header, signed, recipient.encryption, algorithms=[KEY_ALG, CONTENT_ENC])


def open_envelope(
    token: str,
    own_node_id: str,
    own_keys: NodeKeys,
    find_peer: Callable[[str], PinnedPeer | None],
    now: int,
    max_age_s: int,
    skew_s: int,
) -> OpenedEnvelope:
    """Decrypt, find the pinned sender by key id, verify, then check audience and freshness.

    Raises on the first failure, naming it; replay is checked by the inbox against what it has stored.
    """
    try:
        raw = token.encode()
        decrypted = jwe.decrypt_compact(raw, own_keys.encryption, registry=_registry(raw))
    except (JoseError, *PARSE_ERRORS) as exc:
        raise UndecryptableEnvelope(f"envelope cannot be decrypted with this node's key: {exc}") from exc
    signed = decrypted.plaintext or b""
    kid = signed_kid(signed, ENVELOPE_TYP)
    peer = find_peer(kid)
    if peer is None:
        raise UnknownSender(f"no pinned peer has signing key {kid}; run `accord peer import` for that node")
    claims = verify_claims(signed, peer.keys.signing)
    _check_claims(claims, peer, own_node_id, now, max_age_s, skew_s)
    return OpenedEnvelope(claims=claims, sender=peer, digest=sha256_hex(token.encode()))


def _check_claims(
    claims: dict[str, Any], peer: PinnedPeer, own_node_id: str, now: int, max_age_s: int, skew_s: int
) -> None:
    for name, kind in _REQUIRED_CLAIMS.items():
        if not isinstance(claims.get(name), kind):
            raise MalformedArtefact(f"envelope claim {name!r} is missing or not a {kind.__name__}")
    if claims["iss"] != peer.node_id:
        raise UnknownSender(f"envelope claims issuer {claims['iss']!r} but is signed by {peer.node_id!r}")
    if claims["aud"] != own_node_id:
        raise MalformedArtefact(f"envelope is addressed to {claims['aud']!r}, not to this node ({own_node_id})")
    age = now - claims["iat"]
    if age > max_age_s:
        raise StaleEnvelope(f"envelope was sealed {age} s ago; this node accepts at most {max_age_s} s")
    if age < -skew_s:
        raise StaleEnvelope(f"envelope is dated {-age} s in the future; allowed clock skew is {skew_s} s")
