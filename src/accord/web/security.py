"""Web sessions: an HttpOnly, SameSite=Strict cookie holding a session token, CSRF tokens, idle timeout, headers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response
from starlette.types import ASGIApp

from accord.directory.officers import Officer, officer_for_session
from accord.errors import AccordError, AuthenticationFailed, Forbidden
from accord.http.dependencies import NodeDep

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
    title = "Sign in first"


def csrf_token(session_token: str) -> str:
    """Bound to the session: a page from another site cannot know it, and it dies with the session."""
    return hmac.new(session_token.encode(), b"accord-csrf", hashlib.sha256).hexdigest()


def new_signin_token() -> str:
    return secrets.token_urlsafe(24)


def web_officer(request: Request, node: NodeDep) -> Officer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired("your session has ended or you have not signed in")
    try:
        officer = officer_for_session(node, token)
    except AuthenticationFailed as exc:
        raise SignInRequired("your session has ended (idle too long, or signed out); sign in again") from exc
    request.state.csrf = csrf_token(token)
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
        raise Forbidden("the form is missing its security token (CSRF); reload the page and try again")


CsrfChecked = Depends(require_csrf)


class SecurityHeaders(BaseHTTPMiddleware):
    """Strict headers on the UI's pages and files; the API and the federation channel keep their own."""

    def __init__(self, app: ASGIApp, is_ui_path: Callable[[str], bool]) -> None:
        super().__init__(app)
        self.is_ui_path = is_ui_path

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        if self.is_ui_path(request.url.path):
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
            if not request.url.path.startswith("/static"):
                response.headers["Cache-Control"] = "no-store"
        return response
