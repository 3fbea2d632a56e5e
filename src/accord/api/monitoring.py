"""Monitoring: the Prometheus scrape (behind the scrape token or an operator's bearer token) and the readiness probe.
Both sit beside `/healthz` rather than under /api/v1: their formats are Prometheus's and the load balancers', and
`/metrics` is the path Prometheus scrapes unless told otherwise."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client.exposition import choose_encoder

from accord.api.schemas.monitoring import PeerStatus, ReadinessCheck, ReadinessReport
from accord.errors import AuthenticationFailed
from accord.exchange.audit import require_operator
from accord.http.dependencies import NodeDep, current_officer, oauth2_scheme
from accord.http.openapi import files, problems
from accord.i18n import _
from accord.logs import bind_caller
from accord.monitoring import Monitoring, assess_readiness

router = APIRouter(tags=["monitoring"])

SCRAPER = "metrics-scraper"
_EXPOSITION = {"text/plain": {"schema": {"type": "string", "description": "the Prometheus text exposition format"}}}


def monitoring(request: Request) -> Monitoring:
    found: Monitoring = request.app.state.monitoring
    return found


MonitoringDep = Annotated[Monitoring, Depends(monitoring)]


def authorise_scrape(node: NodeDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    """The scrape token (compared in constant time), else an operator's API token; refused otherwise."""
    if not token:
        raise AuthenticationFailed(
            _("the metrics need a bearer token: the node's scrape token (ACCORD_METRICS_TOKEN_FILE) or an operator's")
        )
    expected = node.settings.metrics_token()
    if expected is not None and hmac.compare_digest(token.encode(), expected.encode()):
        bind_caller(SCRAPER)
        return
    require_operator(current_officer(node, token), _("the node's metrics"))


@router.get(
    "/metrics",
    response_class=Response,
    responses=files("The node's figures in the Prometheus text format", _EXPOSITION) | problems(401, 403),
    dependencies=[Depends(authorise_scrape)],
)
def metrics(request: Request, watched: MonitoringDep) -> Response:
    encode, media_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(watched.registry), media_type=media_type)


@router.get(
    "/readyz",
    responses={503: {"model": ReadinessReport, "description": "Not ready: `failed` names the checks that failed"}},
)
def readyz(node: NodeDep, watched: MonitoringDep, response: Response) -> ReadinessReport:
    readiness = assess_readiness(node, watched.watch)
    report = ReadinessReport(
        status="ready" if readiness.ready else "not-ready",
        node=node.node_id,
        checks=[ReadinessCheck(name=r.check, ok=r.ok, detail=r.detail) for r in readiness.checks],
        failed=[r.check for r in readiness.checks if not r.ok],
        peers=[PeerStatus(node=p.node_id, reachable=p.reachable, since=p.since) for p in readiness.peers],
    )
    if not readiness.ready:
        response.status_code = 503
    return report
