"""Receiving-side sanity between real nodes: a pre-export notification only from the exporting party's competent
authority; an incident with an impossible place or quantity refused at the sender and, when one arrives anyway,
accepted with a warning its readers see; a message naming an officer the receiving directory does not know delivered
to the agency with a warning. What arrives "anyway" is sealed here with Canada's own node key, as a faulty or older
peer would send it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from accord.domain.handling import Caveat, CommonLevel, Handling, Tlp
from accord.domain.messages import Address, Message, MessageKind, Priority
from accord.domain.parties import Party
from accord.store.tables import messages
from tests.conftest import DatabaseFactory
from tests.integration.forgery import batch, claims_for, message, post_batch, seal
from tests.integration.nodes import RunningNode, draft, wait_for
from tests.integration.test_precursor_incidents import incident
from tests.integration.test_precursor_notifications import pen
from tests.integration.test_web_sessions import sign_in

Pair = tuple[RunningNode, RunningNode]


@pytest.fixture
def databases(sqlite_databases: DatabaseFactory) -> DatabaseFactory:
    """Legal rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return sqlite_databases


def stored(node: RunningNode) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())


def deliver(ca: RunningNode, in_: RunningNode, msg: Message) -> dict[str, Any]:
    """One envelope sealed with Canada's node key, posted to India as Canada's node would: the result for it."""
    token = seal(claims_for(msg), ca.keys, in_.keys.public)
    response = post_batch(in_.url, batch(token, refs=[msg.id]), ca.keys.signing)
    [result] = response.json()["results"]
    return dict(result)


def protected_a() -> Handling:
    return Handling(classification="Protected A", level=CommonLevel.RESTRICTED, tlp=Tlp.AMBER, caveats=(Caveat.H0,))


