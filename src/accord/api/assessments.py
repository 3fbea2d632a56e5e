"""Mistreatment-risk assessments: record one for persons of a case (legal officers, the deputy head), list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from accord.api.schemas.assessments import AssessmentList, RecordedAssessment, RedecidedHolds
from accord.domain.assessments import AssessmentDraft
from accord.exchange.assessments import list_assessments, record_assessment
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import BODY_PROBLEMS, problems

router = APIRouter(prefix="/api/v1/assessments", tags=["assessments"])


@router.post("", status_code=201, responses=problems(*BODY_PROBLEMS, 403, 404, 409))
def record(node: NodeDep, officer: OfficerDep, draft: AssessmentDraft) -> RecordedAssessment:
    recorded = record_assessment(node, officer, draft)
    return RecordedAssessment(
        assessment=recorded.assessment, redecided=RedecidedHolds.model_validate(recorded.redecided)
    )


@router.get("", responses=problems(401, 403, 422))
def listed(
    node: NodeDep,
    officer: OfficerDep,
    case_id: Annotated[str | None, Query(max_length=36, description="only this case's assessments")] = None,
) -> AssessmentList:
    return AssessmentList(assessments=list(list_assessments(node, officer, case_id)))
