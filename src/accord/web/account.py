"""The officer's own account page: who they are here, and the time zone they read times in (their language is the
switch at the top of every page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from accord.directory.officers import set_officer_zone
from accord.http.dependencies import NodeDep
from accord.i18n.zones import format_moment, known_zones
from accord.web._pages import page, redirect
from accord.web.labels import LABELS
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)


@router.get("/account")
def account(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    return page(
        request,
        "account.html.j2",
        officer,
        labels=LABELS,
        zones=known_zones(),
        node_zone=str(node.time_zone),
        saved=request.query_params.get("saved"),
        now=node.clock.now(),
        format_moment=format_moment,
    )


@router.post("/account/time-zone", dependencies=[CsrfChecked])
async def choose_zone(
    node: NodeDep, officer: WebOfficerDep, time_zone: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    await run_in_threadpool(set_officer_zone, node, officer, time_zone or None)
    return redirect("/account?saved=1")
