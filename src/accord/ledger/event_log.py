"""The ledger's events as oversight browses them: filtered by type, actor, time and the ids they name, in ledger order
a page at a time (keyset on the leaf index, so a page is unaffected by events appended meanwhile)."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from accord.errors import InvalidInput
from accord.i18n import _
from accord.ledger.leaves import EventType
from accord.store.tables import events

MAX_PAGE = 500
# The refs that name a message an event is about, in the order they are looked for: what "open proof" opens.
MESSAGE_REFS = ("message", "ref")


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Every filter given must hold; `names` are ids (a case's and its messages') of which the event names one."""

    type: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    names: Collection[str] = ()

    def checked(self) -> EventFilter:
        """The filter, or InvalidInput naming what is wrong with it (nothing is read)."""
        if self.type is not None and self.type not in {t.value for t in EventType}:
            raise InvalidInput(
                _("{type!r} is not an event type of the ledger; see the list at /audit/events").format(type=self.type)
            )
        for moment in (self.since, self.until):
            if moment is not None and moment.tzinfo is None:
                raise InvalidInput(_("a time filter needs its time zone (e.g. 2026-11-28T09:00:00Z)"))
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise InvalidInput(_("'until' must come after 'since'"))
        return self


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    index: int
    at: datetime
    type: str
    actor: str
    refs: dict[str, Any]
    payload_sha256: str | None
    leaf_hash: str

    @property
    def message_id(self) -> str | None:
        """The message the event is about, if it names one (its ledger proof is the message's)."""
        return next((str(self.refs[k]) for k in MESSAGE_REFS if isinstance(self.refs.get(k), str)), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "at": self.at.isoformat(),
            "type": self.type,
            "actor": self.actor,
            "refs": self.refs,
            "payload_sha256": self.payload_sha256,
            "leaf_hash": self.leaf_hash,
            "message": self.message_id,
        }


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[LedgerEvent]
    next_after: int | None  # the cursor of the next page; None on the last


def list_events(conn: Connection, which: EventFilter, *, after: int | None = None, limit: int = 50) -> EventPage:
    """The events `which` selects, in ledger order, after leaf `after`, `limit` at a time."""
    which = which.checked()
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(_("limit is between 1 and {max}").format(max=MAX_PAGE))
    query = select(events)
    if which.type is not None:
        query = query.where(events.c.type == which.type)
    if which.actor is not None:
        query = query.where(events.c.actor == which.actor)
    if which.since is not None:
        query = query.where(events.c.at >= which.since.astimezone(UTC))
    if which.until is not None:
        query = query.where(events.c.at < which.until.astimezone(UTC))
    if which.names:
        query = query.where(or_(*(events.c.refs.contains(f'"{n}"', autoescape=True) for n in sorted(which.names))))
    if after is not None:
        query = query.where(events.c.id > after)
    rows = conn.execute(query.order_by(events.c.id).limit(limit + 1)).all()
    found = [
        LedgerEvent(
            row.id, row.at, row.type, row.actor, json.loads(row.refs), row.payload_sha256, bytes(row.leaf_hash).hex()
        )
        for row in rows[:limit]
    ]
    return EventPage(found, found[-1].index if len(rows) > limit else None)
