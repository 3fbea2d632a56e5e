"""Adds the web UI to the node's app: pages, static files, security headers, the check in front of its form posts,
and errors shown as pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match
from starlette.types import Scope

from accord.errors import AccordError
from accord.http.problems import (
    caller_is_known,
    generic_detail,
    log_refusal,
    problem_response,
    request_id_of,
    shows_details,
)
from accord.i18n import _
from accord.web import (
    account,
    assessments,
    audit,
    case_export,
    cyber,
    directory,
    forwarding,
    languages,
    mailbox,
    matching,
    network_xref,
    networks,
    notifications,
    precursors,
    reviews,
    signin,
    workplan,
)
from accord.web._pages import page
from accord.web.security import SESSION_COOKIE, FormAccess, FormGate, SecurityHeaders, SignInRequired, web_officer

STATIC_DIR = Path(__file__).with_name("static")
STATIC_PREFIX = "/static"
# One router per capability of the UI, each in its own module.
ROUTERS = (
    signin.router,
    languages.router,
    account.router,
    mailbox.router,
    case_export.router,
    forwarding.router,
    reviews.router,
    assessments.router,
    workplan.router,
    directory.router,
    notifications.router,
    audit.router,
    precursors.router,
    cyber.router,
    matching.router,
    network_xref.router,
    networks.router,
)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def ui_routes() -> list[APIRoute]:
    """Every page and form route of the web UI, from all its routers."""
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def ui_sections() -> set[str]:
    """The first path segment of every page the routers serve (and the static files): what counts as the UI."""
    return {"/" + r.path.strip("/").split("/")[0] for r in ui_routes()} | {STATIC_PREFIX}


def needs_session(route: APIRoute) -> bool:
    """Whether the route resolves the signed-in officer (`web_officer`), directly or through another dependency."""
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if dependant.call is web_officer:
            return True
        pending.extend(dependant.dependencies)
    return False


def install_web(app: FastAPI) -> None:
    sections = ui_sections()
    open_forms = [r for r in ui_routes() if (r.methods or set()) - _SAFE_METHODS and not needs_session(r)]

    def is_ui_path(path: str) -> bool:
        return "/" + path.strip("/").split("/")[0] in sections

    def form_access(scope: Scope) -> FormAccess | None:
        """A post to the UI needs a session unless it is one of the open forms (sign-in); a path the UI does not
        serve is no exception, so a stranger learns nothing from it before signing in."""
        if not is_ui_path(scope["path"]):
            return None
        if any(route.matches(scope)[0] is Match.FULL for route in open_forms):
            return FormAccess.OPEN
        return FormAccess.SESSION

    for router in ROUTERS:
        app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(FormGate, access=form_access, refuse=form_refusal)  # inside the headers: its pages get them
    app.add_middleware(SecurityHeaders, is_ui_path=is_ui_path)

    @app.exception_handler(AccordError)
    async def accord_error(request: Request, exc: AccordError) -> Response:
        if not is_ui_path(request.url.path):
            return await problem_response(request, exc)
        precise = await shows_details(request, request.cookies.get(SESSION_COOKIE))
        return ui_error(request, exc, precise=precise)


@dataclass(frozen=True, slots=True)
class ShownError:
    """What an error page shows: the problem's title, and its detail only to a signed-in officer."""

    title: str
    detail: str
    status: int


def form_refusal(request: Request, exc: AccordError) -> Response:
    """A form post refused before its body was read (see `FormGate`)."""
    return ui_error(request, exc, precise=caller_is_known())


def ui_error(request: Request, exc: AccordError, *, precise: bool) -> Response:
    htmx = request.headers.get("hx-request") == "true"
    if isinstance(exc, SignInRequired):
        target = "/signin?next=" + quote(request.url.path if request.method == "GET" else "/inbox")
        if htmx:
            return JSONResponse({}, status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    request_id = request_id_of(request)
    if not precise:
        log_refusal(request, exc.slug, exc.status, exc.detail)
    shown = ShownError(_(exc.title), exc.detail if precise else generic_detail(request_id), exc.status)
    template = "_error_fragment.html.j2" if htmx else "error.html.j2"
    response = page(request, template, None, exc.status, error=shown, request_id=request_id)
    response.headers.update(exc.headers())
    return response
