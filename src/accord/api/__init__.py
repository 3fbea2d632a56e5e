"""The HTTP API (JSON, OAuth2 bearer tokens, RFC 9457 problems), the federation channel the peer calls, and TAXII."""

from __future__ import annotations

from fastapi import FastAPI

from accord.api import (
    assessments,
    audit,
    auth,
    cyber,
    directory,
    federation,
    forwarding,
    matching,
    messages,
    monitoring,
    network_entities,
    network_graph,
    network_sharing,
    notifications,
    offences,
    precursor_transfer,
    precursors,
    reviews,
    workplan,
)
from accord.api.taxii import install_taxii
from accord.http.openapi import document_api
from accord.node import Node
from accord.notifications import notification_rules
from accord.policy.offences import offence_taxonomy

ROUTERS = (
    directory.router,
    monitoring.router,
    auth.router,
    messages.router,
    offences.router,
    forwarding.router,
    reviews.router,
    assessments.router,
    workplan.router,
    precursors.router,
    precursor_transfer.router,
    cyber.router,
    network_entities.router,
    network_graph.router,
    network_sharing.router,
    matching.router,
    audit.router,
    notifications.router,
    federation.router,
)


def install(app: FastAPI, node: Node) -> None:
    """Add the API's routers, then TAXII (last: it answers errors under /taxii2/ as TAXII errors); the OpenAPI
    document describes the problems every route answers with and lists the agreement's focus areas and agencies."""
    for router in ROUTERS:
        app.include_router(router)
    install_taxii(app, node)
    agreement = node.agreement
    peer_agencies = [agency.code for agency in agreement.agencies if agency.party is node.party.other]
    offences = [offence.code for offence in offence_taxonomy().offences]
    document_api(
        app,
        {
            "focus-area": [area.code for area in agreement.focus_areas],
            "peer-agency": peer_agencies,
            "offence": offences,
            "optional-notification-rule": [rule.id for rule in notification_rules().rules if rule.optional],
        },
    )
