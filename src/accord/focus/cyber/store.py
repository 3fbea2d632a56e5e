"""The STIX object store behind the TAXII collections: adds objects (deduplicated by id and version, every version
kept, each object's TLP recorded and the unmarked default applied and logged; an object that landed from a share held
under the share's handling too) and reads them back by the server's date added, with the TAXII 2.1 filters,
keyset-paginated, serving a share's objects only to readers the caller's need-to-know decision lets read the share."""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    false,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from uuid6 import uuid7

from accord.crypto.canonical import canonical_json
from accord.directory.officers import Officer
from accord.domain.handling import Caveat, CommonLevel, Tlp
from accord.errors import Forbidden, NotFound
from accord.focus.cyber.collections import Collection, load_collections
from accord.focus.cyber.tlp import ObjectTlp, held_tlp, tlp_definitions
from accord.focus.cyber.validation import SPEC_VERSION, CheckedObject, CheckedObjects, check_objects, timestamp_key
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.store.tables import stix_collection_heads, stix_named_readers, stix_objects, taxii_statuses

log = structlog.get_logger(__name__)

MEDIA_TYPE_STIX = f"application/stix+json;version={SPEC_VERSION}"
# date_added is written and compared at microsecond precision (what both backends keep).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_TICK = timedelta(microseconds=1)
_ID_CHUNK = 500  # ids per IN (...) list


def format_timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


# --- adding -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """A TAXII status-details entry (§4.3.1): the object, its version, and what happened to it."""

    id: str
    version: str | None
    message: str | None = None

    def as_json(self) -> dict[str, str]:
        entry = {"id": self.id}
        if self.version is not None:
            entry["version"] = self.version
        if self.message is not None:
            entry["message"] = self.message
        return entry


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object version this call stored (not one the collection already held)."""

    id: str
    version: str
    date_added: datetime
    tlp: Tlp
    marked: bool
    stix: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AddResult:
    successes: tuple[Outcome, ...]
    failures: tuple[Outcome, ...]
    added: tuple[StoredObject, ...]

    @property
    def total(self) -> int:
        return len(self.successes) + len(self.failures)


@dataclass(frozen=True, slots=True)
class ShareHandling:
    """The handling of the share (message) objects landed from; it bounds every one of them: the stricter of its TLP
    and the object's own, its common level and caveats, and for TLP:RED its named readers only."""

    message_id: str
    tlp: Tlp
    level: CommonLevel
    caveats: tuple[Caveat, ...] = ()
    named_readers: tuple[str, ...] = ()


@dataclass(slots=True)
class _Held:
    row_id: int | None  # None: added by this call
    key: str
    content: str
    is_first: bool
    is_last: bool


def add_objects(
    conn: Connection,
    collection_id: str,
    objects: Iterable[Mapping[str, Any]] | CheckedObjects,
    *,
    actor: str,
    named_readers: Sequence[str] = (),
    share: ShareHandling | None = None,
    now: datetime | None = None,
) -> AddResult:
    """Store the valid objects in the collection, in the caller's transaction; report each object's fate.

    A version the collection holds already (same id and `modified`, or `created`; an object with neither is held
    once per id) is a success that stores nothing. `named_readers` are the only readers the TLP:RED objects among
    `objects` are ever served to. Objects that landed from a `share` are held under its handling as well (see
    `ShareHandling`), and only if the collection admits its caveats. Pass `CheckedObjects` (from `check_objects`) to
    validate before the transaction.
    """
    collection = _collection(collection_id)
    checked = objects if isinstance(objects, CheckedObjects) else check_objects(objects)
    failures = [Outcome(item.id, item.version, "; ".join(item.errors)) for item in checked.invalid]
    caveats = share.caveats if share else ()
    admitted: list[tuple[CheckedObject, Tlp, bool]] = []
    for item in checked.valid:
        marking = held_tlp(item.stix, share.tlp if share else None)
        if collection.admits(marking.level, caveats):
            admitted.append((item, marking.level, marking.marked))
        else:
            failures.append(Outcome(item.id, item.version, _not_admitted(collection, item.stix, marking, share)))
    # The head row's lock first: a concurrent add of the same objects waits here, then sees them as held.
    last_added = _lock_head(conn, collection.key)
    held = _held_versions(conn, collection.key, {item.id for item, _, _ in admitted})
    successes: list[Outcome] = []
    fresh: list[tuple[CheckedObject, Tlp, bool, str]] = []
    for item, level, marked in admitted:
        content = json.dumps(item.stix, ensure_ascii=False, separators=(",", ":"))
        versions = held[item.id]
        same = _same_version(versions, item.version)
        if same is None:
            # Unversioned objects get their key once their date added is known; until then they are held by id.
            versions.append(_Held(None, timestamp_key(item.version) if item.version else "", content, False, False))
            fresh.append((item, level, marked, content))
        elif json.loads(same.content) == item.stix:
            successes.append(Outcome(item.id, item.version, "already held; nothing changed"))
        else:
            failures.append(Outcome(item.id, item.version, _conflicting(item)))
    readers = (*named_readers, *(share.named_readers if share else ()))
    added = _insert(conn, collection, fresh, held, actor, readers, share, _stamps(last_added, len(fresh), now))
    if added:
        _advance_head(conn, collection.key, added[-1].date_added)
    successes.extend(Outcome(o.id, o.version) for o in added)
    _log_added(conn, collection, actor, added, failures)
    return AddResult(tuple(successes), tuple(failures), added)


