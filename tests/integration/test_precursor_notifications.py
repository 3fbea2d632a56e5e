"""A pre-export notification travels Canada → India between real nodes, is flagged, answered, closed and counted in
the work-plan report; bad notifications and bad answers are refused with a clear 4xx and nothing is stored."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from accord.store.tables import messages
from tests.integration.nodes import RunningNode, wait_for
from tests.integration.pages import assert_cursor_refused, every_page
from tests.integration.test_web_sessions import sign_in

DISPATCH = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()


@pytest.fixture(scope="module")
def shared_pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> tuple[RunningNode, RunningNode]:
    """A capability's rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair


def pen(**changes: Any) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "exporter": {
            "name": "Maple Fine Chemicals Inc.",
            "address": "12 Industrial Rd, Mississauga ON",
            "country": "CA",
            "licence": "HC-PCR-2026-0413",
        },
        "importer": {
            "name": "Deccan Pharma Intermediates Pvt Ltd",
            "address": "Plot 7, MIDC, Pune",
            "country": "IN",
            "licence": "CBN/NOC/2026/118",
        },
        "items": [{"substance": "ANPP", "quantity_kg": 40, "purity_percent": 99.2, "hs_code": "2933.39"}],
        "transport_mode": "sea",
        "carrier": "Example Line",
        "route": ["AE"],
        "port_of_exit": "Vancouver",
        "point_of_entry": "Nhava Sheva",
        "dispatch_date": DISPATCH,
        "export_permit": "HC-EXP-2026-8841",
    }
    notification.update(changes)
    return {
        "kind": "pen",
        "recipient_agency": "CBN",
        "focus_area": "drugs",
        "priority": "routine",
        "handling": {"classification": "Protected A", "tlp": "AMBER", "caveats": ["H0"]},
        "legal_basis": "1988 Convention Art. 12(10); Precursor Control Regulations s.32",
        "title": "PEN: ANPP to Deccan Pharma Intermediates",
        "body": "Pre-export notification for the shipment described.",
        "notification": notification,
    }


def answer(body: str, decision: dict[str, str] | None) -> dict[str, Any]:
    reply: dict[str, Any] = {"handling": {"classification": "Restricted"}, "title": body[:40], "body": body}
    return reply | ({"pen_answer": decision} if decision else {})


def stored(node: RunningNode) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())


def notification_of(node: RunningNode, username: str, message_id: str) -> dict[str, Any] | None:
    with node.client(username) as client:
        listed = client.get("/api/v1/precursors/notifications").json()["notifications"]
    return next((n for n in listed if n["id"] == message_id), None)


def test_a_notification_is_flagged_answered_and_reported(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, in_ = shared_pair
    with ca.client("ca.ocs") as ocs:
        sent = ocs.post("/api/v1/messages", json=pen())
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert message["kind"] == "pen" and message["deadline"] is not None
    # The deadline is 21 working days away: never a weekend, at least four weeks of calendar.
    deadline = datetime.fromisoformat(message["deadline"])
    assert deadline.weekday() < 5 and (deadline - datetime.now(UTC)).days >= 27

    arrived = wait_for(lambda: notification_of(in_, "in.cbn", message["id"]))
    assert arrived["status"] == "pending" and arrived["shipment"] == "waiting"
    rules = {f["rule"] for f in arrived["flags"]}
    assert {"hs-code-mismatch", "watch-list-transit", "new-importer"} <= rules
    assert arrived["notification"]["items"][0]["substance"] == "ANPP"

    reply = f"/api/v1/messages/{message['id']}/reply"
    with in_.client("in.ncb") as ncb:  # NCB is not the competent authority and never received it
        wrong = ncb.post(reply, json=answer("x", {"decision": "cleared"}))
    assert wrong.status_code in (403, 422)
    with in_.client("in.cbn") as cbn:
        no_answer = cbn.post(reply, json=answer("We are looking at it.", None))
        assert no_answer.status_code == 422 and "pen_answer" in no_answer.json()["detail"]
        grounds = "NOC CBN/NOC/2026/118 covers 4-piperidone only"
        objected = cbn.post(reply, json=answer("Objection.", {"decision": "objected", "grounds": grounds}))
        assert objected.status_code == 201, objected.text
        again = cbn.post(reply, json=answer("Cleared after all.", {"decision": "cleared"}))
        assert again.status_code == 409 and "closed" in again.json()["detail"]
        alert = cbn.post(
            f"/api/v1/precursors/notifications/{message['id']}/alert",
            json={"classification": "Restricted", "note": "Hold the container at Jebel Ali."},
        )
        assert alert.status_code == 201, alert.text

    closed = wait_for(lambda: (n := notification_of(ca, "ca.ocs", message["id"])) and n["status"] == "objected" and n)
    assert closed["shipment"] == "blocked"
    assert closed["answers"][0]["grounds"].startswith("NOC CBN/NOC/2026/118")

    with ca.client("ca.ocs") as ocs:
        report = ocs.get(
            "/api/v1/reports/progress", params={"period": datetime.now(UTC).strftime("%Y-%m"), "format": "json"}
        ).json()
    indicators = {i["code"]: i for i in report["indicators"]}
    assert indicators["pen-notifications"]["value"] >= 1 and indicators["pen-notifications"]["module"] == "precursors"
    assert indicators["pen-objections"]["value"] >= 1


def test_bad_notifications_are_refused_and_nothing_is_stored(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = shared_pair
    past = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    cases = {
        "unknown substance": pen(
            items=[{"substance": "table salt", "quantity_kg": 1, "purity_percent": 99, "hs_code": "2501.00"}]
        ),
        "impossible purity": pen(
            items=[{"substance": "4-AP", "quantity_kg": 1, "purity_percent": 140, "hs_code": "2933.39"}]
        ),
        "impossible quantity": pen(
            items=[{"substance": "4-AP", "quantity_kg": 0, "purity_percent": 90, "hs_code": "2933.39"}]
        ),
        "dispatch date past": pen(dispatch_date=past),
        "importer in the wrong country": pen(importer={"name": "X", "address": "Y", "country": "CA"}),
        "no notification": pen() | {"notification": None},
        "wrong authority": pen() | {"recipient_agency": "NCB"},
        "notification on a request": pen() | {"kind": "request"},
    }
    before = stored(ca)
    with ca.client("ca.ocs") as ocs:
        for name, body in cases.items():
            refused = ocs.post("/api/v1/messages", json=body)
            assert refused.status_code == 422, (name, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json"), name
    assert stored(ca) == before


def test_the_notifications_and_the_alerts_read_page_by_page(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = shared_pair
    with ca.client("ca.ocs") as ocs:
        assert ocs.post("/api/v1/messages", json=pen(carrier="Second Line")).status_code == 201
        everything = [n["id"] for n in ocs.get("/api/v1/precursors/notifications").json()["notifications"]]
        assert len(everything) >= 2
        pages = every_page(ocs, "/api/v1/precursors/notifications", "notifications", limit=1)
        assert [page[0] for page in pages] == everything
        first = ocs.get("/api/v1/precursors/notifications", params={"limit": 1}).json()["next"]
        assert_cursor_refused(ocs, "/api/v1/precursors/notifications", first)
    web, _ = sign_in(ca, "ca.ocs")
    with closing(web):
        shown = web.get("/precursors", params={"limit": 1})
        assert shown.text.count("data-notification=") == 1 and 'rel="next"' in shown.text
        assert web.get("/precursors/alerts", params={"limit": 1}).status_code == 200
        assert web.get("/precursors", params={"limit": 0}).status_code == 422
