"""Page cursors (`after=`, `next`): a list's keyset position (accord.store.keyset), opaque to callers, bound to the list
and order it continues and sealed with an HMAC-SHA256 under a key derived from the node's own, so that a cursor this
node did not issue — edited, cut, or from another list — is refused (422) before it reaches a query."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from hmac import compare_digest
from typing import Annotated, Any

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Query, Request, Response

from accord.crypto.canonical import canonical_json
from accord.errors import ConfigurationError, InvalidInput
from accord.i18n import N_, _
from accord.node import Node
from accord.store.keyset import Position, SortKey, Value

_VERSION = 1
_KDF_INFO = b"accord page cursor v1"  # separates this key from every other use of the node's signing key
_TAG_BYTES = 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_CURSOR_CHARS = 1000

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class InvalidCursor(InvalidInput):
    slug = "invalid-cursor"
    title = N_("The page cursor is not valid")


def cursor_key(node: Node) -> bytes:
    """HKDF-SHA256 of the node's Ed25519 private key: no new secret to keep, the same on every process of the node."""
    private = node.keys.signing.private_key
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigurationError(_("the node's signing key is not an Ed25519 private key"))
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(private.private_bytes_raw())


def issue_cursor(node: Node, key: SortKey, position: Position) -> str:
    payload = canonical_json({"v": _VERSION, "l": key.name, "p": [_tagged(value) for value in position]})
    return f"{_b64(payload)}.{_b64(_tag(cursor_key(node), payload))}"


def open_cursor(node: Node, key: SortKey, cursor: str) -> Position:
    """The position `cursor` holds; InvalidCursor when this node did not issue it for this list and order."""
    payload = _verified(node, cursor)
    try:
        fields = json.loads(payload)
        bound = (fields["v"], fields["l"])
        position = tuple(_untagged(value) for value in fields["p"])
    except (ValueError, KeyError, TypeError) as exc:  # sealed by this node, so only an older format gets here
        raise InvalidCursor(
            _("the page cursor is in a format this node no longer reads; start from the first page")
        ) from exc
    if bound != (_VERSION, key.name) or len(position) != len(key.expressions):
        raise InvalidCursor(_("the page cursor continues another list or order; start from the first page of this one"))
    return position


def page_start(node: Node, key: SortKey, after: str | None) -> Position | None:
    """Where a page of the list in `key`'s order starts: the `after` cursor opened, or None for the first page."""
    return open_cursor(node, key, after) if after else None


AfterCursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR_CHARS,
        description="where the page starts: the `next` of the previous page, as it was given (opaque); leave it out "
        "for the first page",
    ),
]


PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page")]


def next_cursor(
    request: Request, response: Response, node: Node, key: SortKey, position: Position | None
) -> str | None:
    """The `next` of a page (None on the last), also set as the answer's `Link` header."""
    if position is None:
        return None
    cursor = issue_cursor(node, key, position)
    response.headers["Link"] = next_link(request, cursor)
    return cursor


def next_link(request: Request, cursor: str) -> str:
    """The `Link` header (RFC 8288) of a page that has a next one: this request with `after` set to `cursor`."""
    return f'<{request.url.include_query_params(after=cursor)}>; rel="next"'


def page_size(limit: int | None) -> int:
    """`limit` checked: DEFAULT_PAGE_SIZE when not given, else 1 to MAX_PAGE_SIZE."""
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(
            _("limit is a page size from 1 to {largest}; {limit} is not").format(largest=MAX_PAGE_SIZE, limit=limit)
        )
    return limit


def _verified(node: Node, cursor: str) -> bytes:
    forged = InvalidCursor(_("the page cursor is not one this node issued; start from the first page"))
    payload_part, _dot, tag_part = cursor.partition(".")
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("longer than any cursor this node issues")
        payload, tag = _unb64(payload_part), _unb64(tag_part)
    except (ValueError, binascii.Error) as exc:
        raise forged from exc
    if not compare_digest(_tag(cursor_key(node), payload), tag):
        raise forged
    return payload


def _tag(key: bytes, payload: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(payload)
    return mac.finalize()[:_TAG_BYTES]


def _tagged(value: Value) -> list[Any]:
    if isinstance(value, datetime):
        return ["t", (value.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)]
    if isinstance(value, bool):
        raise TypeError("no sort value is a boolean")
    if isinstance(value, int):
        return ["i", value]
    return ["s", str(value)]


def _untagged(value: Any) -> Value:
    kind, raw = value
    if kind == "t":
        return _EPOCH + timedelta(microseconds=int(raw))
    if kind == "i":
        return int(raw)
    if kind == "s":
        return str(raw)
    raise ValueError(f"unknown kind {kind!r}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("empty or not ASCII")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
