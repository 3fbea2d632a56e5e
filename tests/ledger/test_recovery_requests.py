"""A recovery request (a restored node asking its peer what it lacks) re-queues envelopes, so it is authenticated
before anything in it is read: in process on both backends, with real keys, a stranger's, a forged, a misaddressed
or a stale request is refused and leaves nothing queued, logged or changed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import func, select
from uuid6 import uuid7

from accord.crypto.errors import MalformedArtefact
from accord.exchange.recovery import RECOVERY_TYP, answer_recovery
from accord.node import Node
from accord.store.tables import events, outbox
from accord.trust.requests import PeerNotAuthenticated
from tests.conftest import DatabaseFactory
from tests.integration.forgery import forge_signed_request, sign_request
from tests.ledger.pairs import open_pinned_nodes


@pytest.fixture
def pair(databases: DatabaseFactory, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """Canada (restored, asking) and India (answering), each pinning the other, open in this process."""
    ca, india = open_pinned_nodes(databases, tmp_path)
    yield ca, india
    ca.close()
    india.close()


def claims(ca: Node, india: Node, **overrides: Any) -> dict[str, Any]:
    """A recovery request's claims as Canada's node signs them, any overridden."""
    signed = {
        "iss": ca.node_id,
        "aud": india.node_id,
        "iat": int(time.time()),
        "jti": str(uuid7()),
        "holds_seq": 0,
        "sent_seq": 0,
    }
    return signed | overrides


def held(node: Node) -> tuple[int, int]:
    with node.engine.connect() as conn:
        return (
            int(conn.scalar(select(func.count()).select_from(outbox)) or 0),
            int(conn.scalar(select(func.count()).select_from(events)) or 0),
        )


def test_a_recovery_request_not_from_the_pinned_peer_is_refused_before_anything_is_read(
    pair: tuple[Node, Node],
) -> None:
    ca, india = pair
    stranger = OKPKey.generate_key("Ed25519")
    pinned_kid = ca.keys.public.signing_fingerprint
    before = held(india)
    refusals = {
        "unknown-sender": sign_request(claims(ca, india), stranger, RECOVERY_TYP),
        "bad-signature": forge_signed_request(claims(ca, india), stranger, pinned_kid, RECOVERY_TYP),
        "audience": sign_request(claims(ca, india, aud="in-node-9"), ca.keys.signing, RECOVERY_TYP),
        "issuer": sign_request(claims(ca, india, iss="xx-node-9"), ca.keys.signing, RECOVERY_TYP),
        "stale": sign_request(claims(ca, india, iat=int(time.time()) - 3600), ca.keys.signing, RECOVERY_TYP),
    }
    for reason, token in refusals.items():
        with pytest.raises(PeerNotAuthenticated) as refused:
            answer_recovery(india, token)
        assert (refused.value.status, refused.value.reason) == (401, reason)
    with pytest.raises(MalformedArtefact):
        answer_recovery(india, "not a token")
    assert held(india) == before, "a refused recovery request queued or logged something"


def test_a_recovery_request_from_the_peer_in_the_wrong_shape_is_malformed_and_changes_nothing(
    pair: tuple[Node, Node],
) -> None:
    ca, india = pair
    before = held(india)
    for wrong in ({"holds_seq": -1}, {"holds_seq": True}, {"sent_seq": "3"}, {"sent_seq": 1.5}, {"holds_seq": None}):
        with pytest.raises(MalformedArtefact):
            answer_recovery(india, sign_request(claims(ca, india, **wrong), ca.keys.signing, RECOVERY_TYP))
    checkpoint_typ = sign_request(claims(ca, india), ca.keys.signing)  # a genuine request of another kind
    with pytest.raises(MalformedArtefact):
        answer_recovery(india, checkpoint_typ)
    assert held(india) == before