def held_unchanged(conn: Connection, collection_id: str, items: Iterable[CheckedObject]) -> frozenset[int]:
    """The positions of the objects the collection holds already, as they are (same id, same version, same content).

    They were checked when they were stored, so checking them again could only give the same answer: an import or a
    POST skips the validator for them, and `add_objects` answers "already held" as it would have."""
    candidates = [item for item in items if item.ok]
    held = _held_versions(conn, _collection(collection_id).key, {item.id for item in candidates})
    unchanged = set()
    for item in candidates:
        same = _same_version(held.get(item.id, []), item.version)
        if same is not None and _same_json(same.content, item.stix):
            unchanged.add(item.position)
    return frozenset(unchanged)


def _same_json(content: str, stix: Any) -> bool:
    """The same JSON, members in any order; stricter than `==` on the parsed values, where 1 == 1.0 == true."""
    if content == json.dumps(stix, ensure_ascii=False, separators=(",", ":")):
        return True
    canonical = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return bool(canonical(json.loads(content)) == canonical(stix))


def _collection(collection_id: str) -> Collection:
    collection = load_collections().get(collection_id)
    if collection is None:
        raise NotFound(_("no collection {collection_id!r} on this node").format(collection_id=collection_id))
    return collection


def _not_admitted(
    collection: Collection, stix_object: Mapping[str, Any], held: ObjectTlp, share: ShareHandling | None
) -> str:
    barred = sorted(set(share.caveats) - set(collection.caveats)) if share else []
    if barred:
        return f"it came in a share under caveat {', '.join(barred)}; collection {collection.alias} holds none under it"
    own = held_tlp(stix_object)
    how = "is marked" if own.marked else "carries no TLP marking, so counts as"
    shared = f" and came in a TLP:{held.level} share" if held.level is not own.level else ""
    return f"it {how} TLP:{own.level}{shared}; collection {collection.alias} holds TLP:{collection.tlp_ceiling} at most"


def _conflicting(item: CheckedObject) -> str:
    if item.version is None:
        return "an object with this id and no version (no `modified` or `created`) is held already, with other content"
    return "a different object with this id and version is held already; a change needs a newer `modified`"


def _same_version(versions: list[_Held], version: str | None) -> _Held | None:
    if version is None:  # no modified or created: STIX treats the object as unversioned, one per id
        return versions[0] if versions else None
    key = timestamp_key(version)
    return next((held for held in versions if held.key == key), None)


def _held_versions(conn: Connection, collection_id: str, ids: set[str]) -> defaultdict[str, list[_Held]]:
    held: defaultdict[str, list[_Held]] = defaultdict(list)
    ordered = sorted(ids)
    for start in range(0, len(ordered), _ID_CHUNK):
        rows = conn.execute(
            select(
                stix_objects.c.row_id,
                stix_objects.c.object_id,
                stix_objects.c.version_key,
                stix_objects.c.content,
                stix_objects.c.is_first,
                stix_objects.c.is_last,
            ).where(
                stix_objects.c.collection_id == collection_id,
                stix_objects.c.object_id.in_(ordered[start : start + _ID_CHUNK]),
            )
        )
        for row in rows:
            held[row.object_id].append(_Held(row.row_id, row.version_key, row.content, row.is_first, row.is_last))
    return held


