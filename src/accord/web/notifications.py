"""The officer's notifications (the bell in the page header leads here): newest first, a page at a time, each marked
read on its own or all at once; and which optional ones they hear. Calls the same services as /api/v1/notifications."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from accord.http.dependencies import NodeDep
from accord.notifications import list_notifications, mark_all_read, mark_read, notification_settings, set_muted
from accord.web._pages import page, redirect
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)

PER_PAGE = 25


@router.get("/notifications")
def notifications_page(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    before: Annotated[UUID | None, Query()] = None,
) -> HTMLResponse:
    listed = list_notifications(node, officer, before=str(before) if before else None, limit=PER_PAGE)
    return page(request, "notifications.html.j2", officer, listed=listed, first_page=before is None)


@router.post("/notifications/read", dependencies=[CsrfChecked])
def read_all(node: NodeDep, officer: WebOfficerDep) -> Response:
    mark_all_read(node, officer)
    return redirect("/notifications")


@router.post("/notifications/{notification_id}/read", dependencies=[CsrfChecked])
def read_one(node: NodeDep, officer: WebOfficerDep, notification_id: Annotated[UUID, Path()]) -> Response:
    mark_read(node, officer, str(notification_id))
    return redirect("/notifications")


@router.get("/notifications/settings")
def settings_page(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    return page(request, "notification_settings.html.j2", officer, settings=notification_settings(node, officer))


@router.post("/notifications/settings", dependencies=[CsrfChecked])
def save_settings(node: NodeDep, officer: WebOfficerDep, hear: Annotated[list[str] | None, Form()] = None) -> Response:
    """The form lists the optional rules that concern the officer, to hear (checked boxes): each of them left out is
    muted; the rest keep their setting."""
    heard = set(hear or ())
    settings = notification_settings(node, officer)
    shown = {s.rule.id for s in settings if s.rule.optional and s.concerns}
    kept = {s.rule.id for s in settings if s.muted and s.rule.id not in shown}
    set_muted(node, officer, sorted(kept | (shown - heard)))
    return redirect("/notifications/settings")
