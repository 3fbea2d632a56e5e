"""RFC 9457 problem details: the one place errors become HTTP responses.

Every problem carries the request's id (an extension member, beside the `X-Request-Id` header). A caller that has
authenticated (an officer, a pinned peer) gets the precise detail; any other caller gets the type, the title and a
generic detail, and the precise one goes to the log under the request id: a refusal's detail may quote a parser or a
codec, and a stranger learns from it what the node runs and how far its request got."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from accord.directory.officers import officer_for_token
from accord.errors import AccordError, AuthenticationFailed
from accord.i18n import N_, _
from accord.logs import LineBudget, bind_caller, current_request

PROBLEM_MEDIA_TYPE = "application/problem+json"
REQUEST_ID_MEMBER = "request_id"

log = structlog.get_logger("accord.http")
# Refusals of callers nobody authenticated are logged with their request id, but within a budget per path and problem.
_refusal_lines = LineBudget()


class InvalidParam(BaseModel):
    """One reason a request did not validate: where (e.g. ["query", "period"]) and what."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    location: list[str | int]
    message: str
    type: str


class Problem(BaseModel):
    """RFC 9457 §3 problem details as this node writes them. The standard members are always present; extension
    members (§3.2) may follow: the request's id, the fields that did not validate, what a problem names (e.g. which
    check a peer request failed, how long to wait)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str = Field(description="the problem type: urn:accord:problem:<slug>")
    title: str = Field(description="a short summary of the problem type")
    status: int = Field(ge=400, le=599, description="the HTTP status code")
    detail: str = Field(description="this occurrence; generic unless the caller has authenticated")
    instance: str | None = Field(default=None, description="the path the request was made to")
    request_id: str | None = Field(default=None, description="quote it to the node's operator")
    errors: list[InvalidParam] | None = Field(default=None, description="what did not validate (invalid-input)")
    citation: str | None = Field(default=None, description="the law or instrument a refusal enforces")


def problem_type(slug: str) -> str:
    return f"urn:accord:problem:{slug}"


def generic_detail(request_id: str | None) -> str:
    """What a caller who has not authenticated is told beyond the problem's type and title."""
    if request_id is None:
        return _("The request was refused.")
    return _("The request was refused; the node's operator finds the details under request id {request_id}.").format(
        request_id=request_id
    )


def request_id_of(request: Request) -> str | None:
    request_id: str | None = getattr(request.state, "request_id", None)
    return request_id


def caller_is_known() -> bool:
    """Whether the current request's caller has authenticated (see `accord.logs.bind_caller`)."""
    scope = current_request()
    return scope is not None and scope.caller is not None


def problem_body(
    error: AccordError, instance: str | None = None, *, precise: bool = True, request_id: str | None = None
) -> dict[str, Any]:
    """The problem for `error`; with `precise=False`, its detail is the generic one (extension members stay: they are
    this node's own vocabulary, e.g. which check a peer request failed)."""
    body: dict[str, Any] = {
        "type": problem_type(error.slug),
        "title": _(error.title),
        "status": error.status,
        "detail": error.detail if precise else generic_detail(request_id),
    }
    if instance:
        body["instance"] = instance
    body.update(error.extensions())
    if error.citation is not None:
        body["citation"] = error.citation
    if request_id is not None:
        body[REQUEST_ID_MEMBER] = request_id
    return body


def problem_json(body: dict[str, Any], status: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    fields = ({"WWW-Authenticate": "Bearer"} if status == 401 else {}) | dict(headers or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=fields)


async def shows_details(request: Request, token: str | None = None) -> bool:
    """Whether the caller of `request` has authenticated: now, or, for a request refused before its route looked at
    its credentials (a body that is not JSON, an unknown path), by the bearer token (or the given session token) it
    presents."""
    if caller_is_known():
        return True
    token = token or _bearer_token(request)
    if token is None:
        return False
    return await run_in_threadpool(_token_is_valid, request, token)


def _bearer_token(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def _token_is_valid(request: Request, token: str) -> bool:
    node = request.app.state.node
    try:
        with node.engine.connect() as conn:
            officer = officer_for_token(conn, token)
    except AuthenticationFailed:
        return False
    bind_caller(f"officer:{officer.username}")
    return True


async def problem_response(request: Request, error: AccordError) -> JSONResponse:
    """`error` as problem+json for the caller of `request`; what the caller is not shown is logged with the id."""
    request_id = request_id_of(request)
    precise = await shows_details(request)
    if not precise:
        log_refusal(request, error.slug, error.status, error.detail)
    body = problem_body(error, request.url.path, precise=precise, request_id=request_id)
    return problem_json(body, error.status, error.headers())


def log_refusal(request: Request, slug: str, status: int, detail: str) -> None:
    left_out = _refusal_lines.spend(f"{request.method} {request.url.path} {slug}")
    if left_out is None:
        return
    log.info(
        "request refused",
        method=request.method,
        path=request.url.path,
        problem=slug,
        status=status,
        detail=detail,
        similar_not_logged=left_out,
    )


def unexpected_error_response(path: str, request_id: str) -> JSONResponse:
    """The answer to a request that failed on a bug: nothing of the bug, the id to quote."""
    body = {
        "type": problem_type("internal-error"),
        "title": _("The node failed to answer"),
        "status": 500,
        "detail": generic_detail(request_id),
        "instance": path,
        REQUEST_ID_MEMBER: request_id,
    }
    return problem_json(body, 500)


_HTTP_PHRASES = {
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("There was an error parsing the body"),
    N_("Not authenticated"),
    N_("Unsupported Media Type"),
    N_("Request Entity Too Large"),
}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(AccordError)
    async def accord_error(request: Request, exc: AccordError) -> JSONResponse:
        return await problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(str(p) for p in e['location'])}: {e['message']}" for e in errors[:5])
        request_id = request_id_of(request)
        body: dict[str, Any] = {
            "type": problem_type("invalid-input"),
            "title": _("The request is not valid"),
            "status": 422,
            "detail": detail,
            "instance": request.url.path,
        }
        if await shows_details(request):
            body["errors"] = errors
        else:
            log_refusal(request, "invalid-input", 422, detail)
            body["detail"] = generic_detail(request_id)
        body[REQUEST_ID_MEMBER] = request_id
        return problem_json(body, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {400: "malformed-body", 404: "not-found", 405: "method-not-allowed", 401: "authentication-failed"}.get(
            exc.status_code, "http"
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        # Starlette's own phrases (RFC 9110's reason phrases, in English) in the caller's language.
        said = _(str(exc.detail)) if str(exc.detail) in _HTTP_PHRASES else str(exc.detail)
        body = {
            "type": problem_type(slug),
            "title": said,
            "status": exc.status_code,
            "detail": said,
            "instance": request.url.path,
            REQUEST_ID_MEMBER: request_id_of(request),
        }
        return problem_json(body, exc.status_code, headers)


def allowed_methods(request: Request) -> str:
    """RFC 9110 §10.2.1: every method the target resource supports. Starlette names only those of the first route
    whose path matched, and a path often has a route per method."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))
