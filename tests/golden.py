"""The golden artefacts in tests/data/golden/: fixed test keys of two nodes and one of each signed artefact they
exchange, made with those keys. tests/unit/test_golden.py verifies them with nothing but the pinned keys and asserts
their exact claims and bytes, so a change to the wire format fails a test instead of reaching a peer.

To regenerate, from the project root:

    python -m tests.golden

When that is allowed: only in a change that alters the wire format on purpose (a claim, a header, a note line, an
encoding), with the new expectations copied into test_golden.py by hand and the change to peers' compatibility
stated in the commit. Never to make a failing golden test pass: that failure is the test doing its job, and the fix
belongs in the code.

The keys derive from fixed seeds and Ed25519 signatures are deterministic, so a regeneration reproduces every file
byte for byte as long as the format is unchanged; the envelope alone is random (ECDH-ES draws a fresh ephemeral key,
A256GCM a fresh IV), so the recorded one is kept while it still decrypts to exactly what would be sealed now.
These keys are published with the tests: they must never serve a real node.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from joserfc import jwe
from joserfc.jwk import OKPKey

from accord.crypto.canonical import canonical_json, sha256_hex
from accord.crypto.descriptors import NodeDescriptor, sign_descriptor
from accord.crypto.envelope import seal_batch, seal_envelope, sign_envelope
from accord.crypto.keys import NodeKeys
from accord.crypto.receipts import sign_receipt
from accord.domain.handling import Caveat, CommonLevel, Handling, Tlp
from accord.domain.messages import Address, Message, MessageKind, Priority
from accord.domain.parties import Party
from accord.ledger.batch_receipts import BatchEntry, batch_receipt_claims, batch_tree, delivery_proof, entry_leaf
from accord.ledger.leaves import EventType, leaf_bytes, leaf_record
from accord.ledger.notes import CheckpointBody, cosign, origin_for, sign_checkpoint
from accord.ledger.tree import MemoryTree, consistency_proof, inclusion_proof, leaf_hash

GOLDEN = Path(__file__).parent / "data" / "golden"
CA, IN = "ca-node-1", "in-node-1"
MESSAGE_ID = "01a230d5-1280-7000-8000-000000000001"
CASE_ID = "01a230d5-1280-7000-8000-000000000002"
ENVELOPE_ID = "01a230d5-1280-7000-8000-000000000003"
SEALED_AT = 1_796_115_600  # 2026-12-01T09:00:00Z, the envelope's iat: open it with this as `now`
RECEIVED_AT = datetime(2026, 12, 1, 9, 0, 1, 250_000, tzinfo=UTC)
CHECKPOINT_ISSUED_AT = SEALED_AT + 60
COSIGNED_AT = SEALED_AT + 75
RECEIPT_LEAF = 3  # India's ledger: three events of its own, then the envelope's receipt, then one more event

ENVELOPE = GOLDEN / "envelope.jwe"
ENVELOPE_CLAIMS = GOLDEN / "envelope-claims.json"
RECEIPT = GOLDEN / "receipt.jws"
CHECKPOINT = GOLDEN / "checkpoint.note"
LEDGER_PROOFS = GOLDEN / "ledger-proofs.json"
# Envelope version 2: a batch of two messages in one JWE, and the first message's proof of delivery (the batch receipt
# with the inclusion of its ledger leaf); India's ledger records the batch as leaves 3 and 4 of its golden ledger.
BATCH = GOLDEN / "batch-v2.jwe"
BATCH_CLAIMS = GOLDEN / "batch-v2-claims.json"
DELIVERY_PROOF = GOLDEN / "delivery-proof-v2.json"
SECOND_MESSAGE_ID = "01a230d5-1280-7000-8000-000000000004"
SECOND_ENVELOPE_ID = "01a230d5-1280-7000-8000-000000000005"


def keys_path(node_id: str) -> Path:
    return GOLDEN / f"{node_id}.keys.json"


def descriptor_path(node_id: str) -> Path:
    return GOLDEN / f"{node_id}.descriptor.jws"


def load_keys(node_id: str) -> NodeKeys:
    """A golden node's private keys, as pinned in its keys file."""
    jwks = json.loads(keys_path(node_id).read_text(encoding="utf-8"))
    return NodeKeys(signing=OKPKey.import_key(jwks["signing"]), encryption=OKPKey.import_key(jwks["encryption"]))


def read_text(path: Path) -> str:
    """A golden token or note as it travels (files end with one newline, which is not part of a token)."""
    text = path.read_text(encoding="utf-8")
    return text if path.suffix == ".note" else text.removesuffix("\n")


# --- making them ----------------------------------------------------------------------------------------------------


def _seeded_keys(node_id: str) -> NodeKeys:
    def seed(use: str) -> bytes:
        return hashlib.sha256(f"accord golden test key {node_id} {use}".encode()).digest()

    return NodeKeys(
        signing=OKPKey.import_key(Ed25519PrivateKey.from_private_bytes(seed("signing"))),
        encryption=OKPKey.import_key(X25519PrivateKey.from_private_bytes(seed("encryption"))),
    )


