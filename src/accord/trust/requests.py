"""Small signed requests between pinned peers (a start-up hello, a checkpoint to countersign, a demand for a ledger
proof): a compact JWS from the node's signing key, addressed to one peer, fresh, verified against the pinned key
before the request is looked at."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from uuid6 import uuid7

from accord.crypto.errors import BadSignature
from accord.crypto.signing import sign_claims, signed_kid, verify_claims
from accord.errors import AuthenticationFailed
from accord.i18n import N_, _
from accord.logs import bind_caller
from accord.node import Node
from accord.trust.peers import PeerRecord, load_peers


class PeerNotAuthenticated(AuthenticationFailed):
    """The request is not a fresh one signed by a pinned peer and addressed to this node; `reason` says which."""

    slug = "peer-not-authenticated"
    title = N_("The request is not signed by a pinned peer, addressed to this node and fresh")

    def __init__(self, detail: str, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def extensions(self) -> dict[str, object]:
        return {"reason": self.reason}


@dataclass(frozen=True, slots=True)
class PeerRequest:
    peer: PeerRecord
    claims: dict[str, Any]


def sign_peer_request(node: Node, peer: PeerRecord, typ: str, **extra: Any) -> str:
    claims = {"iss": node.node_id, "aud": peer.node_id, "iat": int(time.time()), "jti": str(uuid7()), **extra}
    return sign_claims(claims, node.keys.signing, typ)


def verify_peer_request(node: Node, token: str, typ: str) -> PeerRequest:
    """The pinned peer that signed `token` and its claims.

    A token that is not a compact JWS of type `typ` is malformed (400); one not signed by a pinned key, naming another
    issuer or audience, or outside the freshness window is not authenticated (401). Nothing else of the request is
    read before this returns.
    """
    kid = signed_kid(token, typ)
    with node.engine.connect() as conn:
        peer = next((p for p in load_peers(node, conn) if kid in p.pinned.signing_fingerprints), None)
    if peer is None:
        raise PeerNotAuthenticated(_("no pinned peer has signing key {kid}").format(kid=kid), "unknown-sender")
    key = peer.pinned.signing_key(kid, datetime.now(UTC))
    if key is None:
        raise PeerNotAuthenticated(peer.pinned.refuse_kid(kid).detail, "retired-key")
    try:
        claims = verify_claims(token, key)
    except BadSignature as exc:
        raise PeerNotAuthenticated(exc.detail, "bad-signature") from exc
    if claims.get("iss") != peer.node_id:
        raise PeerNotAuthenticated(
            _("the request names issuer {get!r}, not {node_id}").format(get=claims.get("iss"), node_id=peer.node_id),
            "issuer",
        )
    if claims.get("aud") != node.node_id:
        raise PeerNotAuthenticated(
            _("the request is addressed to {get!r}, not {node_id}").format(get=claims.get("aud"), node_id=node.node_id),
            "audience",
        )
    iat = claims.get("iat")
    if type(iat) is not int or abs(time.time() - iat) > node.settings.max_envelope_age_s:
        raise PeerNotAuthenticated(
            _("the request is not fresh: signed more than {max_envelope_age_s} s from now").format(
                max_envelope_age_s=node.settings.max_envelope_age_s
            ),
            "stale",
        )
    bind_caller(f"peer:{peer.node_id}")
    return PeerRequest(peer, claims)
