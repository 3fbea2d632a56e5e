"""CSV to FollowTheMoney entities through FtM's own mapping files (the format of `ftm map-csv`): a YAML file per
source with `entities:` keyed by name, each a `schema`, `keys` (or `id_column`) and `properties` read from `column`,
`columns`, `literal`, `template` or another mapped `entity`. FtM's mapper parses and applies the mapping; this module
only keeps what its mapper logs and drops (a value it cannot clean, an entity left without an id) as the row's
errors, so the analyst hears of them."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

import yaml
from banal import keys_values

from accord.errors import InvalidInput
from accord.focus.networks.entities import SCHEMATA
from accord.i18n import _

if TYPE_CHECKING:
    from followthemoney.mapping import QueryMapping
    from followthemoney.mapping.entity import EntityMapping
    from followthemoney.proxy import EntityProxy

MAX_MAPPING_BYTES = 1024 * 1024
# A CSV field may be this long; Python's csv module refuses a longer one with an error we report by line.
MAX_FIELD_CHARS = 1024 * 1024


class MappingError(InvalidInput):
    """A mapping file that cannot be used: it does not parse or does not describe FtM entities."""


@dataclass(frozen=True, slots=True)
class CsvMapping:
    """The queries of one mapping file (FtM's format: a dataset with `queries`, or a single query with `entities`),
    ready to apply to a CSV's rows. `dataset` prefixes the keys, so the same row always gives the same ids."""

    dataset: str
    queries: tuple[QueryMapping, ...]


@dataclass(frozen=True, slots=True)
class MappedRow:
    """What one CSV row became: the entities it maps to and the reasons it could not map to more."""

    line: int  # where the row ends in the file, from 1 (the header is line 1)
    entities: tuple[EntityProxy, ...]
    errors: tuple[str, ...]


def parse_mapping(text: str, name: str) -> CsvMapping:
    """The mapping in `text` (YAML or JSON), named `name` when it does not name its dataset; MappingError if it
    does not parse, names a schema this capability does not take, or FtM refuses it."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise MappingError(
            _("the mapping file does not parse as YAML{where}: {getattr}").format(
                where=where, getattr=getattr(exc, "problem", exc)
            )
        ) from None
    if not isinstance(document, Mapping) or not document:
        raise MappingError(_("a mapping file holds a mapping: `entities:` keyed by name, or a dataset with `queries:`"))
    if "entities" in document:
        dataset, queries = name, [dict(document)]
    elif len(document) == 1:
        [(dataset, meta)] = document.items()
        queries = (
            [q for q in keys_values(meta, "queries", "query") if isinstance(q, dict)] if isinstance(meta, dict) else []
        )
    else:
        queries = []
    if not queries:
        raise MappingError(_("the mapping file has no `entities:` (nor a dataset whose `queries:` have them)"))
    return CsvMapping(str(dataset), tuple(_query(q, str(dataset)) for q in queries))


def _query(data: dict[str, Any], dataset: str) -> QueryMapping:
    # followthemoney reads its whole schema model at import (~0.9 s): imported where entities are handled.
    from followthemoney import model
    from followthemoney.exc import InvalidMapping

    entities = data.get("entities")
    if not isinstance(entities, Mapping) or not entities:
        raise MappingError(_("a query of the mapping has no `entities:` keyed by name"))
    for entity_name, entity in entities.items():
        schema = entity.get("schema") if isinstance(entity, Mapping) else None
        found = model.get(schema) if isinstance(schema, str) else None
        if found is None or found.name not in SCHEMATA:
            raise MappingError(
                _("mapping entity {entity_name!r}: unknown schema {schema!r}; the schemata are {join}").format(
                    entity_name=entity_name, schema=schema, join=", ".join(SCHEMATA)
                )
            )
        if not isinstance(entity.get("properties", {}), Mapping):
            raise MappingError(
                _("mapping entity {entity_name!r}: `properties:` maps property names to columns").format(
                    entity_name=entity_name
                )
            )
    # The rows come from the file being imported, never from a URL or a database the mapping names.
    source = {k: v for k, v in data.items() if k not in ("database", "csv_url", "csv_urls")}
    try:
        return model.make_mapping({**source, "csv_url": "-"}, key_prefix=dataset)
    except (InvalidMapping, AttributeError, TypeError, ValueError) as exc:
        raise MappingError(_("the mapping is not usable: {exc}").format(exc=exc)) from None


def map_rows(mapping: CsvMapping, stream: TextIO) -> Iterator[MappedRow]:
    """Each data row of the CSV mapped by every query whose filters it passes."""
    from followthemoney.mapping.csv import CSVSource
    from followthemoney.util import sanitize_text

    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.DictReader(stream, skipinitialspace=True)
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield MappedRow(reader.line_num, (), (f"the CSV is malformed: {exc}",))
            return
        if None in row:
            yield MappedRow(reader.line_num, (), ("the row has more fields than the header has columns",))
            continue
        # As FtM's CSV source reads a row: text sanitised, empty cells absent.
        record = {str(k): v for k, v in ((k, sanitize_text(v)) for k, v in row.items()) if v is not None}
        entities: list[EntityProxy] = []
        errors: list[str] = []
        for query in mapping.queries:
            source = query.source
            if isinstance(source, CSVSource) and not source.check_filters(record):
                continue
            mapped, failed = map_record(query, record)
            entities += mapped
            errors += failed
        yield MappedRow(reader.line_num, tuple(entities), tuple(errors))


def map_record(query: QueryMapping, record: dict[str, str]) -> tuple[list[EntityProxy], list[str]]:
    """`QueryMapping.map`, keeping what FtM's `EntityMapping.map` only logs: an entity with a value FtM could not
    clean, or without an id, is refused with the reason (and so is each entity naming it), where FtM would store it
    without the value or skip it. An entity none of whose own columns hold a value is absent in the row, and so is a
    relation missing one of its ends for that reason."""
    from followthemoney import model
    from followthemoney.types import registry

    done: dict[str, EntityProxy] = {}
    refused: set[str] = set()
    errors: list[str] = []
    for entity in query.entities:  # FtM ordered them so that an entity comes after those it refers to
        if entity.dependencies & refused:
            refused.add(entity.name)
            errors.append(f"{entity.name}: names {', '.join(sorted(entity.dependencies & refused))}, refused above")
            continue
        if entity.schema.edge and not entity.dependencies <= set(done):
            continue
        proxy = model.make_entity(entity.schema)
        failed: list[str] = []
        # FtM maps countries first, so that phone numbers and addresses are read in the row's country.
        for prop in sorted(entity.properties, key=lambda p: p.prop.type != registry.country):
            failed += [
                f"{entity.name}: {value!r} is not a valid {prop.prop.type.label.lower()} for {prop.prop.name}"
                for value in prop.map(proxy, record, done)
            ]
        proxy.id = entity.compute_key(record)
        if proxy.id is None and _has_values(entity, record, _shared_columns(query, entity)):
            failed.append(f"{entity.name}: no id, for {_id_columns(entity)} is empty")
        if failed:
            refused.add(entity.name)
            errors += failed
            continue
        if proxy.id is None or any(p.required and not proxy.has(p.prop) for p in entity.properties):
            continue  # nothing in the row for it; a mapping's `required:` skips the row for it, as FtM does
        done[entity.name] = proxy
    return list(done.values()), errors


def _has_values(entity: EntityMapping, record: dict[str, str], shared: set[str]) -> bool:
    """Whether a column that only this entity reads holds a value: then the row meant an entity here."""
    return any(record.get(ref) for p in entity.properties if p.entity is None for ref in p.refs if ref not in shared)


def _shared_columns(query: QueryMapping, entity: EntityMapping) -> set[str]:
    return {ref for other in query.entities if other is not entity for p in other.properties for ref in p.refs}


def _id_columns(entity: EntityMapping) -> str:
    columns = [entity.id_column] if entity.id_column else list(entity.keys)
    return "the key column " + columns[0] if len(columns) == 1 else "every key column (" + ", ".join(columns) + ")"
