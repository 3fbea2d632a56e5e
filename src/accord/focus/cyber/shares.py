"""The STIX shares this node holds, sent and received, with what came back: the partner's sightings of the
indicators this side shared, linked by `sighting_of_ref`; and which shares an officer may read, which decides what of
theirs TAXII serves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from accord.directory.officers import Officer
from accord.domain.messages import Direction, Message, MessageKind
from accord.errors import NotFound
from accord.exchange.mailbox import delivery_holds, message_view, readable_rows, visible_row
from accord.focus.cyber.checks import CYBER_AREAS
from accord.i18n import _
from accord.node import Node
from accord.store.tables import messages

MAX_LISTED = 500
_ID_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True, slots=True)
class ShareView:
    message: dict[str, Any]
    bundle_id: str
    tlp: str
    types: dict[str, int]
    indicators: list[dict[str, Any]]  # id, name, pattern, and the sightings that came back for it

    def as_json(self) -> dict[str, Any]:
        return self.message | {
            "bundle_id": self.bundle_id,
            "tlp": self.tlp,
            "types": self.types,
            "indicators": self.indicators,
            "sightings_back": sum(len(i["sightings"]) for i in self.indicators),
        }


def _sightings(stix_messages: list[tuple[Any, Message]]) -> dict[str, list[dict[str, Any]]]:
    """Sightings received from the other party, by the id of the object sighted."""
    found: dict[str, list[dict[str, Any]]] = {}
    for row, message in stix_messages:
        if row.direction != Direction.INCOMING.value or message.stix is None:
            continue
        for o in message.stix.objects:
            if o.get("type") == "sighting" and isinstance(o.get("sighting_of_ref"), str):
                found.setdefault(o["sighting_of_ref"], []).append(
                    {
                        "id": o.get("id"),
                        "count": o.get("count"),
                        "first_seen": o.get("first_seen"),
                        "last_seen": o.get("last_seen"),
                        "message_id": row.id,
                    }
                )
    return found


def list_shares(node: Node, officer: Officer) -> list[ShareView]:
    now = datetime.now(UTC)
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(messages)
            .where(
                messages.c.kind == MessageKind.SHARE.value,
                messages.c.focus_area.in_(sorted(CYBER_AREAS)),
                messages.c.purged_at.is_(None),
            )
            .order_by(messages.c.created_at.desc())
            .limit(MAX_LISTED)
        ).all()
        holds = delivery_holds(node, conn)
    readable = readable_rows(node, officer, rows)
    parsed = [(row, Message.model_validate_json(row.content)) for row in readable]
    stix = [(row, m) for row, m in parsed if m.stix is not None]
    back = _sightings(stix)
    views = []
    for row, message in stix:
        assert message.stix is not None
        objects = message.stix.objects
        indicators = [
            {
                "id": o["id"],
                "name": o.get("name"),
                "pattern": o.get("pattern"),
                "sightings": back.get(o["id"], []) if row.direction == Direction.OUTGOING.value else [],
            }
            for o in objects
            if o.get("type") == "indicator"
        ]
        types = Counter(str(o.get("type")) for o in objects if o.get("type") != "marking-definition")
        view = message_view(row, now, holds)
        views.append(ShareView(view, message.stix.id, message.handling.tlp.value, dict(types), indicators))
    return views


def shared_bundle(node: Node, officer: Officer, message_id: str) -> dict[str, Any]:
    """One share's objects as a STIX 2.1 bundle, if the officer may read the share."""
    with node.engine.connect() as conn:
        row = visible_row(node, conn, officer, message_id)
    message = Message.model_validate_json(row.content)
    if message.stix is None:
        raise NotFound(_("the message {message_id} carries no STIX objects").format(message_id=message_id))
    return {"type": "bundle", "id": message.stix.id, "objects": list(message.stix.objects)}


def readable_shares(node: Node, officer: Officer, conn: Connection, message_ids: Collection[str]) -> frozenset[str]:
    """The ids among `message_ids` of the messages the officer may read: the need-to-know decision every API read of
    a message takes (agency, clearance against the level, focus areas, caveats, TLP:RED's named readers). A message
    this node does not hold is not readable."""
    ordered = sorted(message_ids)
    rows: list[Row[Any]] = []
    for start in range(0, len(ordered), _ID_CHUNK):
        chunk = ordered[start : start + _ID_CHUNK]
        rows += conn.execute(select(messages).where(messages.c.id.in_(chunk))).all()
    return frozenset(row.id for row in readable_rows(node, officer, rows))
