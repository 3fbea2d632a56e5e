"""Request dependencies: the node of this process, the signed-in officer, size-capped bodies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from accord.directory.officers import Officer, officer_for_token
from accord.errors import AuthenticationFailed, PayloadTooLarge
from accord.exchange.screen_workers import ScreenWorkers
from accord.i18n import _, prefer
from accord.i18n.zones import prefer_zone
from accord.logs import bind_caller
from accord.node import Node

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/token", auto_error=False)


# Dependencies that only read the app's state are coroutines: FastAPI runs a plain function in its thread pool, and
# under a bulk load each such hop waited its turn for the interpreter (an urgent message's call 100–300 ms before its
# handler began).
async def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


NodeDep = Annotated[Node, Depends(get_node)]


async def get_screen_workers(request: Request) -> ScreenWorkers | None:
    """The node process's screen workers; None in an app built without them (bulk batches are screened in process)."""
    workers: ScreenWorkers | None = getattr(request.app.state, "screen_workers", None)
    return workers


ScreenWorkersDep = Annotated[ScreenWorkers | None, Depends(get_screen_workers)]


def current_officer(node: NodeDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Officer:
    if not token:
        raise AuthenticationFailed(_("this endpoint needs a bearer token; get one at POST /api/v1/token"))
    with node.engine.connect() as conn:
        officer = officer_for_token(conn, token)
    bind_caller(f"officer:{officer.username}")
    prefer(officer.language)
    prefer_zone(officer.zone)
    return officer


OfficerDep = Annotated[Officer, Depends(current_officer)]


async def read_capped_body(request: Request, limit: int) -> bytes:
    """Read the body, refusing early (413) when it announces or reaches more than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            _("the body has {declared} bytes; this endpoint accepts at most {limit}").format(
                declared=declared, limit=limit
            )
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                _("the body exceeds {limit} bytes, the most this endpoint accepts").format(limit=limit)
            )
        chunks.append(chunk)
    return b"".join(chunks)
