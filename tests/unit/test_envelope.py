"""Envelopes, receipts and node descriptors (src/accord/crypto), without a node or a database."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwe, jws
from joserfc.jwk import OKPKey

from accord.crypto.canonical import canonical_json, sha256_hex
from accord.crypto.descriptors import NodeDescriptor, sign_descriptor, verify_descriptor
from accord.crypto.envelope import (
    CONTENT_ENC,
    ENVELOPE_TYP,
    KEY_ALG,
    EnvelopeClaims,
    OpenedEnvelope,
    PinnedPeer,
    open_envelope,
    seal_envelope,
)
from accord.crypto.errors import (
    BadSignature,
    MalformedArtefact,
    StaleEnvelope,
    UndecryptableEnvelope,
    UnknownSender,
    VerificationFailed,
)
from accord.crypto.keys import NodeKeys, PublicKeys
from accord.crypto.receipts import RECEIPT_TYP, LedgerPosition, ReceiptClaims, sign_receipt, verify_receipt
from accord.crypto.signing import SIGNING_ALG, sign_claims

CA, IN = "ca-node-1", "in-node-1"
MAX_AGE_S, SKEW_S = 300, 60

# Key generation is the slow part; these are fixed for the module and never written to disk.
CA_KEYS = NodeKeys.generate()
IN_KEYS = NodeKeys.generate()
STRANGER_KEYS = NodeKeys.generate()


def claims(**overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "iss": CA,
        "aud": IN,
        "jti": "01a207c0-0000-7000-8000-000000000001",
        "iat": int(time.time()),
        "kind": "message",
        "ref": "01a207c0-0000-7000-8000-0000000000aa",
        "seq": 7,
        "body": {"title": "Consignee of a 4-AP shipment", "body": "Please confirm the consignee.", "n": [1, 2]},
    }
    value.update(overrides)
    return value


def find_canada(kid: str) -> PinnedPeer | None:
    return PinnedPeer(CA, CA_KEYS.public) if kid == CA_KEYS.public.signing_fingerprint else None


def open_at_india(token: str, now: int | None = None) -> OpenedEnvelope:
    return open_envelope(token, IN, IN_KEYS, find_canada, int(time.time()) if now is None else now, MAX_AGE_S, SKEW_S)


def encrypt_to_india(signed: str | bytes, header: dict[str, Any] | None = None) -> str:
    protected = header or {"alg": KEY_ALG, "enc": CONTENT_ENC, "kid": IN_KEYS.public.encryption_fingerprint}
    algorithms = [protected["alg"], protected["enc"]]
    return jwe.encrypt_compact(protected, signed, IN_KEYS.public.encryption, algorithms=algorithms)


def sign_raw(payload: bytes, key: OKPKey, header: dict[str, Any]) -> str:
    return jws.serialize_compact(header, payload, key, algorithms=[header["alg"]])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- round trip ------------------------------------------------------------------------------------------------------


def test_a_sealed_envelope_opens_to_the_same_claims_naming_its_sender_and_digest() -> None:
    sent = claims()
    token = seal_envelope(sent, CA_KEYS, IN_KEYS.public)

    opened = open_at_india(token)

    assert opened.claims == EnvelopeClaims(**sent)
    assert opened.sender == PinnedPeer(CA, CA_KEYS.public)
    assert (opened.jti, opened.kind, opened.body) == (sent["jti"], "message", sent["body"])
    assert opened.digest == sha256_hex(token.encode())


def test_a_sealed_envelope_is_a_compact_jwe_whose_plaintext_is_not_visible() -> None:
    token = seal_envelope(claims(body={"secret": "fentanyl precursor consignee"}), CA_KEYS, IN_KEYS.public)
    parts = token.split(".")
    assert len(parts) == 5
    header = json.loads(unb64(parts[0]))
    assert header["alg"] == "ECDH-ES" and header["enc"] == "A256GCM"
    assert header["kid"] == IN_KEYS.public.encryption_fingerprint
    assert b"fentanyl" not in token.encode() and b"fentanyl" not in b"".join(unb64(p) for p in parts)


def test_sealing_the_same_claims_twice_gives_different_tokens() -> None:
    sent = claims()
    assert seal_envelope(sent, CA_KEYS, IN_KEYS.public) != seal_envelope(sent, CA_KEYS, IN_KEYS.public)


def test_an_envelope_with_a_body_at_the_inbox_limit_opens() -> None:
    """64 KiB of text that JSON must escape is far larger on the wire; the crypto layer must not cap it."""
    sent = claims(body={"body": "\u0001" * (64 * 1024), "title": "x" * 300})
    token = seal_envelope(sent, CA_KEYS, IN_KEYS.public)
    assert len(token) > 256 * 1024
    assert open_at_india(token).claims == EnvelopeClaims(**sent)


def test_an_opened_envelope_and_its_claims_are_frozen() -> None:
    opened = open_at_india(seal_envelope(claims(), CA_KEYS, IN_KEYS.public))
    with pytest.raises(dataclasses.FrozenInstanceError):
        opened.claims = dataclasses.replace(opened.claims, seq=8)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        opened.claims.seq = 8  # type: ignore[misc]


def test_an_attachment_envelope_opens_without_a_sequence_number() -> None:
    sent = claims(kind="blob")
    del sent["seq"]
    opened = open_at_india(seal_envelope(sent, CA_KEYS, IN_KEYS.public))
    assert (opened.claims.seq, opened.claims.ref) == (None, sent["ref"])


# --- each verification failure, precisely ----------------------------------------------------------------------------


def test_an_envelope_sealed_to_another_node_is_undecryptable() -> None:
    token = seal_envelope(claims(), CA_KEYS, STRANGER_KEYS.public)
    with pytest.raises(UndecryptableEnvelope):
        open_at_india(token)


@pytest.mark.parametrize("token", ["", "not-a-jwe", "a.b.c.d.e", "....", "\ud800.a.b.c.d"])
def test_something_that_is_not_a_jwe_is_undecryptable(token: str) -> None:
    with pytest.raises(UndecryptableEnvelope):
        open_at_india(token)


def test_a_jwe_with_another_content_encryption_is_undecryptable() -> None:
    signed = sign_claims(claims(), CA_KEYS.signing, ENVELOPE_TYP)
    token = encrypt_to_india(signed, {"alg": KEY_ALG, "enc": "A128GCM"})
    with pytest.raises(UndecryptableEnvelope):
        open_at_india(token)


def test_an_envelope_signed_by_an_unpinned_key_names_an_unknown_sender() -> None:
    token = seal_envelope(claims(), STRANGER_KEYS, IN_KEYS.public)
    with pytest.raises(UnknownSender, match="no pinned peer"):
        open_at_india(token)


def test_a_signature_by_another_key_under_the_pinned_key_id_is_a_bad_signature() -> None:
    header = {"alg": SIGNING_ALG, "kid": CA_KEYS.public.signing_fingerprint, "typ": ENVELOPE_TYP}
    forged = sign_raw(canonical_json(claims()), STRANGER_KEYS.signing, header)
    with pytest.raises(BadSignature):
        open_at_india(encrypt_to_india(forged))


def test_claims_swapped_under_a_genuine_signature_are_a_bad_signature() -> None:
    header_b64, _, signature = sign_claims(claims(), CA_KEYS.signing, ENVELOPE_TYP).split(".")
    swapped = f"{header_b64}.{b64(canonical_json(claims(seq=8)))}.{signature}"
    with pytest.raises(BadSignature):
        open_at_india(encrypt_to_india(swapped))


def test_a_pinned_key_claiming_another_issuer_names_an_unknown_sender() -> None:
    token = seal_envelope(claims(iss="xx-node-9"), CA_KEYS, IN_KEYS.public)
    with pytest.raises(UnknownSender, match="claims issuer"):
        open_at_india(token)


def test_an_envelope_for_another_audience_is_malformed() -> None:
    token = seal_envelope(claims(aud="in-node-2"), CA_KEYS, IN_KEYS.public)
    with pytest.raises(MalformedArtefact, match="addressed to"):
        open_at_india(token)


@pytest.mark.parametrize(
    "change",
    [
        {"iat": "1700000000"},
        {"iat": 1.5},
        {"body": "text"},
        {"jti": 7},
        {"kind": None},
    ],
    ids=["iat-string", "iat-float", "body-string", "jti-number", "kind-null"],
)
def test_an_envelope_with_a_claim_of_the_wrong_type_is_malformed(change: dict[str, Any]) -> None:
    token = seal_envelope(claims(**change), CA_KEYS, IN_KEYS.public)
    with pytest.raises(MalformedArtefact, match="claim"):
        open_at_india(token)


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"iat": True}, "envelope claim 'iat' is a boolean, expected an integer"),
        ({"ref": 7}, "envelope claim 'ref' is an integer, expected a string"),
        ({"seq": "7"}, "envelope claim 'seq' is a string, expected an integer"),
        ({"seq": 0}, "envelope claim 'seq' is 0, expected a positive integer"),
        ({"body": ["a"]}, "envelope claim 'body' is an array, expected an object"),
    ],
    ids=["iat-boolean", "ref-number", "seq-string", "seq-zero", "body-array"],
)
def test_a_claim_of_the_wrong_type_is_named_with_what_it_is_and_what_it_must_be(
    change: dict[str, Any], detail: str
) -> None:
    token = seal_envelope(claims(**change), CA_KEYS, IN_KEYS.public)
    with pytest.raises(MalformedArtefact) as caught:
        open_at_india(token)
    assert caught.value.detail == detail


@pytest.mark.parametrize("missing", ["iss", "aud", "jti", "iat", "kind", "body"])
def test_an_envelope_missing_a_required_claim_is_malformed(missing: str) -> None:
    sent = claims()
    del sent[missing]
    with pytest.raises(MalformedArtefact, match=missing):
        open_at_india(seal_envelope(sent, CA_KEYS, IN_KEYS.public))


@pytest.mark.parametrize(
    ("age_s", "accepted"),
    [(MAX_AGE_S, True), (MAX_AGE_S + 1, False), (-SKEW_S, True), (-SKEW_S - 1, False), (3600, False), (-3600, False)],
    ids=["oldest-accepted", "just-too-old", "furthest-ahead-accepted", "just-too-far-ahead", "hour-old", "hour-ahead"],
)
def test_freshness_is_checked_against_the_age_and_skew_limits(age_s: int, accepted: bool) -> None:
    now = 1_800_000_000
    token = seal_envelope(claims(iat=now - age_s), CA_KEYS, IN_KEYS.public)
    if accepted:
        assert open_at_india(token, now).claims.iat == now - age_s
    else:
        with pytest.raises(StaleEnvelope):
            open_at_india(token, now)


def _with_jwe_header(token: str, change: Any) -> str:
    header_b64, *rest = token.split(".")
    header = json.loads(unb64(header_b64))
    change(header)
    return ".".join([b64(json.dumps(header).encode()), *rest])


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h["epk"].update(crv="X25529"),
        lambda h: h["epk"].update(crv="P-256"),
        lambda h: h["epk"].update(kty="RSA"),
        lambda h: h["epk"].pop("x"),
        lambda h: h.update(epk="not-a-key"),
        lambda h: h.update(enc=["A256GCM"]),
        lambda h: h.update(alg="dir"),
        lambda h: h.update(zip="DEF"),
        lambda h: h.update(crit=[1]),
    ],
    ids=["unknown-curve", "nist-curve", "rsa-kty", "no-x", "epk-string", "enc-list", "alg-dir", "zip", "crit-int"],
)
def test_a_jwe_header_rewritten_by_an_attacker_is_undecryptable_not_a_crash(change: Any) -> None:
    token = _with_jwe_header(seal_envelope(claims(), CA_KEYS, IN_KEYS.public), change)
    with pytest.raises(UndecryptableEnvelope):
        open_at_india(token)


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
@pytest.mark.parametrize(
    "header",
    [
        {"alg": SIGNING_ALG, "kid": CA_KEYS.public.signing_fingerprint, "typ": RECEIPT_TYP},
        {"alg": SIGNING_ALG, "kid": CA_KEYS.public.signing_fingerprint},
        {"alg": "EdDSA", "kid": CA_KEYS.public.signing_fingerprint, "typ": ENVELOPE_TYP},
        {"alg": SIGNING_ALG, "typ": ENVELOPE_TYP},
    ],
    ids=["receipt-typ", "no-typ", "eddsa-alg", "no-kid"],
)
def test_a_jws_with_the_wrong_header_is_malformed_even_if_the_signature_is_genuine(header: dict[str, Any]) -> None:
    signed = sign_raw(canonical_json(claims()), CA_KEYS.signing, header)
    with pytest.raises(MalformedArtefact):
        open_at_india(encrypt_to_india(signed))


@pytest.mark.parametrize(
    "payload",
    [
        b'{"iss": "ca-node-1"}',
        b'{"aud":"in-node-1","aud":"in-node-2"}',
        b'{"seq":99999999999999999999}',
        b'{"x":NaN}',
        b'{"t":"\\ud800"}',
        b"[1,2]",
        b"[" * 5000,
    ],
    ids=["whitespace", "duplicate-key", "huge-integer", "nan", "lone-surrogate", "array", "deeply-nested"],
)
def test_a_genuinely_signed_payload_that_is_not_canonical_json_is_malformed(payload: bytes) -> None:
    header = {"alg": SIGNING_ALG, "kid": CA_KEYS.public.signing_fingerprint, "typ": ENVELOPE_TYP}
    signed = sign_raw(payload, CA_KEYS.signing, header)
    with pytest.raises(MalformedArtefact):
        open_at_india(encrypt_to_india(signed))


def test_every_refusal_is_a_verification_failure_with_a_problem_slug() -> None:
    for error in (UnknownSender, BadSignature, UndecryptableEnvelope, StaleEnvelope, MalformedArtefact):
        assert issubclass(error, VerificationFailed)
        assert error.slug != VerificationFailed.slug
        assert 400 <= error.status < 500


# --- tampering, as a property ---------------------------------------------------------------------------------------

NOW = 1_800_000_000


def flipped(token: bytes, bit: int) -> str:
    tampered = bytearray(token)
    tampered[bit // 8] ^= 1 << (bit % 8)
    return tampered.decode("latin-1")  # a flip may leave ASCII: the receiver gets whatever arrives


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=10), st.text(max_size=60), max_size=4), st.data())
def test_a_flipped_bit_anywhere_in_a_sealed_envelope_is_refused(body: dict[str, str], data: st.DataObject) -> None:
    sealed = seal_envelope(claims(iat=NOW, body=body), CA_KEYS, IN_KEYS.public).encode()
    assert open_at_india(sealed.decode(), now=NOW).body == body
    bit = data.draw(st.integers(min_value=0, max_value=len(sealed) * 8 - 1), label="bit")
    with pytest.raises(VerificationFailed):
        open_at_india(flipped(sealed, bit), now=NOW)


def test_every_single_bit_flip_of_one_sealed_envelope_is_refused() -> None:
    sealed = seal_envelope(claims(iat=NOW), CA_KEYS, IN_KEYS.public).encode()
    opened = 0
    for bit in range(len(sealed) * 8):
        try:
            open_at_india(flipped(sealed, bit), now=NOW)
        except VerificationFailed:
            continue
        opened += 1
    assert opened == 0


# --- receipts ---------------------------------------------------------------------------------------------------------


def receipt_claims(ref: str = "01a207c0-0000-7000-8000-0000000000aa") -> dict[str, Any]:
    return {
        "typ": "delivery-receipt",
        "ref": ref,
        "kind": "message",
        "jti": "01a207c0-0000-7000-8000-000000000001",
        "digest": sha256_hex(b"sealed"),
        "channel": f"{CA}>{IN}",
        "seq": 7,
        "sender": CA,
        "receiver": IN,
        "received_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        "ledger": {"index": 41, "leaf_hash": sha256_hex(b"leaf"), "tree_size": 42, "root": sha256_hex(b"root")},
    }


def test_a_receipt_verifies_against_the_receivers_pinned_key_to_its_typed_claims() -> None:
    sent = receipt_claims()
    receipt = sign_receipt(sent, IN_KEYS)

    verified = verify_receipt(receipt, IN_KEYS.public, sent["ref"])

    assert verified == ReceiptClaims(
        ref=sent["ref"],
        kind="message",
        jti="01a207c0-0000-7000-8000-000000000001",
        digest=sha256_hex(b"sealed"),
        channel=f"{CA}>{IN}",
        seq=7,
        sender=CA,
        receiver=IN,
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        ledger=LedgerPosition(
            index=41,
            leaf_hash=bytes.fromhex(sha256_hex(b"leaf")),
            tree_size=42,
            root=bytes.fromhex(sha256_hex(b"root")),
        ),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        verified.seq = 8  # type: ignore[misc]


def _ledger(**changes: Any) -> dict[str, Any]:
    return {**receipt_claims()["ledger"], **changes}


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"typ": "read-receipt"}, "receipt claim 'typ' is 'read-receipt', expected 'delivery-receipt'"),
        ({"seq": "7"}, "receipt claim 'seq' is a string, expected an integer"),
        ({"seq": -1}, "receipt claim 'seq' is -1, expected a positive integer"),
        ({"digest": "AB" * 32}, f"receipt claim 'digest' is {'AB' * 32!r}, expected 64 lowercase hex digits"),
        ({"received_at": "yesterday"}, "receipt claim 'received_at' is 'yesterday', expected an ISO 8601 time"),
        (
            {"received_at": "2026-01-01T00:00:00"},
            "receipt claim 'received_at' is '2026-01-01T00:00:00', expected a time with its UTC offset",
        ),
        ({"ledger": None}, "receipt claim 'ledger' is null, expected an object"),
        ({"ledger": _ledger(index=42)}, "receipt names leaf 42 of a tree of 42 leaves, expected one inside it"),
        ({"ledger": _ledger(root="00")}, "receipt ledger claim 'root' is '00', expected 64 lowercase hex digits"),
        ({"ledger": _ledger(tree_size=None)}, "receipt ledger claim 'tree_size' is null, expected an integer"),
    ],
    ids=[
        "typ",
        "seq-string",
        "seq-negative",
        "digest-uppercase",
        "time-unreadable",
        "time-naive",
        "no-ledger",
        "leaf-outside-tree",
        "root-short",
        "size-null",
    ],
)
def test_a_receipt_claim_of_the_wrong_form_is_named_with_what_it_must_be(change: dict[str, Any], detail: str) -> None:
    sent = receipt_claims() | change
    with pytest.raises(MalformedArtefact) as caught:
        verify_receipt(sign_receipt(sent, IN_KEYS), IN_KEYS.public, sent["ref"])
    assert caught.value.detail == detail


@pytest.mark.parametrize(
    "missing", ["typ", "kind", "jti", "digest", "channel", "seq", "sender", "receiver", "received_at", "ledger"]
)
def test_a_receipt_missing_a_claim_names_it(missing: str) -> None:
    sent = receipt_claims()
    del sent[missing]
    with pytest.raises(MalformedArtefact, match=f"receipt lacks claim '{missing}'"):
        verify_receipt(sign_receipt(sent, IN_KEYS), IN_KEYS.public, sent["ref"])


def test_a_receipt_for_another_message_is_refused() -> None:
    receipt = sign_receipt(receipt_claims("01a207c0-0000-7000-8000-0000000000bb"), IN_KEYS)
    with pytest.raises(MalformedArtefact, match="receipt is for"):
        verify_receipt(receipt, IN_KEYS.public, "01a207c0-0000-7000-8000-0000000000aa")


def test_a_receipt_signed_by_another_key_is_refused() -> None:
    receipt = sign_receipt(receipt_claims(), STRANGER_KEYS)
    with pytest.raises(MalformedArtefact, match="not the peer's pinned key") as caught:
        verify_receipt(receipt, IN_KEYS.public, receipt_claims()["ref"])
    assert STRANGER_KEYS.public.signing_fingerprint in caught.value.detail
    assert IN_KEYS.public.signing_fingerprint in caught.value.detail


def test_a_receipt_forged_under_the_receivers_key_id_is_a_bad_signature() -> None:
    header = {"alg": SIGNING_ALG, "kid": IN_KEYS.public.signing_fingerprint, "typ": RECEIPT_TYP}
    forged = sign_raw(canonical_json(receipt_claims()), STRANGER_KEYS.signing, header)
    with pytest.raises(BadSignature):
        verify_receipt(forged, IN_KEYS.public, receipt_claims()["ref"])


@pytest.mark.parametrize(
    "extra",
    [{"crit": [1]}, {"crit": "b64"}, {"b64": False, "crit": ["b64"]}, {"jwk": "x"}],
    ids=["crit-int", "crit-string", "unencoded-payload", "jwk-string"],
)
def test_a_receipt_with_a_rewritten_header_is_refused_not_a_crash(extra: dict[str, Any]) -> None:
    """The sender's delivery worker verifies what the peer answers; a bad answer must not kill the worker."""
    header_b64, payload_b64, signature = sign_receipt(receipt_claims(), IN_KEYS).split(".")
    header = json.loads(unb64(header_b64)) | extra
    rewritten = f"{b64(json.dumps(header).encode())}.{payload_b64}.{signature}"
    with pytest.raises(VerificationFailed):
        verify_receipt(rewritten, IN_KEYS.public, receipt_claims()["ref"])


