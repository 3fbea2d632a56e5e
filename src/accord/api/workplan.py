"""The shared work plan, its indicators and the joint progress report: coordinators change, every officer reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.reports import Disposition, report_response
from accord.reports.render import ReportFormat
from accord.workplan.indicators import exchange_table
from accord.workplan.overview import read_indicators, read_item, read_plan
from accord.workplan.periods import parse_period
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
    return read_plan(node)


@router.get("/api/v1/workplan/items/{code}")
def workplan_item(node: NodeDep, officer: OfficerDep, code: str) -> dict[str, Any]:
    return read_item(node, code)


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
    exchange, values = read_indicators(node, chosen, datetime.now(UTC))
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
    return await report_response(node, parse_period(period), format, Disposition.INLINE)
