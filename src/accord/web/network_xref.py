"""The cross-reference review of a network case: the partner's entities matched against our holdings, best first,
with the score and the evidence (what agreed, what differed), and same / not same / unsure buttons (htmx: the row
is re-rendered with the judgement; without JavaScript the form posts and the page reloads).

It calls the same services as the API's /api/v1/networks, as the signed-in officer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import escape

from accord.errors import AccordError, InvalidInput
from accord.focus.networks.judgements import Judgement, judge
from accord.focus.networks.xref import review_list
from accord.http.dependencies import NodeDep
from accord.i18n import _
from accord.web._pages import page, redirect
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)
CaseId = Annotated[str, Path(min_length=1, max_length=36)]


@router.get("/networks/{case_id}/cross-references")
def cross_references(request: Request, node: NodeDep, officer: WebOfficerDep, case_id: CaseId) -> HTMLResponse:
    candidates = review_list(node, officer, case_id)
    return page(request, "network_xref.html.j2", officer, case_id=case_id, candidates=candidates)


@router.post("/networks/{case_id}/cross-references/judge", dependencies=[CsrfChecked])
async def judge_pair(request: Request, node: NodeDep, officer: WebOfficerDep, case_id: CaseId) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        choice = values.get("judgement", "")
        if choice not in {j.value for j in Judgement}:
            raise InvalidInput(_("choose same, not same or unsure"))
        judge(node, officer, values.get("left", ""), values.get("right", ""), Judgement(choice))
    except AccordError as problem:
        if request.headers.get("hx-request"):
            return HTMLResponse(f'<p role="alert" class="error">{escape(problem.detail)}</p>', problem.status)
        raise
    if not request.headers.get("hx-request"):
        return redirect(f"/networks/{case_id}/cross-references")
    row = next(
        (
            c
            for c in review_list(node, officer, case_id)
            if (c["theirs"]["key"], c["ours"]["key"]) == (values.get("left"), values.get("right"))
        ),
        None,
    )
    if row is None:
        return HTMLResponse("")
    return page(request, "network_xref_row.html.j2", officer, case_id=case_id, c=row)