def _insert(
    conn: Connection,
    collection: Collection,
    fresh: list[tuple[CheckedObject, Tlp, bool, str]],
    held: defaultdict[str, list[_Held]],
    actor: str,
    named_readers: Sequence[str],
    share: ShareHandling | None,
    stamps: list[datetime],
) -> tuple[StoredObject, ...]:
    if not fresh:
        return ()
    added: list[StoredObject] = []
    rows: list[dict[str, Any]] = []
    for (item, level, marked, content), date_added in zip(fresh, stamps, strict=True):
        version = item.version or format_timestamp(date_added)
        if item.version is None:
            pending = next(h for h in held[item.id] if h.row_id is None and h.key == "")
            pending.key = timestamp_key(version)
        added.append(StoredObject(item.id, version, date_added, level, marked, item.stix))
        rows.append(
            {
                "collection_id": collection.key,
                "object_id": item.id,
                "type": item.stix["type"],
                "spec_version": item.spec_version,
                "version": version,
                "version_key": timestamp_key(version),
                "date_added": date_added,
                "tlp": level.value,
                "marked": marked,
                "added_by": actor,
                "content": content,
                "share_id": share.message_id if share else None,
                "share_level": share.level.value if share else None,
                "share_caveats": ",".join(share.caveats) if share else None,
            }
        )
    flags = _version_flags(held)
    for row in rows:
        row["is_first"], row["is_last"] = flags[(row["object_id"], row["version_key"])]
    conn.execute(insert(stix_objects), rows)
    _update_changed_flags(conn, held, flags)
    red = [row["date_added"] for row in rows if row["tlp"] == Tlp.RED.value]
    if red and named_readers:
        _name_readers(conn, collection.key, red, named_readers)
    return tuple(added)


