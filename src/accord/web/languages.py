"""The language switch on every page and on the sign-in page: it sets the browser's language cookie and, for a
signed-in officer (with the session's CSRF token), saves the language with their account."""

from __future__ import annotations

import hmac
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from accord.directory.officers import officer_for_session, set_officer_language
from accord.errors import AuthenticationFailed, Forbidden, InvalidInput
from accord.http.dependencies import NodeDep
from accord.http.languages import remember_language
from accord.i18n import _, parse_language
from accord.web._pages import redirect
from accord.web.security import SESSION_COOKIE, csrf_token
from accord.web.signin import safe_next

router = APIRouter(include_in_schema=False)


@router.post("/language")
async def switch_language(
    request: Request,
    node: NodeDep,
    language: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/inbox",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    session = request.cookies.get(SESSION_COOKIE)
    officer = None
    if session:
        with suppress(AuthenticationFailed):  # an ended session: the choice is the browser's only, as when signed out
            officer = await run_in_threadpool(officer_for_session, node, session)
    if officer is not None and not hmac.compare_digest(csrf, csrf_token(session or "")):
        raise Forbidden(_("the form is missing its security token (CSRF); reload the page and try again"))
    try:
        chosen = parse_language(language)
    except ValueError as exc:
        raise InvalidInput(_("choose English (en), French (fr) or Hindi (hi)")) from exc
    if officer is not None:
        await run_in_threadpool(set_officer_language, node, officer, chosen)
    response = redirect(safe_next(next))
    secure = node.settings.resolved_public_url.startswith("https://")
    remember_language(response, chosen, secure=secure)
    return response
