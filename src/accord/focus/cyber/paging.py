"""TAXII `next` tokens (TAXII 2.1 §3.4.2, opaque to clients): the position after the last object served, bound to
the request it continues, its reader and the time it was issued, under an HMAC-SHA256 keyed from the node's key."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from accord.crypto.canonical import canonical_json
from accord.crypto.keys import NodeKeys
from accord.errors import ConfigurationError
from accord.focus.cyber.errors import InvalidNextToken, StaleNextToken
from accord.i18n import _

_VERSION = 1
_KDF_INFO = b"accord taxii next token v1"  # separates this key from every other use of the node's signing key
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Position:
    """What a next token says: which request it continues, for whom, and where it stopped."""

    request: str  # the endpoint and its path parameters, e.g. "objects <collection>"
    reader: str  # the officer's id
    selection: str  # SHA-256 of the request's filters (not its limit)
    after: datetime  # date added of the last object served
    issued_at: datetime


def selection_digest(selection: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(selection)).hexdigest()


def next_token_key(keys: NodeKeys) -> bytes:
    """The node's token key, derived (HKDF-SHA256) from its Ed25519 private key: no new secret to keep, and the
    same on every process of the node."""
    private = keys.signing.private_key
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigurationError(_("the node's signing key is not an Ed25519 private key"))
    secret = private.private_bytes_raw()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(secret)


class NextTokens:
    def __init__(self, key: bytes, lifetime: timedelta) -> None:
        self._key = key
        self.lifetime = lifetime

    def issue(self, position: Position) -> str:
        payload = canonical_json(
            {
                "v": _VERSION,
                "q": position.request,
                "r": position.reader,
                "s": position.selection,
                "a": _micros(position.after),
                "t": _micros(position.issued_at),
            }
        )
        return f"{_b64(payload)}.{_b64(self._tag(payload))}"

    def open(self, token: str, *, request: str, reader: str, selection: str, now: datetime) -> datetime:
        """The position to resume after; raises InvalidNextToken or StaleNextToken naming what is wrong."""
        payload = self._verified(token)
        try:
            fields = json.loads(payload)
            issued_at, after = _from_micros(int(fields["t"])), _from_micros(int(fields["a"]))
            bound = (fields["v"], fields["q"], fields["r"])
            digest = str(fields["s"])
        except (ValueError, KeyError, TypeError) as exc:  # signed by this node, so only an older format gets here
            raise InvalidNextToken(_("the next token is in a format this server no longer reads; start again")) from exc
        if bound != (_VERSION, request, reader):
            raise InvalidNextToken(_("the next token continues another request (endpoint, collection or reader)"))
        if digest != selection:
            raise InvalidNextToken(_("the next token was issued for other filters; repeat the first request's filters"))
        age = now - issued_at
        if age > self.lifetime:
            raise StaleNextToken(
                _(
                    "the next token was issued {int} s ago and lasts {int2} s; continue with "
                    "added_after={strftime} and no next"
                ).format(
                    int=int(age.total_seconds()),
                    int2=int(self.lifetime.total_seconds()),
                    strftime=after.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                )
            )
        return after

    def _verified(self, token: str) -> bytes:
        forged = InvalidNextToken("the next token is not one this server issued")
        payload_part, _, tag_part = token.partition(".")
        try:
            payload, tag = _unb64(payload_part), _unb64(tag_part)
        except (ValueError, binascii.Error) as exc:
            raise forged from exc
        mac = hmac.HMAC(self._key, hashes.SHA256())
        mac.update(payload)
        try:
            mac.verify(tag)
        except InvalidSignature as exc:
            raise forged from exc
        return payload

    def _tag(self, payload: bytes) -> bytes:
        mac = hmac.HMAC(self._key, hashes.SHA256())
        mac.update(payload)
        return mac.finalize()


def _micros(at: datetime) -> int:
    return (at.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)


def _from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("empty or not ASCII")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