def _lock_head(conn: Connection, collection_id: str) -> datetime:
    """Lock the collection's head row (made on first use) for the rest of the transaction; its last date added.

    Dates added are assigned under this lock, so they also commit in their order: a reader paging by date added
    never finds a row committed late behind a page it has already read."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        dialect_insert(stix_collection_heads)
        .values(collection_id=collection_id, last_added=datetime(1970, 1, 1, tzinfo=UTC))
        .on_conflict_do_nothing()
    )
    last: datetime = conn.execute(
        select(stix_collection_heads.c.last_added)
        .where(stix_collection_heads.c.collection_id == collection_id)
        .with_for_update()
    ).scalar_one()
    return last


def _stamps(last_added: datetime, count: int, now: datetime | None) -> list[datetime]:
    """`count` dates added, one microsecond apart, after `last_added` and not before now."""
    first = max((now or datetime.now(UTC)).astimezone(UTC), last_added + _TICK)
    return [first + n * _TICK for n in range(count)]


def _advance_head(conn: Connection, collection_id: str, last_added: datetime) -> None:
    conn.execute(
        update(stix_collection_heads)
        .where(stix_collection_heads.c.collection_id == collection_id)
        .values(last_added=last_added)
    )


def _version_flags(held: Mapping[str, list[_Held]]) -> dict[tuple[str, str], tuple[bool, bool]]:
    flags = {}
    for object_id, versions in held.items():
        keys = [v.key for v in versions]
        oldest, newest = min(keys), max(keys)
        for key in keys:
            flags[(object_id, key)] = (key == oldest, key == newest)
    return flags


def _update_changed_flags(
    conn: Connection, held: Mapping[str, list[_Held]], flags: Mapping[tuple[str, str], tuple[bool, bool]]
) -> None:
    changed = [
        {"row": h.row_id, "first": flags[(object_id, h.key)][0], "last": flags[(object_id, h.key)][1]}
        for object_id, versions in held.items()
        for h in versions
        if h.row_id is not None and flags[(object_id, h.key)] != (h.is_first, h.is_last)
    ]
    if changed:
        conn.execute(
            update(stix_objects)
            .where(stix_objects.c.row_id == bindparam("row"))
            .values(is_first=bindparam("first"), is_last=bindparam("last")),
            changed,
        )


def _name_readers(conn: Connection, collection_id: str, dates: list[datetime], readers: Sequence[str]) -> None:
    rows = conn.execute(
        select(stix_objects.c.row_id).where(
            stix_objects.c.collection_id == collection_id, stix_objects.c.date_added.in_(dates)
        )
    ).scalars()
    conn.execute(
        insert(stix_named_readers), [{"object_row": row, "username": name} for row in rows for name in set(readers)]
    )


def _log_added(
    conn: Connection, collection: Collection, actor: str, added: Sequence[StoredObject], failures: Sequence[Outcome]
) -> None:
    """One ledger event per kind per call; the ids and versions go in as a hash of their canonical JSON."""
    if added:
        append_event(
            conn,
            EventType.STIX_OBJECTS_ADDED,
            actor,
            {
                "collection": collection.key,
                "count": len(added),
                "first_added": format_timestamp(added[0].date_added),
                "last_added": format_timestamp(added[-1].date_added),
            },
            canonical_json([[o.id, o.version] for o in added]),
        )
    unmarked = [o for o in added if not o.marked]
    if unmarked:
        default = tlp_definitions().unmarked
        append_event(
            conn,
            EventType.STIX_UNMARKED_DEFAULTED,
            actor,
            {"collection": collection.key, "count": len(unmarked), "tlp": default.value},
            canonical_json([[o.id, o.version] for o in unmarked]),
        )
        log.info("stix.unmarked_defaulted", collection=collection.alias, count=len(unmarked), tlp=default.value)
    if failures:
        append_event(
            conn,
            EventType.STIX_OBJECTS_REFUSED,
            actor,
            {"collection": collection.key, "count": len(failures)},
            canonical_json([f.as_json() for f in failures]),
        )


# --- reading ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionMatch:
    """match[version] (TAXII 2.1 §3.4.2): "first", "last", "all" and/or exact versions; "last" when absent."""

    all: bool = False
    first: bool = False
    last: bool = False
    keys: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: str | None) -> VersionMatch:
        """Raises ValueError naming the value that is neither a keyword nor a STIX timestamp."""
        if raw is None:
            return cls(last=True)
        values = [v.strip() for v in raw.split(",") if v.strip()]
        keywords = {v for v in values if v in {"first", "last", "all"}}
        keys = tuple(sorted({timestamp_key(v) for v in values if v not in keywords}))
        return cls("all" in keywords, "first" in keywords, "last" in keywords, keys)

    def canonical(self) -> list[str]:
        return sorted(k for k, on in (("all", self.all), ("first", self.first), ("last", self.last)) if on) + list(
            self.keys
        )


@dataclass(frozen=True, slots=True)
class ObjectFilters:
    """The TAXII 2.1 filters of one request, and the position a next token resumes from."""

    added_after: datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: VersionMatch = field(default_factory=lambda: VersionMatch(last=True))
    spec_versions: tuple[str, ...] = ()
    limit: int = 1000
    resume_after: datetime | None = None  # the date added of the last object a previous page returned

    def selection(self) -> dict[str, Any]:
        """What selects the objects (not the page size or position): a next token is only good for the same."""
        return {
            "added_after": format_timestamp(self.added_after) if self.added_after else None,
            "ids": sorted(self.ids),
            "types": sorted(self.types),
            "versions": self.versions.canonical(),
            "spec_versions": sorted(self.spec_versions),
        }


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    version: str
    date_added: datetime
    spec_version: str
    content: str  # the object's JSON; empty for manifest reads

    def manifest(self) -> dict[str, str]:
        """A manifest-record (§5.6.1)."""
        return {
            "id": self.id,
            "date_added": format_timestamp(self.date_added),
            "version": self.version,
            "media_type": f"application/stix+json;version={self.spec_version}",
        }


@dataclass(frozen=True, slots=True)
class Page:
    entries: tuple[Entry, ...]
    more: bool

    @property
    def first_added(self) -> datetime | None:
        return self.entries[0].date_added if self.entries else None

    @property
    def last_added(self) -> datetime | None:
        return self.entries[-1].date_added if self.entries else None


_AnyRow = Row[*tuple[Any, ...]]  # a result row, whatever its columns
# Which of these shares (message ids) the reader may read: the need-to-know decision the API takes on the messages.
ReadableShares = Callable[[Connection, frozenset[str]], frozenset[str]]


def no_shares(conn: Connection, share_ids: frozenset[str]) -> frozenset[str]:
    """The decision when the caller gives none: no share's objects are served, only what this party added itself."""
    return frozenset()


def query_objects(
    conn: Connection, collection_id: str, reader: Officer, filters: ObjectFilters, *, shares: ReadableShares = no_shares
) -> Page:
    """A page of the objects `reader` may be served, oldest date added first, with their JSON."""
    return _page(conn, collection_id, reader, filters, shares, with_content=True)


def query_manifest(
    conn: Connection, collection_id: str, reader: Officer, filters: ObjectFilters, *, shares: ReadableShares = no_shares
) -> Page:
    """The same page as `query_objects`, without the objects' JSON."""
    return _page(conn, collection_id, reader, filters, shares, with_content=False)


