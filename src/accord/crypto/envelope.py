"""Envelopes: a JWS (Ed25519) over the canonical JSON claims, inside a JWE (ECDH-ES, A256GCM) to the peer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import GuestProtocol, OKPKey

from accord.crypto._claims import optional, positive, required
from accord.crypto.canonical import sha256_hex
from accord.crypto.errors import MalformedArtefact, StaleEnvelope, UndecryptableEnvelope, UnknownSender
from accord.crypto.keys import NodeKeys, PublicKeys
from accord.crypto.signing import PARSE_ERRORS, read_signed, sign_claims, verify_signed
from accord.crypto.versions import LEGACY_VERSION, envelope_version
from accord.i18n import _

ENVELOPE_TYP = "accord-envelope+jws"
BATCH_CTY = "accord-envelope-batch+json"  # version 2: the JWE's plaintext is {"envelopes": [JWS, …]}
MAX_BATCH_ENVELOPES = 2000
KEY_ALG = "ECDH-ES"
CONTENT_ENC = "A256GCM"


@dataclass(frozen=True, slots=True)
class RetiredKey:
    """A peer's signing key a rotation replaced: it verifies new artefacts until `accepted_until` (the overlap's end,
    or the rotation itself for an emergency one), and what it signed before, always."""

    key: OKPKey
    accepted_until: datetime

    @property
    def fingerprint(self) -> str:
        return str(self.key.thumbprint())


@dataclass(frozen=True, slots=True)
class PinnedPeer:
    node_id: str
    keys: PublicKeys  # the keys in force
    retired_signing: tuple[RetiredKey, ...] = ()  # the signing keys rotations replaced, the oldest first

    @property
    def signing_fingerprints(self) -> tuple[str, ...]:
        """Every signing key of the peer this node pinned, the one in force first."""
        return (self.keys.signing_fingerprint, *(r.fingerprint for r in reversed(self.retired_signing)))

    def signing_key(self, kid: str, at: datetime | None) -> OKPKey | None:
        """The peer's signing key `kid` if it is accepted for an artefact made `at` (None: for history, any key the
        peer ever had pinned here), else None."""
        if kid == self.keys.signing_fingerprint:
            return self.keys.signing
        for retired in self.retired_signing:
            if retired.fingerprint == kid and (at is None or at < retired.accepted_until):
                return retired.key
        return None

    def accepted_signing_keys(self, at: datetime | None) -> tuple[OKPKey, ...]:
        """The peer's signing keys accepted `at`, the one in force first."""
        keys = (self.signing_key(kid, at) for kid in self.signing_fingerprints)
        return tuple(key for key in keys if key is not None)

    def refuse_kid(self, kid: str) -> UnknownSender:
        """The refusal of an artefact signed by `kid`, one of this peer's keys no longer accepted, or none of them."""
        for retired in self.retired_signing:
            if retired.fingerprint == kid:
                return UnknownSender(
                    _(
                        "{node_id}'s signing key {kid} was retired by a key rotation; it was accepted until "
                        "{until} and only key {current} is now"
                    ).format(
                        node_id=self.node_id,
                        kid=kid,
                        until=retired.accepted_until.isoformat(),
                        current=self.keys.signing_fingerprint,
                    )
                )
        return UnknownSender(_("{node_id} has no pinned signing key {kid}").format(node_id=self.node_id, kid=kid))


@dataclass(frozen=True, slots=True)
class EnvelopeClaims:
    """What the sender signed, typed; the names are the claims' own (RFC 7519's where it has one)."""

    iss: str  # the sending node
    aud: str  # the node it is sealed to
    jti: str  # unique per envelope: a replay is recognised by it
    iat: int  # when it was sealed, POSIX seconds
    kind: str  # the exchange's kind (message, notice, blob) or a capability's payload kind
    body: dict[str, Any]  # the JSON object the kind's handler reads
    ref: str | None = None  # the message, change or attachment it carries
    seq: int | None = None  # its place on the sender's channel to this node; an attachment has none
    ver: int = LEGACY_VERSION  # the envelope format it is in (accord.crypto.versions); absent: the first one


