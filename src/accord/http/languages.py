"""The language of each request: on the web, the officer's choice (the language cookie, else their saved language,
else the browser's Accept-Language); on the API, Accept-Language, else the officer's saved language; else the node's
default. Answers say which in Content-Language (RFC 9110 §8.5). The request starts in the node's time zone too (the
signed-in officer's own replaces it)."""

from __future__ import annotations

from datetime import UTC, tzinfo
from http.cookies import SimpleCookie

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.i18n import Language, current_language, end_request, negotiate, parse_language, request_language
from accord.i18n.zones import begin_zone, end_zone

LANGUAGE_COOKIE = "accord_language"
LANGUAGE_COOKIE_MAX_AGE_S = 400 * 24 * 3600  # the longest a browser keeps a cookie (RFC 6265bis §5.5)
# Machine-facing paths: what a client asks for in Accept-Language wins over the officer's saved language.
_CLIENT_PREFIXES = ("/api/", "/taxii2/", "/federation/")


def remember_language(response: Response, language: Language, *, secure: bool) -> None:
    """The browser keeps the language for the pages to come (and the sign-in page, before any session)."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language.value,
        max_age=LANGUAGE_COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def cookie_language(cookie_header: str | None) -> Language | None:
    if not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except Exception:
        return None
    morsel = jar.get(LANGUAGE_COOKIE)
    if morsel is None:
        return None
    try:
        return parse_language(morsel.value)
    except ValueError:
        return None


def choose_language(path: str, headers: Headers, default: Language) -> tuple[Language, bool]:
    """The request's language, and whether the request itself asked for it (then the officer's saved one does not
    override it)."""
    asked = negotiate(headers.get("accept-language"))
    if path.startswith(_CLIENT_PREFIXES):
        return (asked, True) if asked else (default, False)
    chosen = cookie_language(headers.get("cookie"))
    if chosen is not None:
        return chosen, True
    return asked or default, False


class RequestLanguage:
    """Pure ASGI: sets the language before anything else runs, so problems and pages alike are written in it."""

    def __init__(self, app: ASGIApp, default: Language, zone: tzinfo = UTC) -> None:
        self.app = app
        self.default = default
        self.zone = zone

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language, explicit = choose_language(scope["path"], Headers(scope=scope), self.default)
        token = request_language(language, explicit=explicit)
        zone_token = begin_zone(self.zone)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-language", current_language().value)
                vary = headers.get("vary")
                headers["vary"] = "Accept-Language" if not vary else f"{vary}, Accept-Language"
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            end_zone(zone_token)
            end_request(token)
