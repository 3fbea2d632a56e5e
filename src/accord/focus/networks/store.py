"""Cases' entities in the node's database: a case row with the handling its reads are decided on, one row per
entity (FtM JSON, merged when the same id arrives again), and a provenance row for every arrival (which party,
which message or import, when, by whom). Every read goes through the node's read policy, as a message's does."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, insert, select, update

from accord.directory.officers import Officer
from accord.domain.handling import CommonLevel, Tlp
from accord.domain.messages import Direction
from accord.domain.parties import Party
from accord.errors import Forbidden, InvalidInput, NotFound
from accord.exchange.mailbox import readable_by
from accord.focus.networks.entities import caption_of
from accord.i18n import _
from accord.node import Node
from accord.store.tables import network_cases, network_entities, network_provenance

if TYPE_CHECKING:
    from followthemoney.proxy import EntityProxy

FOCUS_AREA = "networks"
_ID_CHUNK = 500


@dataclass(frozen=True, slots=True)
class CaseHandling:
    """The markings every entity of a case is read under."""

    level: CommonLevel = CommonLevel.CONFIDENTIAL
    tlp: Tlp = Tlp.AMBER
    caveats: tuple[str, ...] = ()


@dataclass(slots=True)
class Added:
    """What adding a set of entities did to a case."""

    new: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # held already: the new values were merged in


def ensure_case(
    conn: Connection,
    *,
    case_id: str,
    title: str,
    owner_agency: str,
    origin_party: Party,
    created_by: str,
    now: datetime,
    handling: CaseHandling | None = None,
) -> Row[Any]:
    """The case's row, created if this node has none for `case_id`."""
    row = conn.execute(select(network_cases).where(network_cases.c.case_id == case_id)).first()
    if row is not None:
        return row
    if not case_id or len(case_id) > 36:
        raise InvalidInput(_("a case id has 1 to 36 characters"))
    chosen = handling or CaseHandling()
    conn.execute(
        insert(network_cases).values(
            case_id=case_id,
            title=(title or case_id)[:200],
            owner_agency=owner_agency,
            origin_party=origin_party.value,
            focus_area=FOCUS_AREA,
            level=chosen.level.value,
            tlp=chosen.tlp.value,
            caveats=",".join(chosen.caveats),
            created_by=created_by,
            created_at=now,
        )
    )
    return conn.execute(select(network_cases).where(network_cases.c.case_id == case_id)).one()


def add_entities(
    conn: Connection,
    case_id: str,
    proxies: Sequence[EntityProxy],
    *,
    party: Party,
    source: str,
    added_by: str,
    now: datetime,
    message_id: str | None = None,
) -> Added:
    """Store checked entities in the case (merging into an entity it holds under the same id) with one provenance
    row each, in the caller's transaction."""
    added = Added()
    held = {row.entity_id: row for row in _rows(conn, case_id, [p.id for p in proxies if p.id])}
    for proxy in proxies:
        entity_id = proxy.id
        assert entity_id is not None
        existing = held.get(entity_id)
        if existing is None:
            conn.execute(
                insert(network_entities).values(
                    case_id=case_id,
                    entity_id=entity_id,
                    schema=proxy.schema.name,
                    caption=caption_of(proxy),
                    properties=_properties_json(proxy),
                    first_seen=now,
                    updated_at=now,
                )
            )
            added.new.append(entity_id)
            held[entity_id] = conn.execute(
                select(network_entities).where(
                    network_entities.c.case_id == case_id, network_entities.c.entity_id == entity_id
                )
            ).one()
        else:
            merged = proxy_of(existing)
            merged.merge(proxy)  # FtM keeps the more specific schema and every value of both
            conn.execute(
                update(network_entities)
                .where(network_entities.c.case_id == case_id, network_entities.c.entity_id == entity_id)
                .values(
                    schema=merged.schema.name,
                    caption=caption_of(merged),
                    properties=_properties_json(merged),
                    updated_at=now,
                )
            )
            added.merged.append(entity_id)
        conn.execute(
            insert(network_provenance).values(
                case_id=case_id,
                entity_id=entity_id,
                party=party.value,
                message_id=message_id,
                source=source[:256],
                added_by=added_by,
                added_at=now,
            )
        )
    return added


