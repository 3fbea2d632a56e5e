"""OAuth2 password flow (RFC 6749 §4.3): username and password for a bearer token, throttled per account and per
source address (429 with Retry-After while a back-off lasts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm

from accord.directory.officers import issue_token
from accord.directory.throttle import SignInAttempt
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.sources import request_source
from accord.trust.refusals import Endpoint

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/token")
async def token(
    request: Request, node: NodeDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> dict[str, Any]:
    attempt = SignInAttempt(form.username, request_source(request), Endpoint.API_TOKEN)
    issued = await run_in_threadpool(issue_token, node, attempt, form.password)
    return {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": int((issued.expires_at - datetime.now(UTC)).total_seconds()),
    }


@router.get("/me")
def me(officer: OfficerDep) -> dict[str, Any]:
    return {
        "id": officer.id,
        "username": officer.username,
        "display_name": officer.display_name,
        "party": officer.party.value,
        "agency": officer.agency,
        "roles": sorted(officer.roles),
    }
