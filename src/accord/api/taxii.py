"""TAXII 2.1 (OASIS Standard, 10 June 2021) for this country's own tools: discovery, one API root, its collections,
objects (GET, POST, by id, DELETE), versions, manifests and status resources, over the node's STIX store.

Kept out of the OpenAPI document: the TAXII standard is its interface, and its errors are TAXII error messages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from accord.api.taxii_http import (
    MEDIA_TYPE_TAXII,
    CheckedPasswords,
    TaxiiJSON,
    TaxiiOfficerDep,
    TaxiiSettings,
    TaxiiSettingsDep,
    install_taxii_errors,
    require_accept,
    require_content_type,
)
from accord.directory.officers import Officer
from accord.errors import Forbidden, NotFound
from accord.focus.cyber.collections import Collection, Direction, load_collections
from accord.focus.cyber.errors import InvalidEnvelope, InvalidFilter
from accord.focus.cyber.paging import NextTokens, Position, next_token_key, selection_digest
from accord.focus.cyber.sharing import share_posted
from accord.focus.cyber.store import (
    MEDIA_TYPE_STIX,
    AddResult,
    ObjectFilters,
    Page,
    VersionMatch,
    Visibility,
    add_objects,
    delete_object,
    format_timestamp,
    object_visibility,
    query_manifest,
    query_objects,
    record_status,
    status_resource,
)
from accord.focus.cyber.validation import CheckedObjects, check_objects, parse_timestamp
from accord.http.dependencies import NodeDep, read_capped_body
from accord.ledger.events import EventType, append_event
from accord.node import Node

API_ROOT = "/taxii2/accord/"
COLLECTION = API_ROOT + "collections/{collection_id}/"
_CHUNK = 500  # objects per chunk of a streamed envelope

router = APIRouter(include_in_schema=False)


def install_taxii(app: FastAPI, node: Node) -> None:
    """Serve TAXII on `app`; call after the other routers and error handlers are installed."""
    settings = TaxiiSettings()
    app.state.taxii_settings = settings
    app.state.taxii_passwords = CheckedPasswords(settings.credential_cache_s)
    app.state.taxii_next = NextTokens(next_token_key(node.keys), timedelta(seconds=settings.next_lifetime_s))
    app.include_router(router)
    install_taxii_errors(app)


# --- server information (§4) ------------------------------------------------------------------------------------------


@router.get("/taxii2/")
def discovery(request: Request, node: NodeDep, officer: TaxiiOfficerDep) -> TaxiiJSON:
    require_accept(request)
    root = _root_url(request, node)
    return TaxiiJSON(
        {
            "title": f"Accord TAXII 2.1 ({node.party.value} node {node.node_id})",
            "description": "Cyber threat information shared under the agreement, for this country's own tools.",
            "contact": "the node's operators",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get(API_ROOT)
def api_root(request: Request, officer: TaxiiOfficerDep, settings: TaxiiSettingsDep) -> TaxiiJSON:
    require_accept(request)
    return TaxiiJSON(
        {
            "title": "Accord",
            "description": "Collections per focus area: what to share with the partner, what it shared, national.",
            "versions": [MEDIA_TYPE_TAXII],
            "max_content_length": settings.max_content_length,
        }
    )


@router.get(API_ROOT + "status/{status_id}/")
def status(request: Request, node: NodeDep, officer: TaxiiOfficerDep, status_id: str) -> TaxiiJSON:
    require_accept(request)
    with node.engine.connect() as conn:
        return TaxiiJSON(status_resource(conn, status_id, officer))


# --- collections (§5.1, §5.2) -----------------------------------------------------------------------------------------


@router.get(API_ROOT + "collections/")
def collections(request: Request, officer: TaxiiOfficerDep) -> TaxiiJSON:
    require_accept(request)
    visible = [_collection_resource(c, officer) for c in load_collections().visible_to(officer)]
    return TaxiiJSON({"collections": visible} if visible else {})


@router.get(COLLECTION)
def collection(request: Request, node: NodeDep, officer: TaxiiOfficerDep, collection_id: str) -> TaxiiJSON:
    require_accept(request)
    found = _collection_for(node, officer, collection_id, lambda c: c.may_read(officer) or c.may_write(officer))
    return TaxiiJSON(_collection_resource(found, officer))


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


def _readable_collection(request: Request, node: Node, officer: Officer, collection_id: str) -> Collection:
    require_accept(request)
    return _collection_for(node, officer, collection_id, lambda c: c.may_read(officer))


@router.get(COLLECTION + "manifest/")
def manifest(
    request: Request, node: NodeDep, officer: TaxiiOfficerDep, settings: TaxiiSettingsDep, collection_id: str
) -> Response:
    found = _readable_collection(request, node, officer, collection_id)
    name = f"manifest {found.key}"
    filters = _filters(request, settings, officer, name)
    with node.engine.connect() as conn:
        page = query_manifest(conn, found.key, officer, filters)
    records = [json.dumps(entry.manifest()) for entry in page.entries]
    return _envelope(request, officer, name, filters, page, "objects", records)


@router.get(COLLECTION + "objects/")
def get_objects(
    request: Request, node: NodeDep, officer: TaxiiOfficerDep, settings: TaxiiSettingsDep, collection_id: str
) -> Response:
    found = _readable_collection(request, node, officer, collection_id)
    name = f"objects {found.key}"
    filters = _filters(request, settings, officer, name)
    with node.engine.connect() as conn:
        page = query_objects(conn, found.key, officer, filters)
    return _envelope(request, officer, name, filters, page, "objects", [entry.content for entry in page.entries])


@router.post(COLLECTION + "objects/", status_code=202)
async def add(
    request: Request, node: NodeDep, officer: TaxiiOfficerDep, settings: TaxiiSettingsDep, collection_id: str
) -> TaxiiJSON:
    """Validated and stored before the answer, so the status resource is already complete (§5.4)."""
    require_accept(request)
    require_content_type(request)
    found = await run_in_threadpool(_collection_for, node, officer, collection_id, lambda c: c.may_write(officer))
    body = await read_capped_body(request, settings.max_content_length)
    requested_at = datetime.now(UTC)
    checked = await run_in_threadpool(_checked_envelope, body)
    resource, result = await run_in_threadpool(_store, node, found, officer, checked, requested_at)
    if found.direction is Direction.TO_PARTNER and result.added:
        await run_in_threadpool(share_posted, node, officer, found, [stored.stix for stored in result.added])
    return TaxiiJSON(resource, status_code=202)


def _checked_envelope(body: bytes) -> CheckedObjects:
    return check_objects(_envelope_objects(body))


def _envelope_objects(body: bytes) -> list[Any]:
    """The objects of a TAXII envelope (§3.7); a STIX bundle is read the same way, its id and type ignored."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEnvelope(f"the body is not JSON: {exc}") from exc
    objects = envelope.get("objects") if isinstance(envelope, dict) else None
    if not isinstance(objects, list) or not objects:
        raise InvalidEnvelope('send an envelope: {"objects": [one or more STIX 2.1 objects]}')
    return objects


