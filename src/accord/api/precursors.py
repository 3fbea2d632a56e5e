"""Controlled substances and precursors: look-up, notifications with status, escalation and risk flags, alerts and
reminders on them, and the searchable incidents."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from accord.api.schemas.precursors import (
    AlertSent,
    IncidentList,
    NotificationList,
    NotificationStatus,
    ReminderSent,
    SubstanceMatches,
)
from accord.domain.incidents import IncidentKind
from accord.focus.precursors.incidents import INCIDENT_ORDER, IncidentFilter, incident_page
from accord.focus.precursors.service import (
    NOTIFICATION_ORDER,
    FollowUpDraft,
    notification_page,
    raise_alert,
    send_reminder,
)
from accord.focus.precursors.substances import load_substances
from accord.http.cursors import DEFAULT_PAGE_SIZE, AfterCursor, PageSize, next_cursor, page_start
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import BODY_PROBLEMS, OFFICER_PROBLEMS, next_link_response, problems
from accord.http.parameters import Rfc3339Date

router = APIRouter(tags=["precursors"])
NotificationId = Annotated[UUID, Path(description="the pre-export notification's message id")]
# A follow-up is sent: 403 for a role that may not send, 404 for no such notification, 409 when the notification is
# not in a state that calls for it (no risk flag for an alert; not overdue, or not this side's, for a reminder).
FOLLOW_UP_PROBLEMS = (*BODY_PROBLEMS, 403, 404, 409)


@router.get("/api/v1/substances", responses=problems(*OFFICER_PROBLEMS))
def substances(
    officer: OfficerDep,
    q: Annotated[str, Query(min_length=1, max_length=200, pattern=r"\S", description="name, CAS or HS")],
) -> SubstanceMatches:
    listed = load_substances()
    return SubstanceMatches.model_validate(
        {
            "query": q,
            "matches": [
                {"matched_on": m.matched_on, "score": m.score}
                | m.substance.model_dump()
                | {"national": listed.national_classes(m.substance)}
                for m in listed.find(q)
            ],
        }
    )


@router.get("/api/v1/precursors/notifications", responses=problems(*OFFICER_PROBLEMS) | next_link_response())
def notifications(
    request: Request,
    response: Response,
    node: NodeDep,
    officer: OfficerDep,
    state: Annotated[NotificationStatus | None, Query(alias="status")] = None,
    flagged: bool | None = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    after: AfterCursor = None,
) -> NotificationList:
    """The notifications the officer may read, the most recent first, `limit` at a time."""
    page = notification_page(
        node, officer, state, flagged, after=page_start(node, NOTIFICATION_ORDER, after), limit=limit
    )
    cursor = next_cursor(request, response, node, NOTIFICATION_ORDER, page.next)
    return NotificationList.model_validate({"notifications": [v.as_json() for v in page.items], "next": cursor})


@router.post(
    "/api/v1/precursors/notifications/{message_id:uuid}/alert",
    status_code=status.HTTP_201_CREATED,
    responses=problems(*FOLLOW_UP_PROBLEMS),
)
def alert(node: NodeDep, officer: OfficerDep, message_id: NotificationId, draft: FollowUpDraft) -> AlertSent:
    """An alert to the other side about a flagged notification, in the notification's case."""
    return AlertSent.model_validate(raise_alert(node, officer, str(message_id), draft))


@router.post(
    "/api/v1/precursors/notifications/{message_id:uuid}/reminder",
    status_code=status.HTTP_201_CREATED,
    responses=problems(*FOLLOW_UP_PROBLEMS),
)
def reminder(node: NodeDep, officer: OfficerDep, message_id: NotificationId, draft: FollowUpDraft) -> ReminderSent:
    """A reminder to the importing authority when a notification is unanswered past its deadline."""
    return ReminderSent.model_validate(send_reminder(node, officer, str(message_id), draft))


@router.get("/api/v1/precursors/incidents", responses=problems(*OFFICER_PROBLEMS) | next_link_response())
def incidents(
    request: Request,
    response: Response,
    node: NodeDep,
    officer: OfficerDep,
    q: Annotated[str | None, Query(max_length=200, description="words in any text of the incident")] = None,
    kind: IncidentKind | None = None,
    substance: Annotated[str | None, Query(max_length=200, description="a substance code, name or CAS")] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$", description="where it happened")] = None,
    since: Annotated[Rfc3339Date | None, Query(description="happened on or after this day")] = None,
    until: Annotated[Rfc3339Date | None, Query(description="happened on or before this day")] = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    after: AfterCursor = None,
) -> IncidentList:
    """The incidents the officer may read that match, the most recently recorded first, `limit` at a time."""
    flt = IncidentFilter(q=q, kind=kind, substance=substance, country=country, since=since, until=until)
    page = incident_page(node, officer, flt, after=page_start(node, INCIDENT_ORDER, after), limit=limit)
    cursor = next_cursor(request, response, node, INCIDENT_ORDER, page.next)
    return IncidentList.model_validate({"incidents": [v.as_json() for v in page.items], "next": cursor})
