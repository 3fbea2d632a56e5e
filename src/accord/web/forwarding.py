"""Forwarding in the web UI: the Forward form of a received message (with what its caveats mean), the forwards an
officer's agency made, was given or is asked consent for, and the consent answer. The same services as the API's
/api/v1/messages/{id}/forward and /api/v1/forwards, as the signed-in officer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from accord.directory.officers import Officer
from accord.domain.forwarding import ConsentDecision, ForwardDraft, OnwardConsent
from accord.errors import AccordError, InvalidInput, validation_text
from accord.exchange.mailbox import open_message
from accord.forwarding.service import FORWARD_ORDER, answer_consent, forward_message, forward_page
from accord.forwarding.texts import caveat_texts
from accord.http.dependencies import NodeDep
from accord.i18n import _
from accord.node import Node
from accord.policy.installed import shown_decision
from accord.web._pages import page, page_limit, page_position, pager, redirect
from accord.web.labels import LABELS
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def _form_context(node: Node, officer: Officer, message_id: str) -> dict[str, Any]:
    message = open_message(node, officer, message_id)
    caveats = tuple(message["handling"].get("caveats") or ())
    return {
        "message": message,
        "caveat_words": caveat_texts().describe_in(caveats),
        "agencies": [a for a in node.agreement.agencies if a.party is node.party],
    }


@router.get("/messages/{message_id}/forward")
def forward_form(request: Request, node: NodeDep, officer: WebOfficerDep, message_id: str) -> HTMLResponse:
    return page(request, "forward.html.j2", officer, form={}, error=None, **_form_context(node, officer, message_id))


@router.post("/messages/{message_id}/forward", dependencies=[CsrfChecked])
async def forward(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    message_id: str,
    agency: Annotated[str, Form()] = "",
    to_officer: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    form = {"agency": agency, "to_officer": to_officer, "reason": reason}
    try:
        try:
            draft = ForwardDraft(agency=agency, officer=to_officer.strip() or None, reason=reason.strip())
        except ValidationError as exc:
            raise InvalidInput(
                _("the forward is not complete: {validation_text}").format(validation_text=validation_text(exc))
            ) from exc
        outcome = await run_in_threadpool(forward_message, node, officer, message_id, draft)
    except AccordError as problem:
        context = _form_context(node, officer, message_id)
        return page(request, "forward.html.j2", officer, 422, form=form, error=problem.detail, **context)
    return redirect(f"/forwards?done={outcome.forward_id}")


@router.get("/forwards")
def forwards_page(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    listed = forward_page(
        node,
        officer,
        after=page_position(node, FORWARD_ORDER, request),
        limit=page_limit(request, PAGE_SIZE),
    )
    asked = forward_page(node, officer, consent_asked=True, limit=PAGE_SIZE).items
    return page(
        request,
        "forwards.html.j2",
        officer,
        labels=LABELS,
        forwards=[_shown(node, f) for f in listed.items],
        pager=pager(request, node, FORWARD_ORDER, listed.next),
        done=request.query_params.get("done"),
        asked=asked,
    )


def _shown(node: Node, forward: dict[str, Any]) -> dict[str, Any]:
    """A forward as the page shows it: its decision's reasons and remedies in the officer's language."""
    if not forward["decision"]:
        return forward
    return forward | {"decision": shown_decision(forward["decision"], node.policy)}


@router.post("/forwards/{forward_id}/consent", dependencies=[CsrfChecked])
async def consent(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    forward_id: str,
    decision: Annotated[str, Form()] = "",
    conditions: Annotated[str, Form()] = "",
) -> Response:
    try:
        answer = OnwardConsent(decision=ConsentDecision(decision), conditions=conditions.strip() or None)
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(
            _("the answer grants or refuses the consent, with conditions of at most 2000 characters")
        ) from exc
    await run_in_threadpool(answer_consent, node, officer, forward_id, answer)
    return redirect(f"/forwards?done={forward_id}")
