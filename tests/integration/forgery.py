"""Envelopes, envelope batches and signed peer requests built by hand, as a faulty or hostile peer would: valid ones,
forged ones, and everything between. A batch's upload token is signed with whichever key the test plays with: the
pinned peer's to reach the envelopes inside, a stranger's to be refused at the door."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from joserfc import jwe, jws
from joserfc.jwk import OKPKey
from uuid6 import uuid7

from accord.crypto.canonical import canonical_json
from accord.crypto.envelope import CONTENT_ENC, ENVELOPE_TYP, KEY_ALG, seal_envelope
from accord.crypto.keys import NodeKeys, PublicKeys
from accord.crypto.signing import SIGNING_ALG, sign_claims
from accord.domain.handling import Caveat, CommonLevel, Handling, Tlp
from accord.domain.messages import Address, Message, MessageKind, Priority
from accord.domain.parties import Party
from accord.exchange.transport import tls_context
from accord.exchange.uploads import UPLOAD_TOKEN_HEADER, UploadKind

CA_NODE = "ca-node-1"
IN_NODE = "in-node-1"


def message(**overrides: Any) -> Message:
    """A valid request from Canada's RCMP to India's NCB, as the sending node would build it."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "id": str(uuid7()),
        "kind": MessageKind.REQUEST,
        "case_id": str(uuid7()),
        "sender": Address(party=Party.CA, agency="RCMP", officer="ca.rcmp"),
        "recipient": Address(party=Party.IN, agency="NCB"),
        "focus_area": "drugs",
        "priority": Priority.ROUTINE,
        "created_at": now,
        "deadline": now + timedelta(days=30),
        "handling": Handling(
            classification="Protected B", level=CommonLevel.RESTRICTED, tlp=Tlp.AMBER, caveats=(Caveat.H0,)
        ),
        "legal_basis": "Privacy Act s.8(2)(f); Canada–India arrangement",
        "title": "Consignee of a 4-AP shipment",
        "body": "Please confirm the consignee and licence of the shipment described.",
    }
    fields.update(overrides)
    return Message(**fields)


def fresh_seq() -> int:
    """A channel sequence number far above anything the real Canadian node will use in a test."""
    return 1_000_000 + secrets.randbelow(2**40)


def claims_for(msg: Message, **overrides: Any) -> dict[str, Any]:
    """Envelope claims exactly as `DeliveryWorker._seal` builds them for a message."""
    claims: dict[str, Any] = {
        "iss": CA_NODE,
        "aud": IN_NODE,
        "jti": str(uuid7()),
        "iat": int(time.time()),
        "kind": "message",
        "ref": msg.id,
        "seq": fresh_seq(),
        "body": msg.model_dump(mode="json"),
    }
    claims.update(overrides)
    return claims


def seal(claims: dict[str, Any], sender: NodeKeys, recipient: PublicKeys) -> str:
    return seal_envelope(claims, sender, recipient)


def forge_signed(claims: dict[str, Any], signer: OKPKey, claimed_kid: str, recipient: PublicKeys) -> str:
    """Sign with `signer` but name `claimed_kid` in the JWS header, then encrypt properly to the recipient."""
    header = {"alg": SIGNING_ALG, "kid": claimed_kid, "typ": ENVELOPE_TYP}
    signed = jws.serialize_compact(header, canonical_json(claims), signer, algorithms=[SIGNING_ALG])
    jwe_header = {"alg": KEY_ALG, "enc": CONTENT_ENC, "kid": recipient.encryption_fingerprint, "cty": ENVELOPE_TYP}
    return jwe.encrypt_compact(jwe_header, signed, recipient.encryption, algorithms=[KEY_ALG, CONTENT_ENC])


