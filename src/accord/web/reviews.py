"""The legal review queue: the disclosures the policy held, and the reviewer's approve, refuse or escalate.

It calls the same services as the API's /api/v1/reviews, as the signed-in officer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from accord.errors import InvalidInput
from accord.exchange.review import ReviewDecision, decide, held_queue
from accord.http.dependencies import NodeDep
from accord.web._pages import page, redirect
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)


@router.get("/reviews")
def reviews(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    items = held_queue(node, officer)
    return page(request, "reviews.html.j2", officer, items=items, done=request.query_params.get("done"))


@router.post("/reviews/{message_id}", dependencies=[CsrfChecked])
def review_decision(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    message_id: str,
    action: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        decision = ReviewDecision(action=action, reason=reason)
    except ValidationError as exc:
        raise InvalidInput("a decision is approve, refuse or escalate, with a reason of at least 3 characters") from exc
    result = decide(node, officer, message_id, decision)
    return redirect(f"/reviews?done={result['action']}")
