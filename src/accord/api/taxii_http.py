"""TAXII 2.1 over HTTP (TAXII 2.1 §1.6, §3): the media type, Accept and Content-Type negotiation (406, 415), HTTP
Basic and bearer credentials (Basic throttled as every sign-in is), the service's settings, and errors as TAXII error
messages (§3.6.1)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import inspect
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from accord.directory.officers import Officer, authenticate_password, officer_by_username, officer_for_token
from accord.directory.throttle import SignInAttempt, check_sign_in
from accord.errors import AccordError, AuthenticationFailed
from accord.focus.cyber.errors import NotAcceptable, TaxiiError, UnsupportedMediaType
from accord.http.dependencies import NodeDep
from accord.http.problems import generic_detail, log_refusal, request_id_of, shows_details
from accord.http.sources import request_source
from accord.i18n import _
from accord.logs import bind_caller
from accord.node import Node
from accord.trust.refusals import Endpoint

TAXII_PREFIX = "/taxii2/"
MEDIA_TYPE_TAXII = "application/taxii+json;version=2.1"
_TAXII_TYPE = "application/taxii+json"
# RFC 7235 §4.1: one challenge per scheme the service takes.
_CHALLENGE = 'Basic realm="Accord TAXII", charset="UTF-8", Bearer realm="Accord TAXII"'


class TaxiiSettings(BaseSettings):
    """The TAXII service's limits (environment: ACCORD_TAXII_*)."""

    model_config = SettingsConfigDict(env_prefix="ACCORD_TAXII_", frozen=True)

    max_content_length: int = Field(default=10 * 1024 * 1024, gt=0, description="largest POST body, in bytes")
    page_size: int = Field(default=1000, gt=0, description="objects per page when the client sets no limit")
    max_page_size: int = Field(default=10_000, gt=0, description="a larger limit is lowered to this")
    next_lifetime_s: float = Field(default=600.0, gt=0, description="how long a next token may be used")
    credential_cache_s: float = Field(default=60.0, ge=0, description="how long a checked Basic password is trusted")


class TaxiiJSON(JSONResponse):
    media_type = MEDIA_TYPE_TAXII


# --- media types (§1.6.8) -------------------------------------------------------------------------------------------


def _media_ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    ranges = []
    for item in header.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        parameters = {}
        for param in params:
            name, _, value = param.partition("=")
            parameters[name.strip().lower()] = value.strip().strip('"')
        if kind:
            ranges.append((kind.lower(), parameters))
    return ranges


def _is_taxii_21(kind: str, parameters: dict[str, str]) -> bool:
    return kind == _TAXII_TYPE and parameters.get("version", "2.1") == "2.1"


def require_accept(request: Request) -> None:
    """The client must accept application/taxii+json;version=2.1 (a wildcard range will do); else 406."""
    header = request.headers.get("accept")
    if not header:
        raise NotAcceptable(_("send Accept: {MEDIA_TYPE_TAXII}").format(MEDIA_TYPE_TAXII=MEDIA_TYPE_TAXII))
    for kind, parameters in _media_ranges(header):
        if parameters.get("q") in {"0", "0.0", "0.00", "0.000"}:
            continue
        if _is_taxii_21(kind, parameters) or kind in {"*/*", "application/*"}:
            return
    raise NotAcceptable(
        _("this server answers only {MEDIA_TYPE_TAXII}; the request accepts {header!r}").format(
            MEDIA_TYPE_TAXII=MEDIA_TYPE_TAXII, header=header[:200]
        )
    )


def require_content_type(request: Request) -> None:
    header = request.headers.get("content-type", "")
    ranges = _media_ranges(header)
    if len(ranges) != 1 or not _is_taxii_21(*ranges[0]):
        raise UnsupportedMediaType(
            _("send the envelope as Content-Type: {MEDIA_TYPE_TAXII}, not {header!r}").format(
                MEDIA_TYPE_TAXII=MEDIA_TYPE_TAXII, header=header[:200]
            )
        )


# --- credentials (§1.6.5: HTTP Basic; bearer tokens as the rest of the API) ----------------------------------------


