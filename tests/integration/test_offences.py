"""Offences as a controlled vocabulary and the death-penalty gate, between two real nodes: unknown and missing
offences are refused before anything is stored, a capital offence held for a suspect cannot be approved without a
recorded assurance, and the assurance travels in the signed message into both ledgers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from accord.store.tables import events, messages
from tests.integration.nodes import RunningNode, assessment, draft, wait_for

SUSPECT = {"kind": "person", "name": "R. Example", "role": "suspect", "nationality": "IND"}
VICTIM = {"kind": "person", "name": "V. Example", "role": "victim"}
ASSURANCE = {
    "kind": "no-death-penalty",
    "reference": "Note verbale No. T-413/2026",
    "issued_on": "2026-11-02",
    "issuing_authority": "Ministry of External Affairs, Government of India",
}
MURDER = {"focus_area": "networks", "recipient_agency": "CBI", "offence": "0101"}


@pytest.fixture(scope="module")
def shared_pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> tuple[RunningNode, RunningNode]:
    """Legal rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair


def stored(node: RunningNode) -> tuple[int, int]:
    with node.engine.connect() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(messages)).scalar_one()),
            int(
                conn.execute(
                    select(func.count())
                    .select_from(events)
                    .where(events.c.type.in_(["message.created", "policy.decided"]))
                ).scalar_one()
            ),
        )


def state(client: httpx.Client, message_id: str) -> str:
    value: str = client.get(f"/api/v1/messages/{message_id}").json()["delivery"]["state"]
    return value


def assessed_case(node: RunningNode, persons: list[dict[str, Any]], **opening: Any) -> str:
    """A case opened by a message that names no one, with a mistreatment-risk assessment of `persons` recorded in
    it (ACMFEA: Canada assesses every person a disclosure names before it leaves)."""
    with node.client("ca.rcmp") as rcmp, node.client("ca.legal") as legal:
        opened = rcmp.post("/api/v1/messages", json=draft(**opening))
        assert opened.status_code == 201, opened.text
        case_id: str = opened.json()["case_id"]
        recorded = legal.post("/api/v1/assessments", json=assessment(case_id, persons))
        assert recorded.status_code == 201, recorded.text
    return case_id


def refs_of(node: RunningNode, event_type: str, message_id: str) -> list[dict[str, Any]]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(events.c.refs).where(events.c.type == event_type)).scalars().all()
    found = [json.loads(r) for r in rows]
    return [r for r in found if message_id in (r.get("message"), r.get("ref"))]


