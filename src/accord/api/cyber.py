"""Cyber threat information for analysts: share a STIX 2.1 bundle with the other party's cyber centre, and list the
shares with the sightings that came back."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field

from accord.api.schemas.cyber import MispEvent, MispSharedOut, SharedOut, ShareList, StixBundle
from accord.domain.cyber import MAX_BUNDLE_OBJECTS
from accord.domain.handling import Tlp
from accord.domain.messages import Priority
from accord.exchange.sending import require_sender
from accord.focus.cyber.shares import list_shares, shared_bundle
from accord.focus.cyber.sharing import share_bundle, share_misp_event
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import BODY_PROBLEMS, OFFICER_PROBLEMS, problems

router = APIRouter(tags=["cyber"])
ShareId = Annotated[UUID, Path(description="the share's message id")]
SHARE_PROBLEMS = (*BODY_PROBLEMS, 403, 413)
READ_PROBLEMS = (*OFFICER_PROBLEMS, 403, 404)


class BundleIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    type: Literal["bundle"]
    id: str = Field(pattern=r"^bundle--")
    objects: tuple[dict[str, Any], ...] = Field(min_length=1, max_length=MAX_BUNDLE_OBJECTS)


class ShareDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bundle: BundleIn
    focus_area: Literal["cyber", "fraud"] = "cyber"
    named_recipients: tuple[str, ...] = Field(default=(), max_length=50, description="required for TLP:RED objects")
    note: str = Field(default="", max_length=4000)
    classification: str | None = Field(default=None, max_length=64, description="default: the agreement's")
    tlp: Tlp | None = Field(default=None, description="default: the strictest TLP of the objects")
    priority: Priority = Priority.ROUTINE


@router.post("/api/v1/cyber/shares", status_code=status.HTTP_201_CREATED, responses=problems(*SHARE_PROBLEMS))
def share(node: NodeDep, officer: OfficerDep, draft: ShareDraft) -> SharedOut:
    """Share a bundle: it crosses as a signed share, under this party's policy, marked with its strictest TLP."""
    require_sender(officer)
    shared = share_bundle(
        node,
        officer,
        draft.bundle.objects,
        draft.focus_area,
        named_recipients=draft.named_recipients,
        note=draft.note,
        classification=draft.classification,
        tlp=draft.tlp,
        priority=draft.priority,
    )
    return SharedOut.model_validate(shared.as_json())


class MispShareDraft(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event: dict[str, Any] = Field(description="a MISP event as MISP exports it ({'Event': {...}})")
    focus_area: Literal["cyber", "fraud"] = "cyber"
    named_recipients: tuple[str, ...] = Field(default=(), max_length=50, description="required for tlp:red events")
    note: str = Field(default="", max_length=4000)


@router.post("/api/v1/cyber/shares/misp", status_code=status.HTTP_201_CREATED, responses=problems(*SHARE_PROBLEMS))
def share_misp(node: NodeDep, officer: OfficerDep, draft: MispShareDraft) -> MispSharedOut:
    """Share a MISP event: converted to STIX 2.1 through misp-stix (its TLP tag becoming TLP 2.0 markings)."""
    require_sender(officer)
    shared, notes = share_misp_event(
        node, officer, draft.event, draft.focus_area, named_recipients=draft.named_recipients, note=draft.note
    )
    return MispSharedOut.model_validate(shared.as_json() | {"notes": list(notes)})


@router.get("/api/v1/cyber/shares", responses=problems(401))
def shares(node: NodeDep, officer: OfficerDep) -> ShareList:
    return ShareList.model_validate({"shares": [v.as_json() for v in list_shares(node, officer)]})


@router.get("/api/v1/cyber/shares/{message_id:uuid}/stix", responses=problems(*READ_PROBLEMS))
def share_stix(node: NodeDep, officer: OfficerDep, message_id: ShareId) -> StixBundle:
    """The share's objects as a STIX 2.1 bundle."""
    return StixBundle.model_validate(shared_bundle(node, officer, str(message_id)))


# 422 when misp-stix cannot convert the share's objects.
@router.get("/api/v1/cyber/shares/{message_id:uuid}/misp", responses=problems(*READ_PROBLEMS))
def share_as_misp_event(node: NodeDep, officer: OfficerDep, message_id: ShareId) -> MispEvent:
    """The share's objects as a MISP event, for import into MISP (TLP 2.0 markings become tlp: tags)."""
    from accord.focus.cyber.misp import bundle_to_misp  # misp-stix is imported when first needed

    return MispEvent.model_validate(bundle_to_misp(shared_bundle(node, officer, str(message_id))))
