"""TAXII 2.1 (OASIS Standard, 10 June 2021) for this country's own tools: discovery, one API root, its collections,
objects (GET, POST, by id, DELETE), versions, manifests and status resources, over the node's STIX store.

The router reads the request, authenticates the tool, calls the cyber focus area's TAXII use cases and writes the
TAXII response. Kept out of the OpenAPI document: the TAXII standard is its interface, and its errors are TAXII error
messages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
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
from accord.focus.cyber import taxii
from accord.focus.cyber.checking import ObjectChecker
from accord.focus.cyber.paging import NextTokens, next_token_key
from accord.focus.cyber.store import format_timestamp
from accord.focus.cyber.taxii import API_ROOT, FilterParameters, Paging, Permission, ServedPage
from accord.http.dependencies import NodeDep, read_capped_body
from accord.node import Node

COLLECTION = API_ROOT + "collections/{collection_id}/"
_CHUNK = 500  # objects per chunk of a streamed envelope

router = APIRouter(include_in_schema=False)


def install_taxii(app: FastAPI, node: Node) -> None:
    """Serve TAXII on `app`; call after the other routers and error handlers are installed."""
    settings = TaxiiSettings()
    app.state.taxii_settings = settings
    app.state.taxii_passwords = CheckedPasswords(settings.credential_cache_s)
    tokens = NextTokens(next_token_key(node.keys), timedelta(seconds=settings.next_lifetime_s))
    app.state.taxii_paging = Paging(settings.page_size, settings.max_page_size, tokens)
    # One pool of validator processes for the node process, started by the first POST large enough to use it and
    # shared by the POSTs that follow (each worker builds the validator once); it ends with the process.
    app.state.stix_checker = ObjectChecker()
    app.include_router(router)
    install_taxii_errors(app)


def taxii_paging(request: Request) -> Paging:
    paging: Paging = request.app.state.taxii_paging
    return paging


PagingDep = Annotated[Paging, Depends(taxii_paging)]


def stix_checker(request: Request) -> ObjectChecker:
    checker: ObjectChecker = request.app.state.stix_checker
    return checker


CheckerDep = Annotated[ObjectChecker, Depends(stix_checker)]


# --- server information (§4) ------------------------------------------------------------------------------------------


@router.get("/taxii2/")
def discovery(request: Request, node: NodeDep, officer: TaxiiOfficerDep) -> TaxiiJSON:
    require_accept(request)
    return TaxiiJSON(taxii.discover(node, str(request.base_url)))


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
    return TaxiiJSON(taxii.get_status(node, officer, status_id))


# --- collections (§5.1, §5.2) -----------------------------------------------------------------------------------------


@router.get(API_ROOT + "collections/")
def collections(request: Request, officer: TaxiiOfficerDep) -> TaxiiJSON:
    require_accept(request)
    visible = taxii.list_collections(officer)
    return TaxiiJSON({"collections": visible} if visible else {})


@router.get(COLLECTION)
def collection(request: Request, node: NodeDep, officer: TaxiiOfficerDep, collection_id: str) -> TaxiiJSON:
    require_accept(request)
    return TaxiiJSON(taxii.get_collection(node, officer, collection_id))


# --- objects (§5.3-§5.8) ----------------------------------------------------------------------------------------------


@router.get(COLLECTION + "manifest/")
def manifest(
    request: Request, node: NodeDep, officer: TaxiiOfficerDep, paging: PagingDep, collection_id: str
) -> Response:
    require_accept(request)
    served = taxii.get_manifest(node, officer, collection_id, _parameters(request), paging)
    return _envelope(served, "objects", [json.dumps(entry.manifest()) for entry in served.page.entries])


@router.get(COLLECTION + "objects/")
def get_objects(
    request: Request, node: NodeDep, officer: TaxiiOfficerDep, paging: PagingDep, collection_id: str
) -> Response:
    require_accept(request)
    served = taxii.get_objects(node, officer, collection_id, _parameters(request), paging)
    return _envelope(served, "objects", [entry.content for entry in served.page.entries])


@router.post(COLLECTION + "objects/", status_code=202)
async def add(
    request: Request,
    node: NodeDep,
    officer: TaxiiOfficerDep,
    settings: TaxiiSettingsDep,
    checker: CheckerDep,
    collection_id: str,
) -> TaxiiJSON:
    """Validated and stored before the answer, so the status resource is already complete (§5.4)."""
    require_accept(request)
    require_content_type(request)
    # Refused before the body is read: a tool that may not write here does not get to send max_content_length bytes.
    await run_in_threadpool(taxii.require_collection, node, officer, collection_id, Permission.WRITE)
    body = await read_capped_body(request, settings.max_content_length)
    resource = await run_in_threadpool(taxii.add_objects, node, officer, collection_id, body, checker)
    return TaxiiJSON(resource, status_code=202)


@router.get(COLLECTION + "objects/{object_id}/")
def get_object(
    request: Request,
    node: NodeDep,
    officer: TaxiiOfficerDep,
    paging: PagingDep,
    collection_id: str,
    object_id: str,
) -> Response:
    require_accept(request)
    served = taxii.get_object(node, officer, collection_id, object_id, _parameters(request), paging)
    return _envelope(served, "objects", [entry.content for entry in served.page.entries])


@router.delete(COLLECTION + "objects/{object_id}/")
def remove(request: Request, node: NodeDep, officer: TaxiiOfficerDep, collection_id: str, object_id: str) -> Response:
    require_accept(request)
    taxii.delete_object(node, officer, collection_id, object_id, _parameters(request))
    return Response(status_code=200, media_type=MEDIA_TYPE_TAXII)


@router.get(COLLECTION + "objects/{object_id}/versions/")
def versions(
    request: Request,
    node: NodeDep,
    officer: TaxiiOfficerDep,
    paging: PagingDep,
    collection_id: str,
    object_id: str,
) -> Response:
    require_accept(request)
    served = taxii.get_versions(node, officer, collection_id, object_id, _parameters(request), paging)
    return _envelope(served, "versions", [json.dumps(entry.version) for entry in served.page.entries])


# --- request and response (§3.4) -------------------------------------------------------------------------------------


def _parameters(request: Request) -> FilterParameters:
    params = request.query_params
    return FilterParameters(
        added_after=params.get("added_after"),
        match_id=params.get("match[id]"),
        match_type=params.get("match[type]"),
        match_version=params.get("match[version]"),
        match_spec_version=params.get("match[spec_version]"),
        limit=params.get("limit"),
        next=params.get("next"),
    )


def _envelope(served: ServedPage, member: str, items: Sequence[str]) -> Response:
    """The envelope (or versions resource), streamed in chunks, with the X-TAXII-Date-Added-* headers (§3.4.1)."""
    page = served.page
    head: dict[str, Any] = {"more": page.more}
    if served.next is not None:
        head["next"] = served.next
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
