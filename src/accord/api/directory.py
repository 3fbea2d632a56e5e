"""The agreement, agencies of both parties, channel health (with the refusals counted and the accounts locked) and
the liveness probe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter
from sqlalchemy import select, text

from accord import __version__
from accord.api.schemas.directory import AgencyList, AgreementTerms, ChannelHealth, Health
from accord.directory.throttle import locked_accounts
from accord.domain.parties import Party
from accord.exchange.audit import require_operator
from accord.exchange.channels import channel_status
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import OFFICER_PROBLEMS, problems
from accord.trust.refusals import list_refusal_counts

router = APIRouter(tags=["directory"])


@router.get("/healthz")
def healthz(node: NodeDep) -> Health:
    with node.engine.connect() as conn:
        conn.execute(select(text("1")))
    return Health(status="ok", node=node.node_id, party=node.party, version=__version__)


@router.get("/api/v1/agreement", responses=problems(401))
def agreement(node: NodeDep, _officer: OfficerDep) -> AgreementTerms:
    return AgreementTerms.model_validate(node.agreement.model_dump(exclude={"agencies"}))


@router.get("/api/v1/agencies", responses=problems(*OFFICER_PROBLEMS))
def agencies(node: NodeDep, _officer: OfficerDep, party: Party | None = None) -> AgencyList:
    return AgencyList(agencies=[a for a in node.agreement.agencies if party is None or a.party is party])


REFUSALS_SHOWN_S = 24 * 3600


@router.get("/api/v1/channels", responses=problems(401, 403))
def channels(node: NodeDep, officer: OfficerDep) -> ChannelHealth:
    """The outbox and inbound channels; the refusals of unauthenticated requests counted in the last 24 hours (per
    window, way in, problem and source); the accounts that failed sign-ins locked."""
    require_operator(officer, "channel health")
    since = datetime.now(UTC) - timedelta(seconds=REFUSALS_SHOWN_S)
    refusals = [
        {
            "window_start": c.window_start,
            "endpoint": c.endpoint,
            "problem": c.problem,
            "source": c.source,
            "refusals": c.refusals,
            "first_at": c.first_at,
            "last_at": c.last_at,
        }
        for c in list_refusal_counts(node, since)
    ]
    locked = [{"username": a.username, "failures": a.failures, "locked_at": a.locked_at} for a in locked_accounts(node)]
    return ChannelHealth.model_validate(
        channel_status(node)
        | {
            "refusals": {"since": since, "window_s": node.settings.refusal_window_s, "counts": refusals},
            "locked_accounts": locked,
        }
    )
