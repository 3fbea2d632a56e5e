"""Readiness for load balancers (`/readyz`): the node can serve when its database answers, holds the schema this
release needs and its keys load. Whether the peer answers is reported beside, with since when, but does not make the
node unready: officers' messages wait in the outbox while the peer is away. The answer names what failed, never why in
detail (that is logged, with the request's id): whoever asks is not authenticated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import structlog
from sqlalchemy import Connection, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from accord.crypto.keys import NodeKeys
from accord.errors import AccordError
from accord.exchange.delivery_watch import DeliveryWatch
from accord.i18n import _
from accord.node import KEY_DIR, Node
from accord.store.migrate import database_revision, shipped_head
from accord.store.tables import peers

log = structlog.get_logger("accord.readiness")


class Check(StrEnum):
    DATABASE = "database"
    MIGRATIONS = "migrations"
    KEYS = "keys"


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class PeerReachability:
    node_id: str
    reachable: bool | None  # None: this process has not tried the peer since it started
    since: datetime | None


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: list[CheckResult]
    peers: list[PeerReachability]

    @property
    def ready(self) -> bool:
        return all(result.ok for result in self.checks)


def assess_readiness(node: Node, watch: DeliveryWatch) -> Readiness:
    keys = _keys(node)
    try:
        _require_database_file(node)
        with node.engine.connect() as conn:
            conn.execute(select(text("1")))
            migrations = _migrations(conn)
            pinned = list(conn.scalars(select(peers.c.node_id).order_by(peers.c.node_id)))
    except (SQLAlchemyError, OSError) as exc:
        log.warning("not ready: the database does not answer", error=f"{type(exc).__name__}: {exc}")
        database = CheckResult(Check.DATABASE, False, _("the database does not answer"))
        unknown = CheckResult(Check.MIGRATIONS, False, _("unknown while the database does not answer"))
        return Readiness([database, unknown, keys], [])
    database = CheckResult(Check.DATABASE, True, _("the database answers"))
    return Readiness([database, migrations, keys], [_reachability(watch, peer) for peer in pinned])


def _require_database_file(node: Node) -> None:
    """A SQLite file removed under the running node is still open, but nothing written to it would outlast the
    process: the node is not fit to serve."""
    url = make_url(node.settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).stat()


def _migrations(conn: Connection) -> CheckResult:
    revision, head = database_revision(conn), shipped_head()
    if revision == head:
        return CheckResult(Check.MIGRATIONS, True, _("the database schema is the one this release needs"))
    log.warning("not ready: the database schema differs", database=revision, release=head)
    return CheckResult(
        Check.MIGRATIONS,
        False,
        _(
            "the database schema is not the one this release needs; restart the node to migrate it, or run the release "
            "that migrated it"
        ),
    )


def _keys(node: Node) -> CheckResult:
    try:
        NodeKeys.load(node.settings.data_dir / KEY_DIR)
    except AccordError as exc:
        log.warning("not ready: the node's keys do not load", error=exc.detail)
        return CheckResult(Check.KEYS, False, _("the node's key files do not load"))
    return CheckResult(Check.KEYS, True, _("the node's key files load"))


def _reachability(watch: DeliveryWatch, peer: str) -> PeerReachability:
    contact = watch.contact(peer)
    if contact is None:
        return PeerReachability(peer, None, None)
    return PeerReachability(peer, contact.reachable, contact.since)
