"""Signing in and out: the sign-in form (with its own double-submit token, before any session exists), throttled as
every way in is (the wait shown on the page, with Retry-After), the session cookie it sets, and signing out, which
revokes the session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accord.directory.officers import issue_token, revoke_session
from accord.directory.throttle import SignInAttempt, SignInLocked, SignInThrottled
from accord.errors import AuthenticationFailed, Forbidden
from accord.http.dependencies import NodeDep
from accord.http.languages import remember_language
from accord.http.sources import request_source
from accord.i18n import _, ngettext
from accord.trust.refusals import Endpoint
from accord.web._pages import page, redirect
from accord.web.security import SESSION_COOKIE, SIGNIN_COOKIE, CsrfChecked, WebOfficerDep, new_signin_token

router = APIRouter(include_in_schema=False)
_SIGNIN_FORM_S = 1800  # how long a sign-in form may stay open before it must be reloaded


def safe_next(target: str | None) -> str:
    """Only a path of this site: an absolute or scheme-relative URL would make the form an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/inbox"


@router.get("/")
def home() -> RedirectResponse:
    return redirect("/inbox")


@router.get("/signin")
def signin_form(request: Request, next: str | None = None, error: str | None = None) -> HTMLResponse:
    token = new_signin_token()
    response = page(request, "signin.html.j2", None, signin_token=token, next=safe_next(next), error=error)
    response.set_cookie(SIGNIN_COOKIE, token, httponly=True, samesite="strict", max_age=_SIGNIN_FORM_S)
    return response


@router.post("/signin")
async def signin(
    request: Request,
    node: NodeDep,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    signin_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/inbox",
) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE)
    if not expected or signin_token != expected:
        raise Forbidden(_("the sign-in form expired or did not come from this site; reload it and try again"))
    attempt = SignInAttempt(username, request_source(request), Endpoint.WEB_SIGN_IN)
    try:
        issued = await run_in_threadpool(issue_token, node, attempt, password, node.settings.web_idle_timeout_s)
    except SignInThrottled as exc:
        wait = _("Too many failed sign-ins for this account or from this address. Try again in {wait}.").format(
            wait=_wait(exc.retry_after_s)
        )
        return _refused(request, 429, wait, username, next, exc.headers())
    except SignInLocked:
        locked = _("This account is locked after repeated failed sign-ins. An operator of this node can unlock it.")
        return _refused(request, 403, locked, username, next)
    except AuthenticationFailed:
        return _refused(request, 401, _("Wrong username or password."), username, next)
    response = redirect(safe_next(next))
    secure = node.settings.resolved_public_url.startswith("https://")
    response.set_cookie(SESSION_COOKIE, issued.access_token, httponly=True, samesite="strict", secure=secure, path="/")
    if issued.language is not None:  # the officer's saved language follows them to any browser
        remember_language(response, issued.language, secure=secure)
    response.delete_cookie(SIGNIN_COOKIE)
    return response


def _refused(
    request: Request, status: int, error: str, username: str, next: str, headers: dict[str, str] | None = None
) -> Response:
    """The sign-in form again, with why the sign-in was refused and a fresh form token."""
    token = new_signin_token()
    refused = page(
        request,
        "signin.html.j2",
        None,
        status,
        signin_token=token,
        next=safe_next(next),
        error=error,
        username=username,
    )
    refused.headers.update(headers or {})
    refused.set_cookie(SIGNIN_COOKIE, token, httponly=True, samesite="strict", max_age=_SIGNIN_FORM_S)
    return refused


def _wait(seconds: int) -> str:
    """How long to wait, as a person reads it: seconds up to two minutes, then whole minutes (rounded up)."""
    if seconds < 120:
        return ngettext("{count} second", "{count} seconds", seconds).format(count=seconds)
    minutes = -(-seconds // 60)
    return ngettext("{count} minute", "{count} minutes", minutes).format(count=minutes)


@router.post("/signout", dependencies=[CsrfChecked])
def signout(request: Request, node: NodeDep, officer: WebOfficerDep) -> Response:
    revoke_session(node, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