def _message() -> Message:
    """A request from Canada's RCMP to India's NCB, as the sending node builds it."""
    return Message(
        id=MESSAGE_ID,
        kind=MessageKind.REQUEST,
        case_id=CASE_ID,
        sender=Address(party=Party.CA, agency="RCMP", officer="ca.rcmp"),
        recipient=Address(party=Party.IN, agency="NCB"),
        focus_area="drugs",
        priority=Priority.ROUTINE,
        created_at=datetime(2026, 12, 1, 8, 59, 58, tzinfo=UTC),
        deadline=datetime(2026, 12, 31, 9, 0, tzinfo=UTC),
        handling=Handling(
            classification="Protected B", level=CommonLevel.RESTRICTED, tlp=Tlp.AMBER, caveats=(Caveat.H0,)
        ),
        legal_basis="Privacy Act s.8(2)(f); Canada–India arrangement",
        title="Consignee of a 4-AP shipment",
        body="Please confirm the consignee and licence of the shipment described.",
    )


def envelope_claims() -> dict[str, Any]:
    """The claims exactly as the delivery worker signs them for a message."""
    return {
        "iss": CA,
        "aud": IN,
        "jti": ENVELOPE_ID,
        "iat": SEALED_AT,
        "kind": "message",
        "ref": MESSAGE_ID,
        "seq": 1,
        "body": _message().model_dump(mode="json"),
    }


def _envelope(claims: dict[str, Any], ca: NodeKeys, india: NodeKeys) -> str:
    """The recorded envelope while it holds exactly what would be sealed now, else a freshly sealed one."""
    fresh = seal_envelope(claims, ca, india.public)
    if not ENVELOPE.exists():
        return fresh
    recorded = read_text(ENVELOPE)

    def content(token: str) -> tuple[dict[str, Any], bytes | None]:
        decrypted = jwe.decrypt_compact(token.encode(), india.encryption)
        header = {k: v for k, v in decrypted.protected.items() if k != "epk"}
        return header, decrypted.plaintext

    return recorded if content(recorded) == content(fresh) else fresh


def _receipt_leaf(claims: dict[str, Any], digest: str) -> bytes:
    """India's ledger leaf for the envelope, as its inbox logs it (the sender is actor and peer)."""
    refs = {"ref": claims["ref"], "peer": CA, "seq": claims["seq"], "kind": claims["kind"]}
    record = leaf_record(RECEIPT_LEAF, RECEIVED_AT, EventType.ENVELOPE_RECEIVED.value, CA, refs, digest)
    return leaf_hash(leaf_bytes(record))


def _india_ledger(receipt_leaf: bytes) -> MemoryTree:
    def leaf(index: int, minute: int, type_: EventType, refs: dict[str, Any]) -> bytes:
        at = datetime(2026, 12, 1, 8, minute, tzinfo=UTC)
        return leaf_hash(leaf_bytes(leaf_record(index, at, type_.value, IN, refs, None)))

    return MemoryTree.from_leaf_hashes(
        [
            leaf(0, 0, EventType.NODE_INITIALISED, {"node": IN}),
            leaf(1, 1, EventType.PEER_PINNED, {"peer": CA}),
            leaf(2, 2, EventType.OFFICER_CREATED, {"officer": "in.ncb"}),
            receipt_leaf,
            leaf(4, 59, EventType.MESSAGE_READ, {"message": MESSAGE_ID}),
        ]
    )


def _receipt_claims(claims: dict[str, Any], digest: str, tree: MemoryTree) -> dict[str, Any]:
    """The receipt exactly as India's inbox signs it: its ledger position is the tree right after the leaf."""
    size = RECEIPT_LEAF + 1
    return {
        "typ": "delivery-receipt",
        "ref": claims["ref"],
        "kind": claims["kind"],
        "jti": claims["jti"],
        "digest": digest,
        "channel": f"{CA}>{IN}",
        "seq": claims["seq"],
        "sender": CA,
        "receiver": IN,
        "received_at": RECEIVED_AT.isoformat(),
        "ledger": {
            "index": RECEIPT_LEAF,
            "leaf_hash": tree.node(0, RECEIPT_LEAF).hex(),
            "tree_size": size,
            "root": tree.root(size).hex(),
        },
    }


def batch_claims() -> list[dict[str, Any]]:
    """The claims of the two envelopes of the golden batch, as the delivery worker signs them in version 2."""
    second = _message().model_copy(update={"id": SECOND_MESSAGE_ID, "title": "Second consignment"})
    return [
        envelope_claims() | {"ver": 2},
        envelope_claims()
        | {"ver": 2, "jti": SECOND_ENVELOPE_ID, "ref": SECOND_MESSAGE_ID, "seq": 2}
        | {"body": second.model_dump(mode="json")},
    ]


