"""The audit screen, for auditors and oversight: checkpoints with the peer's countersignature, alarms (the open ones
first, acknowledged by operators with a note), the whole ledger verified as an oversight body would, and the proof of
each ledger entry about a message.

It calls the same services as the API's /api/v1/audit, as the signed-in officer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from accord.directory.officers import Officer, Role
from accord.errors import InvalidInput
from accord.exchange.audit import (
    acknowledge,
    alarms,
    ledger_events,
    ledger_status,
    require_audit_role,
    verify_own_ledger,
)
from accord.exchange.receipt_proofs import prove_message
from accord.http.dependencies import NodeDep
from accord.i18n import _
from accord.ledger.alarms import MAX_NOTE_LENGTH, AlarmFilter
from accord.ledger.bundle import Verdict
from accord.ledger.event_log import EventFilter, EventPage
from accord.ledger.leaves import EventType
from accord.node import Node
from accord.web._pages import page, redirect
from accord.web.labels import LABELS
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)

ALARMS_PER_PAGE = 20
EVENTS_PER_PAGE = 50


def _audit_page(
    request: Request,
    node: Node,
    officer: Officer,
    verdict: Verdict | None,
    *,
    show_all: bool = False,
    kind: str | None = None,
    after: int | None = None,
) -> HTMLResponse:
    status = ledger_status(node, checkpoints=20, alarms=0)
    which = AlarmFilter(kind=kind, acknowledged=None if show_all else False)
    listed = alarms(node, which, after=after, limit=ALARMS_PER_PAGE)
    return page(
        request,
        "audit.html.j2",
        officer,
        checkpoints=status.checkpoints,
        alarms=listed.alarms,
        next_after=listed.next_after,
        unacknowledged=status.unacknowledged,
        alarm_count=status.alarm_count,
        show_all=show_all,
        kind=kind or "",
        can_acknowledge=Role.OPERATOR in officer.roles,
        note_length=MAX_NOTE_LENGTH,
        verdict=verdict,
    )


@router.get("/audit")
def audit(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    show: Annotated[str, Query(pattern="^(open|all)$")] = "open",
    kind: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    require_audit_role(officer)
    return _audit_page(request, node, officer, None, show_all=show == "all", kind=kind or None, after=after)


@router.post("/audit/verify", dependencies=[CsrfChecked])
async def audit_verify(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    """Export this node's audit bundle and verify it offline as an oversight body would, trusting this node's key and
    its pinned peer's; the leaves awaiting the next checkpoint round are a warning."""
    require_audit_role(officer)
    verdict = await run_in_threadpool(verify_own_ledger, node)
    return _audit_page(request, node, officer, verdict)


@router.post("/audit/alarms/{alarm_id}/acknowledgement", dependencies=[CsrfChecked])
def acknowledge_alarm(
    node: NodeDep, officer: WebOfficerDep, alarm_id: int, note: Annotated[str, Form(max_length=MAX_NOTE_LENGTH)] = ""
) -> Response:
    """An operator acknowledges an alarm with a note, as the API's acknowledgement does."""
    acknowledge(node, alarm_id, note, officer)
    return redirect("/audit")


@router.get("/audit/messages/{message_id}/proof")
async def message_proof(request: Request, node: NodeDep, officer: WebOfficerDep, message_id: str) -> HTMLResponse:
    """Each ledger entry about the message, on both sides, with its inclusion proof against a countersigned head."""
    require_audit_role(officer)
    proof = await run_in_threadpool(prove_message, node, message_id)
    return page(request, "proof.html.j2", officer, labels=LABELS, message_id=message_id, proof=proof)


@router.get("/audit/events")
def audit_events(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    type: Annotated[str, Query(max_length=64)] = "",
    actor: Annotated[str, Query(max_length=128)] = "",
    since: Annotated[str, Query(max_length=32)] = "",
    until: Annotated[str, Query(max_length=32)] = "",
    case: Annotated[str, Query(max_length=64)] = "",
    after: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    """Oversight browses the ledger's events (who approved or refused what, when), filtered, in ledger order, a page
    at a time; each event about a message opens that message's ledger proof. A filter that is not one says so."""
    require_audit_role(officer)
    filters = {"type": type, "actor": actor, "since": since, "until": until, "case": case}
    try:
        which = EventFilter(
            type=type or None, actor=actor or None, since=_day_start(since, 0), until=_day_start(until, 1)
        )
        found = ledger_events(node, officer, which, case=_case_id(case), after=after, limit=EVENTS_PER_PAGE)
        error, status = None, 200
    except InvalidInput as problem:
        found, error, status = EventPage([], None), problem.detail, 422
    query = urlencode({k: v for k, v in filters.items() if v})
    return page(
        request,
        "audit_events.html.j2",
        officer,
        status,
        events=found.events,
        next_after=found.next_after,
        filters=filters,
        query=query,
        types=[t.value for t in EventType],
        error=error,
    )


def _day_start(value: str, days_later: int) -> datetime | None:
    """A day typed in the form (YYYY-MM-DD) as the UTC moment it starts, `days_later` days on: `until` is inclusive
    of its day."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("{value!r} is not a date (YYYY-MM-DD)").format(value=value)) from None
    return datetime.combine(day + timedelta(days=days_later), time(), tzinfo=UTC)


def _case_id(value: str) -> str | None:
    if not value:
        return None
    try:
        return str(UUID(value.strip()))
    except ValueError:
        raise InvalidInput(_("{value!r} is not the id of a case or message").format(value=value)) from None
