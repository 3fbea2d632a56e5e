"""Organised-crime network cases for analysts: open a case, add FollowTheMoney entities to it (all or none), read its
summary and its entities with their provenance, and export it for Gephi, yEd or i2. Reads follow need-to-know."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from accord.api.schemas import ApiModel
from accord.domain.handling import Caveat, CommonLevel, Tlp
from accord.focus.networks.cases import (
    CASE_ID_PATTERN,
    MAX_REQUEST_ENTITIES,
    add_case_entities,
    case_entity_list,
    case_summaries,
    case_summary,
    export_case,
    open_case,
)
from accord.focus.networks.exports import ExportFormat
from accord.focus.networks.store import CaseHandling
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import BODY_PROBLEMS, OFFICER_PROBLEMS, files, problems

router = APIRouter(prefix="/api/v1/networks", tags=["networks"])
CaseId = Annotated[str, Path(description="the network case's id", pattern=CASE_ID_PATTERN, max_length=36)]
READ_PROBLEMS = (*OFFICER_PROBLEMS, 403, 404)


# ------------------------------------------------------------------------------------------------ models


class CaseDraft(BaseModel):
    """A case to open: its title, and the handling every read of its entities is decided on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    case_id: str | None = Field(
        default=None, pattern=CASE_ID_PATTERN, max_length=36, description="default: a new UUIDv7"
    )
    level: CommonLevel = CommonLevel.CONFIDENTIAL
    tlp: Tlp = Tlp.AMBER
    caveats: tuple[Caveat, ...] = Field(default=(), max_length=4)


class FtmEntity(BaseModel):
    """A FollowTheMoney entity (followthemoney.tech): its id, its schema (Person, Company, Ownership…) and its
    properties, each a list of values."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str = Field(min_length=1, max_length=256)
    schema_: str = Field(alias="schema", min_length=1, max_length=64, examples=["Person"])
    properties: dict[str, list[str | float]] = Field(default_factory=dict, examples=[{"name": ["John Smith"]}])

    def raw(self) -> dict[str, Any]:
        return {"id": self.id, "schema": self.schema_, "properties": self.properties}


class CaseOut(ApiModel):
    case_id: str
    title: str
    owner_agency: str = Field(description="the agency that holds the case on this node")
    origin_party: str = Field(description="the party that opened it: this one, or the partner by a share")
    level: CommonLevel
    tlp: Tlp
    caveats: list[str]
    created_by: str
    created_at: str
    entities: int
    by_schema: dict[str, int] = Field(description="entities per FtM schema (in a case's summary only)")
    by_party: dict[str, int] = Field(description="entities each party contributed (in a case's summary only)")


class CaseList(ApiModel):
    cases: list[CaseOut] = Field(description="the cases the officer may read, the newest first")


class AddedOut(ApiModel):
    case_id: str
    new: list[str] = Field(description="ids of the entities the case did not hold")
    merged: list[str] = Field(description="ids of the entities held already, their new values merged in")


class Arrival(ApiModel):
    party: str
    message_id: str | None = Field(description="the share it came in; none for an import or an analyst's entry")
    source: str
    added_by: str
    added_at: str


class EntityOut(ApiModel):
    id: str
    schema_: str = Field(alias="schema")
    properties: dict[str, list[str]]
    provenance: list[Arrival] = Field(description="every arrival of the entity, the oldest first")


class EntityList(ApiModel):
    case_id: str
    entities: list[EntityOut]


# ------------------------------------------------------------------------------------------------ routes


@router.get("/cases", responses=problems(401))
def cases(node: NodeDep, officer: OfficerDep) -> CaseList:
    """The network cases the officer may read, with their entity counts."""
    return CaseList.model_validate({"cases": [s.as_json() for s in case_summaries(node, officer)]})


@router.post("/cases", status_code=status.HTTP_201_CREATED, responses=problems(*BODY_PROBLEMS, 403, 409))
def open_network_case(node: NodeDep, officer: OfficerDep, draft: CaseDraft) -> CaseOut:
    """Open a case held by the officer's agency; 403 if the officer could not read it under the handling asked."""
    handling = CaseHandling(draft.level, draft.tlp, tuple(c.value for c in draft.caveats))
    summary = open_case(node, officer, title=draft.title, handling=handling, case_id=draft.case_id)
    return CaseOut.model_validate(summary.as_json())


@router.get("/cases/{case_id}", responses=problems(*READ_PROBLEMS))
def case(node: NodeDep, officer: OfficerDep, case_id: CaseId) -> CaseOut:
    """The case, its entities counted by schema and by the party they came from."""
    return CaseOut.model_validate(case_summary(node, officer, case_id).as_json())


@router.post(
    "/cases/{case_id}/entities",
    status_code=status.HTTP_201_CREATED,
    responses=problems(*BODY_PROBLEMS, 403, 404),
)
def add_entities(
    node: NodeDep,
    officer: OfficerDep,
    case_id: CaseId,
    entities: Annotated[
        list[FtmEntity],
        Body(
            min_length=1,
            max_length=MAX_REQUEST_ENTITIES,
            description="FtM entities; relations name entities of this array or of the case",
        ),
    ],
) -> AddedOut:
    """Add entities to the case, all or none: if any cannot be taken (unknown schema or property, an invalid value,
    a relation naming an entity neither here nor in the case), the 422 problem lists each by position and reason
    and nothing is stored. An entity the case holds already gains the new values."""
    added = add_case_entities(node, officer, case_id, [e.raw() for e in entities])
    return AddedOut(case_id=case_id, new=added.new, merged=added.merged)


@router.get("/cases/{case_id}/entities", responses=problems(*READ_PROBLEMS))
def entities(node: NodeDep, officer: OfficerDep, case_id: CaseId) -> EntityList:
    """The case's entities as FtM JSON, each with its provenance."""
    return EntityList.model_validate({"case_id": case_id, "entities": case_entity_list(node, officer, case_id)})


_EXPORTS = files(
    "the case as FtM JSON lines, or its graph as GEXF 1.3 or GraphML",
    {form.media_type: {"schema": {"type": "string"}} for form in ExportFormat},
) | problems(*READ_PROBLEMS)


@router.get("/cases/{case_id}/export", response_class=Response, responses=_EXPORTS)
def export(
    node: NodeDep,
    officer: OfficerDep,
    case_id: CaseId,
    form: Annotated[ExportFormat, Query(alias="format", description="ftm, gexf or graphml")] = ExportFormat.FTM,
) -> Response:
    """The case for other tools: nodes labelled, with their schema and the parties they came from; edges labelled."""
    document = export_case(node, officer, case_id, form)
    return Response(
        document,
        media_type=form.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{case_id}.{form.suffix}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
