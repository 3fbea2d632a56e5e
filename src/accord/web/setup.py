"""Adds the web UI to the node's app: pages, static files, security headers, and errors shown as pages."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from accord.api.problems import problem_response
from accord.errors import AccordError
from accord.web.pages import router, templates
from accord.web.security import SecurityHeaders, SignInRequired, is_ui_path

STATIC_DIR = __file__.rsplit("/", 1)[0] + "/static"


def install_web(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityHeaders)

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
    context: dict[str, object] = {
        "officer": None,
        "csrf": "",
        "node": {},
        "path": request.url.path,
        "roles": set(),
        "error": exc,
        "can_audit": False,
        "can_review": False,
        "can_coordinate": False,
    }
    template = "_error_fragment.html.j2" if htmx else "error.html.j2"
    response: HTMLResponse = templates.TemplateResponse(request, template, context, status_code=exc.status)
    return response
