"""FollowTheMoney entities, checked strictly: FtM's own parser keeps what it cannot read (an unknown property is
dropped, an unreadable date kept as text), so each entity is read property by property and refused with the reason
the analyst can act on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accord.errors import InvalidInput
from accord.i18n import _

if TYPE_CHECKING:
    from followthemoney.property import Property
    from followthemoney.proxy import EntityProxy
    from followthemoney.schema import Schema

MAX_ID_CHARS = 256
MAX_VALUES_PER_PROPERTY = 200
MAX_VALUE_CHARS = 4_000

# The schemata an analyst of this capability works with (the list and their FtM ancestors); any other FtM
# schema (documents, court cases, sanctions…) belongs to another tool and is refused with the list below.
SCHEMATA = (
    "Person",
    "Company",
    "Organization",
    "LegalEntity",
    "Address",
    "Passport",
    "Identification",
    "BankAccount",
    "CryptoWallet",
    "UserAccount",
    "Vehicle",
    "Vessel",
    "Airplane",
    "Event",
    "Call",
    "Ownership",
    "Directorship",
    "Employment",
    "Membership",
    "Family",
    "Associate",
    "Payment",
    "UnknownLink",
)
_ALLOWED = frozenset(SCHEMATA)


class EntityError(InvalidInput):
    """An entity that cannot be taken: the detail names the entity and what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Link:
    """An edge of the graph: a relation entity (Ownership: owner → asset) or an entity-valued property of a thing
    (Passport.holder → the person). `via` is the relation entity's id, or None for a property."""

    source: str
    target: str
    label: str
    via: str | None


def schema_named(name: Any) -> Schema:
    # Importing followthemoney reads its whole schema model (~0.9 s): only what handles entities pays for it.
    from followthemoney import model

    if not isinstance(name, str) or not name:
        raise EntityError(_("an entity needs a schema, e.g. Person, Company, Ownership"))
    schema = model.get(name)
    if schema is None or schema.name not in _ALLOWED:
        raise EntityError(
            _("unknown schema {name!r}; the schemata are {join}").format(name=name, join=", ".join(SCHEMATA))
        )
    return schema


def check_entity(raw: Any) -> EntityProxy:
    """The entity as an FtM proxy, every value cleaned; raise EntityError on anything it would lose or mistake."""
    from followthemoney import model
    from followthemoney.exc import InvalidData

    if not isinstance(raw, Mapping):
        raise EntityError(_("an entity is a JSON object with id, schema and properties"))
    unknown_keys = sorted(set(raw) - {"id", "schema", "properties", "caption", "datasets", "referents"})
    if unknown_keys:
        raise EntityError(
            _("an entity has no field {unknown_keys!r} (it has id, schema and properties)").format(
                unknown_keys=unknown_keys[0]
            )
        )
    entity_id = raw.get("id")
    if not isinstance(entity_id, str) or not entity_id.strip():
        raise EntityError(_("an entity needs an id (a string)"))
    if len(entity_id) > MAX_ID_CHARS or entity_id != entity_id.strip():
        raise EntityError(
            _("entity id {entity_id!r}… is not usable (at most {MAX_ID_CHARS} characters, no spaces)").format(
                entity_id=entity_id[:40], MAX_ID_CHARS=MAX_ID_CHARS
            )
        )
    schema = schema_named(raw.get("schema"))
    if schema.abstract:
        raise EntityError(
            _("entity {entity_id}: {name} is abstract; use one of its kinds").format(
                entity_id=entity_id, name=schema.name
            )
        )
    properties = raw.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise EntityError(
            _("entity {entity_id}: properties is an object of lists of values").format(entity_id=entity_id)
        )
    proxy = model.make_entity(schema)
    proxy.id = entity_id
    # Countries first: a phone number without its country code is read in the entity's country.
    for name, values in sorted(properties.items(), key=lambda item: not _is_country(schema, item[0])):
        prop = schema.get(name)
        if prop is None:
            raise EntityError(
                _("entity {entity_id}: a {name} has no property {name2!r}").format(
                    entity_id=entity_id, name=schema.name, name2=name
                )
            )
        listed = values if isinstance(values, list) else [values]
        if len(listed) > MAX_VALUES_PER_PROPERTY:
            raise EntityError(
                _("entity {entity_id}: {name} has {count} values; at most {MAX_VALUES_PER_PROPERTY}").format(
                    entity_id=entity_id, name=name, count=len(listed), MAX_VALUES_PER_PROPERTY=MAX_VALUES_PER_PROPERTY
                )
            )
        for value in listed:
            if isinstance(value, Mapping):  # a nested entity, as FtM's JSON may inline it: its id is the reference
                value = value.get("id")
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise EntityError(
                    _("entity {entity_id}: {name} holds {value!r}, not a text or a number").format(
                        entity_id=entity_id, name=name, value=value
                    )
                )
            text = str(value)
            if len(text) > MAX_VALUE_CHARS:
                raise EntityError(
                    _("entity {entity_id}: a value of {name} has more than {MAX_VALUE_CHARS} characters").format(
                        entity_id=entity_id, name=name, MAX_VALUE_CHARS=MAX_VALUE_CHARS
                    )
                )
            try:
                cleaned = _clean(prop, text, proxy)
            except InvalidData:  # FtM refuses an entity naming itself (an owner owning itself) this way
                raise EntityError(
                    _("entity {entity_id}: {name} names the entity itself").format(entity_id=entity_id, name=name)
                ) from None
            if cleaned is None:
                raise EntityError(
                    _("entity {entity_id}: {text!r} is not a valid {lower} for {name}").format(
                        entity_id=entity_id, text=text, lower=prop.type.label.lower(), name=name
                    )
                )
            proxy.unsafe_add(prop, cleaned, cleaned=True)
    if schema.edge and not (_values(proxy, schema.edge_source) and _values(proxy, schema.edge_target)):
        raise EntityError(
            _("entity {entity_id}: a {name} links {edge_source} to {edge_target}; both are needed").format(
                entity_id=entity_id, name=schema.name, edge_source=schema.edge_source, edge_target=schema.edge_target
            )
        )
    missing = [p for p in schema.required if not proxy.get(p)]
    if missing:
        raise EntityError(
            _("entity {entity_id}: a {name} needs {join}").format(
                entity_id=entity_id, name=schema.name, join=", ".join(sorted(missing))
            )
        )
    return proxy


