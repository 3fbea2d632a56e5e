"""Controlled substances and precursors: look-up, notifications with status, escalation and risk flags, alerts and
reminders on them, and the searchable incidents."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from accord.domain.incidents import IncidentKind
from accord.focus.precursors.incidents import IncidentFilter, list_incidents
from accord.focus.precursors.service import FollowUpDraft, list_notifications, raise_alert, send_reminder
from accord.focus.precursors.substances import load_substances
from accord.http.dependencies import NodeDep, OfficerDep

router = APIRouter(tags=["precursors"])


@router.get("/api/v1/substances")
def substances(
    officer: OfficerDep, q: Annotated[str, Query(min_length=1, max_length=200, description="name, CAS or HS")]
) -> dict[str, Any]:
    listed = load_substances()
    return {
        "query": q,
        "matches": [
            {"matched_on": m.matched_on, "score": m.score}
            | m.substance.model_dump(mode="json")
            | {"national": listed.national_classes(m.substance)}
            for m in listed.find(q)
        ],
    }


@router.get("/api/v1/precursors/notifications")
def notifications(
    node: NodeDep,
    officer: OfficerDep,
    state: Annotated[str | None, Query(alias="status")] = None,
    flagged: bool | None = None,
) -> dict[str, Any]:
    return {"notifications": [v.as_json() for v in list_notifications(node, officer, state, flagged)]}


@router.post("/api/v1/precursors/notifications/{message_id}/alert", status_code=status.HTTP_201_CREATED)
def alert(node: NodeDep, officer: OfficerDep, message_id: str, draft: FollowUpDraft) -> dict[str, Any]:
    """An alert to the other side about a flagged notification, in the notification's case."""
    return raise_alert(node, officer, message_id, draft)


@router.post("/api/v1/precursors/notifications/{message_id}/reminder", status_code=status.HTTP_201_CREATED)
def reminder(node: NodeDep, officer: OfficerDep, message_id: str, draft: FollowUpDraft) -> dict[str, Any]:
    """A reminder to the importing authority when a notification is unanswered past its deadline."""
    return send_reminder(node, officer, message_id, draft)


@router.get("/api/v1/precursors/incidents")
def incidents(
    node: NodeDep,
    officer: OfficerDep,
    q: Annotated[str | None, Query(max_length=200, description="words in any text of the incident")] = None,
    kind: IncidentKind | None = None,
    substance: Annotated[str | None, Query(max_length=200, description="a substance code, name or CAS")] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$", description="where it happened")] = None,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    flt = IncidentFilter(q=q, kind=kind, substance=substance, country=country, since=since, until=until)
    return {"incidents": [v.as_json() for v in list_incidents(node, officer, flt)]}
