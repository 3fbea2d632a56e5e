"""Precursor incidents travel Canada → India under the sender's policy, are searchable on both sides and counted by
substance and month; silence past a notification's deadline escalates and a reminder goes out; the importing side's
own record of a shipment is compared with the notification. Bad incidents are refused and nothing is stored."""

from __future__ import annotations

import html
import json
import re
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from accord.store.tables import messages
from tests.integration.nodes import RunningNode, wait_for
from tests.integration.pages import assert_cursor_refused, every_page
from tests.integration.test_precursor_notifications import answer, notification_of, pen, stored
from tests.integration.test_web_sessions import sign_in

TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def shared_pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> tuple[RunningNode, RunningNode]:
    """A capability's rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair


def incident(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "seizure",
        "occurred_on": (TODAY - timedelta(days=2)).isoformat(),
        "detected_on": (TODAY - timedelta(days=1)).isoformat(),
        "place": {
            "name": "Port of Vancouver, Centerm terminal",
            "country": "CA",
            "latitude": 49.29,
            "longitude": -123.09,
        },
        "items": [{"substance": "N-phenethyl-4-piperidone", "quantity_kg": 250, "purity_percent": 98}],
        "modus_operandi": "Declared as 'industrial adhesive' under HS 3506.91; drums with false bottoms.",
        "concealment": "false-bottom drums",
        "route": ["HK", "CA"],
        "companies": [{"name": "Lotus Adhesive Trading Ltd", "country": "HK", "role": "consignor"}],
    }
    body.update(changes)
    return {
        "kind": "incident",
        "recipient_agency": "NCB",
        "focus_area": "drugs",
        "priority": "urgent",
        "handling": {"classification": "Protected A", "tlp": "AMBER"},
        "legal_basis": "1988 Convention Art. 12; Canada–India arrangement",
        "title": "Seizure of NPP at Vancouver",
        "body": "250 kg NPP seized; consignee in India named on the bill of lading.",
        "incident": body,
    }


def incidents_of(node: RunningNode, username: str, **params: str) -> list[dict[str, Any]]:
    with node.client(username) as client:
        listed = client.get("/api/v1/precursors/incidents", params=params)
    assert listed.status_code == 200, listed.text
    return list(listed.json()["incidents"])


def test_an_incident_travels_is_searchable_and_counted(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, in_ = shared_pair
    with ca.client("ca.cbsa") as cbsa:
        sent = cbsa.post("/api/v1/messages", json=incident())
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["id"]
    assert sent.json()["delivery"]["state"] in {"queued", "sent", "delivered"} and sent.json()["deadline"] is None

    arrived = wait_for(lambda: [i for i in incidents_of(in_, "in.ncb") if i["id"] == message_id])[0]
    assert arrived["incident"]["place"]["latitude"] == 49.29
    assert arrived["substances"] == [{"code": "npp", "name": "N-phenethyl-4-piperidone", "quantity_kg": 250.0}]

    found = {
        "free text (a company)": {"q": "lotus adhesive"},
        "free text (modus operandi)": {"q": "FALSE BOTTOMS"},
        "substance by synonym": {"substance": "NPP"},
        "kind": {"kind": "seizure"},
        "country": {"country": "CA"},
        "dates": {"since": (TODAY - timedelta(days=3)).isoformat(), "until": TODAY.isoformat()},
    }
    for name, params in found.items():
        assert message_id in {i["id"] for i in incidents_of(in_, "in.ncb", **params)}, name
    missed = {
        "free text": {"q": "cocaine"},
        "substance": {"substance": "ANPP"},
        "kind": {"kind": "diversion"},
        "country": {"country": "IN"},
        "dates": {"until": (TODAY - timedelta(days=10)).isoformat()},
    }
    for name, params in missed.items():
        assert message_id not in {i["id"] for i in incidents_of(in_, "in.ncb", **params)}, name
    with in_.client("in.ncb") as ncb:
        for params in ({"since": "2026-12-01", "until": "2026-11-01"}, {"substance": "table salt"}, {"country": "in"}):
            bad = ncb.get("/api/v1/precursors/incidents", params=params)
            assert bad.status_code == 422, (params, bad.text)

    with ca.client("ca.cbsa") as cbsa:
        report = cbsa.get("/api/v1/reports/progress", params={"period": f"{TODAY:%Y}", "format": "json"}).json()
    counted = {i["code"]: i for i in report["indicators"]}["precursor-incidents"]
    assert counted["value"] >= 1
    rows = {r["label"]: r["values"] for r in counted["breakdown"]["rows"]}
    month = counted["breakdown"]["columns"].index(f"{TODAY - timedelta(days=2):%Y-%m}")
    assert rows["N-phenethyl-4-piperidone"][month] >= 1


def test_persons_in_an_incident_go_through_the_policy_pack(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = shared_pair
    suspect = {"kind": "person", "name": "R. Example", "role": "suspect", "date_of_birth": "1980-02-03"}
    draft = incident() | {
        "subjects": [suspect],
        "offence": "06012",
        "body": "The driver is a repeat offender, convicted in 2019 of trafficking.",
    }
    with ca.client("ca.cbsa") as cbsa:
        checked = cbsa.post("/api/v1/messages/evaluate", json=draft)
    assert checked.status_code == 200, checked.text
    decision = checked.json()
    assert decision["verdict"] == "review"
    assert "ca-death-penalty-assurance" in {p["id"] for p in decision["policies"]}


def test_bad_incidents_are_refused_and_nothing_is_stored(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = shared_pair
    cases = {
        "in the future": incident(occurred_on=(TODAY + timedelta(days=2)).isoformat(), detected_on=None),
        "detected before it happened": incident(detected_on=(TODAY - timedelta(days=5)).isoformat()),
        "unknown substance": incident(items=[{"substance": "baking soda", "quantity_kg": 1}]),
        "impossible quantity": incident(items=[{"substance": "NPP", "quantity_kg": -4}]),
        "impossible purity": incident(items=[{"substance": "NPP", "quantity_kg": 4, "purity_percent": 101}]),
        "no place on earth": incident(place={"name": "X", "country": "CA", "latitude": 95, "longitude": 0}),
        "route not in codes": incident(route=["Hong Kong"]),
        "unknown notification": incident(notification_id="01a20000-0000-7000-8000-000000000000"),
        "outside drugs": incident() | {"focus_area": "networks", "recipient_agency": "CBI"},
        "no incident": incident() | {"incident": None},
        "incident on a share": incident() | {"kind": "share"},
    }
    before = stored(ca)
    with ca.client("ca.cbsa") as cbsa:
        for name, body in cases.items():
            refused = cbsa.post("/api/v1/messages", json=body)
            assert refused.status_code == 422, (name, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json"), name
    assert stored(ca) == before


def _move_deadline(node: RunningNode, message_id: str, days_ago: int) -> None:
    """Time passes: the notification's deadline is put in the past, as it will be three weeks later."""
    with node.engine.begin() as conn:
        conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(deadline=datetime.now(UTC) - timedelta(days=days_ago))
        )