def _batch(signed: list[str], india: NodeKeys) -> str:
    """The recorded batch while it holds exactly what would be sealed now, else a freshly sealed one."""
    fresh = seal_batch(signed, india.public)
    if not BATCH.exists():
        return fresh
    recorded = read_text(BATCH)

    def content(token: str) -> tuple[dict[str, Any], bytes | None]:
        decrypted = jwe.decrypt_compact(token.encode(), india.encryption)
        return {k: v for k, v in decrypted.protected.items() if k != "epk"}, decrypted.plaintext

    return recorded if content(recorded) == content(fresh) else fresh


def _delivery_proof(ca: NodeKeys, india: NodeKeys) -> tuple[str, str]:
    """The golden batch and its first message's proof of delivery, as India's inbox makes them."""
    signed = [sign_envelope(claims, ca) for claims in batch_claims()]
    sealed = _batch(signed, india)
    entries = [
        BatchEntry(
            ref=c["ref"],
            kind=c["kind"],
            jti=c["jti"],
            digest=sha256_hex(jws.encode()),
            seq=c["seq"],
            actor=CA,
            refs={"jti": c["jti"], "kind": c["kind"], "peer": CA, "ref": c["ref"], "seq": c["seq"]},
        )
        for c, jws in zip(batch_claims(), signed, strict=True)
    ]
    leaves = [entry_leaf(entry, RECEIPT_LEAF + n, RECEIVED_AT) for n, entry in enumerate(entries)]
    ledger = _india_ledger(leaves[0])
    ledger_size = RECEIPT_LEAF + len(leaves)
    root, paths = batch_tree(leaves)
    claims = batch_receipt_claims(
        digest=sha256_hex(sealed.encode()),
        channel=f"{CA}>{IN}",
        sender=CA,
        receiver=IN,
        received_at=RECEIVED_AT,
        root=root,
        count=len(leaves),
        first=RECEIPT_LEAF,
        tree_size=ledger_size,
        ledger_root=MemoryTree.from_leaf_hashes([ledger.node(0, n) for n in range(RECEIPT_LEAF)] + leaves).root(),
    )
    return sealed, delivery_proof(sign_receipt(claims, india), entries[0], 0, paths[0])


def _descriptor(node_id: str, party: str, keys: NodeKeys) -> str:
    descriptor = NodeDescriptor(
        node_id=node_id,
        party=party,
        url=f"https://{node_id}.accord.example:8400",
        keys=keys.public,
        issued_at="2026-11-30T08:00:00+00:00",
    )
    return sign_descriptor(descriptor, keys)


def _keys_file(node_id: str, keys: NodeKeys) -> dict[str, Any]:
    return {
        "node_id": node_id,
        "warning": "test keys, published with the tests: never use them for a node",
        "signing": keys.signing.as_dict(private=True),
        "encryption": keys.encryption.as_dict(private=True),
    }


def generate() -> dict[Path, str]:
    """Every golden file and its text."""
    ca, india = _seeded_keys(CA), _seeded_keys(IN)
    claims = envelope_claims()
    envelope = _envelope(claims, ca, india)
    digest = sha256_hex(envelope.encode())
    tree = _india_ledger(_receipt_leaf(claims, digest))
    checkpoint = sign_checkpoint(
        CheckpointBody(origin_for(IN), tree.size, tree.root(), CHECKPOINT_ISSUED_AT), india.signing
    )
    cosignature = cosign(checkpoint, origin_for(CA), ca.signing, COSIGNED_AT)
    receipt_size = RECEIPT_LEAF + 1
    batch, proof = _delivery_proof(ca, india)
    proofs = {
        "inclusion": {
            "index": RECEIPT_LEAF,
            "tree_size": tree.size,
            "proof": [h.hex() for h in inclusion_proof(tree, RECEIPT_LEAF, tree.size)],
        },
        "consistency": {
            "from_size": receipt_size,
            "to_size": tree.size,
            "proof": [h.hex() for h in consistency_proof(tree, receipt_size, tree.size)],
        },
    }
    return {
        keys_path(CA): json.dumps(_keys_file(CA, ca), indent=2) + "\n",
        keys_path(IN): json.dumps(_keys_file(IN, india), indent=2) + "\n",
        descriptor_path(CA): _descriptor(CA, "CA", ca) + "\n",
        descriptor_path(IN): _descriptor(IN, "IN", india) + "\n",
        ENVELOPE: envelope + "\n",
        ENVELOPE_CLAIMS: canonical_json(claims).decode() + "\n",
        RECEIPT: sign_receipt(_receipt_claims(claims, digest, tree), india) + "\n",
        CHECKPOINT: replace(checkpoint, cosignature_line=cosignature).full_note,
        LEDGER_PROOFS: json.dumps(proofs, indent=2) + "\n",
        BATCH: batch + "\n",
        BATCH_CLAIMS: json.dumps(batch_claims(), indent=2, ensure_ascii=False) + "\n",
        DELIVERY_PROOF: json.dumps(json.loads(proof), indent=2) + "\n",
    }


def main() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for path, text in generate().items():
        changed = not path.exists() or path.read_text(encoding="utf-8") != text
        path.write_text(text, encoding="utf-8")
        print(f"{'changed' if changed else 'same   '} {path.name}")


if __name__ == "__main__":
    main()
