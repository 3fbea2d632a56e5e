"""The precursors screens: pre-export notifications with their status and escalation, the alerts to review (a risk
alert or a reminder sent from each), and the incidents on a map and a timeline.

They call the same services as the API's /api/v1/precursors, as the signed-in officer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from accord.datafiles import marking_label
from accord.directory.officers import Officer, Role
from accord.domain.incidents import IncidentKind
from accord.domain.messages import DeliveryState, MessageKind, Priority
from accord.domain.notifications import PenDecision
from accord.errors import AccordError, InvalidInput, NotFound, validation_text
from accord.focus.precursors.incidents import INCIDENT_ORDER, IncidentFilter, IncidentView, incident_page
from accord.focus.precursors.service import (
    NOTIFICATION_ORDER,
    STATUSES,
    FollowUpDraft,
    notification_page,
    raise_alert,
    send_reminder,
)
from accord.http.dependencies import NodeDep
from accord.i18n import _, pgettext
from accord.node import Node
from accord.reports import charts
from accord.web import labels
from accord.web._pages import Pager, page, page_limit, page_position, pager, redirect
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)

_SENDING_ROLES = frozenset({Role.OFFICER, Role.ANALYST})
PAGE_SIZE = 50
INCIDENT_PAGE_SIZE = 100
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SEARCH_FIELDS = ("q", "kind", "substance", "country", "since", "until")
_FOLLOW_UPS: Mapping[str, Callable[[Node, Officer, str, FollowUpDraft], dict[str, Any]]] = {
    "alert": raise_alert,
    "reminder": send_reminder,
}


def _incident_kind_words() -> dict[str, str]:
    return {
        "seizure": pgettext("incident kind", "seizure"),
        "stopped_shipment": pgettext("incident kind", "stopped shipment"),
        "diversion": pgettext("incident kind", "diversion"),
        "suspicious_order": pgettext("incident kind", "suspicious order"),
    }


def _words() -> dict[str, dict[str, str]]:
    """The words the screens show for the values they hold (a status, a priority, a kind), in the language of the
    request; a value missing here is shown as it is."""
    return {
        "statuses": {
            "pending": pgettext("pre-export notification status", "pending"),
            "info_requested": pgettext("pre-export notification status", "info requested"),
            "cleared": pgettext("pre-export notification status", "cleared"),
            "objected": pgettext("pre-export notification status", "objected"),
            "overdue": pgettext("pre-export notification status", "overdue"),
        },
        "shipments": {
            "waiting": pgettext("shipment", "waiting"),
            "may ship": pgettext("shipment", "may ship"),
            "blocked": pgettext("shipment", "blocked"),
        },
        "decisions": {d.value: labels.pen_decision(d.value) for d in PenDecision},
        "priorities": {p.value: labels.priority(p.value) for p in Priority},
        "delivery": {s.value: labels.delivery_state(s.value) for s in DeliveryState},
        "message_kinds": {k.value: labels.message_kind(k.value) for k in MessageKind},
        "kinds": _incident_kind_words(),
    }


# ---- pre-export notifications


@router.get("/precursors")
def notifications(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    status = request.query_params.get("status") or None
    flagged = bool(request.query_params.get("flagged"))
    listed = notification_page(
        node,
        officer,
        status,
        True if flagged else None,
        after=page_position(node, NOTIFICATION_ORDER, request),
        limit=page_limit(request, PAGE_SIZE),
    )
    return page(
        request,
        "precursors.html.j2",
        officer,
        notifications=listed.items,
        pager=pager(request, node, NOTIFICATION_ORDER, listed.next),
        statuses=STATUSES,
        params={"status": status, "flagged": flagged},
        words=_words(),
    )


# ---- alerts to review


def _alerts_page(
    request: Request, node: Node, officer: Officer, status_code: int = 200, **context: Any
) -> HTMLResponse:
    listed = notification_page(
        node,
        officer,
        follow_up_due=True,
        after=page_position(node, NOTIFICATION_ORDER, request),
        limit=page_limit(request, PAGE_SIZE),
    )
    return page(
        request,
        "precursors_alerts.html.j2",
        officer,
        status_code,
        notifications=listed.items,
        pager=pager(request, node, NOTIFICATION_ORDER, listed.next, path="/precursors/alerts"),
        classifications=[(c, marking_label(node.party, c)) for c in node.agreement.classification_mapping[node.party]],
        priorities=[p.value for p in Priority],
        can_send=bool(officer.roles & _SENDING_ROLES),
        words=_words(),
        **context,
    )


@router.get("/precursors/alerts")
def alerts(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    done = request.query_params.get("done")
    sent = {
        "follow_up": done,
        "id": request.query_params.get("sent", ""),
        "state": request.query_params.get("state", ""),
    }
    return _alerts_page(request, node, officer, sent=sent if done in _FOLLOW_UPS else None)


def _follow_up_draft(note: str, priority: str, classification: str) -> FollowUpDraft:
    if not classification:
        raise InvalidInput(_("choose the classification (this party's national marking) the follow-up carries"))
    try:
        return FollowUpDraft(note=note, priority=Priority(priority), classification=classification)
    except ValidationError as exc:
        raise InvalidInput(validation_text(exc)) from exc
    except ValueError as exc:
        raise InvalidInput(_("priority is one of {join}").format(join=", ".join(p.value for p in Priority))) from exc


@router.post("/precursors/notifications/{message_id}/{follow_up}", dependencies=[CsrfChecked])
def follow_up(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    message_id: str,
    follow_up: str,
    classification: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = Priority.URGENT.value,
    note: Annotated[str, Form()] = "",
) -> Response:
    """Send an alert or a reminder and go back to the list; a refusal shows on the list, with what was typed."""
    send = _FOLLOW_UPS.get(follow_up)
    if send is None:
        raise NotFound(_("a notification's follow-up is one of {join}").format(join=", ".join(_FOLLOW_UPS)))
    form = {"classification": classification, "priority": priority, "note": note}
    try:
        sent = send(node, officer, message_id, _follow_up_draft(note, priority, classification))
    except AccordError as problem:
        failed = form | {"id": message_id, "follow_up": follow_up}
        return _alerts_page(request, node, officer, problem.status, error=problem.detail, failed=failed)
    return redirect(f"/precursors/alerts?done={follow_up}&sent={sent['id']}&state={sent['state']}")


# ---- incidents


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(
            _("{name} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-03-31").format(name=name, value=value)
        ) from exc


def incident_filter(params: Mapping[str, str]) -> IncidentFilter:
    """The search form's fields as the service's filter; a field that cannot be read says how to write it."""
    kind = None
    if params["kind"]:
        try:
            kind = IncidentKind(params["kind"])
        except ValueError as exc:
            known = ", ".join(k.value for k in IncidentKind)
            raise InvalidInput(
                _("kind {kind!r} is not an incident kind; one of {known}").format(kind=params["kind"], known=known)
            ) from exc
    country = params["country"].upper() or None
    if country is not None and not _COUNTRY.match(country):
        raise InvalidInput(
            _("country {country!r} is not a two-letter ISO 3166 code, e.g. IN or CA").format(country=params["country"])
        )
    return IncidentFilter(
        q=params["q"] or None,
        kind=kind,
        substance=params["substance"] or None,
        country=country,
        since=_date(pgettext("incident search field", "since"), params["since"]) if params["since"] else None,
        until=_date(pgettext("incident search field", "until"), params["until"]) if params["until"] else None,
    )


def _months(first: date, last: date) -> list[str]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def timeline_chart(views: list[IncidentView]) -> str:
    """Incidents per month by kind, from the first month with one to the last."""
    if not views:
        return charts.incident_timeline_chart([], {}, _("Incidents per month"))
    dates = [v.incident.occurred_on for v in views]
    months = _months(min(dates), max(dates))
    counts = {kind.value: [0] * len(months) for kind in IncidentKind}
    for view in views:
        counts[view.incident.kind.value][months.index(f"{view.incident.occurred_on:%Y-%m}")] += 1
    shown = {kind: values for kind, values in counts.items() if any(values)}
    title = _("Incidents per month, {first} to {last}").format(first=months[0], last=months[-1])
    return charts.incident_timeline_chart(months, shown, title)


def _substances(view: IncidentView) -> str:
    amount = _("{substance} {quantity} kg")
    return "; ".join(amount.format(substance=s["name"], quantity=f"{s['quantity_kg']:g}") for s in view.substances)


def map_points(views: list[IncidentView]) -> list[dict[str, Any]]:
    """What the map script needs for a marker and its popup; the page embeds it as JSON, never as script."""
    kinds = _incident_kind_words()
    return [
        {
            "id": v.message["id"],
            "title": v.message["title"],
            "kind": v.incident.kind.value,
            "kind_label": kinds.get(v.incident.kind.value, v.incident.kind.value.replace("_", " ")),
            "occurred_on": v.incident.occurred_on.isoformat(),
            "place": f"{v.incident.place.name}, {v.incident.place.country}",
            "latitude": v.incident.place.latitude,
            "longitude": v.incident.place.longitude,
            "substances": _substances(v),
        }
        for v in views
    ]


@router.get("/precursors/incidents")
def incidents(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    params = {name: (request.query_params.get(name) or "").strip()[:200] for name in _SEARCH_FIELDS}
    error, views, following = None, [], None
    try:
        # A page of the most recently recorded; the map, the timeline and the table show that page in the order
        # its incidents happened.
        listed = incident_page(
            node,
            officer,
            incident_filter(params),
            after=page_position(node, INCIDENT_ORDER, request),
            limit=page_limit(request, INCIDENT_PAGE_SIZE),
        )
        views, following = listed.items, listed.next
    except InvalidInput as problem:
        error = problem.detail
    in_order = sorted(views, key=lambda v: (v.incident.occurred_on, v.message["created_at"]))
    return page(
        request,
        "precursors_incidents.html.j2",
        officer,
        422 if error else 200,
        incidents=in_order,
        pager=pager(request, node, INCIDENT_ORDER, following) if error is None else Pager(None, None),
        points=map_points(in_order),
        chart=timeline_chart(in_order),
        kinds=[k.value for k in IncidentKind],
        params=params,
        searched=any(params.values()),
        error=error,
        words=_words(),
    )