def _page(
    conn: Connection,
    collection_id: str,
    reader: Officer,
    filters: ObjectFilters,
    shares: ReadableShares,
    *,
    with_content: bool,
) -> Page:
    """Objects of shares the reader may not read are dropped after the query, so the page is read on from where the
    query stopped until it is full or the collection ends: hidden objects neither shorten a page nor leave `more`
    set, and the page's first and last date added are those of objects served."""
    collection = _readable(collection_id, reader)
    o = stix_objects.c
    columns = [o.object_id, o.version, o.date_added, o.spec_version, o.share_id] + ([o.content] if with_content else [])
    decided: dict[str, bool] = {}
    entries: list[Entry] = []
    window = filters
    while True:
        statement = _selected(select(*columns), collection, reader, window).order_by(_date_order(conn, window))
        rows = conn.execute(statement.limit(filters.limit + 1)).all()
        entries += [
            Entry(r.object_id, r.version, r.date_added, r.spec_version, r.content if with_content else "")
            for r in _of_readable_shares(conn, rows, shares, decided)
        ]
        if len(entries) > filters.limit or len(rows) <= filters.limit:
            return Page(tuple(entries[: filters.limit]), more=len(entries) > filters.limit)
        window = replace(filters, resume_after=rows[-1].date_added)


def _of_readable_shares(
    conn: Connection, rows: Sequence[_AnyRow], shares: ReadableShares, decided: dict[str, bool]
) -> list[_AnyRow]:
    """The rows this party added itself or that landed from a share the reader may read (each share decided once)."""
    asked = frozenset(r.share_id for r in rows if r.share_id is not None and r.share_id not in decided)
    if asked:
        readable = shares(conn, asked)
        decided.update((share_id, share_id in readable) for share_id in asked)
    return [r for r in rows if r.share_id is None or decided[r.share_id]]


def _date_order(conn: Connection, filters: ObjectFilters) -> ColumnElement[Any]:
    if filters.ids and conn.dialect.name == "sqlite":
        # SQLite has no statistics unless ANALYZE runs, and would walk the whole collection in date order to find a
        # few ids; a unary plus keeps the date index out of the ORDER BY, so it looks the ids up and sorts them.
        return literal_column(f"+{stix_objects.name}.{stix_objects.c.date_added.name}")
    return stix_objects.c.date_added


def _readable(collection_id: str, reader: Officer) -> Collection:
    collection = _collection(collection_id)
    if not collection.may_read(reader):
        raise Forbidden(_("you may not read collection {alias}").format(alias=collection.alias))
    return collection


def _selected(statement: Select[Any], collection: Collection, reader: Officer, filters: ObjectFilters) -> Select[Any]:
    o = stix_objects.c
    conditions: list[ColumnElement[bool]] = [o.collection_id == collection.key, _served_to(collection, reader)]
    since = [t for t in (filters.added_after, filters.resume_after) if t is not None]
    if since:
        conditions.append(o.date_added > max(since))
    if filters.ids:
        conditions.append(o.object_id.in_(filters.ids))
    if filters.types:
        conditions.append(o.type.in_(filters.types))
    if filters.spec_versions:
        # Only STIX 2.1 is accepted, so "the latest spec_version of each object" (the default) is every object.
        conditions.append(o.spec_version.in_(filters.spec_versions))
    conditions.append(_version_condition(filters.versions))
    return statement.where(and_(*conditions))


def _served_to(collection: Collection, reader: Officer) -> ColumnElement[bool]:
    """TLP:RED only to its named readers; nothing above the collection's audience, nor under a caveat it does not
    admit (both refused on the way in, too). Whether the reader may read the share is decided after the query."""
    o = stix_objects.c
    named = exists().where(
        stix_named_readers.c.object_row == o.row_id, stix_named_readers.c.username == reader.username
    )
    rule = or_(o.tlp != Tlp.RED.value, named)
    if collection.tlp_ceiling is not Tlp.RED:
        rule = and_(rule, o.tlp.in_([level.value for level in collection.levels()]))
    barred = [caveat.value for caveat in Caveat if caveat not in collection.caveats]
    if barred:
        clear_of_them = and_(*(o.share_caveats.not_like(f"%{code}%") for code in barred))
        rule = and_(rule, or_(o.share_caveats.is_(None), clear_of_them))
    return rule


def _version_condition(match: VersionMatch) -> ColumnElement[bool]:
    o = stix_objects.c
    if match.all:
        return true()
    choices: list[ColumnElement[bool]] = []
    if match.first:
        choices.append(o.is_first == true())
    if match.last:
        choices.append(o.is_last == true())
    if match.keys:
        choices.append(o.version_key.in_(match.keys))
    return or_(*choices) if choices else false()


