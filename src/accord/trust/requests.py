"""Small signed requests between pinned peers (a start-up hello, a demand for a ledger proof): a compact JWS
from the node's signing key, addressed to one peer, fresh, verified against the pinned key."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from uuid6 import uuid7

from accord.crypto.errors import MalformedArtefact, StaleEnvelope, UnknownSender
from accord.crypto.signing import sign_claims, signed_kid, verify_claims
from accord.node import Node
from accord.trust.peers import PeerRecord, load_peers


@dataclass(frozen=True, slots=True)
class PeerRequest:
    peer: PeerRecord
    claims: dict[str, Any]


def sign_peer_request(node: Node, peer: PeerRecord, typ: str, **extra: Any) -> str:
    claims = {"iss": node.node_id, "aud": peer.node_id, "iat": int(time.time()), "jti": str(uuid7()), **extra}
    return sign_claims(claims, node.keys.signing, typ)


def verify_peer_request(node: Node, token: str, typ: str) -> PeerRequest:
    kid = signed_kid(token, typ)
    with node.engine.connect() as conn:
        peer = next((p for p in load_peers(node, conn) if p.pinned.keys.signing_fingerprint == kid), None)
    if peer is None:
        raise UnknownSender(f"no pinned peer has signing key {kid}")
    claims = verify_claims(token, peer.pinned.keys.signing)
    if claims.get("iss") != peer.node_id or claims.get("aud") != node.node_id:
        raise MalformedArtefact("the request names another issuer or audience")
    iat = claims.get("iat")
    if not isinstance(iat, int) or abs(time.time() - iat) > node.settings.max_envelope_age_s:
        raise StaleEnvelope("the request is not fresh")
    return PeerRequest(peer, claims)
