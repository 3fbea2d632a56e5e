"""The use cases of a network case, one transaction each, for the API, the CLI and the web UI: open a case, add
entities (all or nothing from a request; the valid ones of an import), list the cases an officer may read, read a
case's summary and entities with their provenance, and export it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, distinct, func, select
from uuid6 import uuid7

from accord.crypto.canonical import canonical_json
from accord.directory.officers import Officer, Role
from accord.errors import Conflict, Forbidden, InvalidInput
from accord.focus.networks.exports import ExportFormat, ftm_lines, gexf, graphml
from accord.focus.networks.graph import build_graph
from accord.focus.networks.imports import ImportPlan, RowError, SourcedRecord, plan_import, records_of
from accord.focus.networks.store import (
    Added,
    CaseHandling,
    add_entities,
    case_entities,
    case_provenance,
    ensure_case,
    list_cases,
    visible_case,
)
from accord.i18n import N_, _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.store.tables import network_cases, network_entities, network_provenance

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,35}$"
MAX_REQUEST_ENTITIES = 5_000
ERRORS_LISTED = 100  # in a refusal's problem body; the count says how many there were
_ENTERING_ROLES = frozenset({Role.OFFICER, Role.ANALYST})
_ID_CHUNK = 500


class EntitiesRefused(InvalidInput):
    """A request's entities of which some cannot be taken: none is stored. The problem lists each by position."""

    slug = "entities-refused"
    title = N_("Some entities cannot be taken; none was stored")

    def __init__(self, errors: Sequence[RowError]) -> None:
        first = errors[0]
        super().__init__(
            f"{len(errors)} entit{'y' if len(errors) == 1 else 'ies'} cannot be taken, so none was stored; "
            f"entity {first.row}: {first.reason}"
        )
        self.refused = list(errors)

    def extensions(self) -> dict[str, object]:
        listed = self.refused[:ERRORS_LISTED]
        return {
            "refused": len(self.refused),
            "errors": [{"location": ["body", e.row - 1], "message": e.reason, "type": self.slug} for e in listed],
            "entities": [{"position": e.row, "id": e.entity_id} for e in listed],
        }


