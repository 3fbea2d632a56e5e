"""Checks each STIX object on the way in: STIX 2.1 only, the OASIS validator's MUSTs (stix2-validator), and the stix2
library's own parse; every failure is reported against the object's id."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

SPEC_VERSION = "2.1"
# STIX 2.1 §3.2: timestamps are RFC 3339 in UTC with a literal Z; any sub-second precision.
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$")
# A version is stored to the nanosecond; finer precision would make distinct versions look equal.
_VERSION_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$")
# The library raises these (and its STIXError) on malformed input rather than reporting it.
_LIBRARY_ERRORS = (ValueError, TypeError, KeyError, AttributeError)


@dataclass(frozen=True, slots=True)
class CheckedObject:
    """One object as received, what it is called in a status resource, and what is wrong with it (if anything)."""

    position: int  # in the envelope, from 0
    stix: Any
    id: str
    version: str | None  # `modified`, else `created`; None for objects without either (most SCOs)
    errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def spec_version(self) -> str:
        return SPEC_VERSION  # anything else was refused


@dataclass(frozen=True, slots=True)
class CheckedObjects:
    """The objects of one envelope, each checked; pass this to `add_objects` to validate outside the transaction."""

    items: tuple[CheckedObject, ...]

    @property
    def valid(self) -> tuple[CheckedObject, ...]:
        return tuple(item for item in self.items if item.ok)

    @property
    def invalid(self) -> tuple[CheckedObject, ...]:
        return tuple(item for item in self.items if not item.ok)


def check_objects(objects: Iterable[Any]) -> CheckedObjects:
    return CheckedObjects(tuple(check_object(position, stix) for position, stix in enumerate(objects)))


def check_object(position: int, stix: Any) -> CheckedObject:
    first = first_check(position, stix)
    if first.ok:
        return replace(first, errors=tuple(library_errors(stix)))
    return first


def first_check(position: int, stix: Any) -> CheckedObject:
    """The checks that cost microseconds (JSON shape, `type` and `id`, timestamps, spec_version), so a bad object
    fails before the libraries see it; `library_errors` must still pass for an object that passes these."""
    if not isinstance(stix, dict):
        return CheckedObject(position, stix, _unnamed(position), None, ("not a JSON object",))
    given = stix.get("id")
    name = given if isinstance(given, str) and given else _unnamed(position)
    return CheckedObject(position, stix, name, _version_of(stix), tuple(_first_errors(stix)))


def _unnamed(position: int) -> str:
    return f"object #{position + 1} (no id)"


def _version_of(stix: dict[str, Any]) -> str | None:
    for field in ("modified", "created"):
        value = stix.get(field)
        if isinstance(value, str):
            return value
    return None


def _first_errors(stix: dict[str, Any]) -> list[str]:
    if not isinstance(stix.get("type"), str) or not isinstance(stix.get("id"), str):
        return ["a STIX object needs a string `type` and `id`"]
    if stix["type"] == "bundle":
        return ["a bundle is not an object to store; post its objects in the envelope"]
    for name in ("created", "modified"):
        if name in stix and not (isinstance(stix[name], str) and _VERSION_TIMESTAMP.match(stix[name])):
            return [f"`{name}` must be a STIX timestamp in UTC, to at most nanoseconds (YYYY-MM-DDTHH:MM:SS[.s]Z)"]
    spec_version = stix.get("spec_version", SPEC_VERSION)  # SCOs may omit it (STIX 2.1 §3.1)
    if spec_version != SPEC_VERSION:
        return [f"spec_version is {spec_version!r}; this server holds STIX {SPEC_VERSION} objects only"]
    return []


def library_errors(stix: dict[str, Any]) -> list[str]:
    """What the OASIS validator's MUSTs and the stix2 library's parse find wrong with an object that passed
    `first_check` (about 2 ms of CPU for an indicator: the part worth spreading over processes)."""
    # Imported on first use: stix2-validator (jsonschema with its format checkers) takes a second to import, and stix2
    # (with its ANTLR pattern grammar) a fifth of one, which every node process and CLI command would pay otherwise.
    import stix2
    from stix2.exceptions import STIXError

    from accord.focus.cyber.schema_check import schema_errors

    problems = schema_errors(stix)
    if problems:
        return problems
    try:
        stix2.parse(stix, allow_custom=True)
    except (STIXError, *_LIBRARY_ERRORS) as exc:
        return [f"stix2: {exc}"]
    return []


def timestamp_key(value: str) -> str:
    """The instant a STIX timestamp names, fixed width (nanoseconds), so equal instants compare equal as text."""
    match = _TIMESTAMP.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z)")
    whole, fraction = match.groups()
    return f"{whole}.{(fraction or '').ljust(9, '0')[:9]}Z"


def parse_timestamp(value: str) -> datetime:
    """A STIX timestamp as an aware datetime, to the microsecond (finer digits are dropped, which keeps "added
    after" exact against dates added that are whole microseconds)."""
    match = _TIMESTAMP.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z)")
    whole, fraction = match.groups()
    micros = int((fraction or "").ljust(6, "0")[:6])
    return datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC) + timedelta(microseconds=micros)
