"""Web sessions: an HttpOnly, SameSite=Strict cookie holding a session token, CSRF tokens, idle timeout, headers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from accord.directory.officers import Officer, officer_for_session
from accord.errors import AccordError, AuthenticationFailed, Forbidden, PayloadTooLarge
from accord.http.dependencies import NodeDep
from accord.i18n import N_, _, prefer
from accord.i18n.zones import prefer_zone
from accord.logs import bind_caller
from accord.node import Node

SESSION_COOKIE = "accord_session"
SIGNIN_COOKIE = "accord_signin"  # double-submit token for the sign-in form, before any session exists
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
# No inline script or style anywhere: htmx and the page script come from /static, styles from one stylesheet.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


class SignInRequired(AccordError):
    status = 401
    slug = "sign-in-required"
    title = N_("Sign in first")


class LengthRequired(AccordError):
    status = 411
    slug = "length-required"
    title = N_("A form must say how long it is")


def csrf_token(session_token: str) -> str:
    """Bound to the session: a page from another site cannot know it, and it dies with the session."""
    return hmac.new(session_token.encode(), b"accord-csrf", hashlib.sha256).hexdigest()


def new_signin_token() -> str:
    return secrets.token_urlsafe(24)


def web_officer(request: Request, node: NodeDep) -> Officer:
    token = request.cookies.get(SESSION_COOKIE)
    officer = _session_officer(node, token)
    request.state.csrf = csrf_token(token or "")
    prefer(officer.language)
    prefer_zone(officer.zone)
    return officer


WebOfficerDep = Annotated[Officer, Depends(web_officer)]


async def require_csrf(request: Request) -> None:
    """Every state-changing request carries the session's CSRF token, as a form field or an htmx header."""
    token = request.cookies.get(SESSION_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not token or not sent or not hmac.compare_digest(sent, csrf_token(token)):
        raise Forbidden(_("the form is missing its security token (CSRF); reload the page and try again"))


CsrfChecked = Depends(require_csrf)


class SecurityHeaders(BaseHTTPMiddleware):
    """Strict headers on the UI's pages and files; the API and the federation channel keep their own."""

    def __init__(self, app: ASGIApp, is_ui_path: Callable[[str], bool]) -> None:
        super().__init__(app)
        self.is_ui_path = is_ui_path

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        if self.is_ui_path(request.url.path):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)  # or the route's own
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
            if not request.url.path.startswith("/static"):
                response.headers["Cache-Control"] = "no-store"
        return response


# The sign-in form (a username, a password, two short tokens) posted before any session exists.
OPEN_FORM_BYTES = 16 * 1024
# Beside an attachment, what a form's other fields (and the multipart boundaries) may take.
FORM_FIELDS_BYTES = 1024 * 1024
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class FormAccess(StrEnum):
    """What a form post of the UI must bring before its body is read."""

    SESSION = "session"  # a live session (every form but the sign-in form)
    OPEN = "open"  # nothing: the sign-in form


class FormGate:
    """Pure ASGI, in front of the UI's form posts, answering before a byte of the body is received: a post that needs
    a session and has no live one gets what the route itself would answer (the sign-in redirect, or 401 with
    `HX-Redirect` for htmx); a body with no declared length, or longer than the cap (`max_form_bytes` with a
    session, `OPEN_FORM_BYTES` without), is refused. A form parser reads a whole body into memory or spools it to
    disk; only a caller known to the node gets that far, and only as far as the cap."""

    def __init__(
        self,
        app: ASGIApp,
        access: Callable[[Scope], FormAccess | None],
        refuse: Callable[[Request, AccordError], Response],
    ) -> None:
        self.app = app
        self.access = access
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        needs = None
        if scope["type"] == "http" and scope["method"] not in _SAFE_METHODS:
            needs = self.access(scope)
        if needs is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        node: Node = request.app.state.node
        try:
            cap = OPEN_FORM_BYTES
            if needs is FormAccess.SESSION:
                await run_in_threadpool(_session_officer, node, request.cookies.get(SESSION_COOKIE))
                cap = form_cap(node)
            _require_length_within(request, cap)
        except AccordError as refused:
            await self.refuse(request, refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def form_cap(node: Node) -> int:
    """The longest form a signed-in officer may post: the setting, or one attachment and the form's fields."""
    return node.settings.max_form_bytes or node.settings.max_attachment_bytes + FORM_FIELDS_BYTES


def _session_officer(node: Node, token: str | None) -> Officer:
    """The officer whose session the cookie names, bound to the request's log lines; or the sign-in page."""
    if not token:
        raise SignInRequired(_("your session has ended or you have not signed in"))
    try:
        officer = officer_for_session(node, token)
    except AuthenticationFailed as exc:
        raise SignInRequired(_("your session has ended (idle too long, or signed out); sign in again")) from exc
    bind_caller(f"officer:{officer.username}")
    return officer


def _require_length_within(request: Request, cap: int) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        if "transfer-encoding" in request.headers:  # RFC 9112 §6.1: chunked, its length unknown until it ends
            raise LengthRequired(_("send the form with a Content-Length"))
        return  # RFC 9112 §6.3: neither header, no body
    if not declared.isdigit():
        raise LengthRequired(_("the Content-Length is not a number"))
    if int(declared) > cap:
        raise PayloadTooLarge(
            _("the form has {declared} bytes; at most {cap} are accepted").format(declared=declared, cap=cap)
        )
