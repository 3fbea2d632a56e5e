"""Every route the node serves, from its own OpenAPI document, against who may call it: no credentials or a forged
token get 401 on every officer route, a role that may not act gets 403, and a route nobody has classified fails."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from accord.exchange.transport import tls_context
from tests.integration.nodes import RunningNode, assessment, draft
from tests.integration.test_cyber_sharing import MISP, campaign_bundle
from tests.integration.test_precursor_notifications import pen

MESSAGE = "01a20000-0000-7000-8000-000000000000"
SHA = "0" * 64
# Who must be refused with 403: (method, path) -> usernames lacking the role the route needs. "public" routes are
# open without credentials (the peer's channel authenticates by signature instead); "any" routes need any officer.
ROUTES: dict[tuple[str, str], str | tuple[str, ...]] = {
    ("POST", "/api/v1/token"): "public",
    ("GET", "/api/v1/me"): "any",
    ("PUT", "/api/v1/me/language"): "any",
    ("PUT", "/api/v1/me/time-zone"): "any",
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): ("ca.rcmp", "ca.legal"),  # or the scrape token (tests/integration/test_monitoring.py)
    ("GET", "/api/v1/agreement"): "any",
    ("GET", "/api/v1/agencies"): "any",
    ("GET", "/api/v1/offences"): "any",
    ("GET", "/api/v1/offences/{code}"): "any",
    ("GET", "/api/v1/channels"): ("ca.rcmp", "ca.legal"),
    ("POST", "/api/v1/messages"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("POST", "/api/v1/messages/evaluate"): ("ca.operator", "ca.legal"),
    ("POST", "/api/v1/messages/batch"): ("ca.operator", "ca.legal"),
    ("GET", "/api/v1/messages"): "any",
    ("GET", "/api/v1/messages/counts"): "any",
    ("GET", "/api/v1/messages/{message_id}"): "any",
    ("POST", "/api/v1/messages/{message_id}/reply"): "any",
    ("POST", "/api/v1/messages/{message_id}/amendments"): "any",
    ("POST", "/api/v1/messages/{message_id}/forward"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("POST", "/api/v1/forwards/{forward_id}/consent"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("GET", "/api/v1/forwards"): "any",
    ("POST", "/api/v1/roster"): ("ca.rcmp", "ca.legal"),
    ("GET", "/api/v1/cases/{case_id}"): "any",
    ("GET", "/api/v1/messages/{message_id}/export"): "any",
    ("POST", "/api/v1/attachments"): "any",
    ("GET", "/api/v1/attachments/{sha256}"): "any",
    ("GET", "/api/v1/reviews"): ("ca.rcmp", "ca.operator"),
    ("POST", "/api/v1/reviews/{message_id}"): ("ca.rcmp", "ca.operator"),
    ("POST", "/api/v1/assessments"): ("ca.rcmp", "ca.operator", "ca.coord"),
    ("GET", "/api/v1/assessments"): ("ca.rcmp", "ca.operator"),
    ("POST", "/api/v1/reviews/{message_id}/preview"): ("ca.rcmp", "ca.operator"),
    ("POST", "/api/v1/reviews/{message_id}/revisions"): ("ca.operator", "ca.coord"),
    ("GET", "/api/v1/audit/status"): ("ca.rcmp", "ca.cbsa"),
    ("POST", "/api/v1/audit/checkpoints"): ("ca.rcmp", "ca.legal"),
    ("GET", "/api/v1/audit/alarms"): ("ca.rcmp", "ca.cbsa"),
    ("POST", "/api/v1/audit/alarms/{alarm_id}/acknowledgement"): ("ca.rcmp", "ca.legal"),
    ("GET", "/api/v1/audit/messages/{message_id}/proof"): ("ca.rcmp",),
    ("GET", "/api/v1/audit/events"): ("ca.rcmp", "ca.cbsa"),
    ("GET", "/api/v1/workplan"): "any",
    ("GET", "/api/v1/workplan/items/{code}"): "any",
    ("POST", "/api/v1/workplan/items/{code}/comments"): ("ca.rcmp", "ca.operator", "ca.legal"),
    ("GET", "/api/v1/workplan/proposals"): "any",
    ("POST", "/api/v1/workplan/proposals"): ("ca.rcmp", "ca.operator", "ca.legal"),
    ("POST", "/api/v1/workplan/proposals/{proposal_id}/accept"): ("ca.rcmp", "ca.operator"),
    ("POST", "/api/v1/workplan/proposals/{proposal_id}/reject"): ("ca.rcmp", "ca.operator"),
    ("GET", "/api/v1/workplan/indicators"): "any",
    ("GET", "/api/v1/reports/progress"): "any",
    ("GET", "/api/v1/substances"): "any",
    ("GET", "/api/v1/precursors/notifications"): "any",
    ("POST", "/api/v1/precursors/notifications/{message_id}/alert"): ("ca.operator", "ca.legal"),
    ("POST", "/api/v1/precursors/notifications/{message_id}/reminder"): ("ca.operator", "ca.legal"),
    ("GET", "/api/v1/precursors/incidents"): "any",
    ("POST", "/api/v1/precursors/import"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("GET", "/api/v1/precursors/notifications/export"): "any",
    ("GET", "/api/v1/precursors/incidents/export"): "any",
    ("POST", "/api/v1/cyber/shares"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("POST", "/api/v1/cyber/shares/misp"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("GET", "/api/v1/cyber/shares"): "any",
    ("GET", "/api/v1/cyber/shares/{message_id}/stix"): "any",
    ("GET", "/api/v1/cyber/shares/{message_id}/misp"): "any",
    # Network cases: reads answer to need-to-know (403 or 404 per case, in the networks modules); opening a case,
    # sharing and judging need an officer or analyst role, refused before any case is looked up.
    ("GET", "/api/v1/networks/cases"): "any",
    ("POST", "/api/v1/networks/cases"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("GET", "/api/v1/networks/cases/{case_id}"): "any",
    ("POST", "/api/v1/networks/cases/{case_id}/entities"): "any",
    ("GET", "/api/v1/networks/cases/{case_id}/entities"): "any",
    ("GET", "/api/v1/networks/cases/{case_id}/export"): "any",
    ("GET", "/api/v1/networks/cases/{case_id}/graph"): "any",
    ("GET", "/api/v1/networks/cases/{case_id}/path"): "any",
    ("GET", "/api/v1/networks/cases/{case_id}/analysis"): "any",
    ("POST", "/api/v1/networks/cases/{case_id}/share"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("GET", "/api/v1/networks/cases/{case_id}/cross-references"): "any",
    ("POST", "/api/v1/networks/cases/{case_id}/cross-references"): "any",
    ("POST", "/api/v1/networks/judgements"): ("ca.operator", "ca.legal", "ca.deputy"),
    # Matching: an agency's holdings and its queries are its officers' and analysts' work; reading one's own
    # queries and the partner's follow-ups to answer is any officer's (each sees its agency's only).
    ("POST", "/api/v1/matching/holdings/import"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("GET", "/api/v1/matching/holdings"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("GET", "/api/v1/matching/holdings/duplicates"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("POST", "/api/v1/matching/queries"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("POST", "/api/v1/matching/queries/batch"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("GET", "/api/v1/matching/queries"): "any",
    ("GET", "/api/v1/matching/queries/{query_id}"): "any",
    ("POST", "/api/v1/matching/queries/{query_id}/records/{row}/request"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("GET", "/api/v1/matching/followups"): "any",
    ("POST", "/api/v1/matching/followups/{message_id}/release"): ("ca.operator", "ca.legal", "ca.deputy"),
    ("GET", "/api/v1/matching/volumes"): "any",
    ("GET", "/api/v1/me/notifications"): "any",
    ("PUT", "/api/v1/me/notifications"): "any",
    ("GET", "/api/v1/notifications"): "any",
    ("POST", "/api/v1/notifications/{notification_id}/read"): "any",
    ("POST", "/api/v1/notifications/read"): "any",
    ("POST", "/federation/v1/envelopes"): "public",
    ("POST", "/federation/v1/blobs"): "public",
    ("POST", "/federation/v1/hello"): "public",
    ("POST", "/federation/v1/checkpoints"): "public",
    ("POST", "/federation/v1/ledger/inclusion"): "public",
    ("POST", "/federation/v1/recovery"): "public",
    ("POST", "/federation/v1/key-rotations"): "public",
    ("GET", "/federation/v1/descriptor"): "public",
}
# Valid bodies, so that what is refused is the caller, not the request.
BODIES: dict[str, Any] = {
    "/api/v1/reviews/{message_id}": {"action": "refuse", "reason": "not for me"},
    "/api/v1/assessments": assessment(MESSAGE, [{"name": "R. Example"}]),
    "/api/v1/reviews/{message_id}/preview": {"add_caveats": ["H1"]},
    "/api/v1/reviews/{message_id}/revisions": {"reason": "not mine", "conditions": {"add_caveats": ["H1"]}},
    "/api/v1/audit/alarms/{alarm_id}/acknowledgement": {"note": "seen"},
    "/api/v1/messages": draft(),
    "/api/v1/messages/evaluate": draft(),
    "/api/v1/messages/batch": {"messages": [draft()]},
    "/api/v1/workplan/items/{code}/comments": {"body": "Progress looks good."},
    "/api/v1/workplan/proposals": {
        "item": "sharing-channel-live",
        "base_version": 1,
        "changes": {"status": "in_progress"},
        "reason": "channel is live",
    },
    "/api/v1/workplan/proposals/{proposal_id}/reject": {"reason": "not agreed"},
    "/api/v1/precursors/notifications/{message_id}/alert": {"classification": "Protected B"},
    "/api/v1/precursors/notifications/{message_id}/reminder": {"classification": "Protected B"},
    "/api/v1/precursors/import": [pen()],
    "/api/v1/cyber/shares": {"bundle": campaign_bundle()},
    "/api/v1/messages/{message_id}/forward": {"agency": "CBSA", "reason": "CBSA holds the linked seizure"},
    "/api/v1/forwards/{forward_id}/consent": {"decision": "granted"},
    "/api/v1/cyber/shares/misp": {"event": json.loads((MISP / "cert-in-phishing-banks.json").read_text())},
    "/api/v1/networks/cases": {"title": "Coast Range precursor imports"},
    "/api/v1/networks/cases/{case_id}/entities": [{"id": "c-1", "schema": "Company", "properties": {"name": ["X"]}}],
    "/api/v1/networks/cases/{case_id}/share": {
        "entity_ids": ["c-1"],
        "recipient_agency": "NCB",
        "title": "A company of the network",
        "body": "The importer of the shipments.",
        "handling": {"classification": "Protected B", "tlp": "AMBER"},
    },
    "/api/v1/networks/judgements": {"left": f"{MESSAGE}/a", "right": f"{MESSAGE}/b", "judgement": "same"},
    "/api/v1/matching/holdings/import": [{"id": "P-1", "name": "Gurpreet Kaur Sandhu"}],
    "/api/v1/matching/queries": {
        "queried_agency": "BOI",
        "focus_area": "immigration",
        "records": [{"id": "A-1", "name": "Gurpreet Kaur Sandhu"}],
    },
    "/api/v1/matching/queries/batch": [{"id": "A-1", "name": "Gurpreet Kaur Sandhu"}],
    "/api/v1/matching/queries/{query_id}/records/{row}/request": {
        "legal_basis": "IRPA s.8",
        "body": "The record, please.",
        "handling": {"classification": "Protected B"},
    },
    "/api/v1/matching/followups/{message_id}/release": {
        "legal_basis": "IRPA s.8",
        "body": "The record.",
        "handling": {"classification": "Protected B"},
    },
}
QUERIES = {
    "/api/v1/substances": {"q": "4-AP"},
    "/api/v1/workplan/indicators": {"period": "2026-Q4"},
    "/api/v1/reports/progress": {"period": "2026-Q4"},
    "/api/v1/precursors/import": {"kind": "notifications"},
    "/api/v1/matching/holdings/import": {"type": "person", "source": "watch list", "retain_until": "2030-01-01"},
    "/api/v1/matching/queries/batch": {"queried_agency": "BOI", "focus_area": "immigration"},
}


def concrete(path: str) -> str:
    path = re.sub(r"\{(message_id|case_id|proposal_id|forward_id|query_id|notification_id)\}", MESSAGE, path).replace(
        "{sha256}", SHA
    )
    path = path.replace("{row}", "1")
    return path.replace("{code}", "sharing-channel-live").replace("{alarm_id}", "1")


def call(node: RunningNode, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = BODIES.get(path, {})
    return httpx.request(
        method,
        node.url + concrete(path),
        headers=headers,
        json=body,
        params=QUERIES.get(path),
        timeout=30.0,
        verify=tls_context(),
    )


def served_routes(node: RunningNode) -> set[tuple[str, str]]:
    spec = httpx.get(node.url + "/openapi.json", timeout=10.0).json()
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item}


@pytest.fixture(scope="module")
def canada(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> RunningNode:
    """Every request here is refused and changes nothing, so the tests share one pair. Who may call what is decided
    before any store is read: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair[0]


def test_every_served_route_is_classified(canada: RunningNode) -> None:
    served = served_routes(canada)
    assert served - set(ROUTES) == set(), "classify every new route in ROUTES"
    assert set(ROUTES) - served == set(), "ROUTES names a route the node no longer serves"


def test_every_officer_route_refuses_missing_or_forged_credentials_with_401(canada: RunningNode) -> None:
    for (method, path), who in ROUTES.items():
        if who == "public":
            continue
        for token in (None, "forged-token-0123456789"):
            response = call(canada, method, path, token)
            assert response.status_code == 401, (method, path, token, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.headers.get("www-authenticate") == "Bearer"


def test_every_role_gated_route_refuses_an_officer_without_the_role_with_403(canada: RunningNode) -> None:
    tokens: dict[str, str] = {}
    for (method, path), who in ROUTES.items():
        if isinstance(who, str):
            continue
        for username in who:
            token = tokens.setdefault(username, canada.token(username))
            response = call(canada, method, path, token)
            assert response.status_code == 403, (method, path, username, response.text)
            assert response.json()["type"].startswith("urn:accord:problem:")
