"""Forwarding a received message inside one's own state, the originator's consent, the forwards listed; and the
operator publishing this node's roster of officers to the peer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response

from accord.api.schemas.forwarding import ConsentOutcome, ForwardList, ForwardOutcome, PublishedRoster
from accord.domain.forwarding import ForwardDraft, OnwardConsent
from accord.exchange.audit import require_operator
from accord.exchange.roster import publish_roster
from accord.forwarding.service import FORWARD_ORDER, answer_consent, forward_message, forward_page
from accord.http.cursors import DEFAULT_PAGE_SIZE, AfterCursor, PageSize, next_cursor, page_start
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import BODY_PROBLEMS, OFFICER_PROBLEMS, next_link_response, problems

router = APIRouter(prefix="/api/v1", tags=["forwarding"])

MessageId = Annotated[UUID, Path(description="the received message to forward")]
ForwardId = Annotated[UUID, Path(description="the forward, as both nodes name it")]


@router.post("/messages/{message_id:uuid}/forward", status_code=201, responses=problems(*BODY_PROBLEMS, 403, 404, 409))
def forward(node: NodeDep, officer: OfficerDep, message_id: MessageId, draft: ForwardDraft) -> ForwardOutcome:
    """Forward a message your agency received to another agency or officer of your own state: the pack decides by
    the originator's caveats (H0/H1 forwarded, caveat carried; H2 refused; H3 asks the originator's consent)."""
    outcome = forward_message(node, officer, str(message_id), draft)
    return ForwardOutcome.model_validate(outcome.as_json())


@router.post("/forwards/{forward_id:uuid}/consent", status_code=201, responses=problems(*BODY_PROBLEMS, 403, 404, 409))
def consent(node: NodeDep, officer: OfficerDep, forward_id: ForwardId, answer: OnwardConsent) -> ConsentOutcome:
    """Grant or refuse, for the agency that sent the message, a forward the peer asked consent for."""
    return ConsentOutcome.model_validate(answer_consent(node, officer, str(forward_id), answer))


@router.get("/forwards", responses=problems(*OFFICER_PROBLEMS) | next_link_response())
def forwards(
    request: Request,
    response: Response,
    node: NodeDep,
    officer: OfficerDep,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    after: AfterCursor = None,
) -> ForwardList:
    """The forwards the officer's agency made, was given, or is asked to consent to; the newest first."""
    page = forward_page(node, officer, after=page_start(node, FORWARD_ORDER, after), limit=limit)
    cursor = next_cursor(request, response, node, FORWARD_ORDER, page.next)
    return ForwardList.model_validate({"forwards": page.items, "next": cursor})


@router.post("/roster", status_code=201, responses=problems(401, 403, 404))
def roster(node: NodeDep, officer: OfficerDep) -> PublishedRoster:
    """Publish this node's officers per agency to the peer (an operator's act), so its officers can name ours as
    TLP:RED recipients and have the name checked when they compose."""
    require_operator(officer, "publishing the roster")
    published = publish_roster(node)
    return PublishedRoster(id=published.id, published_at=published.published_at, officers=len(published.officers))
