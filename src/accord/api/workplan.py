"""The shared work plan, its indicators and the joint progress report: coordinators change, every officer reads."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import Field

from accord.api.schemas.reports import ProgressReport
from accord.api.schemas.workplan import (
    CommentView,
    Indicators,
    ItemView,
    ProposalList,
    ProposalState,
    ProposalView,
    WorkPlan,
)
from accord.domain.workplan import CODE_PATTERN
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import BODY_PROBLEMS, OFFICER_PROBLEMS, files, problems
from accord.http.parameters import matching
from accord.http.reports import Disposition, report_response
from accord.reports.render import ReportFormat, ReportLanguage, ReportLayout
from accord.workplan.indicators import exchange_table
from accord.workplan.overview import read_indicators, read_item, read_plan
from accord.workplan.periods import PERIOD_PATTERN, parse_period
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


class Rejection(DecisionDraft):
    """A rejection states its reason, for the other side and for the record."""

    reason: str = Field(min_length=1, max_length=2000, pattern=r"\S", description="why the proposal is rejected")


PERIOD_FORMS = "a quarter (2026-Q4), a month (2026-11), a year (2026) or a date range (2026-10-01..2026-12-31)"
PeriodQuery = Annotated[
    str,
    matching(re.compile(PERIOD_PATTERN), f"a period: {PERIOD_FORMS}"),
    Query(pattern=PERIOD_PATTERN, description=PERIOD_FORMS),
]
ItemCode = Annotated[str, Path(pattern=CODE_PATTERN, description="the item's code")]
ProposalId = Annotated[UUID, Path(description="the proposal's id")]
# Changing the plan: 403 without the coordinator role, or deciding one's own side's proposal; 404 for an unknown item
# or proposal; 409 when the item moved on, the proposal is decided, or the two sides' proposals cross.
CHANGE_PROBLEMS = (*BODY_PROBLEMS, 403, 404, 409)


@router.get("/api/v1/workplan", responses=problems(401))
def workplan(node: NodeDep, officer: OfficerDep) -> WorkPlan:
    return WorkPlan.model_validate(read_plan(node))


@router.get("/api/v1/workplan/items/{code}", responses=problems(*OFFICER_PROBLEMS, 404))
def workplan_item(node: NodeDep, officer: OfficerDep, code: ItemCode) -> ItemView:
    return ItemView.model_validate(read_item(node, code))


@router.post(
    "/api/v1/workplan/items/{code}/comments", status_code=status.HTTP_201_CREATED, responses=problems(*CHANGE_PROBLEMS)
)
def workplan_comment(node: NodeDep, officer: OfficerDep, code: ItemCode, draft: CommentDraft) -> CommentView:
    return CommentView.model_validate(comment(node, officer, code, draft))


@router.get("/api/v1/workplan/proposals", responses=problems(*OFFICER_PROBLEMS))
def proposals(node: NodeDep, officer: OfficerDep, state: ProposalState | None = None) -> ProposalList:
    return ProposalList.model_validate({"proposals": list_proposals(node, state)})


@router.post("/api/v1/workplan/proposals", status_code=status.HTTP_201_CREATED, responses=problems(*CHANGE_PROBLEMS))
def new_proposal(node: NodeDep, officer: OfficerDep, draft: ProposalDraft) -> ProposalView:
    return ProposalView.model_validate(propose(node, officer, draft))


@router.post("/api/v1/workplan/proposals/{proposal_id:uuid}/accept", responses=problems(*CHANGE_PROBLEMS))
def accept_proposal(
    node: NodeDep,
    officer: OfficerDep,
    proposal_id: ProposalId,
    draft: Annotated[DecisionDraft | None, Body(description="optional: why it is accepted")] = None,
) -> ProposalView:
    return ProposalView.model_validate(accept(node, officer, str(proposal_id), draft or DecisionDraft()))


@router.post("/api/v1/workplan/proposals/{proposal_id:uuid}/reject", responses=problems(*CHANGE_PROBLEMS))
def reject_proposal(node: NodeDep, officer: OfficerDep, proposal_id: ProposalId, draft: Rejection) -> ProposalView:
    return ProposalView.model_validate(reject(node, officer, str(proposal_id), draft))


@router.get("/api/v1/workplan/indicators", responses=problems(*OFFICER_PROBLEMS))
def indicators(node: NodeDep, officer: OfficerDep, period: PeriodQuery) -> Indicators:
    chosen = parse_period(period)
    exchange, values = read_indicators(node, chosen, datetime.now(UTC))
    return Indicators.model_validate(
        {"period": chosen.label, "indicators": values, "exchange": exchange_table(exchange, node.agreement)}
    )


_REPORT_FILES = {
    "text/html": {"schema": {"type": "string"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
}


@router.get(
    "/api/v1/reports/progress",
    response_class=Response,
    responses=files("the report, in the format asked for", _REPORT_FILES, ProgressReport) | problems(*OFFICER_PROBLEMS),
)
async def progress_report(
    node: NodeDep,
    officer: OfficerDep,
    period: PeriodQuery,
    format: Annotated[ReportFormat, Query(description="html, pdf or json")] = ReportFormat.HTML,
    language: Annotated[
        ReportLanguage | None,
        Query(
            description="the language the report is printed in: en, fr, hi, or en+fr for English and French together "
            "(in a URL, + is written %2B); by default the request's language (Accept-Language). The JSON form is the "
            "data: its few words (the title) are in the first language"
        ),
    ] = None,
    layout: Annotated[
        ReportLayout,
        Query(
            description="a bilingual report's layout: consecutive (the whole report in English, then in French) or "
            "side-by-side (two columns, section by section, English on the left)"
        ),
    ] = ReportLayout.CONSECUTIVE,
) -> Response:
    return await report_response(node, parse_period(period), format, Disposition.INLINE, language, layout)
