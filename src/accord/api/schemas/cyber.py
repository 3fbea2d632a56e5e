"""Cyber threat information as the API answers it: what a share queued, the shares with the sightings that came back,
and a share's objects as STIX 2.1 or as a MISP event (those two are the standards' documents, not ours)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from accord.api.schemas import ApiModel
from accord.api.schemas.messages import MessageSummary
from accord.domain.handling import Tlp
from accord.domain.messages import DeliveryState


class SharedOut(ApiModel):
    id: str = Field(description="the share's message id")
    state: DeliveryState
    tlp: Tlp = Field(description="the handling the share crosses under")
    objects: int


class MispSharedOut(SharedOut):
    notes: list[str] = Field(description="what the conversion to STIX noted")


class Sighting(ApiModel):
    id: str | None
    count: int | None
    first_seen: str | None
    last_seen: str | None
    message_id: str = Field(description="the share it came back in")


class SharedIndicator(ApiModel):
    id: str
    name: str | None
    pattern: str | None
    sightings: list[Sighting] = Field(description="the partner's sightings of it (for indicators this side shared)")


class ShareView(MessageSummary):
    bundle_id: str
    tlp: Tlp
    types: dict[str, int] = Field(description="objects per STIX type")
    indicators: list[SharedIndicator]
    sightings_back: int


class ShareList(ApiModel):
    shares: list[ShareView] = Field(description="the newest first")


class StixBundle(BaseModel):
    """A STIX 2.1 bundle (OASIS STIX 2.1 §8): its objects are as they were shared."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: Literal["bundle"]
    id: str = Field(pattern=r"^bundle--")
    objects: list[dict[str, Any]]


class MispEvent(BaseModel):
    """A MISP event as MISP imports it (the MISP core format)."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    event: dict[str, Any] = Field(alias="Event")