@dataclass(frozen=True, slots=True)
class CaseSummary:
    case_id: str
    title: str
    owner_agency: str
    origin_party: str
    level: str
    tlp: str
    caveats: tuple[str, ...]
    created_by: str
    created_at: datetime
    entities: int
    by_schema: dict[str, int] = field(default_factory=dict)
    by_party: dict[str, int] = field(default_factory=dict)  # entities each party contributed (one may count twice)

    def as_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "title": self.title,
            "owner_agency": self.owner_agency,
            "origin_party": self.origin_party,
            "level": self.level,
            "tlp": self.tlp,
            "caveats": list(self.caveats),
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "entities": self.entities,
            "by_schema": self.by_schema,
            "by_party": self.by_party,
        }


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import did (or, in a dry run, would do) to the case."""

    plan: ImportPlan
    case_created: bool
    new: int
    merged: int
    dry_run: bool


def require_analyst(officer: Officer) -> None:
    if not _ENTERING_ROLES & officer.roles:
        raise Forbidden(_("adding entities to a case needs an officer or analyst role"))


# ------------------------------------------------------------------------------------------------ writing


def open_case(
    node: Node, officer: Officer, *, title: str, handling: CaseHandling, case_id: str | None = None
) -> CaseSummary:
    """A new case held by the officer's agency, under `handling`; Conflict if the id is taken, Forbidden if the
    officer could not read it under that handling (nothing is stored then)."""
    require_analyst(officer)
    chosen = case_id or str(uuid7())
    _check_case_id(chosen)
    with node.engine.begin() as conn:
        if conn.execute(select(network_cases.c.case_id).where(network_cases.c.case_id == chosen)).first():
            raise Conflict(_("there is a network case {chosen} already").format(chosen=chosen))
        row = _create(node, conn, officer, chosen, title, handling)
    return _summary(row, {}, {})


def add_case_entities(
    node: Node, officer: Officer, case_id: str, raw_entities: Sequence[Any], *, source: str = "api"
) -> Added:
    """Add a request's entities to a case the officer may read: every one checked, and all stored or none (then
    EntitiesRefused names each bad one by position)."""
    require_analyst(officer)
    if not raw_entities:
        raise InvalidInput(_("there are no entities to add"))
    if len(raw_entities) > MAX_REQUEST_ENTITIES:
        raise InvalidInput(
            _("at most {MAX_REQUEST_ENTITIES:,} entities at once (an import takes more)").format(
                MAX_REQUEST_ENTITIES=MAX_REQUEST_ENTITIES
            )
        )
    with node.engine.begin() as conn:
        visible_case(node, conn, officer, case_id)
        plan = plan_import(records_of(raw_entities), lambda ids: held_schemata(conn, case_id, ids))
        if plan.errors:
            raise EntitiesRefused(plan.errors)
        return _store(node, conn, officer, case_id, plan, source)


def import_entities(
    node: Node,
    officer: Officer,
    case_id: str,
    records: Iterable[SourcedRecord],
    *,
    title: str,
    source: str,
    dry_run: bool = False,
) -> ImportOutcome:
    """Store the valid entities of an import in the case (created for the officer's agency if this node has none),
    in one transaction; the refused ones are in the outcome's plan. A dry run checks the same and stores nothing."""
    require_analyst(officer)
    _check_case_id(case_id)
    with node.engine.begin() as conn:
        held = conn.execute(select(network_cases).where(network_cases.c.case_id == case_id)).first()
        if held is None:
            _create(node, conn, officer, case_id, title, CaseHandling())
        else:
            visible_case(node, conn, officer, case_id)
        plan = plan_import(records, lambda ids: held_schemata(conn, case_id, ids))
        outcome = ImportOutcome(plan, held is None, len(plan.entities) - len(plan.held), len(plan.held), dry_run)
        if dry_run or not plan.entities:
            conn.rollback()
            return outcome
        _store(node, conn, officer, case_id, plan, source)
    return outcome


def _check_case_id(case_id: str) -> None:
    if not re.match(CASE_ID_PATTERN, case_id):
        raise InvalidInput(
            _(
                "case id {case_id!r} is not usable: 1 to 36 letters, digits and . _ : - (the first a letter or digit)"
            ).format(case_id=case_id[:40])
        )


def _create(
    node: Node, conn: Connection, officer: Officer, case_id: str, title: str, handling: CaseHandling
) -> Row[Any]:
    row = ensure_case(
        conn,
        case_id=case_id,
        title=title,
        owner_agency=officer.agency,
        origin_party=node.party,
        created_by=officer.username,
        now=node.clock.now(),
        handling=handling,
    )
    try:
        visible_case(node, conn, officer, case_id)
    except Forbidden:
        raise Forbidden(
            _("you could not read a case marked {value}, TLP:{upper}{value2}; it was not opened").format(
                value=handling.level.value,
                upper=handling.tlp.value.upper(),
                value2=" with caveats " + ", ".join(handling.caveats) if handling.caveats else "",
            )
        ) from None
    return row


def _store(node: Node, conn: Connection, officer: Officer, case_id: str, plan: ImportPlan, source: str) -> Added:
    added = add_entities(
        conn, case_id, plan.entities, party=node.party, source=source, added_by=officer.username, now=node.clock.now()
    )
    append_event(
        conn,
        EventType.NETWORK_ENTITIES_ADDED,
        officer.username,
        {"case": case_id, "count": len(plan.entities), "source": source[:256]},
        canonical_json(sorted(str(p.id) for p in plan.entities)),
    )
    return added


def held_schemata(conn: Connection, case_id: str, entity_ids: Iterable[str]) -> dict[str, str]:
    """Per id among `entity_ids` that the case holds, its schema."""
    ids = sorted(set(entity_ids))
    found: dict[str, str] = {}
    for start in range(0, len(ids), _ID_CHUNK):
        rows = conn.execute(
            select(network_entities.c.entity_id, network_entities.c.schema).where(
                network_entities.c.case_id == case_id, network_entities.c.entity_id.in_(ids[start : start + _ID_CHUNK])
            )
        )
        found.update({row.entity_id: row.schema for row in rows})
    return found


# ------------------------------------------------------------------------------------------------ reading


def case_summaries(node: Node, officer: Officer) -> list[CaseSummary]:
    """The cases the officer may read, newest first, with their entity counts."""
    rows = list_cases(node, officer)
    with node.engine.connect() as conn:
        counts: dict[str, int] = _pairs(
            conn.execute(select(network_entities.c.case_id, func.count()).group_by(network_entities.c.case_id))
        )
    return [_summary(row, {}, {}, counts.get(row.case_id, 0)) for row in rows]


def case_summary(node: Node, officer: Officer, case_id: str) -> CaseSummary:
    """The case with its entities counted by schema and by the party they came from."""
    with node.engine.connect() as conn:
        row = visible_case(node, conn, officer, case_id)
        by_schema = _pairs(
            conn.execute(
                select(network_entities.c.schema, func.count())
                .where(network_entities.c.case_id == case_id)
                .group_by(network_entities.c.schema)
            )
        )
        by_party = _pairs(
            conn.execute(
                select(network_provenance.c.party, func.count(distinct(network_provenance.c.entity_id)))
                .where(network_provenance.c.case_id == case_id)
                .group_by(network_provenance.c.party)
            )
        )
    return _summary(row, by_schema, by_party)


def _pairs(rows: Iterable[Any]) -> dict[str, int]:
    return {str(row[0]): int(row[1]) for row in rows}


def _summary(
    row: Row[Any], by_schema: Mapping[str, int], by_party: Mapping[str, int], count: int | None = None
) -> CaseSummary:
    return CaseSummary(
        case_id=row.case_id,
        title=row.title,
        owner_agency=row.owner_agency,
        origin_party=row.origin_party,
        level=row.level,
        tlp=row.tlp,
        caveats=tuple(c for c in row.caveats.split(",") if c),
        created_by=row.created_by,
        created_at=row.created_at,
        entities=sum(by_schema.values()) if count is None else count,
        by_schema=dict(sorted(by_schema.items())),
        by_party=dict(sorted(by_party.items())),
    )


def case_entity_list(node: Node, officer: Officer, case_id: str) -> list[dict[str, Any]]:
    """The case's entities as FtM JSON, each with its provenance (every arrival: party, message, source, when)."""
    with node.engine.connect() as conn:
        visible_case(node, conn, officer, case_id)
        proxies = case_entities(conn, case_id)
        provenance = case_provenance(conn, case_id)
    return [p.to_dict() | {"provenance": provenance.get(str(p.id), [])} for p in proxies]


def export_case(node: Node, officer: Officer, case_id: str, form: ExportFormat) -> bytes:
    """The case's entities as FtM JSON lines, or its graph as GEXF or GraphML, nodes marked with their parties."""
    with node.engine.connect() as conn:
        visible_case(node, conn, officer, case_id)
        proxies = case_entities(conn, case_id)
        provenance = case_provenance(conn, case_id) if form is not ExportFormat.FTM else {}
    if form is ExportFormat.FTM:
        return ftm_lines(proxies)
    parties = {entity_id: {arrival["party"] for arrival in arrivals} for entity_id, arrivals in provenance.items()}
    built = build_graph(proxies, parties)
    return gexf(built) if form is ExportFormat.GEXF else graphml(built)
