"""Which time zone the reader reads times in: the officer's own, else the node's (its party's seat of government);
every time shown carries its zone, since Ottawa and New Delhi are 10.5 hours apart and read the same deadlines."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones


@dataclass(slots=True)
class _Reader:
    """Mutable for the same reason as the language choice: the officer is resolved in a copy of the request's
    context, and their zone must still reach the page rendered after."""

    zone: tzinfo


_reader: ContextVar[_Reader | None] = ContextVar("accord_time_zone", default=None)


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone ('America/Toronto', 'Asia/Kolkata', 'UTC'); ValueError says what a name looks like."""
    cleaned = name.strip()
    if cleaned in known_zones():  # a name of the zone database, never a path ZoneInfo would open
        return ZoneInfo(cleaned)
    raise ValueError(f"unknown time zone {name!r}; give an IANA name such as America/Toronto or Asia/Kolkata")


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The zone a stored name (an officer's choice) stands for; None for no name, or one this machine's zone database
    has since lost (the reader then gets the node's)."""
    try:
        return parse_zone(name) if name else None
    except ValueError:
        return None


@cache
def known_zones() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (a form offers them)."""
    return tuple(sorted(available_timezones()))


def process_zone() -> tzinfo:
    """Outside a request: ACCORD_TIME_ZONE, else TZ, else UTC."""
    for variable in ("ACCORD_TIME_ZONE", "TZ"):
        value = os.environ.get(variable, "").lstrip(":")
        if value:
            try:
                return parse_zone(value)
            except ValueError:
                continue
    return UTC


def reader_zone() -> tzinfo:
    reader = _reader.get()
    return reader.zone if reader else process_zone()


def begin_zone(zone: tzinfo) -> Token[_Reader | None]:
    """Begin a request's work in the node's zone; reset the token it returns when the request ends."""
    return _reader.set(_Reader(zone))


def end_zone(token: Token[_Reader | None]) -> None:
    _reader.reset(token)


def prefer_zone(zone: tzinfo | None) -> None:
    """The signed-in officer's own zone, for the rest of the request."""
    reader = _reader.get()
    if zone is not None and reader is not None:
        reader.zone = zone


@contextmanager
def zone_scope(zone: tzinfo) -> Iterator[None]:
    token = _reader.set(_Reader(zone))
    try:
        yield
    finally:
        _reader.reset(token)


def zone_abbreviation(moment: datetime, zone: tzinfo | None = None) -> str:
    """'EST', 'EDT', 'IST', 'UTC': what the zone is called at that moment (summer time included); an offset where
    the zone database has no letters for it ('+0545')."""
    local = moment.astimezone(zone or reader_zone())
    name = local.tzname() or ""
    if not name or name[0] in "+-":
        offset = local.strftime("%z")
        return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return name


def format_moment(moment: datetime, zone: tzinfo | None = None) -> str:
    """A moment as the reader reads it, with its zone: '2026-11-29 08:05 EST'. A naive moment is UTC (as stored)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    chosen = zone or reader_zone()
    local = aware.astimezone(chosen)
    return f"{local:%Y-%m-%d %H:%M} {zone_abbreviation(aware, chosen)}"