def test_an_unknown_or_old_offence_code_is_refused_naming_the_field_and_nothing_is_stored(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    before = stored(ca)
    with ca.client("ca.rcmp") as rcmp:
        for code in ("9999", "0899"):
            answer = rcmp.post("/api/v1/messages", json=draft(offence=code))
            assert answer.status_code == 422, answer.text
            problem = answer.json()
            assert problem["type"] == "urn:accord:problem:unknown-offence"
            assert problem["errors"][0]["location"] == ["body", "offence"]
            assert code in problem["detail"] and "ICCS" in problem["detail"]
        for old in ("drug_trafficking", "murder", "kidnapping_ransom"):
            answer = rcmp.post("/api/v1/messages", json=draft(offence=old))
            assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["errors"][0]["location"] == ["body", "offence"]
        assert rcmp.post("/api/v1/messages/evaluate", json=draft(offence="9999")).status_code == 422
    assert stored(ca) == before


def test_a_murder_suspect_with_the_offence_left_empty_is_refused_citing_the_law_and_never_sent(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    before = stored(ca)
    request = draft(
        **(MURDER | {"offence": None}),
        subjects=[SUSPECT],
        title="Whereabouts of R. Example",
        body="Please locate R. Example, wanted for the murder of a shopkeeper in Surrey.",
    )
    with ca.client("ca.rcmp") as rcmp:
        for path in ("/api/v1/messages", "/api/v1/messages/evaluate"):
            answer = rcmp.post(path, json=request)
            assert answer.status_code == 422, answer.text
            problem = answer.json()
            assert problem["type"] == "urn:accord:problem:offence-required"
            assert "Privacy Act" in problem["citation"] and "Privacy Act" in problem["detail"]
            assert problem["errors"][0]["location"] == ["body", "offence"]
    assert stored(ca) == before


def test_a_repeat_trafficker_declared_by_code_is_held_for_the_assurance(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    case_id = assessed_case(ca, [SUSPECT])
    with ca.client("ca.rcmp") as rcmp:
        first_time = rcmp.post("/api/v1/messages/evaluate", json=draft(subjects=[SUSPECT], case_id=case_id))
        assert first_time.json()["verdict"] == "allow", first_time.text
        repeat = rcmp.post(
            "/api/v1/messages/evaluate",
            json=draft(
                subjects=[SUSPECT], case_id=case_id, body="drug_trafficking: the courier is a repeat offender (2019)."
            ),
        ).json()
    assert repeat["verdict"] == "review"
    [gate] = [p for p in repeat["policies"] if p["id"] == "ca-death-penalty-assurance"]
    assert gate["gate"] and "assurance" in gate["remedy"] and "Burns" in gate["citation"]
    found = repeat["findings"]["capital_offence_in_destination"]
    assert any("31A" in p for p in found["provisions"]) and found["circumstances"]["repeat_conviction"]


def test_a_life_saving_kidnapping_alert_naming_the_child_leaves_and_the_victim_triggers_no_gate(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    # The case was opened with a request naming no one, and the child was assessed in it before the alert.
    case_id = assessed_case(
        ca,
        [VICTIM],
        focus_area="networks",
        recipient_agency="CBI",
        offence="020221",
        subjects=[],
        title="A child reported missing in Mississauga",
        body="Please tell us of any travel booked from Canada for an unaccompanied child this week.",
    )
    alert = draft(
        case_id=case_id,
        kind="alert",
        priority="immediate",
        focus_area="networks",
        recipient_agency="CBI",
        offence="020221",
        subjects=[VICTIM],
        title="Abducted child may be on a flight to Delhi",
        body="A 9-year-old girl was kidnapped in Mississauga last night. Please alert all points of entry.",
    )
    with ca.client("ca.rcmp") as rcmp:
        sent = rcmp.post("/api/v1/messages", json=alert)
        assert sent.status_code == 201, sent.text
        assert sent.json()["policy"]["verdict"] == "allow"
        wait_for(lambda: state(rcmp, sent.json()["id"]) in {"delivered", "read"})


def test_approval_without_the_assurance_is_refused_and_the_assurance_lands_in_both_ledgers(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    request = draft(**MURDER, subjects=[VICTIM, SUSPECT], title="Person wanted for a fatal stabbing")
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.legal") as legal, ca.client("ca.deputy") as deputy:
        sent = rcmp.post("/api/v1/messages", json=request).json()
        assert sent["delivery"]["state"] == "held"
        assert "ca-death-penalty-assurance" in {p["id"] for p in sent["policy"]["policies"]}
        message_id = sent["id"]
        # The mistreatment-risk assessment of both persons is recorded: the death-penalty gate alone remains, and it
        # stays whoever approves.
        recorded = legal.post("/api/v1/assessments", json=assessment(sent["case_id"], [VICTIM, SUSPECT]))
        assert recorded.status_code == 201, recorded.text
        assert state(rcmp, message_id) == "held"
        up = legal.post(f"/api/v1/reviews/{message_id}", json={"action": "escalate", "reason": "Capital offence."})
        assert up.status_code == 200, up.text
        bare = deputy.post(f"/api/v1/reviews/{message_id}", json={"action": "approve", "reason": "Urgent."})
        assert bare.status_code == 409, bare.text
        assert bare.json()["type"] == "urn:accord:problem:gate-not-cleared"
        assert "ca-death-penalty-assurance" in bare.json()["detail"] and "assurance" in bare.json()["detail"]
        assert state(rcmp, message_id) == "held"

        approval = {
            "action": "approve",
            "reason": "Assurance received from the Ministry of External Affairs.",
            "conditions": {"assurance": ASSURANCE},
        }
        approved = deputy.post(f"/api/v1/reviews/{message_id}", json=approval)
        assert approved.status_code == 200, approved.text
        wait_for(lambda: state(rcmp, message_id) in {"delivered", "read"})
        shown = rcmp.get(f"/api/v1/messages/{message_id}").json()
        assert shown["offence"] == "0101" and shown["assurances"] == [ASSURANCE]
        assert [s["role"] for s in shown["subjects"]] == ["victim", "suspect"]
    expected = {
        "assurance1.kind": "no-death-penalty",
        "assurance1.reference": ASSURANCE["reference"],
        "assurance1.issued_on": "2026-11-02",
        "assurance1.issuing_authority": ASSURANCE["issuing_authority"],
    }
    [decided] = [r for r in refs_of(ca, "review.decided", message_id) if r["action"] == "approve"]
    assert expected.items() <= decided.items()
    assert any(expected.items() <= r.items() for r in refs_of(ca, "envelope.sent", message_id))
    wait_for(lambda: refs_of(in_, "envelope.received", message_id))
    [received] = refs_of(in_, "envelope.received", message_id)
    assert expected.items() <= received.items()
    with in_.engine.connect() as conn:
        content = conn.execute(select(messages.c.content).where(messages.c.id == message_id)).scalar_one()
    assert ASSURANCE["reference"] in content and '"offence":"0101"' in content


def test_the_offence_list_is_searchable_and_names_each_partys_statutes(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    with ca.client("ca.rcmp") as rcmp:
        listed = rcmp.get("/api/v1/offences", params={"q": "kidnap"}).json()
        assert [o["display"] for o in listed["offences"]] == ["020221 Kidnapping"]
        assert "ICCS" in listed["source"] or "Classification of Crime" in listed["source"]
        murder = rcmp.get("/api/v1/offences/0101").json()
        assert any(s["capital"] and s["section"] == "103(1)" for s in murder["statutes"]["IN"])
        assert murder["statutes"]["CA"] and not any(s["capital"] for s in murder["statutes"]["CA"])
        assert rcmp.get("/api/v1/offences/9999").status_code == 404
        assert rcmp.get("/api/v1/offences/murder").status_code == 422
