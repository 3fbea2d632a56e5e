"""Networks across the exchange: share a case's subgraph with the partner (an ordinary share, under this party's
policy), review the cross-references of the partner's entities against our holdings, and judge candidate pairs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from accord.domain.drafts import DisclosureContext, HandlingDraft
from accord.domain.messages import Priority, SubjectRole
from accord.domain.networks import MAX_SHARED_ENTITIES
from accord.exchange.sending import require_sender
from accord.focus.networks.judgements import Judgement, judge
from accord.focus.networks.sharing import share_entities
from accord.focus.networks.store import visible_case
from accord.focus.networks.xref import cross_reference, review_list
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import BODY_PROBLEMS, OFFICER_PROBLEMS, problems

router = APIRouter(prefix="/api/v1/networks", tags=["networks"])
CaseId = Annotated[str, Path(min_length=1, max_length=36, description="the network case's id")]
SHARE_PROBLEMS = (*BODY_PROBLEMS, 403, 404, 413)
READ_PROBLEMS = (*OFFICER_PROBLEMS, 403, 404)
KEY_PATTERN = r"^[^/]{1,36}/\S.*$"


class NetworkShareDraft(DisclosureContext):
    """What to share and the share's message fields, as for any share."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity_ids: tuple[str, ...] = Field(
        min_length=1, max_length=MAX_SHARED_ENTITIES, description="the things to share; relations among them follow"
    )
    recipient_agency: str = Field(min_length=1, max_length=32, json_schema_extra={"x-accord-vocabulary": "peer-agency"})
    recipient_officer: str | None = Field(default=None, max_length=128)
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1)
    handling: HandlingDraft
    legal_basis: str | None = Field(default=None, max_length=1000)
    priority: Priority = Priority.ROUTINE
    roles: dict[str, SubjectRole | None] = Field(
        default_factory=dict,
        description="per person entity id: suspect, accused, victim, witness or other; a person left out or null "
        "has no stated role (the death-penalty screen then cannot exclude prosecution)",
    )


class JudgementIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    left: str = Field(pattern=KEY_PATTERN, max_length=300, description="an entity key: case_id/entity_id")
    right: str = Field(pattern=KEY_PATTERN, max_length=300, description="the other entity's key")
    judgement: Judgement


@router.post("/cases/{case_id}/share", status_code=201, responses=problems(*SHARE_PROBLEMS))
def share(node: NodeDep, officer: OfficerDep, case_id: CaseId, draft: NetworkShareDraft) -> dict[str, Any]:
    """Share entities of the case (and the relations among them) with the partner: the policy pack decides as for
    any share; the answer is the message id, its delivery state and the policy decision."""
    require_sender(officer)
    shared = share_entities(
        node,
        officer,
        case_id,
        draft.entity_ids,
        recipient_agency=draft.recipient_agency,
        recipient_officer=draft.recipient_officer,
        title=draft.title,
        body=draft.body,
        handling=draft.handling,
        roles=draft.roles,
        context=DisclosureContext(
            purpose=draft.purpose, offence=draft.offence, grounds=draft.grounds, assurances=draft.assurances
        ),
        legal_basis=draft.legal_basis,
        priority=draft.priority,
    )
    return shared.as_json()


@router.get("/cases/{case_id}/cross-references", responses=problems(*READ_PROBLEMS))
def cross_references(
    node: NodeDep,
    officer: OfficerDep,
    case_id: CaseId,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """The candidate matches of the partner's entities in the case among our holdings, best first, with evidence
    and any judgement; candidates in cases you may not read are not shown."""
    return {"case_id": case_id, "candidates": review_list(node, officer, case_id, limit)}


@router.post("/cases/{case_id}/cross-references", responses=problems(*READ_PROBLEMS))
def recompute(node: NodeDep, officer: OfficerDep, case_id: CaseId) -> dict[str, Any]:
    """Match the partner's entities of the case against our holdings now, then answer the review list."""
    with node.engine.begin() as conn:
        visible_case(node, conn, officer, case_id)
        found = cross_reference(node, conn, case_id, None, datetime.now(UTC))
    return {"case_id": case_id, "found": found, "candidates": review_list(node, officer, case_id)}


@router.post("/judgements", status_code=201, responses=problems(*SHARE_PROBLEMS))
def post_judgement(node: NodeDep, officer: OfficerDep, body: JudgementIn) -> dict[str, Any]:
    """Judge a pair of entities the same, not the same, or unsure (logged); the latest judgement on a pair wins."""
    return judge(node, officer, body.left, body.right, body.judgement)