def _store(
    node: Node, collection: Collection, officer: Officer, checked: CheckedObjects, requested_at: datetime
) -> tuple[dict[str, Any], AddResult]:
    with node.engine.begin() as conn:
        # A tool cannot name other recipients: a TLP:RED object it posts is served back to the officer it posted as.
        result = add_objects(conn, collection.key, checked, actor=officer.id, named_readers=(officer.username,))
        return record_status(conn, collection.key, officer, requested_at, result), result


def _readable_object(request: Request, node: Node, officer: Officer, collection_id: str, object_id: str) -> Collection:
    """The collection, if the officer may read it and the object in it (404 otherwise, as for an absent object)."""
    found = _readable_collection(request, node, officer, collection_id)
    _require_visible(node, found, officer, object_id)
    return found


@router.get(COLLECTION + "objects/{object_id}/")
def get_object(
    request: Request,
    node: NodeDep,
    officer: TaxiiOfficerDep,
    settings: TaxiiSettingsDep,
    collection_id: str,
    object_id: str,
) -> Response:
    found = _readable_object(request, node, officer, collection_id, object_id)
    name = f"object {found.key} {object_id}"
    filters = _filters(request, settings, officer, name, object_id=object_id)
    with node.engine.connect() as conn:
        page = query_objects(conn, found.key, officer, filters)
    return _envelope(request, officer, name, filters, page, "objects", [entry.content for entry in page.entries])


@router.delete(COLLECTION + "objects/{object_id}/")
def remove(request: Request, node: NodeDep, officer: TaxiiOfficerDep, collection_id: str, object_id: str) -> Response:
    """Deletes the versions match[version] selects (by default the last, as for every TAXII read; "all" for all)."""
    require_accept(request)
    found = _collection_for(node, officer, collection_id, lambda c: c.may_write(officer))
    versions = _version_match(request.query_params.get("match[version]"))
    spec_versions = _list(request.query_params.get("match[spec_version]"))
    with node.engine.begin() as conn:
        delete_object(conn, found.key, object_id, officer, versions, spec_versions)
    return Response(status_code=200, media_type=MEDIA_TYPE_TAXII)


