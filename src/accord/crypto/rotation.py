"""Key rotation statements: a node's signed word that one of its keys (signing or encryption) is replaced.

A statement is a compact JWS (`accord-key-rotation+jws`) signed by the node's signing key *as the peer pinned it*:
for a signing rotation that is the old signing key, for an encryption rotation the unchanged signing key. It names
the node, the role of the key, the old and the new public key (JWK, with RFC 7638 fingerprints), when it was issued
and when the overlap ends: until then the peer accepts either key, after it only the new one. An emergency
statement (the old key is compromised) has no overlap, and proves nothing by its signature: the peer applies it only
after its operator compared the new fingerprint with the rotating operator's, out of band.

A statement is verified against the key the verifier already trusts (the peer's pinned key, an auditor's trust
anchor, the previous statement's new key) and never against a key it carries; `verify_rotation` is the whole check,
so the peer's inbox and the offline verifier read a statement the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc.jwk import OKPKey

from accord.crypto._claims import required, utc_time
from accord.crypto.errors import BadSignature, MalformedArtefact, VerificationFailed
from accord.crypto.keys import KeyRole, PublicKeys
from accord.crypto.signing import sign_claims, signed_kid, verify_claims
from accord.i18n import N_, _

ROTATION_TYP = "accord-key-rotation+jws"
ROTATION_CLAIM_TYP = "key-rotation"
DEFAULT_OVERLAP = timedelta(days=7)
MAX_OVERLAP = timedelta(days=90)
ARTEFACT = "key rotation"


class RotationRefused(VerificationFailed):
    """A rotation statement that must not be applied: not by the key in force, a replay, or a non-rotation."""

    status = 409
    slug = "rotation-refused"
    title = N_("The key rotation statement is not applicable")


@dataclass(frozen=True, slots=True)
class RotationStatement:
    """What the rotating node signed, typed."""

    node_id: str
    aud: str  # the peer it is addressed to
    role: KeyRole
    old_key: OKPKey
    new_key: OKPKey
    issued_at: datetime
    overlap_until: datetime  # equal to issued_at for an emergency rotation
    emergency: bool

    @property
    def old_fingerprint(self) -> str:
        return str(self.old_key.thumbprint())

    @property
    def new_fingerprint(self) -> str:
        return str(self.new_key.thumbprint())

    def claims(self) -> dict[str, Any]:
        return {
            "typ": ROTATION_CLAIM_TYP,
            "node_id": self.node_id,
            "aud": self.aud,
            "key": self.role.value,
            "old": {"fingerprint": self.old_fingerprint, "jwk": self.old_key.as_dict(private=False)},
            "new": {"fingerprint": self.new_fingerprint, "jwk": self.new_key.as_dict(private=False)},
            "issued_at": self.issued_at.isoformat(),
            "overlap_until": self.overlap_until.isoformat(),
            "emergency": self.emergency,
        }


def sign_rotation(statement: RotationStatement, signing_key: OKPKey) -> str:
    """Sign with the signing key the peer has pinned (for a signing rotation, the old key)."""
    return sign_claims(statement.claims(), signing_key, ROTATION_TYP)


def rotation_signer(token: str) -> str:
    """The fingerprint of the key a statement says it is signed with, to find the trusted key to verify it with."""
    return signed_kid(token.strip(), ROTATION_TYP)


def verify_rotation(token: str, in_force: PublicKeys) -> RotationStatement:
    """Verify a statement with the signing key the verifier trusts for that node (`in_force`: the keys pinned or
    reached by earlier statements, never the ones it carries), and check that it replaces the key of its role in
    force by another one; raises one precise error on the first failure."""
    token = token.strip()
    kid = rotation_signer(token)
    trusted = in_force.signing_fingerprint
    if kid != trusted:
        raise BadSignature(
            _("the key rotation statement is signed by key {kid}, not by the key in force {trusted}").format(
                kid=kid, trusted=trusted
            )
        )
    statement = _parse(verify_claims(token, in_force.signing))
    current = in_force.signing if statement.role is KeyRole.SIGNING else in_force.encryption
    if statement.old_fingerprint != str(current.thumbprint()):
        raise RotationRefused(
            _(
                "the statement replaces {role} key {old}, but the key in force is {current}: an old statement "
                "replayed, or one for another key"
            ).format(role=statement.role, old=statement.old_fingerprint, current=current.thumbprint())
        )
    if statement.new_fingerprint == statement.old_fingerprint:
        raise RotationRefused(
            _("the statement's new {role} key is its old key {old}: nothing to rotate").format(
                role=statement.role, old=statement.old_fingerprint
            )
        )
    return statement


def _parse(claims: dict[str, Any]) -> RotationStatement:
    typ = required(claims, ARTEFACT, "typ", str)
    if typ != ROTATION_CLAIM_TYP:
        raise MalformedArtefact(
            _("key rotation claim 'typ' is {typ!r}, expected {expected!r}").format(
                typ=typ[:80], expected=ROTATION_CLAIM_TYP
            )
        )
    role_name = required(claims, ARTEFACT, "key", str)
    try:
        role = KeyRole(role_name)
    except ValueError as exc:
        raise MalformedArtefact(
            _("key rotation claim 'key' is {role!r}, expected 'signing' or 'encryption'").format(role=role_name[:40])
        ) from exc
    issued_at = utc_time(required(claims, ARTEFACT, "issued_at", str), ARTEFACT, "issued_at")
    overlap_until = utc_time(required(claims, ARTEFACT, "overlap_until", str), ARTEFACT, "overlap_until")
    emergency = required(claims, ARTEFACT, "emergency", bool)
    if not issued_at <= overlap_until <= issued_at + MAX_OVERLAP or (emergency and overlap_until != issued_at):
        raise MalformedArtefact(
            _(
                "key rotation overlap ends {overlap_until}, expected between its issue ({issued_at}) and {days} days "
                "after (at its issue for an emergency rotation)"
            ).format(overlap_until=overlap_until.isoformat(), issued_at=issued_at.isoformat(), days=MAX_OVERLAP.days)
        )
    return RotationStatement(
        node_id=required(claims, ARTEFACT, "node_id", str),
        aud=required(claims, ARTEFACT, "aud", str),
        role=role,
        old_key=_public_key(claims, "old", role),
        new_key=_public_key(claims, "new", role),
        issued_at=issued_at,
        overlap_until=overlap_until,
        emergency=emergency,
    )


def _public_key(claims: dict[str, Any], name: str, role: KeyRole) -> OKPKey:
    entry = required(claims, ARTEFACT, name, dict)
    fingerprint = required(entry, f"{ARTEFACT} {name!r}", "fingerprint", str)
    try:
        key = OKPKey.import_key(required(entry, f"{ARTEFACT} {name!r}", "jwk", dict))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedArtefact(
            _("key rotation claim '{name}.jwk' is not an OKP JWK: {exc}").format(name=name, exc=exc)
        ) from exc
    if key.is_private:
        raise MalformedArtefact(_("a key rotation statement must never carry a private key"))
    if key.curve_name != role.curve:
        raise MalformedArtefact(
            _("the {name} {role} key is {curve}, expected {expected}").format(
                name=name, role=role, curve=key.curve_name, expected=role.curve
            )
        )
    if fingerprint != key.thumbprint():
        raise MalformedArtefact(
            _("key rotation claim '{name}.fingerprint' is {fingerprint!r}, but its JWK's thumbprint is {thumb}").format(
                name=name, fingerprint=fingerprint, thumb=key.thumbprint()
            )
        )
    return key