def entity_refs(proxy: EntityProxy) -> Iterator[tuple[str, str]]:
    """(property, referenced id) for every entity-valued property: what must exist for the entity to make sense."""
    for prop in proxy.schema.properties.values():
        if prop.type.name == "entity":
            for value in proxy.get(prop):
                yield prop.name, value


def links_of(proxy: EntityProxy) -> Iterator[Link]:
    """The graph edges an entity makes: a relation joins its source to its target (once per pair of values);
    a thing is joined to every entity its properties name."""
    schema = proxy.schema
    if schema.edge:
        label = schema.edge_label or schema.label
        for source in _values(proxy, schema.edge_source):
            for target in _values(proxy, schema.edge_target):
                yield Link(source, target, label, proxy.id)
        return
    for name, value in entity_refs(proxy):
        prop = schema.get(name)
        yield Link(proxy.id or "", value, prop.label if prop is not None else name, None)


def _clean(prop: Property, text: str, proxy: EntityProxy) -> str | None:
    """The value as FtM stores it; a phone number without its country code is read in each of the entity's countries
    (FtM takes the dialling region as a format hint only)."""
    cleaned = prop.type.clean(text, proxy=proxy)
    if cleaned is None and prop.type.name == "phone":
        for country in proxy.countries:
            cleaned = prop.type.clean(text, format=country)
            if cleaned is not None:
                break
    return cleaned


def _is_country(schema: Schema, name: str) -> bool:
    prop = schema.get(name)
    return prop is not None and prop.type.name == "country"


def _values(proxy: EntityProxy, prop: str | None) -> list[str]:
    return proxy.get(prop) if prop is not None else []


def is_relation(proxy: EntityProxy) -> bool:
    return bool(proxy.schema.edge)


def caption_of(proxy: EntityProxy) -> str:
    return (proxy.caption or proxy.id or "")[:512]


def missing_references(proxies: Iterable[EntityProxy], known: set[str]) -> dict[str, list[str]]:
    """For each entity that names an entity neither in `proxies` nor in `known`, the ids it names that are missing."""
    listed = list(proxies)
    ids = known | {p.id for p in listed if p.id}
    missing: dict[str, list[str]] = {}
    for proxy in listed:
        absent = sorted({ref for _, ref in entity_refs(proxy) if ref not in ids})
        if absent:
            missing[proxy.id or ""] = absent
    return missing