def test_an_envelope_signature_is_not_accepted_as_a_receipt() -> None:
    not_a_receipt = sign_claims(receipt_claims(), IN_KEYS.signing, ENVELOPE_TYP)
    with pytest.raises(MalformedArtefact, match="typ"):
        verify_receipt(not_a_receipt, IN_KEYS.public, receipt_claims()["ref"])


# --- descriptors ------------------------------------------------------------------------------------------------------


def descriptor(keys: PublicKeys, url: str = "https://in.example.gov:8400") -> NodeDescriptor:
    return NodeDescriptor(node_id=IN, party="IN", url=url, keys=keys, issued_at="2026-01-01T00:00:00+00:00")


def test_a_self_signed_descriptor_verifies_to_what_was_signed() -> None:
    token = sign_descriptor(descriptor(IN_KEYS.public), IN_KEYS)
    verified = verify_descriptor("\n" + token + "\n")
    assert verified == descriptor(IN_KEYS.public)
    assert verified.keys.signing_fingerprint == IN_KEYS.public.signing_fingerprint
    assert verified.keys.encryption_fingerprint == IN_KEYS.public.encryption_fingerprint


def test_a_node_cannot_sign_a_descriptor_of_another_nodes_keys() -> None:
    with pytest.raises(MalformedArtefact, match="signed by the key it describes"):
        sign_descriptor(descriptor(IN_KEYS.public), STRANGER_KEYS)


