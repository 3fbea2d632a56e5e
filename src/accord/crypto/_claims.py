"""Reading typed claims out of a verified JSON payload: each refusal names the claim, what it is and what it must be."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from accord.crypto.errors import MalformedArtefact
from accord.i18n import _

T = TypeVar("T")

_JSON_TYPES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
    type(None): "null",
}
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def required(claims: Mapping[str, Any], artefact: str, name: str, kind: type[T]) -> T:
    """The claim `name`, which must be present and of the JSON type `kind` (a boolean is not an integer)."""
    if name not in claims:
        raise MalformedArtefact(_("{artefact} lacks claim {name!r}").format(artefact=artefact, name=name))
    return _typed(claims[name], artefact, name, kind)


def optional(claims: Mapping[str, Any], artefact: str, name: str, kind: type[T]) -> T | None:
    """The claim `name` if present, which must then be of the JSON type `kind`."""
    return _typed(claims[name], artefact, name, kind) if name in claims else None


def _typed(value: Any, artefact: str, name: str, kind: type[T]) -> T:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise MalformedArtefact(
            _("{artefact} claim {name!r} is {json_type}, expected {JSON_TYPES}").format(
                artefact=artefact, name=name, json_type=json_type(value), JSON_TYPES=_JSON_TYPES[kind]
            )
        )
    return value


def positive(value: int, artefact: str, name: str) -> int:
    if value < 1:
        raise MalformedArtefact(
            _("{artefact} claim {name!r} is {value}, expected a positive integer").format(
                artefact=artefact, name=name, value=value
            )
        )
    return value


def hash_hex(value: str, artefact: str, name: str) -> bytes:
    """A SHA-256 hash written as 64 lowercase hex digits, as every hash Accord signs is."""
    if not _SHA256_HEX.fullmatch(value):
        raise MalformedArtefact(
            _("{artefact} claim {name!r} is {value!r}, expected 64 lowercase hex digits").format(
                artefact=artefact, name=name, value=value[:80]
            )
        )
    return bytes.fromhex(value)


def utc_time(value: str, artefact: str, name: str) -> datetime:
    """An RFC 3339 time with its UTC offset, as `datetime.isoformat` writes it."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedArtefact(
            _("{artefact} claim {name!r} is {value!r}, expected an ISO 8601 time").format(
                artefact=artefact, name=name, value=value[:80]
            )
        ) from exc
    if parsed.tzinfo is None:
        raise MalformedArtefact(
            _("{artefact} claim {name!r} is {value!r}, expected a time with its UTC offset").format(
                artefact=artefact, name=name, value=value
            )
        )
    return parsed