def arrived(client: httpx.Client, message_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/messages/{message_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_notification_comes_only_from_the_exporting_partys_competent_authority(pair: Pair) -> None:
    ca, in_ = pair
    before = stored(ca), stored(in_)
    with ca.client("ca.rcmp") as rcmp:
        refused = rcmp.post("/api/v1/messages", json=pen())
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"].endswith("not-competent-authority")
    assert "HC-OCS" in problem["detail"] and "Art. 12(10)" in problem["detail"]
    assert stored(ca) == before[0]

    sent = pen()
    content = {k: sent[k] for k in ("focus_area", "legal_basis", "title", "body", "notification")}
    now = datetime.now(UTC)
    from_police = message(
        kind=MessageKind.PEN,
        sender=Address(party=Party.CA, agency="RCMP", officer="ca.rcmp"),
        recipient=Address(party=Party.IN, agency="CBN"),
        handling=protected_a(),
        deadline=now + timedelta(days=30),
        **content,
    )
    result = deliver(ca, in_, from_police)
    assert result["outcome"] == "refused"
    assert result["problem"]["type"].endswith("not-competent-authority")
    assert stored(in_) == before[1], "a notification from the wrong agency is not stored"

    from_authority = from_police.model_copy(
        update={"id": message().id, "sender": Address(party=Party.CA, agency="HC-OCS", officer="ca.ocs")}
    )
    assert deliver(ca, in_, from_authority)["outcome"] == "accepted"
    with in_.client("in.cbn") as cbn:
        assert arrived(cbn, from_authority.id)["warnings"] == []


def test_an_impossible_place_or_quantity_is_refused_at_the_sender_and_flagged_at_the_receiver(pair: Pair) -> None:
    ca, in_ = pair
    sign_dropped = {
        "name": "Port of Vancouver, Centerm terminal",
        "country": "CA",
        "latitude": 49.29,
        "longitude": 123.09,
    }
    in_india = {"name": "Port of Vancouver", "country": "CA", "latitude": 18.95, "longitude": 72.95}
    tonnes = [{"substance": "ANPP", "quantity_kg": 80_000}]
    before = stored(ca)
    with ca.client("ca.cbsa") as cbsa:
        for place, items, says in (
            (sign_dropped, None, "is not in CA"),
            (in_india, None, "is not in CA"),
            (None, tonnes, "more than any plausible single incident"),
        ):
            changes: dict[str, Any] = {k: v for k, v in (("place", place), ("items", items)) if v is not None}
            refused = cbsa.post("/api/v1/messages", json=incident(**changes))
            assert refused.status_code == 422, refused.text
            assert says in refused.json()["detail"]
        zero = cbsa.post("/api/v1/messages", json=incident(items=[{"substance": "NPP", "quantity_kg": 0}]))
        assert zero.status_code == 422
        fine = cbsa.post("/api/v1/messages", json=incident())
        assert fine.status_code == 201, fine.text
    assert stored(ca) == before + 1

    def sealed_incident(**changes: Any) -> Message:
        drafted = incident(**changes)
        return message(
            kind=MessageKind.INCIDENT,
            sender=Address(party=Party.CA, agency="CBSA", officer="ca.cbsa"),
            priority=Priority.URGENT,
            handling=protected_a(),
            **{k: drafted[k] for k in ("focus_area", "legal_basis", "title", "body", "incident")},
        )

    misplaced = sealed_incident(place=in_india)
    heavy = sealed_incident(items=tonnes)
    assert deliver(ca, in_, misplaced)["outcome"] == "accepted"
    assert deliver(ca, in_, heavy)["outcome"] == "accepted"
    with in_.client("in.ncb") as ncb:
        [place_warning] = arrived(ncb, misplaced.id)["warnings"]
        assert place_warning["code"] == "place-outside-country"
        assert "18.9500, 72.9500 is not in CA" in place_warning["detail"]
        [quantity_warning] = arrived(ncb, heavy.id)["warnings"]
        assert quantity_warning["code"] == "quantity-implausible" and "80000 kg" in quantity_warning["detail"]
        listed = {m["id"]: m for m in ncb.get("/api/v1/messages", params={"box": "inbox"}).json()["messages"]}
        assert listed[misplaced.id]["warnings"] == [place_warning], "the inbox shows it too"
        wait_for(lambda: fine.json()["id"] in {m["id"] for m in ncb.get("/api/v1/messages").json()["messages"]})
        assert arrived(ncb, fine.json()["id"])["warnings"] == []

    # A quantity at or below zero is not a quantity: the model refuses it, at the receiver as at the sender.
    negative = sealed_incident()
    body = negative.model_dump(mode="json")
    body["incident"]["items"][0]["quantity_kg"] = -4
    before = stored(in_)
    token = seal(claims_for(negative, body=body), ca.keys, in_.keys.public)
    [result] = post_batch(in_.url, batch(token, refs=[negative.id]), ca.keys.signing).json()["results"]
    assert result["outcome"] == "refused" and result["problem"]["type"].endswith("invalid-input")
    assert stored(in_) == before


def test_a_message_to_an_officer_the_directory_does_not_know_reaches_the_agency_with_a_warning(pair: Pair) -> None:
    ca, in_ = pair
    nobody = message(recipient=Address(party=Party.IN, agency="NCB", officer="in.ncb.retired"))
    elsewhere = message(recipient=Address(party=Party.IN, agency="NCB", officer="in.cbi"))
    assert deliver(ca, in_, nobody)["outcome"] == "accepted"
    assert deliver(ca, in_, elsewhere)["outcome"] == "accepted"
    with ca.client("ca.rcmp") as rcmp:
        known = rcmp.post("/api/v1/messages", json=draft(recipient_officer="in.ncb.duty"))
        assert known.status_code == 201, known.text
        known_id = known.json()["id"]
        wait_for(lambda: rcmp.get(f"/api/v1/messages/{known_id}").json()["delivery"]["state"] == "delivered")
    with in_.client("in.ncb") as ncb:
        inbox = {m["id"] for m in ncb.get("/api/v1/messages", params={"box": "inbox"}).json()["messages"]}
        assert {nobody.id, elsewhere.id} <= inbox, "delivered to the agency"
        [unknown] = arrived(ncb, nobody.id)["warnings"]
        assert unknown["code"] == "recipient-officer-unknown" and "in.ncb.retired" in unknown["detail"]
        [other] = arrived(ncb, elsewhere.id)["warnings"]
        assert other["code"] == "recipient-officer-other-agency" and "CBI" in other["detail"]
        assert arrived(ncb, known_id)["warnings"] == []
    web, signed_in = sign_in(in_, "in.ncb")
    try:
        assert signed_in.status_code == 303, signed_in.text
        page = web.get(f"/messages/{nobody.id}")
    finally:
        web.close()
    assert page.status_code == 200
    assert "Accepted with 1 warning" in page.text and "in.ncb.retired" in page.text
