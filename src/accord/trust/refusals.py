"""Refusals of unauthenticated input, counted rather than ledgered: per window, way in, problem and source, with at
most one log line per counter and interval. The permanent ledger keeps what authenticated parties did; what anyone
on the network can send would otherwise grow it without bound."""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from accord.config import Settings
from accord.node import Node
from accord.store.tables import refusal_counts

log = structlog.get_logger("accord.refusals")

UNKNOWN_SOURCE = "unknown"
_SOURCE_LENGTH = 64  # refusal_counts.source, sign_in_failures.subject
_IPV6_SUBSCRIBER_PREFIX = 64  # RFC 6177 §3: one subscriber is commonly given a /64 or more


class Endpoint(StrEnum):
    """The way in an unauthenticated request used."""

    ENVELOPES = "/federation/v1/envelopes"
    BLOBS = "/federation/v1/blobs"
    API_TOKEN = "/api/v1/token"
    WEB_SIGN_IN = "/signin"
    TAXII = "/taxii2/"


@dataclass(frozen=True, slots=True)
class Refusal:
    endpoint: Endpoint
    problem: str  # the problem type's slug, as the answer names it
    source: str  # as `source_address` gives it


@dataclass(frozen=True, slots=True)
class RefusalCount:
    window_start: datetime
    endpoint: str
    problem: str
    source: str
    refusals: int
    first_at: datetime
    last_at: datetime


def source_address(host: str | None) -> str:
    """What a refusal or a failed sign-in is counted against: the client's address; an IPv6 address by its /64, since
    one subscriber holds all of it; an IPv4-mapped IPv6 address as the IPv4 address it maps."""
    if not host:
        return UNKNOWN_SOURCE
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # a zone index (fe80::1%eth0) names no other host
    except ValueError:
        return host[:_SOURCE_LENGTH]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, _IPV6_SUBSCRIBER_PREFIX), strict=False))
    return str(address)


def window_start(at: datetime, window_s: int) -> datetime:
    """The start of the counting window holding `at`: windows are aligned on the POSIX epoch."""
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(seconds - seconds % window_s, UTC)


def count_refusals(conn: Connection, settings: Settings, refusals: Iterable[Refusal], now: datetime) -> None:
    """Add `refusals` to their counters in the caller's transaction; log a counter if its last line is older than
    the log interval, with how many refusals went without a line of their own since."""
    tally = Counter(refusals)
    if not tally:
        return
    window = window_start(now, settings.refusal_window_s)
    c = refusal_counts.c
    opened_a_row = False
    # One order for every process, so that two transactions adding to the same counters cannot deadlock.
    for refusal, added in sorted(tally.items(), key=lambda item: (item[0].endpoint, item[0].problem, item[0].source)):
        key = {
            "window_start": window,
            "endpoint": refusal.endpoint.value,
            "problem": refusal.problem[:64],
            "source": refusal.source[:_SOURCE_LENGTH],
        }
        upsert = (
            _insert(conn)
            .values(**key, refusals=added, first_at=now, last_at=now, logged_refusals=0)
            .on_conflict_do_update(
                index_elements=[c.window_start, c.endpoint, c.problem, c.source],
                set_={"refusals": c.refusals + added, "last_at": now},
            )
            .returning(c.refusals, c.logged_at, c.logged_refusals)
        )
        row = conn.execute(upsert).one()
        opened_a_row = opened_a_row or row.refusals == added
        if row.logged_at is None or (now - row.logged_at).total_seconds() >= settings.refusal_log_interval_s:
            log.warning(
                "refused",
                endpoint=refusal.endpoint.value,
                problem=refusal.problem,
                source=refusal.source,
                refusals=added,
                suppressed=row.refusals - added - row.logged_refusals,
                window_total=row.refusals,
            )
            conn.execute(
                update(refusal_counts)
                .where(*(getattr(c, name) == value for name, value in key.items()))
                .values(logged_at=now, logged_refusals=row.refusals)
            )
    if opened_a_row:  # at most once per counter and window: the windows that ended before the retention time go
        cutoff = now - timedelta(days=settings.refusal_retention_days, seconds=settings.refusal_window_s)
        conn.execute(delete(refusal_counts).where(c.window_start < cutoff))


def _insert(conn: Connection) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(refusal_counts) if conn.dialect.name == "postgresql" else sqlite.insert(refusal_counts)


def list_refusal_counts(node: Node, since: datetime, limit: int = 1000) -> list[RefusalCount]:
    """The counters with a refusal at or after `since`: the newest window first, in it the largest count first."""
    c = refusal_counts.c
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(c.window_start, c.endpoint, c.problem, c.source, c.refusals, c.first_at, c.last_at)
            .where(c.last_at >= since)
            .order_by(c.window_start.desc(), c.refusals.desc(), c.endpoint, c.problem, c.source)
            .limit(limit)
        ).all()
    return [
        RefusalCount(r.window_start, r.endpoint, r.problem, r.source, int(r.refusals), r.first_at, r.last_at)
        for r in rows
    ]