@dataclass(frozen=True, slots=True)
class OpenedEnvelope:
    claims: EnvelopeClaims
    sender: PinnedPeer
    digest: str  # SHA-256 of the sealed token as received

    @property
    def jti(self) -> str:
        return self.claims.jti

    @property
    def kind(self) -> str:
        return self.claims.kind

    @property
    def body(self) -> dict[str, Any]:
        return self.claims.body


def _registry(token: bytes) -> jwe.JWERegistry:
    """joserfc caps a JWE ciphertext at 64 KiB by default, below a legitimate envelope (a 64 KiB body, attachments);
    sizes are policed before decryption (HTTP body caps, the inbox's body limit), so let it hold this token."""
    registry = jwe.JWERegistry(algorithms=[KEY_ALG, CONTENT_ENC])
    registry.max_ciphertext_length = max(registry.max_ciphertext_length, len(token))
    return registry


def seal_envelope(claims: dict[str, Any], sender: NodeKeys, recipient: PublicKeys) -> str:
    return _encrypt(sign_envelope(claims, sender), ENVELOPE_TYP, recipient)


def sign_envelope(claims: dict[str, Any], sender: NodeKeys) -> str:
    """The sender's JWS over one envelope's claims: what a version-2 batch carries, one per message."""
    return sign_claims(claims, sender.signing, ENVELOPE_TYP, sender.signing_fingerprint)


def seal_batch(signed: Sequence[str], recipient: PublicKeys) -> str:
    """Version 2: one JWE (one ECDH-ES agreement, one AES-GCM pass) around the JWS of every envelope of the batch."""
    plaintext = orjson.dumps({"envelopes": list(signed)})
    return _encrypt(plaintext, BATCH_CTY, recipient)


def _encrypt(plaintext: str | bytes, cty: str, recipient: PublicKeys) -> str:
    header = {"alg": KEY_ALG, "enc": CONTENT_ENC, "kid": recipient.encryption_fingerprint, "cty": cty}
    return jwe.encrypt_compact(header, plaintext, recipient.encryption, algorithms=[KEY_ALG, CONTENT_ENC])


def _decrypt(token: str, own_keys: NodeKeys) -> tuple[str | None, bytes]:
    """The JWE's content type and plaintext; raises UndecryptableEnvelope on any failure."""

    def sealed_to(recipient: GuestProtocol) -> OKPKey:
        # The recipient's key id names which of this node's keys (the current one, or one retired by a rotation
        # whose envelopes may still be in flight) it was sealed to.
        kid = recipient.headers().get("kid")
        key = own_keys.decryption_key(kid if isinstance(kid, str) else None)
        if key is None:
            raise UndecryptableEnvelope(
                _("envelope is sealed to key {kid}, which is not this node's").format(kid=str(kid)[:80])
            )
        return key

    try:
        raw = token.encode()
        decrypted = jwe.decrypt_compact(raw, sealed_to, registry=_registry(raw))
    except (JoseError, *PARSE_ERRORS) as exc:
        raise UndecryptableEnvelope(
            _("envelope cannot be decrypted with this node's key: {exc}").format(exc=exc)
        ) from exc
    cty = decrypted.protected.get("cty")
    return (cty if isinstance(cty, str) else None), decrypted.plaintext or b""


