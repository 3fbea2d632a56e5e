"""The TAXII 2.1 use cases over the node's STIX store, one function per operation (TAXII 2.1 §4, §5): each opens its
own transaction and applies the visibility rules (who may read or write a collection, TLP:RED only to its named
readers, an object that landed from a share only to those who may read the share through the API), and returns plain
values. Media types, credentials and the envelope on the wire are the HTTP side's."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import Any

from accord.directory.officers import Officer
from accord.errors import Forbidden, NotFound
from accord.focus.cyber import store
from accord.focus.cyber.checking import ObjectChecker
from accord.focus.cyber.collections import Collection, load_collections
from accord.focus.cyber.errors import InvalidEnvelope, InvalidFilter
from accord.focus.cyber.paging import NextTokens, Position, selection_digest
from accord.focus.cyber.shares import readable_shares
from accord.focus.cyber.sharing import share_posted
from accord.focus.cyber.store import MEDIA_TYPE_STIX, ObjectFilters, Page, ReadableShares, VersionMatch, Visibility
from accord.focus.cyber.validation import first_check, parse_timestamp
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.node import Node

API_ROOT = "/taxii2/accord/"  # the one API root (§4.2) this node serves


class Permission(StrEnum):
    """What an operation needs of a collection (§5.2.1: can_read, can_write)."""

    READ = "read"
    WRITE = "write"
    READ_OR_WRITE = "read or write"  # enough to see the collection's resource


@dataclass(frozen=True, slots=True)
class FilterParameters:
    """The URL parameters of a request for objects (§3.4.1 limit and next, §3.4.2 filters), as the client sent
    them: read here, after the collection and the object are known to be the officer's to see."""

    added_after: str | None = None
    match_id: str | None = None
    match_type: str | None = None
    match_version: str | None = None
    match_spec_version: str | None = None
    limit: str | None = None
    next: str | None = None


@dataclass(frozen=True, slots=True)
class Paging:
    """How pages are cut: the page size when the client sets no limit, the most one page holds, the next tokens."""

    page_size: int
    max_page_size: int
    tokens: NextTokens


@dataclass(frozen=True, slots=True)
class ServedPage:
    """A page of objects, manifest records or versions, and the token for the next one when more follow."""

    page: Page
    next: str | None


# --- server information (§4) ------------------------------------------------------------------------------------------


def discover(node: Node, base_url: str) -> dict[str, Any]:
    """The discovery resource (§4.1.1); the API root's URL under the node's public URL when one is set."""
    root = (node.settings.public_url or base_url).rstrip("/") + API_ROOT
    return {
        "title": f"Accord TAXII 2.1 ({node.party.value} node {node.node_id})",
        "description": "Cyber threat information shared under the agreement, for this country's own tools.",
        "contact": "the node's operators",
        "default": root,
        "api_roots": [root],
    }


def get_status(node: Node, officer: Officer, status_id: str) -> dict[str, Any]:
    """The status resource (§4.3.1) of one of the officer's own POSTs."""
    with node.engine.connect() as conn:
        return store.status_resource(conn, status_id, officer)


# --- collections (§5.1, §5.2) -----------------------------------------------------------------------------------------


def list_collections(officer: Officer) -> list[dict[str, Any]]:
    """The collection resources the officer may read or write; the others are not listed."""
    return [_collection_resource(c, officer) for c in load_collections().visible_to(officer)]


def get_collection(node: Node, officer: Officer, collection_id: str) -> dict[str, Any]:
    found = require_collection(node, officer, collection_id, Permission.READ_OR_WRITE)
    return _collection_resource(found, officer)


def _collection_resource(collection: Collection, officer: Officer) -> dict[str, Any]:
    return {
        "id": collection.key,
        "title": collection.title,
        "description": collection.description,
        "alias": collection.alias,
        "can_read": collection.may_read(officer),
        "can_write": collection.may_write(officer),
        "media_types": [MEDIA_TYPE_STIX],
    }


# --- objects (§5.3-§5.8) ----------------------------------------------------------------------------------------------


def get_objects(
    node: Node, officer: Officer, collection_id: str, parameters: FilterParameters, paging: Paging
) -> ServedPage:
    """A page of the collection's objects the officer may be served (§5.3)."""
    found = require_collection(node, officer, collection_id, Permission.READ)
    name = f"objects {found.key}"
    filters = _filters(parameters, paging, officer, name)
    with node.engine.connect() as conn:
        page = store.query_objects(conn, found.key, officer, filters, shares=_shares_readable(node, officer))
    return _served(page, paging, officer, name, filters)