def _retampered(token: str, **changes: Any) -> str:
    header_b64, payload_b64, signature = token.split(".")
    payload = json.loads(unb64(payload_b64)) | changes
    return f"{header_b64}.{b64(canonical_json(payload))}.{signature}"


def test_a_descriptor_with_a_tampered_url_is_a_bad_signature() -> None:
    token = sign_descriptor(descriptor(IN_KEYS.public), IN_KEYS)
    with pytest.raises(BadSignature):
        verify_descriptor(_retampered(token, url="https://attacker.example:8400"))


def test_a_descriptor_with_substituted_keys_is_refused() -> None:
    token = sign_descriptor(descriptor(IN_KEYS.public), IN_KEYS)
    with pytest.raises(MalformedArtefact, match="key id does not match"):
        verify_descriptor(_retampered(token, keys=STRANGER_KEYS.public.as_jwks()))


def test_a_descriptor_re_signed_by_an_attacker_under_the_genuine_key_id_is_refused() -> None:
    claims_ = descriptor(STRANGER_KEYS.public).claims()
    header = {"alg": SIGNING_ALG, "kid": IN_KEYS.public.signing_fingerprint, "typ": "accord-node-descriptor+jws"}
    with pytest.raises(MalformedArtefact, match="key id does not match"):
        verify_descriptor(sign_raw(canonical_json(claims_), STRANGER_KEYS.signing, header))


def test_a_descriptor_carrying_a_private_key_is_refused() -> None:
    leaky = descriptor(IN_KEYS.public).claims()
    leaky["keys"]["signing"] = IN_KEYS.signing.as_dict(private=True)
    header = {"alg": SIGNING_ALG, "kid": IN_KEYS.public.signing_fingerprint, "typ": "accord-node-descriptor+jws"}
    with pytest.raises(MalformedArtefact, match="private"):
        verify_descriptor(sign_raw(canonical_json(leaky), IN_KEYS.signing, header))


def test_a_descriptor_with_keys_of_the_wrong_curves_is_refused() -> None:
    swapped = {"signing": IN_KEYS.public.as_jwks()["encryption"], "encryption": IN_KEYS.public.as_jwks()["signing"]}
    with pytest.raises(MalformedArtefact, match="Ed25519"):
        PublicKeys.from_jwks(swapped)