def tamper_ciphertext(token: str) -> str:
    """Change one character in the middle of the JWE ciphertext part (never its last, padding-sensitive one)."""
    parts = token.split(".")
    ciphertext = parts[3]
    middle = len(ciphertext) // 2
    replacement = "A" if ciphertext[middle] != "A" else "B"
    parts[3] = ciphertext[:middle] + replacement + ciphertext[middle + 1 :]
    return ".".join(parts)


def rewrite_jwe_header(token: str, change: Callable[[dict[str, Any]], Any]) -> str:
    """Edit the (unauthenticated until decryption) protected header of a JWE, as anyone on the path could."""
    header_b64, *rest = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
    change(header)
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return ".".join([encoded, *rest])


def batch(*tokens: str, refs: list[str | None] | None = None) -> dict[str, Any]:
    names = refs or [f"ref-{n}" for n in range(len(tokens))]
    return {"envelopes": [{"ref": ref, "token": token} for ref, token in zip(names, tokens, strict=True)]}


ENVELOPES_PATH = "/federation/v1/envelopes"
BATCH_TYP = UploadKind.ENVELOPE_BATCH.value


def batch_token(
    body: bytes,
    signer: OKPKey,
    *,
    claimed_kid: str | None = None,
    sender: str = CA_NODE,
    recipient: str = IN_NODE,
    **overrides: Any,
) -> str:
    """The upload token for the batch `body`, as `sign_upload` makes it (the claims over the exact bytes), signed with
    `signer`: the pinned peer's key plays the genuine peer, any other key a stranger; with `claimed_kid`, the JWS
    header names that key (the pinned one's) instead of the signer's, as a forger would."""
    claims: dict[str, Any] = {
        "iss": sender,
        "aud": recipient,
        "iat": int(time.time()),
        "jti": str(uuid7()),
        "sha256": hashlib.sha256(body).hexdigest(),
        "size": len(body),
    }
    claims.update(overrides)
    if claimed_kid is not None:
        return forge_signed_request(claims, signer, claimed_kid, BATCH_TYP)
    return sign_request(claims, signer, BATCH_TYP)


def post_batch(
    base_url: str,
    payload: Any,
    signer: OKPKey | None,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    **token: Any,
) -> httpx.Response:
    """POST a batch (`payload` as JSON, or bytes as they are) to the envelopes endpoint at `base_url`, with an upload
    token signed by `signer` (see `batch_token`) or, with `signer=None`, none at all, as a stranger posts."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    fields = {"Content-Type": "application/json"} | (headers or {})
    if signer is not None:
        fields[UPLOAD_TOKEN_HEADER] = batch_token(body, signer, **token)
    return httpx.post(base_url + ENVELOPES_PATH, content=body, headers=fields, timeout=timeout, verify=tls_context())


CHECKPOINT_TYP = "accord-checkpoint+jws"


def checkpoint_claims(note: str, from_size: int = 0, proof: Sequence[bytes] = (), **overrides: Any) -> dict[str, Any]:
    """The claims of a checkpoint request exactly as Canada's node signs them (`witnessing.checkpoint_request`)."""
    claims: dict[str, Any] = {
        "iss": CA_NODE,
        "aud": IN_NODE,
        "iat": int(time.time()),
        "jti": str(uuid7()),
        "checkpoint": note,
        "from_size": from_size,
        "consistency": [p.hex() for p in proof],
    }
    claims.update(overrides)
    return claims


def sign_request(claims: dict[str, Any], signer: OKPKey, typ: str = CHECKPOINT_TYP) -> str:
    return sign_claims(claims, signer, typ)


def forge_signed_request(claims: dict[str, Any], signer: OKPKey, claimed_kid: str, typ: str = CHECKPOINT_TYP) -> str:
    """Sign with `signer` but name `claimed_kid` (the pinned key's) in the JWS header, as a forger would."""
    header = {"alg": SIGNING_ALG, "kid": claimed_kid, "typ": typ}
    return jws.serialize_compact(header, canonical_json(claims), signer, algorithms=[SIGNING_ALG])
