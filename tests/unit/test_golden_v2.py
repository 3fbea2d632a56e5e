"""The golden artefacts of envelope version 2 (tests/data/golden, made by tests/golden.py): a batch of two messages
in one JWE, each signed on its own, and the first message's proof of delivery, verified with nothing but the pinned
test keys. A failure means the version-2 wire format changed; see tests/golden.py for when regenerating is allowed."""

from __future__ import annotations

import json

import pytest

from accord.crypto.canonical import sha256_hex
from accord.crypto.envelope import BATCH_CTY, PinnedPeer, open_batch, verify_envelope
from accord.crypto.errors import MalformedArtefact
from accord.crypto.receipts import verify_batch_receipt
from accord.ledger.batch_receipts import verify_delivery_receipt
from accord.ledger.errors import ProofFailed
from tests.golden import BATCH, BATCH_CLAIMS, CA, DELIVERY_PROOF, IN, RECEIPT_LEAF, generate, load_keys, read_text

SEALED_AT = 1_796_115_600
MESSAGE_ID = "01a230d5-1280-7000-8000-000000000001"
SECOND_MESSAGE_ID = "01a230d5-1280-7000-8000-000000000004"
BATCH_ROOT = "4e7799f9ef0a259ba144f92f8ede1213a4b77900a3e3d2b3db9d6716721fc9ca"
FIRST_DIGEST = "99eb25d85f4f3a70dacceb01266d513712202f9a443822523642d9c8fe373dbd"


def ca_peer() -> PinnedPeer:
    return PinnedPeer(CA, load_keys(CA).public)


def test_the_golden_batch_opens_with_indias_key_into_two_envelopes_each_verified_with_canadas_pinned_key() -> None:
    signed = open_batch(read_text(BATCH), load_keys(IN))
    expected = json.loads(BATCH_CLAIMS.read_text(encoding="utf-8"))
    opened = [verify_envelope(s, IN, lambda kid: ca_peer(), SEALED_AT, 600, 60) for s in signed]
    assert [o.claims.ref for o in opened] == [MESSAGE_ID, SECOND_MESSAGE_ID]
    assert [o.claims.ver for o in opened] == [2, 2]
    assert [o.claims.body for o in opened] == [c["body"] for c in expected]
    assert opened[0].digest == FIRST_DIGEST == sha256_hex(signed[0].encode())
    assert BATCH_CTY == "accord-envelope-batch+json"


def test_the_golden_delivery_proof_proves_the_first_message_with_one_batch_receipt() -> None:
    proof = read_text(DELIVERY_PROOF)
    proven = verify_delivery_receipt(proof, load_keys(IN).public, MESSAGE_ID)
    assert (proven.ref, proven.seq, proven.digest, proven.sender, proven.receiver) == (
        MESSAGE_ID,
        1,
        FIRST_DIGEST,
        CA,
        IN,
    )
    assert proven.ledger.index == RECEIPT_LEAF and proven.ledger.tree_size == RECEIPT_LEAF + 2
    batch = verify_batch_receipt(json.loads(proof)["receipt"], load_keys(IN).public)
    assert (batch.count, batch.root.hex()) == (2, BATCH_ROOT)
    assert batch.digest == sha256_hex(read_text(BATCH).encode())


def test_the_golden_delivery_proof_proves_nothing_else() -> None:
    proof = json.loads(read_text(DELIVERY_PROOF))
    with pytest.raises(MalformedArtefact):
        verify_delivery_receipt(json.dumps(proof), load_keys(IN).public, SECOND_MESSAGE_ID)
    with pytest.raises(MalformedArtefact):  # signed by India, not Canada
        verify_delivery_receipt(json.dumps(proof), load_keys(CA).public, MESSAGE_ID)
    proof["envelope"]["jti"] = "01a230d5-1280-7000-8000-0000000000ff"  # the leaf names the envelope's id
    with pytest.raises(MalformedArtefact):
        verify_delivery_receipt(json.dumps(proof), load_keys(IN).public, MESSAGE_ID)
    proof["envelope"]["refs"]["jti"] = proof["envelope"]["jti"]  # and the leaf rebuilt with it is not the one signed
    with pytest.raises(ProofFailed):
        verify_delivery_receipt(json.dumps(proof), load_keys(IN).public, MESSAGE_ID)
    proof = json.loads(read_text(DELIVERY_PROOF))
    proof["envelope"]["digest"] = "00" * 32  # another envelope under the same leaf position
    with pytest.raises(ProofFailed):
        verify_delivery_receipt(json.dumps(proof), load_keys(IN).public, MESSAGE_ID)


def test_regenerating_reproduces_the_golden_version_2_files_byte_for_byte() -> None:
    made = generate()
    for path in (BATCH, BATCH_CLAIMS, DELIVERY_PROOF):
        assert made[path] == path.read_text(encoding="utf-8"), path.name
