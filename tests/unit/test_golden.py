"""The golden artefacts (tests/data/golden, made by tests/golden.py): each verifies with nothing but the two pinned
test keys and carries exactly the claims and bytes written here. A failure means the wire format changed, and a peer
running the previous release would refuse or misread what this one sends; see tests/golden.py for when regenerating
them is allowed."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from joserfc import jwe

from accord.config import Settings
from accord.crypto.canonical import canonical_json, sha256_hex
from accord.crypto.descriptors import NodeDescriptor, sign_descriptor, verify_descriptor
from accord.crypto.envelope import EnvelopeClaims, OpenedEnvelope, PinnedPeer, open_envelope
from accord.crypto.errors import BadSignature, MalformedArtefact, StaleEnvelope
from accord.crypto.keys import NodeKeys
from accord.crypto.receipts import LedgerPosition, ReceiptClaims, sign_receipt, verify_receipt
from accord.domain.messages import Message
from accord.ledger.leaves import EventType, leaf_bytes, leaf_record
from accord.ledger.notes import CheckpointBody, parse_note, verify_checkpoint, verify_cosignature
from accord.ledger.tree import leaf_hash, verify_consistency, verify_inclusion
from tests.golden import (
    CA,
    CHECKPOINT,
    ENVELOPE,
    ENVELOPE_CLAIMS,
    IN,
    LEDGER_PROOFS,
    RECEIPT,
    descriptor_path,
    generate,
    load_keys,
    read_text,
)

# RFC 7638 thumbprints of the pinned test keys: what an operator compares out of band before pinning.
CA_SIGNING = "ueUYTBC4P9lSzE8BXUQfRjmn_7zjpqWKwL4ZoKrniJ0"
CA_ENCRYPTION = "CHGBf1361Vp1ApUA6oK2ZPxaDK4VivahtPmoopLCZgQ"
IN_SIGNING = "IjHcsKpnvJd0Z1kvMc69qTTtkbxQAAFTKT2pDGo34Kk"
IN_ENCRYPTION = "K4REa59BEIzQvb0pOmxzw9Rzvisx2gIY9V1lKBTiEEg"

SEALED_AT = 1_796_115_600  # 2026-12-01T09:00:00Z: the envelope's iat, the time it was made
MESSAGE_ID = "01a230d5-1280-7000-8000-000000000001"
ENVELOPE_DIGEST = "4b822d0c2bd4345bc6a237f494cd474f12f8d0a238011a8c9e0b940c51275377"
RECEIPT_LEAF_HASH = "3f6f2a1323afc3b665d722766a5dd87035a21713842de1edacdb06e9b263ba2b"
RECEIPT_TREE_ROOT = "e10420affa778f6b450a9c7978cfae3421e932fe04036633f6ca63c3769210b1"

ENVELOPE_HEADER = {"alg": "ECDH-ES", "enc": "A256GCM", "kid": IN_ENCRYPTION, "cty": "accord-envelope+jws"}
ENVELOPE_JWS_HEADER = b'{"alg":"Ed25519","kid":"' + CA_SIGNING.encode() + b'","typ":"accord-envelope+jws"}'
RECEIPT_JWS_HEADER = b'{"alg":"Ed25519","kid":"' + IN_SIGNING.encode() + b'","typ":"accord-receipt+jws"}'

RECEIPT_CLAIMS = {
    "typ": "delivery-receipt",
    "ref": MESSAGE_ID,
    "kind": "message",
    "jti": "01a230d5-1280-7000-8000-000000000003",
    "digest": ENVELOPE_DIGEST,
    "channel": "ca-node-1>in-node-1",
    "seq": 1,
    "sender": "ca-node-1",
    "receiver": "in-node-1",
    "received_at": "2026-12-01T09:00:01.250000+00:00",
    "ledger": {"index": 3, "leaf_hash": RECEIPT_LEAF_HASH, "tree_size": 4, "root": RECEIPT_TREE_ROOT},
}

CHECKPOINT_ROOT = "TUYQXr8nh2DTHXRso2F3HqUhzYoCkT5J4XT6r8loqSQ="
CHECKPOINT_NOTE = (
    "accord/in-node-1\n"
    "5\n"
    f"{CHECKPOINT_ROOT}\n"
    "time 1796115660\n"
    "\n"
    "— accord/in-node-1 bPrRqoRL7nhckudLQIlgnL1LxMfGPjKdvgAjq5v0oWVfpE/fGA2m8mmAvGAMRaoQBpueEhKF7C1R7bFMf7k/om/GmQk=\n"
    "— accord/ca-node-1 hsahqQAAAABrDozbkBJwq43JJt8LAB3WtC4DULGgwTfrJBp9wUDvjawulSkSuNzQNmzx+4eajvUy5UKYNXE//PIqW6eB"
    "USCeDc0cCg==\n"
)
COSIGNED_AT = 1_796_115_675


@cache
def ca_keys() -> NodeKeys:
    return load_keys(CA)


@cache
def in_keys() -> NodeKeys:
    return load_keys(IN)


def find_canada(kid: str) -> PinnedPeer | None:
    return PinnedPeer(CA, ca_keys().public) if kid == CA_SIGNING else None


# A node's default limits (not whatever the environment running the tests sets).
MAX_AGE_S = Settings.model_fields["max_envelope_age_s"].default
SKEW_S = Settings.model_fields["clock_skew_s"].default


def open_at_india(now: int) -> OpenedEnvelope:
    """With the production limits on age and clock skew; only `now` is the time the envelope was made."""
    return open_envelope(read_text(ENVELOPE), IN, in_keys(), find_canada, now, MAX_AGE_S, SKEW_S)


def unb64(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))


def jws_parts(token: str | bytes) -> tuple[bytes, bytes]:
    """The protected header and the payload of a compact JWS, as the bytes that were signed."""
    raw = token.encode() if isinstance(token, str) else token
    header, payload, _ = raw.split(b".")
    return unb64(header), unb64(payload)


def recorded_claims() -> dict[str, Any]:
    claims: dict[str, Any] = json.loads(read_text(ENVELOPE_CLAIMS))
    return claims


# --- the keys ---------------------------------------------------------------------------------------------------------


def test_the_pinned_test_keys_have_the_recorded_fingerprints() -> None:
    ca, india = ca_keys().public, in_keys().public
    assert (ca.signing_fingerprint, ca.encryption_fingerprint) == (CA_SIGNING, CA_ENCRYPTION)
    assert (india.signing_fingerprint, india.encryption_fingerprint) == (IN_SIGNING, IN_ENCRYPTION)


def test_the_generator_reproduces_every_golden_file_byte_for_byte() -> None:
    """Every artefact but the envelope is deterministic (Ed25519, seeded keys); the envelope is kept while it holds
    exactly what sealing would give now. So this fails as soon as anything the generator calls writes other bytes."""
    for path, text in generate().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is no longer what the code makes"


# --- the envelope -----------------------------------------------------------------------------------------------------


def test_the_golden_envelope_opens_at_india_at_the_time_it_was_sealed_to_the_recorded_claims() -> None:
    opened = open_at_india(now=SEALED_AT)

    assert opened.claims == EnvelopeClaims(
        iss="ca-node-1",
        aud="in-node-1",
        jti="01a230d5-1280-7000-8000-000000000003",
        iat=SEALED_AT,
        kind="message",
        body=recorded_claims()["body"],
        ref=MESSAGE_ID,
        seq=1,
    )
    assert opened.sender == PinnedPeer(CA, ca_keys().public)
    assert opened.digest == ENVELOPE_DIGEST == sha256_hex(read_text(ENVELOPE).encode())


def test_the_golden_envelope_is_a_jwe_to_indias_key_around_canadas_jws_of_the_canonical_claims() -> None:
    decrypted = jwe.decrypt_compact(read_text(ENVELOPE).encode(), in_keys().encryption)

    header = dict(decrypted.protected)
    ephemeral = header.pop("epk")
    assert header == ENVELOPE_HEADER
    assert (ephemeral["kty"], ephemeral["crv"]) == ("OKP", "X25519")
    assert decrypted.plaintext is not None
    signed_header, payload = jws_parts(decrypted.plaintext)
    assert signed_header == ENVELOPE_JWS_HEADER
    assert payload == ENVELOPE_CLAIMS.read_bytes().removesuffix(b"\n") == canonical_json(recorded_claims())
    assert {k: v for k, v in recorded_claims().items() if k != "body"} == {
        "iss": "ca-node-1",
        "aud": "in-node-1",
        "jti": "01a230d5-1280-7000-8000-000000000003",
        "iat": SEALED_AT,
        "kind": "message",
        "ref": MESSAGE_ID,
        "seq": 1,
    }


def test_the_golden_message_still_reads_as_it_was_sent() -> None:
    """A field may be added to messages, but none the golden one carries may change its name, type or value."""
    body = recorded_claims()["body"]
    message = Message.model_validate(body)
    dumped = message.model_dump(mode="json")
    assert {name: dumped[name] for name in body} == body
    assert (message.id, message.title) == (MESSAGE_ID, "Consignee of a 4-AP shipment")


def test_the_golden_envelope_is_stale_a_second_outside_the_freshness_window_and_today() -> None:
    """The production freshness check is intact: the envelope opens only around the time it was made."""
    open_at_india(now=SEALED_AT + MAX_AGE_S)
    for now in (SEALED_AT + MAX_AGE_S + 1, SEALED_AT - SKEW_S - 1, int(time.time())):
        with pytest.raises(StaleEnvelope):
            open_at_india(now=now)


# --- the receipt ------------------------------------------------------------------------------------------------------


def test_the_golden_receipt_verifies_with_indias_pinned_key_to_the_recorded_claims() -> None:
    receipt = verify_receipt(read_text(RECEIPT), in_keys().public, MESSAGE_ID)

    assert receipt == ReceiptClaims(
        ref=MESSAGE_ID,
        kind="message",
        jti="01a230d5-1280-7000-8000-000000000003",
        digest=ENVELOPE_DIGEST,
        channel="ca-node-1>in-node-1",
        seq=1,
        sender="ca-node-1",
        receiver="in-node-1",
        received_at=datetime(2026, 12, 1, 9, 0, 1, 250_000, tzinfo=UTC),
        ledger=LedgerPosition(
            index=3,
            leaf_hash=bytes.fromhex(RECEIPT_LEAF_HASH),
            tree_size=4,
            root=bytes.fromhex(RECEIPT_TREE_ROOT),
        ),
    )


def test_the_golden_receipt_is_indias_jws_over_exactly_the_canonical_receipt_claims() -> None:
    token = read_text(RECEIPT)
    assert jws_parts(token) == (RECEIPT_JWS_HEADER, canonical_json(RECEIPT_CLAIMS))
    assert sign_receipt(RECEIPT_CLAIMS, in_keys()) == token  # Ed25519 is deterministic: same claims, same bytes


def test_the_golden_receipt_is_refused_under_canadas_key_and_for_another_message() -> None:
    with pytest.raises(MalformedArtefact, match="not the peer's pinned key"):
        verify_receipt(read_text(RECEIPT), ca_keys().public, MESSAGE_ID)
    with pytest.raises(MalformedArtefact, match="receipt is for"):
        verify_receipt(read_text(RECEIPT), in_keys().public, "01a230d5-1280-7000-8000-0000000000ff")


def test_the_golden_receipt_names_the_golden_envelope_and_its_leaf_under_the_golden_checkpoint() -> None:
    """What a proof of receipt checks: the leaf rebuilt from the receipt, included in India's countersigned tree,
    which extends the tree head the receipt names."""
    receipt = verify_receipt(read_text(RECEIPT), in_keys().public, MESSAGE_ID)
    checkpoint = verify_checkpoint(read_text(CHECKPOINT), "accord/in-node-1", in_keys().signing)
    proofs = json.loads(read_text(LEDGER_PROOFS))
    refs = {"kind": receipt.kind, "peer": CA, "ref": receipt.ref, "seq": receipt.seq}
    record = leaf_record(3, receipt.received_at, EventType.ENVELOPE_RECEIVED.value, CA, refs, receipt.digest)

    assert receipt.digest == sha256_hex(read_text(ENVELOPE).encode())
    assert leaf_hash(leaf_bytes(record)) == receipt.ledger.leaf_hash
    inclusion, consistency = proofs["inclusion"], proofs["consistency"]
    assert (inclusion["index"], inclusion["tree_size"]) == (receipt.ledger.index, checkpoint.body.size)
    assert (consistency["from_size"], consistency["to_size"]) == (receipt.ledger.tree_size, checkpoint.body.size)
    verify_inclusion(
        receipt.ledger.leaf_hash,
        receipt.ledger.index,
        checkpoint.body.size,
        [bytes.fromhex(h) for h in inclusion["proof"]],
        checkpoint.body.root,
    )
    verify_consistency(
        receipt.ledger.tree_size,
        checkpoint.body.size,
        receipt.ledger.root,
        checkpoint.body.root,
        [bytes.fromhex(h) for h in consistency["proof"]],
    )


# --- the checkpoint ---------------------------------------------------------------------------------------------------


def test_the_golden_checkpoint_is_the_recorded_note_signed_by_india_and_countersigned_by_canada() -> None:
    note = read_text(CHECKPOINT)
    assert note == CHECKPOINT_NOTE

    checkpoint = verify_checkpoint(note, "accord/in-node-1", in_keys().signing)
    _, lines = parse_note(note)

    assert checkpoint.body == CheckpointBody("accord/in-node-1", 5, base64.b64decode(CHECKPOINT_ROOT), 1_796_115_660)
    assert checkpoint.signature_line == lines[0]
    assert verify_cosignature(checkpoint, lines[1], "accord/ca-node-1", ca_keys().signing) == COSIGNED_AT


def test_the_golden_checkpoint_is_refused_under_the_other_nodes_keys() -> None:
    note = read_text(CHECKPOINT)
    checkpoint = verify_checkpoint(note, "accord/in-node-1", in_keys().signing)
    _, lines = parse_note(note)
    with pytest.raises(BadSignature, match="not the pinned key"):
        verify_checkpoint(note, "accord/in-node-1", ca_keys().signing)
    with pytest.raises(BadSignature, match="not the pinned key"):
        verify_cosignature(checkpoint, lines[1], "accord/ca-node-1", in_keys().signing)


# --- the descriptors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node_id", "party", "fingerprint"), [(CA, "CA", CA_SIGNING), (IN, "IN", IN_SIGNING)], ids=["canada", "india"]
)
def test_each_golden_descriptor_verifies_to_the_recorded_node_and_its_pinned_keys(
    node_id: str, party: str, fingerprint: str
) -> None:
    keys = load_keys(node_id)
    token = read_text(descriptor_path(node_id))
    expected = NodeDescriptor(
        node_id=node_id,
        party=party,
        url=f"https://{node_id}.accord.example:8400",
        keys=keys.public,
        issued_at="2026-11-30T08:00:00+00:00",
    )

    descriptor = verify_descriptor(token)

    assert descriptor == expected
    assert descriptor.keys.signing_fingerprint == fingerprint
    header = b'{"alg":"Ed25519","kid":"' + fingerprint.encode() + b'","typ":"accord-node-descriptor+jws"}'
    assert jws_parts(token) == (header, canonical_json(expected.claims()))
    assert sign_descriptor(expected, keys) == token