class Visibility(StrEnum):
    ABSENT = "absent"
    HIDDEN = "hidden"  # held, but TLP:RED and the reader is not named on it
    VISIBLE = "visible"


def object_visibility(
    conn: Connection, collection_id: str, reader: Officer, object_id: str, *, shares: ReadableShares = no_shares
) -> Visibility:
    """Whether the collection holds `object_id` at all, and whether `reader` may be served any version of it."""
    collection = _readable(collection_id, reader)
    o = stix_objects.c
    held = select(o.row_id, o.share_id).where(o.collection_id == collection.key, o.object_id == object_id)
    if conn.execute(held.limit(1)).first() is None:
        return Visibility.ABSENT
    allowed = conn.execute(held.where(_served_to(collection, reader))).all()
    served = _of_readable_shares(conn, allowed, shares, {})
    return Visibility.VISIBLE if served else Visibility.HIDDEN


def delete_object(
    conn: Connection,
    collection_id: str,
    object_id: str,
    reader: Officer,
    versions: VersionMatch,
    spec_versions: tuple[str, ...] = (),
) -> int:
    """Delete the versions of `object_id` the filters select (TAXII 2.1 §5.7) and that `reader` may be served;
    the remaining versions' first/last marks are recomputed. Raises NotFound when nothing matched."""
    collection = _collection(collection_id)
    if not collection.may_write(reader):
        raise Forbidden(_("you may not delete from collection {alias}").format(alias=collection.alias))
    o = stix_objects.c
    filters = ObjectFilters(ids=(object_id,), versions=versions, spec_versions=spec_versions)
    # What landed from a share is the partner's record of it: never deleted through a collection.
    selected = _selected(select(o.row_id, o.version), collection, reader, filters).where(o.share_id.is_(None))
    doomed = conn.execute(selected).all()
    if not doomed:
        raise NotFound(
            _("collection {alias} holds no {object_id} matching the filters").format(
                alias=collection.alias, object_id=object_id
            )
        )
    rows = [r.row_id for r in doomed]
    conn.execute(delete(stix_named_readers).where(stix_named_readers.c.object_row.in_(rows)))
    conn.execute(delete(stix_objects).where(o.row_id.in_(rows)))
    remaining = _held_versions(conn, collection.key, {object_id})
    _update_changed_flags(conn, remaining, _version_flags(remaining))
    append_event(
        conn,
        EventType.STIX_OBJECTS_DELETED,
        reader.id,
        {"collection": collection.key, "object": object_id, "count": len(rows)},
        canonical_json(sorted(r.version for r in doomed)),
    )
    return len(rows)


# --- status resources ---------------------------------------------------------------------------------------------


def record_status(
    conn: Connection, collection_id: str, requester: Officer, requested_at: datetime, result: AddResult
) -> dict[str, Any]:
    """Keep the status resource (TAXII 2.1 §4.3.1) of a POST the node has finished, and return it."""
    status_id = str(uuid7())
    successes = [o.as_json() for o in result.successes]
    failures = [o.as_json() for o in result.failures]
    conn.execute(
        insert(taxii_statuses),
        [
            {
                "id": status_id,
                "collection_id": collection_id,
                "requested_by": requester.id,
                "request_timestamp": requested_at,
                "status": "complete",
                "total_count": result.total,
                "success_count": len(successes),
                "failure_count": len(failures),
                "pending_count": 0,
                "successes": json.dumps(successes),
                "failures": json.dumps(failures),
            }
        ],
    )
    return _status_resource(status_id, "complete", requested_at, successes, failures)


def status_resource(conn: Connection, status_id: str, requester: Officer) -> dict[str, Any]:
    """A status the requester's own POST made; anyone else's is not found."""
    row = conn.execute(select(taxii_statuses).where(taxii_statuses.c.id == status_id)).first()
    if row is None or row.requested_by != requester.id:
        raise NotFound(_("no status {status_id!r} for you").format(status_id=status_id))
    return _status_resource(
        row.id, row.status, row.request_timestamp, json.loads(row.successes), json.loads(row.failures)
    )


def _status_resource(
    status_id: str, status: str, requested_at: datetime, successes: list[Any], failures: list[Any]
) -> dict[str, Any]:
    return {
        "id": status_id,
        "status": status,
        "request_timestamp": format_timestamp(requested_at),
        "total_count": len(successes) + len(failures),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    }
