"""The case export's format, shared by its writer and its offline verifier: a message thread with every ledger leaf
about it, each leaf's RFC 9162 inclusion proof up to one countersigned checkpoint, and the node's signature over a
manifest of all of it.

It is the audit bundle cut down to one case: the same `node` and `peers` descriptor entries, the same checkpoint entry
(`note`, `cosigner`, `cosignature`) and the same leaf records, where a leaf also carries its inclusion proof since
the other leaves are not there to rebuild the root from.

    {"format": "accord-case-export/1", "exported_at": …, "exported_by": {…},
     "node": {"node_id", "party", "descriptor"}, "peers": [{…}],
     "case": {"case_id", "message_id", "messages": [{"id", "direction", "content", "decision", "receipt", …}], …},
     "checkpoint": {"note", "cosigner", "cosignature"} | null,
     "leaves": [{"index", "at", "type", "actor", "refs", "payload_sha256", "leaf_hash", "proof": [hex, …]}, …],
     "signature": "<compact JWS by the node: the manifest>"}

The manifest the node signs names the digest of the case, each message's content digest, each leaf by index and
hash in ledger order, and the checkpoint: so a changed record, a dropped or reordered leaf or a swapped checkpoint is
named exactly, and cannot be hidden without the node's key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accord.crypto.canonical import canonical_json, sha256_hex

FORMAT = "accord-case-export/1"
SIGNATURE_TYP = "accord-case-export+jws"
ATTACHMENT_NAME = "case-export.json"  # the JSON a PDF export carries as an embedded file
PROOF_FIELD = "proof"
REQUIRED: dict[str, type] = {
    "exported_at": str,
    "exported_by": dict,
    "node": dict,
    "peers": list,
    "case": dict,
    "leaves": list,
    "signature": str,
}


def content_sha256(content: Any) -> str:
    """A message's content as the ledger's message.created leaf commits to it: SHA-256 of its RFC 8785 form."""
    return sha256_hex(canonical_json(content))


def case_manifest(document: Mapping[str, Any], leaves: Sequence[Any], checkpoint: Any) -> dict[str, Any]:
    """What the node signs: the case's digest, each message's content digest, each leaf (index and hash) in ledger
    order, and the checkpoint's note digest."""
    case = document["case"]
    messages = case.get("messages") if isinstance(case.get("messages"), list) else []
    return {
        "format": FORMAT,
        "node": document["node"].get("node_id"),
        "exported_at": document["exported_at"],
        "exported_by": document["exported_by"],
        "case_id": case.get("case_id"),
        "message_id": case.get("message_id"),
        "case_sha256": sha256_hex(canonical_json(case)),
        "messages": {str(m.get("id")): content_sha256(m.get("content")) for m in messages if isinstance(m, dict)},
        "leaves": [[leaf.get("index"), leaf.get("leaf_hash")] for leaf in leaves if isinstance(leaf, Mapping)],
        "checkpoint_sha256": (
            sha256_hex(str(checkpoint.get("note")).encode()) if isinstance(checkpoint, Mapping) else None
        ),
    }
