"""The work plan screen: the plan with its actions and their statuses, the quarter's indicators and chart, the
proposals waiting (coordinators accept or reject them), status-change proposals, and the joint progress report.

It calls the same services as the API's /api/v1/workplan, as the signed-in officer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from accord.domain.official import in_language
from accord.domain.parties import Party
from accord.domain.workplan import ALLOWED_TRANSITIONS, ActionStatus
from accord.errors import InvalidInput
from accord.http.dependencies import NodeDep
from accord.http.reports import Disposition, report_response
from accord.i18n import LANGUAGE_NAMES, N_, _, current_language
from accord.node import Node
from accord.reports import charts
from accord.reports.forms import format_day, format_indicator
from accord.reports.labels import status_label
from accord.reports.render import ReportFormat, ReportLanguage, ReportLayout, choose_language, choose_layout
from accord.web._pages import page, redirect
from accord.web.security import CsrfChecked, WebOfficerDep
from accord.workplan.indicators import requests_per_area
from accord.workplan.overview import plan_overview
from accord.workplan.periods import Period, parse_period
from accord.workplan.proposals import DecisionDraft, ProposalDraft, accept, list_proposals, propose, reject

router = APIRouter(include_in_schema=False)
_STATUS_ORDER = [ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED, ActionStatus.DONE, ActionStatus.CANCELLED]
# What the screen says after a form (?done=…), by what was done.
_DONE = {
    "proposed": N_("Proposal proposed. A change takes effect on both sides when the other side accepts it."),
    "accepted": N_("Proposal accepted. A change takes effect on both sides when the other side accepts it."),
    "rejected": N_("Proposal rejected. A change takes effect on both sides when the other side accepts it."),
}


def current_quarter() -> Period:
    now = datetime.now(UTC)
    return parse_period(f"{now.year}-Q{(now.month - 1) // 3 + 1}")


def recent_quarters(count: int = 8) -> list[str]:
    """The current quarter and the ones before it, newest first: the periods the screen prints a report for."""
    now = datetime.now(UTC)
    index = now.year * 4 + (now.month - 1) // 3
    return [f"{i // 4}-Q{i % 4 + 1}" for i in range(index, index - count, -1)]


def report_languages() -> list[tuple[str, str]]:
    """The report's languages for the screen's select, each by its own name, and English with French together."""
    single = [(ReportLanguage.of(language).value, name) for language, name in LANGUAGE_NAMES.items()]
    return [*single, (ReportLanguage.EN_FR.value, "English + français")]


def report_layouts() -> list[tuple[str, str]]:
    return [
        (ReportLayout.CONSECUTIVE.value, _("English, then French")),
        (ReportLayout.SIDE_BY_SIDE.value, _("Side by side")),
    ]


def _agency_names(node: Node) -> Callable[[str, str], str]:
    """An agency as the language of the page abbreviates it (GRC for the RCMP in French); its code otherwise."""
    parties = {party.value: party for party in Party}

    def agency(party: str, code: str) -> str:
        found = node.agreement.agency(parties[party], code) if party in parties else None
        return found.short_name_in() if found else code

    return agency


def _text(value: str) -> str:
    """Text marked where it is defined (an indicator's title) or taken from the data files (the default plan's
    titles), as the catalogue translates it; as written where it lacks it (an item an officer has retitled)."""
    return in_language(value) if value else value


@router.get("/workplan")
def workplan(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    period = current_quarter()
    now = datetime.now(UTC)
    overview = plan_overview(node, period, now)
    chart = charts.overview_chart(
        requests_per_area(overview.exchange, node.agreement),
        [p.value for p in node.agreement.parties],
        _("Requests per focus area, {period}").format(period=period.label),
    )
    areas = [(None, _("Cross-cutting"))] + [(a.code, a.name_in()) for a in node.agreement.focus_areas]
    pending = list_proposals(node, "pending")
    return page(
        request,
        "workplan.html.j2",
        officer,
        plan=overview.plan,
        areas=areas,
        chart=chart,
        period=period,
        pending=pending,
        today=now.date().isoformat(),
        transitions={s.value: [t.value for t in _STATUS_ORDER if t in ALLOWED_TRANSITIONS[s]] for s in ActionStatus},
        done=_(_DONE[done]) if (done := request.query_params.get("done", "")) in _DONE else None,
        cards=[
            {"value": format_indicator(i["value"], i["unit"]), "title": _text(i["title"])} for i in overview.indicators
        ],
        day=format_day,
        text=_text,
        agency=_agency_names(node),
        status_label=status_label,
        report_periods=recent_quarters(),
        report_languages=report_languages(),
        report_language=ReportLanguage.of(current_language()).value,
        report_layouts=report_layouts(),
    )


@router.post("/workplan/propose", dependencies=[CsrfChecked])
def workplan_propose(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    item: Annotated[str, Form()],
    base_version: Annotated[int, Form()],
    status: Annotated[str, Form()],
    reason: Annotated[str, Form()],
) -> Response:
    try:
        draft = ProposalDraft(item=item, base_version=base_version, changes={"status": status}, reason=reason)
    except ValidationError as exc:
        raise InvalidInput(_("a proposal needs the new status and a reason")) from exc
    propose(node, officer, draft)
    return redirect("/workplan?done=proposed")


@router.post("/workplan/proposals/{proposal_id}/{verdict}", dependencies=[CsrfChecked])
def workplan_decide(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    proposal_id: str,
    verdict: str,
    reason: Annotated[str, Form()] = "",
) -> Response:
    if verdict == "accept":
        accept(node, officer, proposal_id, DecisionDraft(reason=reason))
    elif verdict == "reject":
        reject(node, officer, proposal_id, DecisionDraft(reason=reason))
    else:
        raise InvalidInput(_("a proposal is accepted or rejected"))
    return redirect(f"/workplan?done={verdict}ed")


@router.get("/workplan/report")
async def workplan_report(
    node: NodeDep,
    officer: WebOfficerDep,
    period: str = "",
    format: str = "pdf",
    language: str = "",
    layout: str = "",
) -> Response:
    """The report as a download, in the officer's language unless the screen's select chose another."""
    chosen = parse_period(period) if period else current_quarter()
    try:
        wanted = ReportFormat(format)
    except ValueError as exc:
        raise InvalidInput(_("the report comes as html, pdf or json")) from exc
    return await report_response(
        node, chosen, wanted, Disposition.ATTACHMENT, choose_language(language), choose_layout(layout)
    )
