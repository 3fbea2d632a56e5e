"""The federation channel's answers to the peer node: receipts per envelope, stored attachments, countersignatures
and inclusion proofs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from accord.api.schemas import ApiModel
from accord.http.problems import Problem

HASH_PATTERN = r"^[0-9a-f]{64}$"


class EnvelopeResult(ApiModel):
    ref: str | None = Field(description="the sender's reference of the envelope, as given")
    outcome: Literal["accepted", "duplicate", "refused"]
    receipt: str | None = Field(default=None, description="the signed receipt (compact JWS), when it was stored")
    problem: Problem | None = Field(default=None, description="why it was refused")


class EnvelopeResults(ApiModel):
    results: list[EnvelopeResult] = Field(description="one per envelope, in the order sent")


class BlobStored(ApiModel):
    sha256: str = Field(pattern=HASH_PATTERN)
    size: int
    stored: Literal[True]


class HelloAnswer(ApiModel):
    peer: str = Field(description="the node id of the peer that said hello")
    queue: Literal["due now"]
    hello: str = Field(
        description="this node's signed hello to the peer (compact JWS, accord-hello+jws): the wire versions it speaks"
    )


class RotationTaken(ApiModel):
    peer: str = Field(description="the node whose key the statement rotates")
    key: Literal["signing", "encryption"]
    new_fingerprint: str = Field(description="RFC 7638 thumbprint of the new key", pattern=r"^[A-Za-z0-9_-]{43}$")
    outcome: Literal["applied", "held"] = Field(
        description="applied: the new key is pinned; held: an emergency rotation, waiting for the operator"
    )


class Cosignature(ApiModel):
    cosignature: str = Field(description="this node's cosignature line on the peer's checkpoint (C2SP signed note)")


class InclusionProof(ApiModel):
    """RFC 9162 §2.1.3: the audit path of a leaf of this node's ledger in the tree of the size asked for."""

    index: int
    size: int
    leaf_hash: str = Field(pattern=HASH_PATTERN)
    proof: list[str] = Field(description="the audit path, hex hashes")
