"""Entities into a case from a file or a request: FtM JSON lines (or a JSON array), or CSV through an FtM mapping,
each entity checked strictly, the ones sharing an id merged, and every reference resolved against the batch and the
case. What comes out is a plan: the entities that can be stored whole, and each refusal with its row and reason."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from accord.errors import InvalidInput, PayloadTooLarge
from accord.focus.networks.entities import EntityError, check_entity, entity_refs
from accord.focus.networks.mappings import CsvMapping, map_rows
from accord.i18n import _

if TYPE_CHECKING:
    from followthemoney.proxy import EntityProxy

# A file larger than this is refused before it is read: an import is held in memory to resolve its references.
MAX_IMPORT_BYTES = 256 * 1024 * 1024

# Per held entity id, its schema: how a plan learns what the case holds already.
HeldLookup = Callable[[set[str]], Mapping[str, str]]


class UnreadableImport(InvalidInput):
    """The file cannot be imported at all (unreadable, not UTF-8, not JSON lines): nothing of it was attempted."""


@dataclass(frozen=True, slots=True)
class RowError:
    """An entity (or a row) that was refused: `row` is the line of a JSON lines or CSV file, or the position (from 1)
    in a JSON array or a request."""

    row: int
    entity_id: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "id": self.entity_id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class SourcedRecord:
    """One raw entity (a JSON value), or what a CSV row mapped to, with where it came from."""

    row: int
    raw: Any = None
    proxies: tuple[EntityProxy, ...] = ()
    errors: tuple[str, ...] = ()
    mapped: bool = False  # a CSV row: `proxies` is what it mapped to, and it has no raw entity


@dataclass(slots=True)
class ImportPlan:
    """What an import would store (each entity whole, same ids merged) and what it refuses."""

    rows: int = 0
    entities: list[EntityProxy] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    held: set[str] = field(default_factory=set)  # the ids among `entities` the case holds already (merged into)

    @property
    def complete(self) -> bool:
        return not self.errors


# ------------------------------------------------------------------------------------------------ reading


def open_source(path: Path) -> TextIO:
    """The file, opened as UTF-8 text, after checking its size; UnreadableImport or PayloadTooLarge otherwise."""
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(
                _("{name} has {size:,} bytes; an import takes at most {MAX_IMPORT_BYTES:,} (split the file)").format(
                    name=path.name, size=size, MAX_IMPORT_BYTES=MAX_IMPORT_BYTES
                )
            )
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise UnreadableImport(
            _("cannot read {name}: {strerror}").format(name=path.name, strerror=exc.strerror)
        ) from None


def read_ftm(stream: TextIO) -> Iterator[SourcedRecord]:
    """FtM entities from JSON lines (one entity a line, its line number as its row) or from one JSON array (its
    position from 1 as its row). A line that is not JSON is a row error; a file that is neither is unreadable."""
    try:
        text = stream.read()
    except UnicodeDecodeError as exc:
        raise UnreadableImport(_("the file is not UTF-8 text (byte {start})").format(start=exc.start)) from None
    if text.lstrip().startswith("["):
        try:
            listed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnreadableImport(
                _("the JSON array is malformed at line {lineno}: {msg}").format(lineno=exc.lineno, msg=exc.msg)
            ) from None
        for position, raw in enumerate(listed, start=1):
            yield SourcedRecord(position, raw)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield SourcedRecord(number, json.loads(line))
        except json.JSONDecodeError as exc:
            yield SourcedRecord(number, errors=(f"the line is not one JSON entity: {exc.msg} (column {exc.colno})",))


def read_csv(stream: TextIO, mapping: CsvMapping) -> Iterator[SourcedRecord]:
    """The entities each CSV row maps to, as FtM's mapper makes them, with the row's line."""
    try:
        for row in map_rows(mapping, stream):
            yield SourcedRecord(row.line, proxies=row.entities, errors=row.errors, mapped=True)
    except UnicodeDecodeError as exc:
        raise UnreadableImport(_("the file is not UTF-8 text (byte {start})").format(start=exc.start)) from None


def records_of(raw_entities: Sequence[Any]) -> list[SourcedRecord]:
    """A request's entities, each with its position from 1."""
    return [SourcedRecord(position, raw) for position, raw in enumerate(raw_entities, start=1)]


