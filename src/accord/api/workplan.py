"""The shared work plan, its indicators and the joint progress report: coordinators change, every officer reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.concurrency import run_in_threadpool

from accord.http.dependencies import NodeDep, OfficerDep
from accord.node import Node
from accord.reports.progress import build_report
from accord.reports.render import MEDIA_TYPES, ReportFormat, render, report_filename
from accord.workplan.indicators import exchange_table, measure
from accord.workplan.periods import Period, parse_period
from accord.workplan.plan import item_view, plan_view
from accord.workplan.proposals import (
    CommentDraft,
    DecisionDraft,
    ProposalDraft,
    accept,
    comment,
    list_proposals,
    propose,
    reject,
)

router = APIRouter(tags=["work plan"])
PeriodQuery = Annotated[str, Query(description="2026-Q4, 2026-11, 2026 or 2026-10-01..2026-12-31")]


@router.get("/api/v1/workplan")
def workplan(node: NodeDep, officer: OfficerDep) -> dict[str, Any]:
    with node.engine.connect() as conn:
        return plan_view(conn, node.agreement) | {"start": node.agreement.work_plan.start}


@router.get("/api/v1/workplan/items/{code}")
def workplan_item(node: NodeDep, officer: OfficerDep, code: str) -> dict[str, Any]:
    with node.engine.connect() as conn:
        return item_view(conn, code)


@router.post("/api/v1/workplan/items/{code}/comments", status_code=status.HTTP_201_CREATED)
def workplan_comment(node: NodeDep, officer: OfficerDep, code: str, draft: CommentDraft) -> dict[str, Any]:
    return comment(node, officer, code, draft)


@router.get("/api/v1/workplan/proposals")
def proposals(
    node: NodeDep, officer: OfficerDep, state: Annotated[str | None, Query(description="pending, accepted, …")] = None
) -> dict[str, Any]:
    return {"proposals": list_proposals(node, state)}


@router.post("/api/v1/workplan/proposals", status_code=status.HTTP_201_CREATED)
def new_proposal(node: NodeDep, officer: OfficerDep, draft: ProposalDraft) -> dict[str, Any]:
    return propose(node, officer, draft)


@router.post("/api/v1/workplan/proposals/{proposal_id}/accept")
def accept_proposal(
    node: NodeDep, officer: OfficerDep, proposal_id: str, draft: DecisionDraft | None = None
) -> dict[str, Any]:
    return accept(node, officer, proposal_id, draft or DecisionDraft())


@router.post("/api/v1/workplan/proposals/{proposal_id}/reject")
def reject_proposal(node: NodeDep, officer: OfficerDep, proposal_id: str, draft: DecisionDraft) -> dict[str, Any]:
    return reject(node, officer, proposal_id, draft)


@router.get("/api/v1/workplan/indicators")
def indicators(node: NodeDep, officer: OfficerDep, period: PeriodQuery) -> dict[str, Any]:
    chosen = parse_period(period)
    now = datetime.now(UTC)
    with node.engine.connect() as conn:
        exchange, values = measure(conn, node.registry, node.agreement, chosen, now)
    return {"period": chosen.label, "indicators": values, "exchange": exchange_table(exchange, node.agreement)}


@router.get(
    "/api/v1/reports/progress",
    responses={200: {"content": {"text/html": {}, "application/pdf": {}, "application/json": {}}}},
)
async def progress_report(
    node: NodeDep,
    officer: OfficerDep,
    period: PeriodQuery,
    format: Annotated[ReportFormat, Query(description="html, pdf or json")] = ReportFormat.HTML,
) -> Response:
    return await report_response(node, parse_period(period), format, "inline")


async def report_response(node: Node, period: Period, form: ReportFormat, disposition: str) -> Response:
    """The joint progress report as an HTTP response (the API shows it inline, the web UI downloads it)."""
    report = await run_in_threadpool(build_report, node, period, None, form is not ReportFormat.JSON)
    body = await run_in_threadpool(render, report, form)
    return Response(
        body,
        media_type=MEDIA_TYPES[form],
        headers={
            "Content-Disposition": f'{disposition}; filename="{report_filename(period.label, form)}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
