"""Readiness as `/readyz` answers it: each check, and whether the peer answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from accord.api.schemas import ApiModel
from accord.monitoring.readiness import Check


class ReadinessCheck(ApiModel):
    name: Check
    ok: bool
    detail: str


class PeerStatus(ApiModel):
    node: str
    reachable: bool | None = Field(description="null until this node process has tried to deliver to the peer")
    since: datetime | None = Field(description="reachable (or not) continuously since then, as this process saw")


class ReadinessReport(ApiModel):
    status: Literal["ready", "not-ready"]
    node: str
    checks: list[ReadinessCheck]
    failed: list[Check] = Field(description="the checks that failed: the node is ready when none did")
    peers: list[PeerStatus] = Field(description="whether each peer answers: told, but no condition of readiness")