@router.get(COLLECTION + "objects/{object_id}/versions/")
def versions(
    request: Request,
    node: NodeDep,
    officer: TaxiiOfficerDep,
    settings: TaxiiSettingsDep,
    collection_id: str,
    object_id: str,
) -> Response:
    found = _readable_object(request, node, officer, collection_id, object_id)
    name = f"versions {found.key} {object_id}"
    filters = _filters(request, settings, officer, name, object_id=object_id, every_version=True)
    with node.engine.connect() as conn:
        page = query_manifest(conn, found.key, officer, filters)
    return _envelope(request, officer, name, filters, page, "versions", [json.dumps(e.version) for e in page.entries])


# --- access -----------------------------------------------------------------------------------------------------------


def _root_url(request: Request, node: Node) -> str:
    base = node.settings.public_url or str(request.base_url)
    return base.rstrip("/") + API_ROOT


def _collection_for(
    node: Node, officer: Officer, collection_id: str, allowed: Callable[[Collection], bool]
) -> Collection:
    found = load_collections().get(collection_id)
    if found is None:
        raise NotFound(f"no collection {collection_id!r} in this API root; GET {API_ROOT}collections/ lists them")
    if not allowed(found):
        with node.engine.begin() as conn:  # its own transaction: the refusal is recorded even though we raise
            append_event(conn, EventType.ACCESS_DENIED, officer.id, {"collection": found.key})
        raise Forbidden(f"your agency, roles or focus areas do not give you this access to {found.alias}")
    return found


def _require_visible(node: Node, collection: Collection, officer: Officer, object_id: str) -> None:
    """404 both for an object the collection lacks and for a TLP:RED one the officer is not named on (logged)."""
    with node.engine.connect() as conn:
        seen = object_visibility(conn, collection.key, officer, object_id)
    if seen is Visibility.HIDDEN:
        with node.engine.begin() as conn:
            append_event(conn, EventType.ACCESS_DENIED, officer.id, {"collection": collection.key, "object": object_id})
    if seen is not Visibility.VISIBLE:
        raise NotFound(f"collection {collection.alias} holds no object {object_id} you may see")


# --- filters and pages (§3.4) -----------------------------------------------------------------------------------------


def _filters(
    request: Request,
    settings: TaxiiSettings,
    officer: Officer,
    name: str,
    *,
    object_id: str | None = None,
    every_version: bool = False,
) -> ObjectFilters:
    params = request.query_params
    added_after = params.get("added_after")
    filters = ObjectFilters(
        added_after=_timestamp(added_after, "added_after") if added_after else None,
        ids=(object_id,) if object_id else _list(params.get("match[id]")),
        types=() if object_id else _list(params.get("match[type]")),
        versions=VersionMatch(all=True) if every_version else _version_match(params.get("match[version]")),
        spec_versions=_list(params.get("match[spec_version]")),
        limit=_limit(params.get("limit"), settings),
    )
    token = params.get("next")
    if not token:
        return filters
    tokens: NextTokens = request.app.state.taxii_next
    after = tokens.open(
        token,
        request=name,
        reader=officer.id,
        selection=selection_digest(filters.selection()),
        now=datetime.now(UTC),
    )
    return replace(filters, resume_after=after)


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
        raise InvalidFilter(f"match[version] takes first, last, all or STIX timestamps: {exc}") from exc


def _limit(raw: str | None, settings: TaxiiSettings) -> int:
    if raw is None:
        return min(settings.page_size, settings.max_page_size)
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise InvalidFilter(f"limit must be a positive whole number, not {raw[:40]!r}")
    return min(int(raw), settings.max_page_size)


def _envelope(
    request: Request,
    officer: Officer,
    name: str,
    filters: ObjectFilters,
    page: Page,
    member: str,
    items: Sequence[str],
) -> Response:
    """The envelope (or versions resource), streamed in chunks, with the X-TAXII-Date-Added-* headers (§3.4.1)."""
    head: dict[str, Any] = {"more": page.more}
    if page.more and page.last_added is not None:
        tokens: NextTokens = request.app.state.taxii_next
        digest = selection_digest(filters.selection())
        head["next"] = tokens.issue(Position(name, officer.id, digest, page.last_added, datetime.now(UTC)))
    headers = {}
    if page.first_added is not None and page.last_added is not None:
        headers["X-TAXII-Date-Added-First"] = format_timestamp(page.first_added)
        headers["X-TAXII-Date-Added-Last"] = format_timestamp(page.last_added)
    return StreamingResponse(_chunks(head, member, items), media_type=MEDIA_TYPE_TAXII, headers=headers)


async def _chunks(head: dict[str, Any], member: str, items: Sequence[str]) -> AsyncIterator[bytes]:
    opening = json.dumps(head)
    if not items:
        yield opening.encode()
        return
    yield f'{opening[:-1]}, "{member}": ['.encode()
    for start in range(0, len(items), _CHUNK):
        separator = "," if start else ""
        yield (separator + ",".join(items[start : start + _CHUNK])).encode()
    yield b"]}"
