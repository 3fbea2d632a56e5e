"""Ledger alarms: evidence that a peer's history does not add up (a truncated or rewritten log, a split view) or that a
channel's sequence numbers collide, kept until an operator acknowledges them, and logged in the ledger itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import ColumnElement, Connection, Engine, and_, func, insert, select, true, update

from accord.errors import Conflict, InvalidInput, NotFound
from accord.i18n import N_, _
from accord.ledger.events import EventType, append_event
from accord.store.tables import ledger_alarms

log = structlog.get_logger(__name__)

MAX_NOTE_LENGTH = 2000
MAX_PAGE = 500


class AlarmKind(StrEnum):
    """What an alarm says. Each is raised on a signed artefact of the peer, never on what a stranger sends."""

    LOG_TRUNCATED = "log-truncated"  # a newer signed checkpoint with a smaller tree than one countersigned here
    SPLIT_VIEW = "split-view"  # two signed roots for one tree size
    HISTORY_REWRITTEN = "history-rewritten"  # a signed extension whose signed consistency proof fails
    PEER_REPORTS_INCONSISTENCY = "peer-reports-inconsistency"  # the peer refuses to countersign our checkpoint
    BAD_COSIGNATURE = "bad-cosignature"  # the peer's countersignature on our checkpoint does not verify
    SEQUENCE_COLLISION = "sequence-collision"  # the peer holds another envelope under a sequence number we used
    NO_COMMON_VERSION = "no-common-version"  # the peer's signed hello advertises no wire version this node speaks


class Recurrence(StrEnum):
    """Whether an alarm about a subject already alarmed is raised again."""

    ONCE = "once"  # evidence (a signed checkpoint): one alarm, acknowledged or not
    AFTER_ACKNOWLEDGEMENT = "after-acknowledgement"  # a condition (a channel): again once the open one is acknowledged


class AlarmNotFound(NotFound):
    slug = "alarm-not-found"
    title = N_("No such ledger alarm")


class AlarmAlreadyAcknowledged(Conflict):
    slug = "alarm-already-acknowledged"
    title = N_("The alarm was acknowledged already")


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    at: datetime
    by: str
    note: str


@dataclass(frozen=True, slots=True)
class Alarm:
    id: int
    at: datetime
    origin: str
    kind: str
    detail: str
    evidence: str
    subject: str | None
    acknowledgement: Acknowledgement | None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledgement is not None

    def as_json(self) -> dict[str, Any]:
        ack = self.acknowledgement
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "origin": self.origin,
            "kind": self.kind,
            "detail": self.detail,
            "evidence": json.loads(self.evidence) if self.evidence else None,
            "acknowledged": {"at": ack.at.isoformat(), "by": ack.by, "note": ack.note} if ack else None,
        }


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """Which alarms: each field left None does not filter."""

    kind: str | None = None
    origin: str | None = None
    acknowledged: bool | None = None
    since: datetime | None = None  # raised at or after

    def where(self) -> ColumnElement[bool]:
        c = ledger_alarms.c
        clauses: list[ColumnElement[bool]] = []
        if self.kind is not None:
            clauses.append(c.kind == self.kind)
        if self.origin is not None:
            clauses.append(c.origin == self.origin)
        if self.acknowledged is not None:
            clauses.append(c.acknowledged_at.is_not(None) if self.acknowledged else c.acknowledged_at.is_(None))
        if self.since is not None:
            clauses.append(c.at >= self.since)
        return and_(true(), *clauses)


UNACKNOWLEDGED = AlarmFilter(acknowledged=False)


@dataclass(frozen=True, slots=True)
class AlarmPage:
    """Alarms in the order they were raised; `next_after` is the cursor of the next page (None: this is the last)."""

    alarms: list[Alarm]
    next_after: int | None


def _alarm(row: Any) -> Alarm:
    ack = (
        Acknowledgement(row.acknowledged_at, row.acknowledged_by or "", row.acknowledgement or "")
        if row.acknowledged_at is not None
        else None
    )
    return Alarm(row.id, row.at, row.origin, row.kind, row.detail, row.evidence or "", row.subject, ack)


def raise_alarm(
    engine: Engine,
    node_id: str,
    origin: str,
    kind: AlarmKind,
    detail: str,
    evidence: dict[str, Any],
    *,
    subject: str | None = None,
    recurrence: Recurrence = Recurrence.ONCE,
) -> Alarm | None:
    """Record an alarm operators see (API, CLI, web) and log it in the ledger, in its own transaction.

    With a `subject`, an alarm already raised about it (by `recurrence`) is not raised again: None is returned.
    """
    kind = AlarmKind(kind)
    now = datetime.now(UTC)
    text = json.dumps(evidence, sort_keys=True)
    with engine.begin() as conn:
        if subject is not None and _already_raised(conn, origin, kind, subject, recurrence):
            return None
        row_id = conn.execute(
            insert(ledger_alarms).values(
                at=now, origin=origin, kind=kind.value, detail=detail, evidence=text, subject=subject
            )
        ).inserted_primary_key
        assert row_id is not None
        append_event(conn, EventType.LEDGER_ALARM, node_id, {"origin": origin, "kind": kind.value}, text.encode())
    log.error("ledger alarm", origin=origin, kind=kind.value, detail=detail)
    return Alarm(int(row_id[0]), now, origin, kind.value, detail, text, subject, None)


def _already_raised(conn: Connection, origin: str, kind: AlarmKind, subject: str, recurrence: Recurrence) -> bool:
    c = ledger_alarms.c
    query = select(c.id).where(c.origin == origin, c.kind == kind.value, c.subject == subject)
    if recurrence is Recurrence.AFTER_ACKNOWLEDGEMENT:
        query = query.where(c.acknowledged_at.is_(None))
    return conn.execute(query.limit(1)).first() is not None


def list_alarms(
    conn: Connection,
    which: AlarmFilter = AlarmFilter(),
    *,
    after: int | None = None,
    limit: int = 50,
    newest_first: bool = False,
) -> AlarmPage:
    """Up to `limit` alarms matching `which`, oldest first (or newest first), from the one that follows alarm `after`
    in that order: keyset pagination, so a page is stable however many alarms are raised meanwhile."""
    limit = max(1, min(limit, MAX_PAGE))
    c = ledger_alarms.c
    query = select(ledger_alarms).where(which.where())
    if after is not None:
        query = query.where(c.id < after if newest_first else c.id > after)
    rows = conn.execute(query.order_by(c.id.desc() if newest_first else c.id).limit(limit + 1)).all()
    alarms = [_alarm(row) for row in rows[:limit]]
    return AlarmPage(alarms, alarms[-1].id if len(rows) > limit else None)


def get_alarm(conn: Connection, alarm_id: int) -> Alarm:
    row = conn.execute(select(ledger_alarms).where(ledger_alarms.c.id == alarm_id)).first()
    if row is None:
        raise AlarmNotFound(_("no ledger alarm {alarm_id}; see `accord audit alarms --all`").format(alarm_id=alarm_id))
    return _alarm(row)


def count_alarms(conn: Connection, which: AlarmFilter = AlarmFilter()) -> int:
    return int(conn.execute(select(func.count()).select_from(ledger_alarms).where(which.where())).scalar_one())


def acknowledge_alarm(engine: Engine, alarm_id: int, note: str, *, by: str, actor: str) -> Alarm:
    """An operator (`by`, a username; `actor` in the ledger) has seen the alarm and notes what was done: recorded on
    the alarm and logged in the ledger, the note's hash in the leaf."""
    note = note.strip()
    if not note or len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(
            _("an acknowledgement needs a note of 1 to {MAX_NOTE_LENGTH} characters: what was done").format(
                MAX_NOTE_LENGTH=MAX_NOTE_LENGTH
            )
        )
    now = datetime.now(UTC)
    c = ledger_alarms.c
    with engine.begin() as conn:
        alarm = get_alarm(conn, alarm_id)
        changed = conn.execute(
            update(ledger_alarms)
            .where(c.id == alarm_id, c.acknowledged_at.is_(None))
            .values(acknowledged_at=now, acknowledged_by=by, acknowledgement=note)
        ).rowcount
        if changed != 1:
            raise AlarmAlreadyAcknowledged(
                _("ledger alarm {alarm_id} was acknowledged already").format(alarm_id=alarm_id)
            )
        append_event(
            conn,
            EventType.LEDGER_ALARM_ACKNOWLEDGED,
            actor,
            {"alarm": alarm_id, "origin": alarm.origin, "kind": alarm.kind},
            note.encode(),
        )
    log.info("ledger alarm acknowledged", alarm=alarm_id, kind=alarm.kind, by=by)
    return replace(alarm, acknowledgement=Acknowledgement(now, by, note))