def get_manifest(
    node: Node, officer: Officer, collection_id: str, parameters: FilterParameters, paging: Paging
) -> ServedPage:
    """The same page as `get_objects`, as manifest records (§5.6)."""
    found = require_collection(node, officer, collection_id, Permission.READ)
    name = f"manifest {found.key}"
    filters = _filters(parameters, paging, officer, name)
    with node.engine.connect() as conn:
        page = store.query_manifest(conn, found.key, officer, filters, shares=_shares_readable(node, officer))
    return _served(page, paging, officer, name, filters)


def get_object(
    node: Node, officer: Officer, collection_id: str, object_id: str, parameters: FilterParameters, paging: Paging
) -> ServedPage:
    """The versions of one object the filters select (§5.5); 404 when the officer may see none of it."""
    found = require_collection(node, officer, collection_id, Permission.READ)
    _require_visible(node, found, officer, object_id)
    name = f"object {found.key} {object_id}"
    filters = _filters(parameters, paging, officer, name, object_id=object_id)
    with node.engine.connect() as conn:
        page = store.query_objects(conn, found.key, officer, filters, shares=_shares_readable(node, officer))
    return _served(page, paging, officer, name, filters)


def get_versions(
    node: Node, officer: Officer, collection_id: str, object_id: str, parameters: FilterParameters, paging: Paging
) -> ServedPage:
    """Every version of one object (§5.8), match[version] aside; 404 when the officer may see none of it."""
    found = require_collection(node, officer, collection_id, Permission.READ)
    _require_visible(node, found, officer, object_id)
    name = f"versions {found.key} {object_id}"
    filters = _filters(parameters, paging, officer, name, object_id=object_id, every_version=True)
    with node.engine.connect() as conn:
        page = store.query_manifest(conn, found.key, officer, filters, shares=_shares_readable(node, officer))
    return _served(page, paging, officer, name, filters)


def add_objects(
    node: Node, officer: Officer, collection_id: str, body: bytes, checker: ObjectChecker | None = None
) -> dict[str, Any]:
    """Validate and store the envelope's objects (§5.4) before answering, so the status resource returned is
    already complete; what lands in a `to_partner` collection is then shared with the other party. Objects the
    collection holds already, as they are, skip the validator; `checker` (by default, this thread) runs it."""
    found = require_collection(node, officer, collection_id, Permission.WRITE)
    requested_at = datetime.now(UTC)
    # Before the transaction: validation is the slow part.
    firsts = [first_check(position, stix) for position, stix in enumerate(_envelope_objects(body))]
    with node.engine.connect() as conn:
        held = store.held_unchanged(conn, found.key, firsts)
    checked = (checker or ObjectChecker(workers=1)).submit_checked(firsts, known_valid=held).result()
    with node.engine.begin() as conn:
        # A tool cannot name other recipients: a TLP:RED object it posts is served back to the officer it posted as.
        result = store.add_objects(conn, found.key, checked, actor=officer.id, named_readers=(officer.username,))
        resource = store.record_status(conn, found.key, officer, requested_at, result)
    if result.added:
        share_posted(node, officer, found, [stored.stix for stored in result.added])
    return resource


def delete_object(
    node: Node, officer: Officer, collection_id: str, object_id: str, parameters: FilterParameters
) -> int:
    """Delete the versions match[version] selects (§5.7: by default the last, as for every read; "all" for all)."""
    found = require_collection(node, officer, collection_id, Permission.WRITE)
    versions = _version_match(parameters.match_version)
    spec_versions = _list(parameters.match_spec_version)
    with node.engine.begin() as conn:
        return store.delete_object(conn, found.key, object_id, officer, versions, spec_versions)


