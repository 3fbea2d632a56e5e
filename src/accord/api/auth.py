"""OAuth2 password flow (RFC 6749 §4.3): username and password for a bearer token, throttled per account and per
source address (429 with Retry-After while a back-off lasts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm

from accord.api.schemas.auth import AccessToken, LanguageChoice, OfficerView, TimeZoneChoice
from accord.directory.officers import Officer, issue_token, set_officer_language, set_officer_zone
from accord.directory.throttle import SignInAttempt
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import problems
from accord.http.sources import request_source
from accord.trust.refusals import Endpoint

router = APIRouter(prefix="/api/v1", tags=["auth"])


# 401 for a wrong username or password, 403 for a locked account, 429 while a back-off lasts.
@router.post("/token", responses=problems(401, 403, 422, 429))
async def token(request: Request, node: NodeDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> AccessToken:
    attempt = SignInAttempt(form.username, request_source(request), Endpoint.API_TOKEN)
    issued = await run_in_threadpool(issue_token, node, attempt, form.password)
    return AccessToken(
        access_token=issued.access_token,
        token_type="bearer",
        expires_in=int((issued.expires_at - datetime.now(UTC)).total_seconds()),
    )


@router.get("/me", responses=problems(401))
def me(officer: OfficerDep) -> OfficerView:
    return _officer_view(officer)


# The officer's language: the web UI and the API (without Accept-Language) speak it to them from then on.
@router.put("/me/language", responses=problems(400, 401, 422))
def choose_language(node: NodeDep, officer: OfficerDep, choice: LanguageChoice) -> OfficerView:
    return _officer_view(set_officer_language(node, officer, choice.language))


# The officer's time zone: the web UI shows times in it (with the zone named); the API answers in UTC (RFC 3339).
@router.put("/me/time-zone", responses=problems(400, 401, 422))
def choose_time_zone(node: NodeDep, officer: OfficerDep, choice: TimeZoneChoice) -> OfficerView:
    return _officer_view(set_officer_zone(node, officer, choice.time_zone))


def _officer_view(officer: Officer) -> OfficerView:
    return OfficerView(
        id=officer.id,
        username=officer.username,
        display_name=officer.display_name,
        party=officer.party,
        agency=officer.agency,
        roles=sorted(officer.roles),
        language=officer.language,
        time_zone=officer.time_zone,
    )