class CheckedPasswords:
    """Basic credentials verified recently, so a tool paging through a collection pays for one argon2 check, not
    one per page. Entries are keyed by an HMAC of username and password under a key that lives only in this
    process; an officer deactivated since is refused at once, a changed password works on for at most `ttl_s`."""

    def __init__(self, ttl_s: float, max_entries: int = 1024) -> None:
        self._key = secrets.token_bytes(32)
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: dict[bytes, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _digest(self, username: str, password: str) -> bytes:
        material = username.encode() + b"\x00" + password.encode()
        return hmac.new(self._key, material, hashlib.sha256).digest()

    def officer_id(self, username: str, password: str) -> str | None:
        digest = self._digest(username, password)
        with self._lock:
            entry = self._entries.get(digest)
        return entry[0] if entry is not None and entry[1] > time.monotonic() else None

    def remember(self, username: str, password: str, officer: Officer) -> None:
        if self._ttl_s <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
                if len(self._entries) >= self._max_entries:
                    self._entries.clear()
            self._entries[self._digest(username, password)] = (officer.id, now + self._ttl_s)


def taxii_settings(request: Request) -> TaxiiSettings:
    settings: TaxiiSettings = request.app.state.taxii_settings
    return settings


TaxiiSettingsDep = Annotated[TaxiiSettings, Depends(taxii_settings)]


def taxii_officer(request: Request, node: NodeDep) -> Officer:
    """The officer behind the request's Basic credentials or bearer token; 401 with both challenges otherwise."""
    scheme, _sep, credentials = request.headers.get("authorization", "").partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and credentials.strip():
        with node.engine.connect() as conn:
            officer = officer_for_token(conn, credentials.strip())
    elif scheme == "basic" and credentials.strip():
        username, password = _basic_pair(credentials.strip())
        officer = _password_officer(request, node, username, password)
    else:
        raise AuthenticationFailed(_("send HTTP Basic credentials of an officer account, or a bearer token"))
    bind_caller(f"officer:{officer.username}")  # from here on, its errors are precise
    return officer


def _basic_pair(credentials: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise AuthenticationFailed(_("the Basic credentials are not base64 of 'username:password'")) from exc
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        raise AuthenticationFailed(_("the Basic credentials are not base64 of 'username:password'"))
    return username, password


def _password_officer(request: Request, node: Node, username: str, password: str) -> Officer:
    """The officer whose Basic credentials these are: verified (and throttled) as any sign-in, or remembered from a
    recent check, which the back-off and the lock bind all the same (else a guess would be answered from memory)."""
    attempt = SignInAttempt(username, request_source(request), Endpoint.TAXII)
    checked: CheckedPasswords = request.app.state.taxii_passwords
    remembered = checked.officer_id(username, password)
    with node.engine.connect() as conn:
        current = officer_by_username(conn, username) if remembered is not None else None
    if current is not None and current.id == remembered:
        check_sign_in(node, attempt, current.id)
        return current
    officer = authenticate_password(node, attempt, password)
    checked.remember(username, password, officer)
    return officer


TaxiiOfficerDep = Annotated[Officer, Depends(taxii_officer)]


# --- errors (§3.6.1) --------------------------------------------------------------------------------------------------


def is_taxii_path(path: str) -> bool:
    return path == TAXII_PREFIX.rstrip("/") or path.startswith(TAXII_PREFIX)


def taxii_error(
    status: int,
    title: str,
    description: str,
    code: str,
    headers: dict[str, str] | None = None,
    *,
    error_id: str | None = None,
) -> TaxiiJSON:
    """A TAXII error message (§3.6.1); `error_id` names this occurrence (here: the request id)."""
    body = {"title": title, "description": description, "error_code": code, "http_status": str(status)}
    if error_id is not None:
        body["error_id"] = error_id
    fields = {"WWW-Authenticate": _CHALLENGE} if status == 401 else {}
    return TaxiiJSON(body, status_code=status, headers=fields | (headers or {}))


@dataclass(frozen=True, slots=True)
class _Refusal:
    status: int
    title: str
    description: str
    code: str
    headers: dict[str, str]


def _refusal_of(exc: Exception) -> _Refusal:
    if isinstance(exc, AccordError):
        return _Refusal(exc.status, exc.title, exc.detail, exc.slug, exc.headers())
    if isinstance(exc, RequestValidationError):
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors())
        return _Refusal(400, TaxiiError.title, detail[:1000], TaxiiError.slug, {})
    assert isinstance(exc, StarletteHTTPException)
    return _Refusal(
        exc.status_code, str(exc.detail), f"{exc.detail} (TAXII 2.1 endpoints)", "http", dict(exc.headers or {})
    )


async def _as_taxii_error(request: Request, exc: Exception) -> TaxiiJSON:
    """`exc` as a TAXII error message for the caller of `request`: the precise description to a caller who has
    authenticated, a generic one naming the request id to any other (the precise one goes to the log, within the
    same budget as the API's problems), as `accord.http.problems` answers."""
    refusal = _refusal_of(exc)
    request_id = request_id_of(request)
    description = refusal.description
    if not await shows_details(request):
        log_refusal(request, refusal.code, refusal.status, description)
        description = generic_detail(request_id)
    return taxii_error(refusal.status, refusal.title, description, refusal.code, refusal.headers, error_id=request_id)


Handler = Callable[[Request, Any], Response | Awaitable[Response]]


def install_taxii_errors(app: FastAPI) -> None:
    """Under /taxii2/ every error is a TAXII error message in the TAXII media type; elsewhere the handlers already
    installed (problem+json, the web UI's pages) answer as before. Install after them."""
    for exc_class in (AccordError, RequestValidationError, StarletteHTTPException):
        previous: Handler = app.exception_handlers[exc_class]

        async def handler(request: Request, exc: Exception, previous: Handler = previous) -> Response:
            if is_taxii_path(request.url.path):
                return await _as_taxii_error(request, exc)
            answer = previous(request, exc)
            return await answer if inspect.isawaitable(answer) else answer

        app.add_exception_handler(exc_class, handler)