def _envelope_objects(body: bytes) -> list[Any]:
    """The objects of a TAXII envelope (§3.7); a STIX bundle is read the same way, its id and type ignored."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEnvelope(_("the body is not JSON: {exc}").format(exc=exc)) from exc
    objects = envelope.get("objects") if isinstance(envelope, dict) else None
    if not isinstance(objects, list) or not objects:
        raise InvalidEnvelope(_('send an envelope: {{"objects": [one or more STIX 2.1 objects]}}'))
    return objects


# --- access -----------------------------------------------------------------------------------------------------------


def require_collection(node: Node, officer: Officer, collection_id: str, permission: Permission) -> Collection:
    """The collection, if the officer has `permission` on it; a refusal is logged (403), an unknown id is 404."""
    found = load_collections().get(collection_id)
    if found is None:
        raise NotFound(
            _("no collection {collection_id!r} in this API root; GET {API_ROOT}collections/ lists them").format(
                collection_id=collection_id, API_ROOT=API_ROOT
            )
        )
    if not _permits(found, officer, permission):
        with node.engine.begin() as conn:  # its own transaction: the refusal is recorded even though we raise
            append_event(conn, EventType.ACCESS_DENIED, officer.id, {"collection": found.key})
        raise Forbidden(
            _("your agency, roles or focus areas do not give you this access to {alias}").format(alias=found.alias)
        )
    return found


def _permits(collection: Collection, officer: Officer, permission: Permission) -> bool:
    match permission:
        case Permission.READ:
            return collection.may_read(officer)
        case Permission.WRITE:
            return collection.may_write(officer)
        case Permission.READ_OR_WRITE:
            return collection.may_read(officer) or collection.may_write(officer)


def _shares_readable(node: Node, officer: Officer) -> ReadableShares:
    """The API's need-to-know decision on messages, which decides whether a share's objects are served."""
    return partial(readable_shares, node, officer)


def _require_visible(node: Node, collection: Collection, officer: Officer, object_id: str) -> None:
    """404 both for an object the collection lacks and for one the officer may not be served (logged): TLP:RED
    without being named on it, or landed from a share the officer may not read."""
    with node.engine.connect() as conn:
        seen = store.object_visibility(conn, collection.key, officer, object_id, shares=_shares_readable(node, officer))
    if seen is Visibility.HIDDEN:
        with node.engine.begin() as conn:
            append_event(conn, EventType.ACCESS_DENIED, officer.id, {"collection": collection.key, "object": object_id})
    if seen is not Visibility.VISIBLE:
        raise NotFound(
            _("collection {alias} holds no object {object_id} you may see").format(
                alias=collection.alias, object_id=object_id
            )
        )


# --- filters and pages (§3.4) -----------------------------------------------------------------------------------------


def _filters(
    parameters: FilterParameters,
    paging: Paging,
    officer: Officer,
    name: str,
    *,
    object_id: str | None = None,
    every_version: bool = False,
) -> ObjectFilters:
    added_after = parameters.added_after
    filters = ObjectFilters(
        added_after=_timestamp(added_after, "added_after") if added_after else None,
        ids=(object_id,) if object_id else _list(parameters.match_id),
        types=() if object_id else _list(parameters.match_type),
        versions=VersionMatch(all=True) if every_version else _version_match(parameters.match_version),
        spec_versions=_list(parameters.match_spec_version),
        limit=_limit(parameters.limit, paging),
    )
    if not parameters.next:
        return filters
    after = paging.tokens.open(
        parameters.next,
        request=name,
        reader=officer.id,
        selection=selection_digest(filters.selection()),
        now=datetime.now(UTC),
    )
    return replace(filters, resume_after=after)


def _served(page: Page, paging: Paging, officer: Officer, name: str, filters: ObjectFilters) -> ServedPage:
    """The page, with a next token bound to this request, its reader and its filters when more follow (§3.4.1)."""
    if not (page.more and page.last_added is not None):
        return ServedPage(page, None)
    digest = selection_digest(filters.selection())
    token = paging.tokens.issue(Position(name, officer.id, digest, page.last_added, datetime.now(UTC)))
    return ServedPage(page, token)


def _list(raw: str | None) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in raw.split(",") if v.strip()})) if raw else ()


def _timestamp(raw: str, name: str) -> datetime:
    try:
        return parse_timestamp(raw)
    except ValueError as exc:
        raise InvalidFilter(f"{name}: {exc}") from exc


def _version_match(raw: str | None) -> VersionMatch:
    try:
        return VersionMatch.parse(raw)
    except ValueError as exc:
        raise InvalidFilter(
            _("match[version] takes first, last, all or STIX timestamps: {exc}").format(exc=exc)
        ) from exc


def _limit(raw: str | None, paging: Paging) -> int:
    if raw is None:
        return min(paging.page_size, paging.max_page_size)
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise InvalidFilter(_("limit must be a positive whole number, not {raw!r}").format(raw=raw[:40]))
    return min(int(raw), paging.max_page_size)
