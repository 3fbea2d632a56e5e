"""Neutrality between two real nodes: the receiving node screens a request with its own pack on arrival and records
it; a reply to a request held there is held too, citing why; the officer sees detected words and their language
before sending; ordinary crime that names a temple leaves."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from accord.store.tables import events, messages
from tests.integration.nodes import RunningNode, draft, wait_for

REPLY = {"handling": {"classification": "Restricted"}, "title": "Re: director", "body": "He is known to us; see below."}


@pytest.fixture(scope="module")
def shared_pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> tuple[RunningNode, RunningNode]:
    """Legal rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair


def delivered(client: httpx.Client, message_id: str) -> bool:
    state = client.get(f"/api/v1/messages/{message_id}").json()["delivery"]["state"]
    return state in {"delivered", "read"}


def send(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/messages", json=draft(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def recorded_screening(node: RunningNode, message_id: str) -> dict[str, Any]:
    with node.engine.connect() as conn:
        decision = conn.execute(select(messages.c.decision).where(messages.c.id == message_id)).scalar_one()
    screening: dict[str, Any] = json.loads(decision)
    return screening


def logged_screenings(node: RunningNode, message_id: str) -> list[dict[str, Any]]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(events.c.refs).where(events.c.type == "policy.decided")).scalars().all()
    return [refs for refs in map(json.loads, rows) if refs.get("message") == message_id and "screen" in refs]


def test_a_reply_to_a_request_the_receiving_node_held_on_neutrality_is_held_citing_why(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    with ca.client("ca.rcmp") as rcmp, in_.client("in.ncb") as ncb:
        # Canada's pack does not know this term of India's political context; India's does.
        body = "Please confirm whether the director of the consignee company is close to Hurriyat leaders."
        sent = send(rcmp, body=body)
        assert sent["delivery"]["state"] == "queued"
        wait_for(lambda: delivered(rcmp, sent["id"]))

        screening = recorded_screening(in_, sent["id"])
        assert (screening["screen"], screening["outcome"]) == ("neutrality-on-arrival", "held")
        assert screening["pack"].startswith("in-disclosure@")
        assert any("Hurriyat" in reason for reason in screening["reasons"])
        assert logged_screenings(in_, sent["id"]) == [
            {"message": sent["id"], "screen": "neutrality-on-arrival", "outcome": "held", "pack": screening["pack"]}
        ]

        evaluated = ncb.post(
            "/api/v1/messages/evaluate",
            json={
                **REPLY,
                "kind": "response",
                "in_reply_to": sent["id"],
                "recipient_agency": "RCMP",
                "focus_area": "drugs",
                "priority": "routine",
            },
        )
        assert evaluated.status_code == 200, evaluated.text
        answer = ncb.post(f"/api/v1/messages/{sent['id']}/reply", json=REPLY)
        assert answer.status_code == 201, answer.text
        decision = answer.json()["policy"]
        assert answer.json()["delivery"]["state"] == "held"
        assert evaluated.json()["verdict"] == decision["verdict"] == "review"
        assert [p["id"] for p in decision["policies"]] == [p["id"] for p in evaluated.json()["policies"]]
        [policy] = decision["policies"]
        assert policy["id"] == "in-neutrality-reply" and "INTERPOL Constitution Art. 3" in policy["citation"]
        assert policy["remedy"]
        inherited = decision["findings"]["neutrality_reply"]
        assert inherited["request"] == sent["id"] and inherited["outcome"] == "held"
        assert "when it arrived" in inherited["where"]
        assert any("Hurriyat" in reason for reason in inherited["because"])

        # A request that is clear at both nodes is answered as before.
        plain = send(rcmp)
        wait_for(lambda: delivered(rcmp, plain["id"]))
        assert recorded_screening(in_, plain["id"])["outcome"] == "clear"
        assert logged_screenings(in_, plain["id"]) == []
        answered = ncb.post(f"/api/v1/messages/{plain['id']}/reply", json=REPLY)
        assert answered.status_code == 201, answered.text
        assert answered.json()["delivery"]["state"] == "queued"


def test_an_officer_sees_the_words_found_and_their_language_and_ordinary_crime_leaves(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    with ca.client("ca.rcmp") as rcmp:
        gurmukhi = rcmp.post(
            "/api/v1/messages/evaluate",
            json=draft(title="ਜਾਣਕਾਰੀ", body="ਇਸ ਵਿਅਕਤੀ ਦੇ ਗੁਰਦੁਆਰਾ ਕਮੇਟੀ ਨਾਲ ਸਬੰਧ ਦੱਸੋ।", subjects=[]),
        ).json()
        assert gurmukhi["verdict"] == "review"
        assert {p["id"] for p in gurmukhi["policies"]} == {"ca-neutrality-text", "ca-neutrality-structure"}
        by_concept = {d["concept"]: d for d in gurmukhi["findings"]["protected_grounds_detected"]}
        detected = by_concept["sikh-institutions-and-practice"]
        assert detected["words"] == ["ਗੁਰਦੁਆਰਾ ਕਮੇਟੀ"] and detected["scripts"] == ["Gurmukhi"]
        assert "pa" in detected["languages"] and detected["ground"] == "religion"

        seizure = send(rcmp, body="2 kg of heroin were seized in the car park of the Ross Street temple.")
        assert seizure["delivery"]["state"] == "queued", seizure["policy"]


def test_an_answer_to_a_request_this_node_held_on_neutrality_inherits_its_own_decision(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    with ca.client("ca.rcmp") as rcmp:
        held = send(rcmp, body="Which gurdwara committee does the director sit on?")
        assert held["delivery"]["state"] == "held"
        answer = draft(kind="response", in_reply_to=held["id"], title="Addendum", body="Two more names below.")
        decided = rcmp.post("/api/v1/messages/evaluate", json=answer)
        assert decided.status_code == 200, decided.text
        assert [p["id"] for p in decided.json()["policies"]] == ["ca-neutrality-reply"]
        inherited = decided.json()["findings"]["neutrality_reply"]
        assert inherited["where"] == "this node's decision when it sent it (review)"
        assert inherited["because"][0].startswith("ca-neutrality-text: INTERPOL")