def open_batch(token: str, own_keys: NodeKeys) -> list[str]:
    """Decrypt a version-2 batch: the JWS of each envelope it carries, each still to be verified on its own
    (`verify_envelope`). The JWE authenticates nobody (anyone may encrypt to this node), so nothing here is trusted."""
    cty, plaintext = _decrypt(token, own_keys)
    if cty != BATCH_CTY:
        raise MalformedArtefact(
            _("a batch is a JWE of content type {expected}, not {cty}").format(expected=BATCH_CTY, cty=str(cty)[:80])
        )
    try:
        envelopes = orjson.loads(plaintext).get("envelopes")
    except (ValueError, AttributeError, RecursionError) as exc:
        raise MalformedArtefact(_("a batch's plaintext is {{'envelopes': [JWS, …]}}")) from exc
    if (
        not isinstance(envelopes, list)
        or not 1 <= len(envelopes) <= MAX_BATCH_ENVELOPES
        or not all(isinstance(e, str) for e in envelopes)
    ):
        raise MalformedArtefact(
            _("a batch carries 1 to {most} envelopes, each a compact JWS").format(most=MAX_BATCH_ENVELOPES)
        )
    return envelopes


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
    _, signed = _decrypt(token, own_keys)
    opened = verify_envelope(signed, own_node_id, find_peer, now, max_age_s, skew_s)
    return OpenedEnvelope(claims=opened.claims, sender=opened.sender, digest=sha256_hex(token.encode()))


def verify_envelope(
    signed: str | bytes,
    own_node_id: str,
    find_peer: Callable[[str], PinnedPeer | None],
    now: int,
    max_age_s: int,
    skew_s: int,
) -> OpenedEnvelope:
    """One envelope's JWS: find the pinned sender by key id, verify, then check audience and freshness. Its digest is
    the SHA-256 of the JWS (in a version-2 batch, what the receipt's Merkle tree names)."""
    token = read_signed(signed, ENVELOPE_TYP)
    kid = token.kid
    peer = find_peer(kid)
    if peer is None:
        raise UnknownSender(
            _("no pinned peer has signing key {kid}; run `accord peer import` for that node").format(kid=kid)
        )
    signing_key = peer.signing_key(kid, datetime.fromtimestamp(now, UTC))
    if signing_key is None:
        raise peer.refuse_kid(kid)
    claims = _parse_claims(verify_signed(token, signing_key))
    _check_claims(claims, peer, own_node_id, now, max_age_s, skew_s)
    raw = signed.encode() if isinstance(signed, str) else signed
    return OpenedEnvelope(claims=claims, sender=peer, digest=sha256_hex(raw))


def _parse_claims(claims: dict[str, Any]) -> EnvelopeClaims:
    seq = optional(claims, "envelope", "seq", int)
    return EnvelopeClaims(
        iss=required(claims, "envelope", "iss", str),
        aud=required(claims, "envelope", "aud", str),
        jti=required(claims, "envelope", "jti", str),
        iat=required(claims, "envelope", "iat", int),
        kind=required(claims, "envelope", "kind", str),
        body=required(claims, "envelope", "body", dict),
        ref=optional(claims, "envelope", "ref", str),
        seq=None if seq is None else positive(seq, "envelope", "seq"),
        ver=envelope_version(claims),
    )


def _check_claims(
    claims: EnvelopeClaims, peer: PinnedPeer, own_node_id: str, now: int, max_age_s: int, skew_s: int
) -> None:
    if claims.iss != peer.node_id:
        raise UnknownSender(
            _("envelope claims issuer {iss!r} but is signed by {node_id!r}").format(
                iss=claims.iss, node_id=peer.node_id
            )
        )
    if claims.aud != own_node_id:
        raise MalformedArtefact(
            _("envelope is addressed to {aud!r}, not to this node ({own_node_id})").format(
                aud=claims.aud, own_node_id=own_node_id
            )
        )
    age = now - claims.iat
    if age > max_age_s:
        raise StaleEnvelope(
            _("envelope was sealed {age} s ago; this node accepts at most {max_age_s} s").format(
                age=age, max_age_s=max_age_s
            )
        )
    if age < -skew_s:
        raise StaleEnvelope(
            _("envelope is dated {value} s in the future; allowed clock skew is {skew_s} s").format(
                value=-age, skew_s=skew_s
            )
        )
