"""Precursor incidents as Accord messages: what an incident must keep to be sent, and the searchable list of the
incidents this node holds (sent and received) for the map, the timeline and the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, select

from accord.directory.officers import Officer
from accord.domain.incidents import Incident, IncidentKind
from accord.domain.messages import Message, MessageKind, SubjectKind
from accord.errors import InvalidInput
from accord.exchange.mailbox import delivery_holds, message_view, readable_rows
from accord.exchange.outbox import ChannelHold
from accord.focus.precursors.notifications import DRUGS
from accord.focus.precursors.risk import identify, resolve_substance
from accord.i18n import _
from accord.node import Node
from accord.store.keyset import Page, Position, SortKey, read_page
from accord.store.tables import messages

MAX_LISTED = 2000


def check_incident(focus_area: str, incident: Incident | None, today: date | None) -> Incident:
    """What makes an incident impossible to send or to accept (the receiver, on another clock, skips the dates)."""
    if incident is None:
        raise InvalidInput(_("an 'incident' carries the incident: kind, date, place, substances, modus operandi"))
    if focus_area != DRUGS:
        raise InvalidInput(_("a precursor incident belongs to the '{DRUGS}' focus area").format(DRUGS=DRUGS))
    for field, when in (("occurred_on", incident.occurred_on), ("detected_on", incident.detected_on)):
        if when is not None and today is not None and when > today:
            raise InvalidInput(_("{field} {when} is in the future").format(field=field, when=when))
    for item in incident.items:
        resolve_substance(item.substance)
    return incident


def check_incident_reference(conn: Connection, incident: Incident) -> None:
    """An incident that names a notification names one this node holds."""
    if incident.notification_id is None:
        return
    found = conn.execute(
        select(messages.c.id).where(messages.c.id == incident.notification_id, messages.c.kind == MessageKind.PEN.value)
    ).first()
    if found is None:
        raise InvalidInput(
            _("notification_id {notification_id} is not a pre-export notification held here").format(
                notification_id=incident.notification_id
            )
        )


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    q: str | None = None
    kind: IncidentKind | None = None
    substance: str | None = None  # a substance code, name, synonym or CAS number
    country: str | None = None  # where it happened
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.until < self.since:
            raise InvalidInput(_("until {until} is before since {since}").format(until=self.until, since=self.since))


@dataclass(frozen=True, slots=True)
class IncidentView:
    message: dict[str, Any]
    incident: Incident
    substances: list[dict[str, Any]]  # per item: code (or analogue name), name, quantity
    persons: list[str]

    def as_json(self) -> dict[str, Any]:
        return self.message | {
            "incident": self.incident.model_dump(mode="json"),
            "substances": self.substances,
            "persons": self.persons,
        }

    def text(self) -> str:
        """Everything a free-text search looks in."""
        i = self.incident
        parts = [
            self.message.get("title") or "",
            self.message.get("body") or "",
            i.modus_operandi,
            i.concealment or "",
            i.place.name,
            *(c.name for c in i.companies),
            *(s["name"] for s in self.substances),
            *(s["code"] for s in self.substances),
            *self.persons,
        ]
        return "\n".join(parts).casefold()


def _resolved(incident: Incident) -> list[dict[str, Any]]:
    found = []
    for item in incident.items:
        try:
            code, name = identify(item.substance)
        except InvalidInput:
            code, name = item.substance, item.substance  # arrived before this node's list knew it
        found.append({"code": code, "name": name, "quantity_kg": item.quantity_kg})
    return found


def incident_view(row: Any, now: datetime, holds: Mapping[str, ChannelHold]) -> IncidentView | None:
    message = Message.model_validate_json(row.content)
    if message.incident is None:
        return None
    persons = [s.name or "(unnamed)" for s in message.subjects if s.kind is SubjectKind.PERSON]
    view = message_view(row, now, holds, with_content=True)
    return IncidentView(view, message.incident, _resolved(message.incident), persons)


def _matches(view: IncidentView, flt: IncidentFilter, substance_code: str | None) -> bool:
    i = view.incident
    return (
        (flt.kind is None or i.kind is flt.kind)
        and (flt.country is None or i.place.country == flt.country)
        and (flt.since is None or i.occurred_on >= flt.since)
        and (flt.until is None or i.occurred_on <= flt.until)
        and (substance_code is None or any(s["code"] == substance_code for s in view.substances))
        and (not flt.q or flt.q.casefold() in view.text())
    )


def _incident_messages() -> Select[Any]:
    """The incidents this node holds (sent and received) that are not purged."""
    return select(messages).where(messages.c.kind == MessageKind.INCIDENT.value, messages.c.purged_at.is_(None))


INCIDENT_ORDER = SortKey("incidents/created", (messages.c.created_at, messages.c.id))


def incident_page(
    node: Node, officer: Officer, flt: IncidentFilter, *, after: Position | None = None, limit: int = 50
) -> Page[IncidentView]:
    """A page of the incidents the officer may read that match the filter, the most recently recorded first."""
    substance_code = identify(flt.substance)[0] if flt.substance is not None else None
    now = datetime.now(UTC)

    with node.engine.connect() as conn:
        holds = delivery_holds(node, conn)

        def keep(rows: Sequence[Row[Any]]) -> list[tuple[Row[Any], IncidentView]]:
            views = ((row, incident_view(row, now, holds)) for row in readable_rows(node, officer, rows))
            return [(row, view) for row, view in views if view is not None and _matches(view, flt, substance_code)]

        return read_page(conn, _incident_messages(), INCIDENT_ORDER, after=after, limit=limit, keep=keep)


def list_incidents(node: Node, officer: Officer, flt: IncidentFilter) -> list[IncidentView]:
    """The incidents the officer may read that match the filter, the most recent first."""
    substance_code = identify(flt.substance)[0] if flt.substance is not None else None
    now = datetime.now(UTC)
    with node.engine.connect() as conn:
        rows = conn.execute(_incident_messages().order_by(messages.c.created_at.desc()).limit(MAX_LISTED)).all()
        holds = delivery_holds(node, conn)
    views = [v for row in readable_rows(node, officer, rows) if (v := incident_view(row, now, holds)) is not None]
    found = [v for v in views if _matches(v, flt, substance_code)]
    return sorted(found, key=lambda v: (v.incident.occurred_on, v.message["created_at"]), reverse=True)