def proxy_of(row: Row[Any]) -> EntityProxy:
    # followthemoney reads its whole schema model at import (~0.9 s): imported where entities are handled.
    from followthemoney import model

    return model.get_proxy(
        {"id": row.entity_id, "schema": row.schema, "properties": json.loads(row.properties)}, cleaned=True
    )


def _properties_json(proxy: EntityProxy) -> str:
    return json.dumps(proxy.to_dict()["properties"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _rows(conn: Connection, case_id: str, entity_ids: Iterable[str]) -> list[Row[Any]]:
    ids = sorted(set(entity_ids))
    rows: list[Row[Any]] = []
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        rows += conn.execute(
            select(network_entities).where(
                network_entities.c.case_id == case_id, network_entities.c.entity_id.in_(chunk)
            )
        ).all()
    return rows


def held_ids(conn: Connection, case_id: str, entity_ids: Iterable[str]) -> set[str]:
    """The ids among `entity_ids` the case holds."""
    return {row.entity_id for row in _rows(conn, case_id, entity_ids)}


def case_entities(conn: Connection, case_id: str) -> list[EntityProxy]:
    rows = conn.execute(
        select(network_entities).where(network_entities.c.case_id == case_id).order_by(network_entities.c.entity_id)
    ).all()
    return [proxy_of(row) for row in rows]


def case_provenance(conn: Connection, case_id: str) -> dict[str, list[dict[str, Any]]]:
    """Per entity id, every arrival: party, message, source, by whom and when (oldest first)."""
    rows = conn.execute(
        select(network_provenance).where(network_provenance.c.case_id == case_id).order_by(network_provenance.c.row_id)
    ).all()
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row.entity_id, []).append(
            {
                "party": row.party,
                "message_id": row.message_id,
                "source": row.source,
                "added_by": row.added_by,
                "added_at": row.added_at.isoformat(),
            }
        )
    return found


def case_parties(conn: Connection, case_id: str) -> dict[str, set[str]]:
    """Per entity id, the parties it came from."""
    rows = conn.execute(
        select(network_provenance.c.entity_id, network_provenance.c.party)
        .where(network_provenance.c.case_id == case_id)
        .distinct()
    ).all()
    found: dict[str, set[str]] = {}
    for entity_id, party in rows:
        found.setdefault(entity_id, set()).add(party)
    return found


# ------------------------------------------------------------------------------------------------ need to know


def case_read_attributes(node: Node, row: Row[Any]) -> dict[str, Any]:
    """What the read policies decide on for a case's entities: the same attributes a message is read under."""
    ours = row.origin_party == node.party.value
    return {
        "holder_party": node.party.value,
        "direction": (Direction.OUTGOING if ours else Direction.INCOMING).value,
        "owner_agency": row.owner_agency,
        "focus_area": row.focus_area,
        "level": CommonLevel(row.level).rank,
        "tlp": row.tlp,
        "caveats": [c for c in row.caveats.split(",") if c],
        "named_readers": [],
        "forwarded_agencies": [],
        "forwarded_readers": [],
    }


def readable_cases(node: Node, officer: Officer, rows: Sequence[Row[Any]]) -> list[Row[Any]]:
    return readable_by(node, officer, [(row.case_id, case_read_attributes(node, row), row) for row in rows])


def visible_case(node: Node, conn: Connection, officer: Officer, case_id: str) -> Row[Any]:
    """The case's row if the officer may read its entities; NotFound if this node holds no such case."""
    row = conn.execute(select(network_cases).where(network_cases.c.case_id == case_id)).first()
    if row is None:
        raise NotFound(_("no network case {case_id}").format(case_id=case_id))
    if not readable_cases(node, officer, [row]):
        raise Forbidden(_("you have no need to know this case's entities (agency, clearance, focus area or caveats)"))
    return row


def list_cases(node: Node, officer: Officer) -> list[Row[Any]]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(network_cases).order_by(network_cases.c.created_at.desc())).all()
    return readable_cases(node, officer, rows)
