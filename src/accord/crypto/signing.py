"""Compact JWS (RFC 7515) with Ed25519 (RFC 9864 fully-specified `Ed25519` alg) over canonical JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import OKPKey

from accord.crypto.canonical import canonical_json
from accord.crypto.errors import BadSignature, MalformedArtefact
from accord.i18n import _

SIGNING_ALG = "Ed25519"
# joserfc reports some malformed input (an unknown curve, a header member of the wrong JSON type) as plain Python
# errors rather than JoseError; every one of them is a refusal of the artefact, never a crash of the caller.
PARSE_ERRORS = (ValueError, LookupError, TypeError)


def _registry(token: bytes) -> jws.JWSRegistry:
    """joserfc caps a JWS payload at 128 000 bytes by default, which refuses legitimate envelopes (a 64 KiB body,
    attachments); sizes are policed before verification (HTTP body caps, the inbox's body limit), so let the
    registry hold whatever this token holds."""
    registry = jws.JWSRegistry(algorithms=[SIGNING_ALG])
    registry.max_payload_length = max(registry.max_payload_length, len(token))
    return registry


def _as_bytes(token: str | bytes) -> bytes:
    if isinstance(token, bytes):
        return token
    try:
        return token.encode()
    except UnicodeEncodeError as exc:
        raise MalformedArtefact(_("not a compact JWS: {exc}").format(exc=exc)) from exc


def sign_claims(claims: dict[str, Any], key: OKPKey, typ: str, kid: str | None = None) -> str:
    """`kid`: the key's thumbprint if the caller holds it already (it costs a hash of the key's JSON to work out)."""
    header = {"alg": SIGNING_ALG, "kid": kid or key.thumbprint(), "typ": typ}
    return jws.serialize_compact(header, canonical_json(claims), key, algorithms=[SIGNING_ALG])


@dataclass(frozen=True, slots=True)
class SignedToken:
    """A compact JWS read once: its checked header's key id, and what verifying it needs (nothing here is trusted)."""

    kid: str
    parsed: jws.CompactSignature
    registry: jws.JWSRegistry


def read_signed(token: str | bytes, typ: str) -> SignedToken:
    """Parse a compact JWS of type `typ` once, checking its header, so that its key id can find the key to verify
    it with (`verify_signed`) without decoding it again."""
    raw = _as_bytes(token)
    registry = _registry(raw)
    try:
        parsed = jws.extract_compact(raw, registry=registry)
    except (JoseError, *PARSE_ERRORS) as exc:
        raise MalformedArtefact(_("not a compact JWS: {exc}").format(exc=exc)) from exc
    header = parsed.protected
    if header.get("typ") != typ:
        raise MalformedArtefact(_("JWS typ is {get!r}, expected {typ!r}").format(get=header.get("typ"), typ=typ))
    if header.get("alg") != SIGNING_ALG:
        raise MalformedArtefact(
            _("JWS alg {get!r} is not accepted; only {SIGNING_ALG}").format(
                get=header.get("alg"), SIGNING_ALG=SIGNING_ALG
            )
        )
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise MalformedArtefact(_("JWS header has no key id"))
    return SignedToken(kid=kid, parsed=parsed, registry=registry)


def signed_kid(token: str | bytes, typ: str) -> str:
    """The key id a compact JWS names, read before verification to find the key."""
    return read_signed(token, typ).kid


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a compact JWS without verification: only to find the key to verify it with."""
    raw = _as_bytes(token)
    try:
        claims = json.loads(jws.extract_compact(raw, registry=_registry(raw)).payload)
    except (JoseError, RecursionError, *PARSE_ERRORS) as exc:
        raise MalformedArtefact(_("not a compact JWS with a JSON payload: {exc}").format(exc=exc)) from exc
    if not isinstance(claims, dict):
        raise MalformedArtefact(_("signed payload is not a JSON object"))
    return claims


def verify_claims(token: str | bytes, key: OKPKey) -> dict[str, Any]:
    """Verify and parse; the payload must be exactly the RFC 8785 form of the claims it carries, as `sign_claims`
    makes it, so duplicate keys, numbers outside I-JSON and invalid Unicode are refused rather than stored."""
    raw = _as_bytes(token)
    registry = _registry(raw)
    try:
        parsed = jws.extract_compact(raw, registry=registry)
    except JoseError as exc:
        raise _bad_signature(key, exc) from exc
    except PARSE_ERRORS as exc:
        raise MalformedArtefact(_("not a well-formed JWS: {exc!r}").format(exc=exc)) from exc
    return _verified_claims(parsed, registry, key)


def verify_signed(signed: SignedToken, key: OKPKey) -> dict[str, Any]:
    """`verify_claims` of a JWS already read by `read_signed`."""
    return _verified_claims(signed.parsed, signed.registry, key)


def _verified_claims(parsed: jws.CompactSignature, registry: jws.JWSRegistry, key: OKPKey) -> dict[str, Any]:
    try:
        valid = jws.validate_compact(parsed, key, registry=registry)
    except JoseError as exc:
        raise _bad_signature(key, exc) from exc
    except PARSE_ERRORS as exc:
        raise MalformedArtefact(_("not a well-formed JWS: {exc!r}").format(exc=exc)) from exc
    if not valid:
        raise _bad_signature(key, BadSignatureError())
    try:
        claims = orjson.loads(parsed.payload)  # stricter than json.loads only on what is not canonical anyway
        canonical = canonical_json(claims)
    except (ValueError, RecursionError) as exc:
        raise MalformedArtefact(_("signed payload is not canonical JSON: {exc}").format(exc=exc)) from exc
    if not isinstance(claims, dict):
        raise MalformedArtefact(_("signed payload is not a JSON object"))
    if canonical != parsed.payload:
        raise MalformedArtefact(_("signed payload is not in RFC 8785 canonical form"))
    return claims


def _bad_signature(key: OKPKey, exc: JoseError) -> BadSignature:
    return BadSignature(
        _("signature does not verify with key {thumbprint}: {exc}").format(thumbprint=key.thumbprint(), exc=exc)
    )
