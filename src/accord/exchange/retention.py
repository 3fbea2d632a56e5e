"""Retention: the pack says how long each kind of record keeps its personal data; the purge removes it when that
time is up, keeps the message's metadata and its ledger leaves (which hold hashes only), and logs each purge."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from accord.crypto.canonical import canonical_json
from accord.domain.messages import DeliveryState
from accord.errors import ConfigurationError
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.store.search import message_search_for, store_words
from accord.store.tables import messages

PURGED_TITLE = "[purged under the retention rule]"
BATCH = 500
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PurgeSummary:
    purged: int
    as_of: datetime
    message_days: int
    refused_days: int


def purge_expired(node: Node, as_of: datetime | None = None) -> PurgeSummary:
    pack = getattr(node.policy, "pack", None)
    if pack is None:
        raise ConfigurationError(_("no usable policy pack is installed, so no retention rule applies; nothing purged"))
    rule = pack.manifest.retention
    now = as_of or datetime.now(UTC)
    expired = or_(
        messages.c.created_at < now - timedelta(days=rule.message_days),
        and_(
            messages.c.state == DeliveryState.REFUSED.value,
            messages.c.created_at < now - timedelta(days=rule.refused_days),
        ),
    )
    purged = 0
    while True:
        with node.engine.begin() as conn:
            rows = conn.execute(
                select(messages.c.id, messages.c.content).where(expired, messages.c.purged_at.is_(None)).limit(BATCH)
            ).all()
            for row in rows:
                conn.execute(
                    update(messages)
                    .where(messages.c.id == row.id)
                    .values(content=_without_personal_data(row.content), title=PURGED_TITLE, purged_at=now)
                )
                append_event(
                    conn,
                    EventType.DATA_PURGED,
                    "retention",
                    {"message": row.id, "pack": pack.label},
                    row.content.encode(),  # the leaf keeps the hash of what was removed, never the content
                    now,
                )
            store_words(conn, dict.fromkeys((row.id for row in rows), ""))  # nothing left to find it by
        purged += len(rows)
        if len(rows) < BATCH:
            break
    if purged:
        with node.engine.begin() as conn:  # the removed words leave the index's pages too, not only its answers
            message_search_for(conn).compact(conn)
    return PurgeSummary(purged, now, rule.message_days, rule.refused_days)


def _without_personal_data(content: str) -> str:
    message = json.loads(content)
    message.update({"title": PURGED_TITLE, "body": "", "subjects": []})
    return canonical_json(message).decode()


def run_retention(node: Node, stop: threading.Event, interval_s: float = 24 * 3600.0) -> None:
    """The daily purge, for the process's lifetime."""
    while not stop.wait(interval_s):
        try:
            summary = purge_expired(node)
            log.info("retention purge", purged=summary.purged)
        except (SQLAlchemyError, OSError, ConfigurationError) as exc:
            log.error("retention purge failed; next run retries", error=str(exc))
