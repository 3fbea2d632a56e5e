"""Signed node descriptors: what two operators exchange once to pin each other's keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord.crypto._claims import required
from accord.crypto.errors import MalformedArtefact
from accord.crypto.keys import NodeKeys, PublicKeys
from accord.crypto.signing import sign_claims, signed_kid, unverified_claims, verify_claims
from accord.crypto.versions import VERSIONS_CLAIM, WireVersions, read_versions
from accord.i18n import _

DESCRIPTOR_TYP = "accord-node-descriptor+jws"


@dataclass(frozen=True, slots=True)
class NodeDescriptor:
    node_id: str
    party: str
    url: str
    keys: PublicKeys
    issued_at: str
    versions: WireVersions | None = None  # the wire versions the node speaks; a descriptor without them is older

    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "node_id": self.node_id,
            "party": self.party,
            "url": self.url,
            "keys": self.keys.as_jwks(),
            "issued_at": self.issued_at,
        }
        if self.versions is not None:
            claims[VERSIONS_CLAIM] = self.versions.claim()
        return claims


def sign_descriptor(descriptor: NodeDescriptor, keys: NodeKeys) -> str:
    if keys.public.signing_fingerprint != descriptor.keys.signing_fingerprint:
        raise MalformedArtefact(_("a descriptor must be signed by the key it describes"))
    return sign_claims(descriptor.claims(), keys.signing, DESCRIPTOR_TYP)


def verify_descriptor(token: str) -> NodeDescriptor:
    """Verify a self-signed descriptor; pinning it is the operator's out-of-band decision."""
    token = token.strip()
    kid = signed_kid(token, DESCRIPTOR_TYP)
    keys = PublicKeys.from_jwks(unverified_claims(token).get("keys", {}))
    if keys.signing_fingerprint != kid:
        raise MalformedArtefact(
            _(
                "descriptor key id does not match the signing key it carries: signed under {kid}, "
                "carries {signing_fingerprint}"
            ).format(kid=kid, signing_fingerprint=keys.signing_fingerprint)
        )
    claims = verify_claims(token, keys.signing)
    return NodeDescriptor(
        node_id=required(claims, "descriptor", "node_id", str),
        party=required(claims, "descriptor", "party", str),
        url=required(claims, "descriptor", "url", str),
        keys=keys,
        issued_at=required(claims, "descriptor", "issued_at", str),
        versions=read_versions(claims, "descriptor"),
    )
