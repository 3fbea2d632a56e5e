"""Cyber threat information as it crosses between the nodes: a STIX 2.1 bundle inside an Accord share."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_BUNDLE_OBJECTS = 10_000


class SharedBundle(BaseModel):
    """The STIX objects of one share, with the bundle id they were posted or assembled under."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^bundle--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    objects: tuple[dict[str, Any], ...] = Field(min_length=1, max_length=MAX_BUNDLE_OBJECTS)
