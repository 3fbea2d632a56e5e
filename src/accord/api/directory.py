"""The agreement, agencies of both parties, channel health and the liveness probe."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select, text

from accord import __version__
from accord.domain.parties import Party
from accord.exchange.audit import require_operator
from accord.exchange.channels import channel_status
from accord.http.dependencies import NodeDep, OfficerDep

router = APIRouter(tags=["directory"])


@router.get("/healthz")
def healthz(node: NodeDep) -> dict[str, Any]:
    with node.engine.connect() as conn:
        conn.execute(select(text("1")))
    return {"status": "ok", "node": node.node_id, "party": node.party.value, "version": __version__}


@router.get("/api/v1/agreement")
def agreement(node: NodeDep, _officer: OfficerDep) -> dict[str, Any]:
    return node.agreement.model_dump(mode="json", exclude={"agencies"})


@router.get("/api/v1/agencies")
def agencies(node: NodeDep, _officer: OfficerDep, party: Party | None = None) -> dict[str, Any]:
    listed = [a for a in node.agreement.agencies if party is None or a.party is party]
    return {"agencies": [a.model_dump(mode="json") for a in listed]}


@router.get("/api/v1/channels")
def channels(node: NodeDep, officer: OfficerDep) -> dict[str, Any]:
    require_operator(officer, "channel health")
    return channel_status(node)