def test_silence_past_the_deadline_escalates_and_a_reminder_goes_out(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    with ca.client("ca.ocs") as ocs:
        sent = ocs.post("/api/v1/messages", json=pen()).json()
        early = ocs.post(
            f"/api/v1/precursors/notifications/{sent['id']}/reminder", json={"classification": "Protected A"}
        )
    assert early.status_code == 422 and "not overdue" in early.json()["detail"]
    assert notification_of(ca, "ca.ocs", sent["id"])["escalation"] is None  # type: ignore[index]

    _move_deadline(ca, sent["id"], days_ago=1)
    late = notification_of(ca, "ca.ocs", sent["id"])
    assert late is not None and late["status"] == "overdue"
    assert late["escalation"]["level"] == 1 and "reminder" in late["escalation"]["to"]
    with ca.client("ca.ocs") as ocs:
        reminded = ocs.post(
            f"/api/v1/precursors/notifications/{sent['id']}/reminder",
            json={"classification": "Protected A", "note": "The exporter plans to ship on the date given."},
        )
    assert reminded.status_code == 201, reminded.text
    assert reminded.json()["kind"] == "request"
    follow_ups = notification_of(ca, "ca.ocs", sent["id"])["follow_ups"]  # type: ignore[index]
    assert [f["id"] for f in follow_ups] == [reminded.json()["id"]]

    def reminder_arrived() -> bool:
        with in_.client("in.cbn") as cbn:
            listed = cbn.get("/api/v1/messages", params={"box": "inbox"}).json()["messages"]
        return any(m["id"] == reminded.json()["id"] and m["case_id"] == sent["case_id"] for m in listed)

    wait_for(reminder_arrived)
    with in_.client("in.cbn") as cbn:  # the importing side does not remind itself
        wrong = cbn.post(
            f"/api/v1/precursors/notifications/{sent['id']}/reminder", json={"classification": "Restricted"}
        )
    assert wrong.status_code == 422

    _move_deadline(ca, sent["id"], days_ago=10)
    escalated = notification_of(ca, "ca.ocs", sent["id"])
    assert escalated is not None and escalated["escalation"]["level"] == 2
    assert "coordinators" in escalated["escalation"]["to"]


def test_the_two_sides_records_of_a_shipment_are_compared(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, in_ = shared_pair
    with ca.client("ca.ocs") as ocs:
        sent = ocs.post("/api/v1/messages", json=pen(route=[], import_permit="IP-2026-0077")).json()
    wait_for(lambda: notification_of(in_, "in.cbn", sent["id"]))
    record = {
        "importer": "Deccan Pharma Intermediates Pvt. Ltd.",
        "items": [{"substance": "4-anilino-N-phenethylpiperidine", "quantity_kg": 400}],
        "import_permit": "IP-2026-0077",
        "point_of_entry": "Nhava Sheva",
    }
    with in_.client("in.cbn") as cbn:
        cleared = cbn.post(
            f"/api/v1/messages/{sent['id']}/reply",
            json=answer("Cleared against our permit.", {"decision": "cleared", "import_record": record}),
        )
    assert cleared.status_code == 201, cleared.text

    def flagged() -> dict[str, Any] | None:
        seen = notification_of(ca, "ca.ocs", sent["id"])
        return seen if seen and seen["status"] == "cleared" else None

    seen = wait_for(flagged)
    [mismatch] = [f for f in seen["flags"] if f["rule"] == "records-disagree"]
    assert "anpp: 400 kg recorded against 40 kg notified" in mismatch["reason"]
    assert "importer" not in mismatch["reason"]  # punctuation and case are not a difference


def test_the_incidents_read_page_by_page_in_the_api_and_on_the_map(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    diversion = incident(
        kind="diversion", place={"name": "Surrey", "country": "CA", "latitude": 49.1, "longitude": -122.8}
    )
    with ca.client("ca.cbsa") as cbsa:
        assert cbsa.post("/api/v1/messages", json=diversion).status_code == 201
        everything = [i["id"] for i in cbsa.get("/api/v1/precursors/incidents").json()["incidents"]]
        assert len(everything) >= 2
        pages = every_page(cbsa, "/api/v1/precursors/incidents", "incidents", limit=1)
        assert [page[0] for page in pages] == everything, "the most recently recorded first, each once"
        assert every_page(cbsa, "/api/v1/precursors/incidents", "incidents", kind="diversion", limit=1)[0] != []
        first = cbsa.get("/api/v1/precursors/incidents", params={"limit": 1}).json()["next"]
        assert_cursor_refused(cbsa, "/api/v1/precursors/incidents", first)
    web, _ = sign_in(ca, "ca.cbsa")
    with closing(web):
        shown = web.get("/precursors/incidents", params={"limit": 1})
        points = re.search(r'<script type="application/json" id="incident-data">(.*?)</script>', shown.text, re.S)
        assert points is not None and len(json.loads(points[1])) == 1, "the map shows the page"
        following = re.search(r'<a href="([^"]+)" rel="next">', shown.text)
        assert following is not None and "limit=1" in following[1]
        later = web.get(html.unescape(following[1]))
        assert later.status_code == 200 and 'rel="first"' in later.text
        assert web.get("/precursors/incidents", params={"after": "forged.cursor"}).status_code == 422
