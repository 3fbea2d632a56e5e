"""Adds the web UI to the node's app: pages, static files, security headers, and errors shown as pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from accord.errors import AccordError
from accord.http.problems import problem_response
from accord.web import audit, cyber, directory, mailbox, precursors, reviews, signin, workplan
from accord.web._pages import page
from accord.web.security import SecurityHeaders, SignInRequired

STATIC_DIR = Path(__file__).with_name("static")
STATIC_PREFIX = "/static"
# One router per capability of the UI, each in its own module.
ROUTERS = (
    signin.router,
    mailbox.router,
    reviews.router,
    workplan.router,
    directory.router,
    audit.router,
    precursors.router,
    cyber.router,
)


def ui_routes() -> list[APIRoute]:
    """Every page and form route of the web UI, from all its routers."""
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def ui_sections() -> set[str]:
    """The first path segment of every page the routers serve (and the static files): what counts as the UI."""
    return {"/" + r.path.strip("/").split("/")[0] for r in ui_routes()} | {STATIC_PREFIX}


def install_web(app: FastAPI) -> None:
    sections = ui_sections()

    def is_ui_path(path: str) -> bool:
        return "/" + path.strip("/").split("/")[0] in sections

    for router in ROUTERS:
        app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityHeaders, is_ui_path=is_ui_path)

    @app.exception_handler(AccordError)
    async def accord_error(request: Request, exc: AccordError) -> Response:
        if not is_ui_path(request.url.path):
            return problem_response(exc.status, exc.slug, exc.title, exc.detail, request.url.path, exc.extensions())
        return ui_error(request, exc)


def ui_error(request: Request, exc: AccordError) -> Response:
    htmx = request.headers.get("hx-request") == "true"
    if isinstance(exc, SignInRequired):
        target = "/signin?next=" + quote(request.url.path if request.method == "GET" else "/inbox")
        if htmx:
            return JSONResponse({}, status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    template = "_error_fragment.html.j2" if htmx else "error.html.j2"
    return page(request, template, None, exc.status, error=exc)
