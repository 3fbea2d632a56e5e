"""Recording a mistreatment-risk assessment from the web UI: a form reachable from a held message (in the review
queue and on the message), listing the persons who still need one, the pack's factors to rate, the conclusion.

It calls the same service as the API's /api/v1/assessments, as the signed-in officer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from accord.directory.officers import Officer
from accord.domain.assessments import AssessedPerson, AssessmentDraft, FactorRating, RiskConclusion
from accord.domain.handling import Caveat
from accord.domain.messages import AssuranceKind
from accord.errors import AccordError, InvalidInput, validation_text
from accord.exchange.assessments import MessageAssessments, message_assessments, record_assessment
from accord.http.dependencies import NodeDep
from accord.i18n import _
from accord.web._pages import page, redirect
from accord.web.labels import LABELS
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)
TEMPLATE = "assessment.html.j2"


@router.get("/messages/{message_id}/assessment")
def assessment_form(request: Request, node: NodeDep, officer: WebOfficerDep, message_id: str) -> HTMLResponse:
    status = message_assessments(node, officer, message_id)
    return _form(request, officer, status, {"assessed_on": datetime.now(UTC).date().isoformat()})


@router.post("/messages/{message_id}/assessment", dependencies=[CsrfChecked])
async def assessment_record(request: Request, node: NodeDep, officer: WebOfficerDep, message_id: str) -> Response:
    status = await run_in_threadpool(message_assessments, node, officer, message_id)
    form = await request.form()
    values: dict[str, Any] = {k: form.getlist(k) if k in _LISTS else form.get(k) for k in form}
    try:
        draft = _draft(status, values)
        recorded = await run_in_threadpool(record_assessment, node, officer, draft)
    except AccordError as problem:
        return _form(request, officer, status, values, problem.detail, 422)
    again = recorded.redecided
    return redirect(
        f"/messages/{message_id}/assessment?recorded={recorded.assessment.id}"
        f"&released={again['allow']}&refused={again['deny']}"
    )


_LISTS = frozenset({"person", "caveat", "assurance"})


def _draft(status: MessageAssessments, values: dict[str, Any]) -> AssessmentDraft:
    """The assessment the form describes: the persons ticked (by their place in the message), each factor's rating
    and note, the conclusion, its basis and measures."""
    persons = []
    for ticked in values.get("person") or []:
        if not str(ticked).isdigit() or int(ticked) >= len(status.persons):
            raise InvalidInput(_("choose the persons the assessment covers from the list"))
        person = status.persons[int(ticked)]
        try:
            persons.append(AssessedPerson.of(person.subject))
        except ValidationError as exc:
            raise InvalidInput(
                _(
                    "{label} has no name, alias or identifier to record an assessment against; refuse the "
                    "disclosure or have it sent again with one"
                ).format(label=person.label)
            ) from exc
    if not persons:
        raise InvalidInput(_("choose at least one person the assessment covers"))
    factors = [
        {"factor": f.id, "rating": values.get(f"rating-{f.id}") or "", "note": values.get(f"note-{f.id}") or ""}
        for f in status.factors
        if values.get(f"rating-{f.id}")
    ]
    try:
        return AssessmentDraft.model_validate(
            {
                "case_id": status.message.case_id,
                "persons": [p.model_dump() for p in persons],
                "factors": factors,
                "conclusion": values.get("conclusion") or "",
                "rationale": values.get("rationale") or "",
                "assessed_on": values.get("assessed_on") or "",
                "mitigation": {
                    "caveats": values.get("caveat") or [],
                    "assurances": values.get("assurance") or [],
                    "measures": values.get("measures") or "",
                },
            }
        )
    except ValidationError as exc:
        raise InvalidInput(validation_text(exc)) from exc


def _form(
    request: Request,
    officer: Officer,
    status: MessageAssessments,
    values: dict[str, Any],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        TEMPLATE,
        officer,
        status_code,
        labels=LABELS,
        status=status,
        form=values,
        error=error,
        ratings=list(FactorRating),
        conclusions=list(RiskConclusion),
        caveats=list(Caveat),
        assurances=list(AssuranceKind),
        recorded=request.query_params.get("recorded"),
        released=request.query_params.get("released"),
        refused=request.query_params.get("refused"),
    )
