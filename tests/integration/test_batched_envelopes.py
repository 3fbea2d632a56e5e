"""Envelope version 2 between two running nodes: one JWE around a batch of envelopes each signed on its own, one
receipt signed for the batch, and for each message the inclusion of its ledger leaf under the receipt's root."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from accord.crypto.envelope import seal_batch, sign_envelope
from accord.crypto.errors import MalformedArtefact
from accord.crypto.receipts import verify_batch_receipt
from accord.ledger.batch_receipts import is_delivery_proof, verify_delivery_receipt
from accord.ledger.errors import ProofFailed
from accord.store.tables import inbound_envelopes, messages
from tests.integration.forgery import claims_for, message, post_batch
from tests.integration.nodes import RunningNode, draft, wait_for


def v2_claims(count: int) -> list[dict[str, Any]]:
    return [claims_for(message(), ver=2) for _ in range(count)]


def post_v2(ca: RunningNode, india: RunningNode, signed: list[str]) -> tuple[str, Any]:
    sealed = seal_batch(signed, india.keys.public)
    return sealed, post_batch(india.url, {"batch": sealed}, ca.keys.signing)


def stored_refs(node: RunningNode, refs: list[str]) -> set[str]:
    with node.engine.connect() as conn:
        return set(conn.scalars(select(inbound_envelopes.c.ref_id).where(inbound_envelopes.c.ref_id.in_(refs))))


def tamper_payload(signed: str) -> str:
    """Rewrite the JWS payload's body, keeping the signature: what a sender's bug or a forger inside a batch makes."""
    header, payload, signature = signed.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["body"]["title"] = "Rewritten after signing"
    rewritten = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join([header, rewritten, signature])


def test_a_version_2_batch_is_stored_with_one_receipt_and_each_message_is_proven_on_its_own(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, india = shared_pair
    claims = v2_claims(3)
    sealed, answer = post_v2(ca, india, [sign_envelope(c, ca.keys) for c in claims])
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["ref"], r["outcome"]) for r in results] == [(c["ref"], "accepted") for c in claims]
    proofs = [r["receipt"] for r in results]
    assert all(is_delivery_proof(p) for p in proofs)
    # One signature for the batch: every proof carries the same receipt, which names the sealed batch.
    [receipt] = {json.loads(p)["receipt"] for p in proofs}
    batch = verify_batch_receipt(receipt, india.keys.public)
    assert (batch.count, batch.digest) == (3, hashlib.sha256(sealed.encode()).hexdigest())
    for c, proof in zip(claims, proofs, strict=True):
        proven = verify_delivery_receipt(proof, india.keys.public, c["ref"])
        assert (proven.ref, proven.jti, proven.seq, proven.sender) == (c["ref"], c["jti"], c["seq"], "ca-node-1")
    assert stored_refs(india, [c["ref"] for c in claims]) == {c["ref"] for c in claims}
    # A message's proof proves that message only: not another one, nor with its path altered.
    with pytest.raises(MalformedArtefact):
        verify_delivery_receipt(proofs[0], india.keys.public, claims[1]["ref"])
    altered = json.loads(proofs[0])
    altered["path"][0] = "00" * 32
    with pytest.raises(ProofFailed):
        verify_delivery_receipt(json.dumps(altered), india.keys.public, claims[0]["ref"])


def test_a_tampered_message_inside_a_batch_is_refused_alone_and_the_others_are_stored(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, india = shared_pair
    claims = v2_claims(3)
    signed = [sign_envelope(c, ca.keys) for c in claims]
    signed[1] = tamper_payload(signed[1])
    _, answer = post_v2(ca, india, signed)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["outcome"] for r in results] == ["accepted", "refused", "accepted"]
    assert results[1]["problem"]["type"] == "urn:accord:problem:bad-signature"
    assert stored_refs(india, [c["ref"] for c in claims]) == {claims[0]["ref"], claims[2]["ref"]}
    for index in (0, 2):
        verify_delivery_receipt(results[index]["receipt"], india.keys.public, claims[index]["ref"])
    assert verify_batch_receipt(json.loads(results[0]["receipt"])["receipt"], india.keys.public).count == 2


def test_a_replayed_batch_is_refused_and_nothing_more_is_stored(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, india = shared_pair
    claims = v2_claims(2)
    sealed, first = post_v2(ca, india, [sign_envelope(c, ca.keys) for c in claims])
    assert first.status_code == 200, first.text
    with india.engine.connect() as conn:
        before = conn.scalar(select(func.count()).select_from(inbound_envelopes))
    replay = post_batch(india.url, {"batch": sealed}, ca.keys.signing)
    assert replay.status_code == 409, replay.text
    assert replay.json()["type"] == "urn:accord:problem:replayed-envelope"
    assert [r["outcome"] for r in replay.json()["results"]] == ["refused", "refused"]
    with india.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(inbound_envelopes)) == before


def test_an_envelope_of_version_1_inside_a_batch_is_refused(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, india = shared_pair
    old = claims_for(message())  # no `ver`: version 1, which travels alone in its own JWE
    _, answer = post_v2(ca, india, [sign_envelope(old, ca.keys)])
    assert answer.status_code == 422, answer.text
    assert "cannot travel in a batch" in answer.json()["results"][0]["problem"]["detail"]
    assert stored_refs(india, [old["ref"]]) == set()


def test_a_batch_that_does_not_decrypt_is_refused_as_a_whole(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, india = shared_pair
    sealed = seal_batch([sign_envelope(v2_claims(1)[0], ca.keys)], ca.keys.public)  # sealed to the wrong node
    answer = post_batch(india.url, {"batch": sealed}, ca.keys.signing)
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == "urn:accord:problem:undecryptable-envelope"


def test_messages_between_nodes_of_this_release_travel_in_version_2_and_the_sender_keeps_each_ones_proof(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, india = shared_pair
    with ca.client("ca.rcmp") as rcmp:
        created = rcmp.post("/api/v1/messages/batch", json={"messages": [draft(title=f"Batch {n}") for n in range(3)]})
        assert created.status_code == 201, created.text
    ids = [m["id"] for m in created.json()["messages"]]

    def receipts() -> list[str] | None:
        with ca.engine.connect() as conn:
            kept = dict(conn.execute(select(messages.c.id, messages.c.receipt).where(messages.c.id.in_(ids))).all())
        return [kept[i] for i in ids] if all(kept.get(i) for i in ids) else None

    kept = wait_for(receipts)
    assert all(is_delivery_proof(r) for r in kept)
    for message_id, proof in zip(ids, kept, strict=True):
        assert verify_delivery_receipt(proof, india.keys.public, message_id).ref == message_id