# ------------------------------------------------------------------------------------------------ planning


def plan_import(records: Iterable[SourcedRecord], held: HeldLookup) -> ImportPlan:
    """Check every entity, merge those sharing an id, and refuse (with the reason) each that is invalid, cannot merge
    with what the case holds, or names an entity neither in the batch nor in the case (or one that was refused)."""
    plan = ImportPlan()
    merged: dict[str, EntityProxy] = {}
    rows: dict[str, int] = {}
    for record in records:
        plan.rows += 1
        for reason in record.errors:
            plan.errors.append(RowError(record.row, None, reason))
        if record.mapped:
            candidates = [proxy.to_dict() for proxy in record.proxies]
        elif not record.errors:
            candidates = [record.raw]
        else:
            candidates = []
        for raw in candidates:
            _take(plan, merged, rows, record.row, raw)
    held_schemata = held(set(merged) | {ref for p in merged.values() for _, ref in entity_refs(p)})
    for entity_id, proxy in list(merged.items()):
        schema = held_schemata.get(entity_id)
        if schema is not None and not _compatible(proxy.schema.name, schema):
            plan.errors.append(
                RowError(
                    rows[entity_id], entity_id, f"the case holds {entity_id} as a {schema}, not a {proxy.schema.name}"
                )
            )
            del merged[entity_id]
    _resolve_references(plan, merged, rows, held_schemata)
    plan.entities = list(merged.values())
    plan.held = {i for i in merged if i in held_schemata}
    plan.errors.sort(key=lambda e: e.row)
    return plan


def _take(plan: ImportPlan, merged: dict[str, EntityProxy], rows: dict[str, int], row: int, raw: Any) -> None:
    # followthemoney reads its whole schema model at import (~0.9 s): imported where entities are handled.
    from followthemoney.exc import InvalidData

    try:
        proxy = check_entity(raw)
    except EntityError as exc:
        entity_id = raw.get("id") if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) else None
        plan.errors.append(RowError(row, entity_id, exc.detail))
        return
    entity_id = str(proxy.id)
    earlier = merged.get(entity_id)
    if earlier is None:
        merged[entity_id] = proxy
        rows[entity_id] = row
        return
    try:
        earlier.merge(proxy)  # FtM's merge: the more specific schema, every value of both
    except InvalidData:
        plan.errors.append(
            RowError(
                row,
                entity_id,
                f"{entity_id} is a {earlier.schema.name} at row {rows[entity_id]}, not a {proxy.schema.name}",
            )
        )


def _compatible(ours: str, held: str) -> bool:
    from followthemoney import model
    from followthemoney.exc import InvalidData

    try:
        model.common_schema(ours, held)
    except InvalidData:
        return False
    return True


def _resolve_references(
    plan: ImportPlan, merged: dict[str, EntityProxy], rows: dict[str, int], held_schemata: Mapping[str, str]
) -> None:
    """Refuse, until none is left, each entity naming an entity that is neither taken nor held, or one of a schema
    its property cannot name (an owner must be a legal entity): a relation is never stored without its ends."""
    refused: dict[str, str] = {e.entity_id: e.reason for e in plan.errors if e.entity_id}
    changed = True
    while changed:
        changed = False
        for entity_id, proxy in list(merged.items()):
            reason = _reference_problem(proxy, merged, held_schemata, refused)
            if reason is not None:
                plan.errors.append(RowError(rows[entity_id], entity_id, reason))
                refused[entity_id] = reason
                del merged[entity_id]
                changed = True


def _reference_problem(
    proxy: EntityProxy, merged: Mapping[str, EntityProxy], held_schemata: Mapping[str, str], refused: Mapping[str, str]
) -> str | None:
    from followthemoney import model

    for name, ref in entity_refs(proxy):
        prop = proxy.schema.get(name)
        target = merged.get(ref)
        schema = target.schema if target is not None else model.get(held_schemata.get(ref, ""))
        if schema is None:
            why = "was refused" if ref in refused else "is neither in the import nor in the case"
            return f"{name} names {ref}, which {why}"
        if prop is not None and prop.range is not None and not schema.is_a(prop.range):
            return f"{name} names {ref}, a {schema.name}; it must be a {prop.range.name}"
    return None
