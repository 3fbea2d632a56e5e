"""Forwarding a received message inside one's own state, on a real node pair: the originator's caveats decide (H0/H1
forwarded with the caveat carried, H2 refused with its words, H3 only with the originator's consent, asked and
answered through the exchange), never across the border, and every forward in both ledgers. Reusing a message's
content in a new one keeps its caveats and TLP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from accord.store.tables import events, forwards, messages
from tests.integration.nodes import RunningNode, draft, wait_for
from tests.integration.pages import assert_cursor_refused, every_page

RESTRICTION = "Not to be shared with state police or customs brokers"


@pytest.fixture(scope="module")
def shared_pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> tuple[RunningNode, RunningNode]:
    """Legal rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair


def sent_to_india(ca: RunningNode, in_: RunningNode, **handling: Any) -> str:
    """A request from RCMP to NCB under `handling`, delivered; its id."""
    marks = {"classification": "Protected B", "tlp": "AMBER"} | handling
    with ca.client("ca.rcmp") as rcmp:
        sent = rcmp.post("/api/v1/messages", json=draft(handling=marks))
        assert sent.status_code == 201 and sent.json()["delivery"]["state"] == "queued", sent.text
    message_id: str = sent.json()["id"]
    wait_for(lambda: message_state(in_, message_id) == "received")
    return message_id


def message_state(node: RunningNode, message_id: str) -> str | None:
    with node.engine.connect() as conn:
        state: str | None = conn.execute(select(messages.c.state).where(messages.c.id == message_id)).scalar()
    return state


def forward(node: RunningNode, username: str, message_id: str, **target: Any) -> httpx.Response:
    body = {"agency": "CBI", "reason": "CBI runs the linked fraud inquiry in Delhi"} | target
    with node.client(username) as client:
        return client.post(f"/api/v1/messages/{message_id}/forward", json=body)


def reads(node: RunningNode, username: str, message_id: str) -> int:
    with node.client(username) as client:
        return client.get(f"/api/v1/messages/{message_id}").status_code


def ledger(node: RunningNode, event_type: str, **refs: str) -> list[dict[str, Any]]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(events.c.refs).where(events.c.type == event_type)).scalars().all()
    found = [json.loads(r) if isinstance(r, str) else dict(r) for r in rows]
    return [r for r in found if all(r.get(k) == v for k, v in refs.items())]


def forward_state(node: RunningNode, forward_id: str) -> str | None:
    with node.engine.connect() as conn:
        state: str | None = conn.execute(select(forwards.c.state).where(forwards.c.id == forward_id)).scalar()
    return state


def forwards_stored(node: RunningNode) -> tuple[int, int]:
    with node.engine.connect() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(forwards)).scalar_one()),
            int(conn.execute(select(func.count()).select_from(messages)).scalar_one()),
        )


def test_an_h2_message_is_not_forwarded_and_the_refusal_quotes_the_caveat(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    message_id = sent_to_india(ca, in_, caveats=["H0", "H2"])

    refused = forward(in_, "in.ncb", message_id)

    assert refused.status_code == 201, refused.text
    outcome = refused.json()
    assert outcome["state"] == "refused"
    assert [p["id"] for p in outcome["decision"]["policies"]] == ["in-forward-h2"]
    assert any("no onward dissemination" in r for r in outcome["decision"]["reasons"])
    assert any(p["remedy"] for p in outcome["decision"]["policies"])
    assert reads(in_, "in.cbi", message_id) == 403
    assert ledger(in_, "forward.refused", message=message_id, forward=outcome["id"])


def test_an_h0_h1_forward_lets_the_target_read_it_with_the_caveats_and_both_ledgers_record_it(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    message_id = sent_to_india(ca, in_, caveats=["H0", "H1"])
    assert reads(in_, "in.cbi", message_id) == 403

    done = forward(in_, "in.ncb", message_id)

    assert done.status_code == 201, done.text
    outcome = done.json()
    assert (outcome["state"], outcome["decision"]["verdict"]) == ("forwarded", "allow")
    with in_.client("in.cbi") as cbi:
        opened = cbi.get(f"/api/v1/messages/{message_id}")
        assert opened.status_code == 200
        assert opened.json()["handling"]["caveats"] == ["H0", "H1"], "the caveats travel with the forward"
        listed = cbi.get("/api/v1/forwards").json()["forwards"]
        assert [f["id"] for f in listed] == [outcome["id"]]
        inbox = cbi.get("/api/v1/messages", params={"box": "inbox"}).json()["messages"]
        assert message_id in {m["id"] for m in inbox}, "a forwarded message is in the target's inbox"
        assert cbi.get(f"/api/v1/cases/{opened.json()['case_id']}").status_code == 200
        with in_.client("in.cbn") as cbn:
            assert message_id not in {m["id"] for m in cbn.get("/api/v1/messages").json()["messages"]}
    assert reads(in_, "in.cbn", message_id) == 403, "only the agency it went to"
    assert ledger(in_, "message.forwarded", message=message_id, forward=outcome["id"], to_agency="CBI")
    wait_for(lambda: ledger(ca, "message.forwarded_by_peer", message=message_id, forward=outcome["id"]))
    with ca.client("ca.rcmp") as rcmp:
        [seen] = [f for f in rcmp.get("/api/v1/forwards").json()["forwards"] if f["id"] == outcome["id"]]
        assert (seen["role"], seen["state"], seen["to"]["agency"]) == ("originator", "forwarded", "CBI")
        notice = rcmp.get(f"/api/v1/messages/{outcome['notice_id']}").json()
        assert notice["kind"] == "forward-notice" and notice["in_reply_to"] == message_id


def test_an_h3_forward_waits_for_the_originators_consent_and_then_is_done(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    message_id = sent_to_india(ca, in_, caveats=["H3"], restrictions=RESTRICTION)

    asked = forward(in_, "in.ncb", message_id, agency="CBN", reason="CBN issues the export NOC under review")

    assert asked.status_code == 201, asked.text
    outcome = asked.json()
    assert outcome["state"] == "awaiting-consent"
    assert [p["id"] for p in outcome["decision"]["policies"]] == ["in-forward-h3-consent"]
    assert any(RESTRICTION in r for r in outcome["decision"]["reasons"])
    assert reads(in_, "in.cbn", message_id) == 403, "not before the originator consents"
    forward_id = outcome["id"]
    wait_for(lambda: forward_state(ca, forward_id) == "awaiting-consent")
    with ca.client("ca.rcmp") as rcmp:
        request = rcmp.get(f"/api/v1/messages/{outcome['consent_request_id']}").json()
        assert request["kind"] == "forward-consent" and RESTRICTION in request["body"]
        answered = rcmp.post(f"/api/v1/forwards/{forward_id}/consent", json={"decision": "granted"})
        assert answered.status_code == 201, answered.text
        assert answered.json()["state"] == "consent-granted"
        again = rcmp.post(f"/api/v1/forwards/{forward_id}/consent", json={"decision": "refused"})
        assert again.status_code == 409

    wait_for(lambda: forward_state(in_, forward_id) == "forwarded")
    assert reads(in_, "in.cbn", message_id) == 200
    for node in (in_, ca):
        assert ledger(node, "forward.consent_requested", forward=forward_id)
        assert ledger(node, "forward.consent_answered", forward=forward_id, decision="granted")
    assert ledger(in_, "message.forwarded", forward=forward_id)
    wait_for(lambda: ledger(ca, "message.forwarded_by_peer", forward=forward_id))


def test_a_refused_consent_ends_the_forward_and_nobody_else_reads_it(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    message_id = sent_to_india(ca, in_, caveats=["H0", "H3"], restrictions=RESTRICTION)
    outcome = forward(in_, "in.ncb", message_id).json()
    assert outcome["state"] == "awaiting-consent"
    forward_id = outcome["id"]
    wait_for(lambda: forward_state(ca, forward_id) == "awaiting-consent")

    with ca.client("ca.cbsa") as cbsa:
        other = cbsa.post(f"/api/v1/forwards/{forward_id}/consent", json={"decision": "granted"})
        assert other.status_code == 403, "only the agency that sent the message answers"
    with ca.client("ca.rcmp") as rcmp:
        answer = {"decision": "refused", "conditions": "The source is at risk; ask again after the arrests."}
        refused = rcmp.post(f"/api/v1/forwards/{forward_id}/consent", json=answer)
        assert refused.status_code == 201, refused.text

    wait_for(lambda: forward_state(in_, forward_id) == "consent-refused")
    assert reads(in_, "in.cbi", message_id) == 403
    assert not ledger(in_, "message.forwarded", forward=forward_id)
    assert ledger(in_, "forward.consent_answered", forward=forward_id, decision="refused")


def test_a_forward_across_the_border_is_refused_under_the_pack(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, in_ = shared_pair
    message_id = sent_to_india(ca, in_, caveats=["H0"])

    abroad = forward(in_, "in.ncb", message_id, party="CA", agency="CBSA")

    assert abroad.status_code == 201, abroad.text
    assert abroad.json()["state"] == "refused"
    assert [p["id"] for p in abroad.json()["decision"]["policies"]] == ["in-forward-domestic-only"]
    assert reads(ca, "ca.cbsa", message_id) == 403


def test_bad_forwards_are_refused_with_a_clear_error_and_store_nothing(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    message_id = sent_to_india(ca, in_, caveats=["H0"], classification="Protected C")
    before = forwards_stored(in_)
    cases = {
        "an agency that does not exist": ("in.ncb", message_id, {"agency": "STATE-POLICE"}, 422),
        "an officer of another agency": ("in.ncb", message_id, {"agency": "CBI", "officer": "in.cbn"}, 422),
        "an officer cleared below the marking": ("in.ncb", message_id, {"agency": "NCB", "officer": "in.ncb.low"}, 422),
        "the own agency with nobody named": ("in.ncb", message_id, {"agency": "NCB"}, 422),
        "no reason given": ("in.ncb", message_id, {"reason": ""}, 422),
        "a party that is not one": ("in.ncb", message_id, {"party": "US"}, 422),
        "another agency's message": ("in.cbi", message_id, {}, 403),
        "a message that does not exist": ("in.ncb", "0192f000-0000-7000-8000-000000000000", {}, 404),
    }
    for name, (who, target_id, body, status) in cases.items():
        refused = forward(in_, who, target_id, **body)
        assert refused.status_code == status, (name, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json"), name
    with ca.client("ca.rcmp") as rcmp:
        own = rcmp.get("/api/v1/messages", params={"box": "outbox"}).json()["messages"][0]["id"]
    assert forward(ca, "ca.rcmp", own, agency="CBSA").status_code == 422, "a sent message is not forwarded"
    assert forwards_stored(in_) == before

    assert forward(in_, "in.ncb", message_id).status_code == 201
    assert forward(in_, "in.ncb", message_id).status_code == 409, "the same forward twice"


def test_a_message_made_from_another_keeps_the_originators_caveats_and_the_stricter_tlp(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    source = sent_to_india(ca, in_, caveats=["H0", "H2"], tlp="AMBER+STRICT")
    reuse = draft(
        recipient_agency="RCMP",
        handling={"classification": "Restricted", "tlp": "GREEN", "caveats": ["H1"]},
        legal_basis="DPDP Act 2023 s.17(1)(c); India–Canada arrangement",
        title="Follow-up on the consignee you reported",
        body="Building on your earlier note: the consignee also imports acetic anhydride.",
        refers_to=source,
    )
    with in_.client("in.ncb") as ncb:
        sent = ncb.post("/api/v1/messages", json=reuse)
        assert sent.status_code == 201, sent.text
        made = ncb.get(f"/api/v1/messages/{sent.json()['id']}").json()
    assert made["handling"]["tlp"] == "AMBER+STRICT", "the stricter TLP wins"
    assert set(made["handling"]["caveats"]) == {"H0", "H1", "H2"}, "the originator's caveats are not dropped"
    assert made["refers_to"] == source
    wait_for(lambda: message_state(ca, sent.json()["id"]) == "received")
    with in_.client("in.cbi") as cbi:
        unseen = cbi.post("/api/v1/messages", json=reuse | {"refers_to": source})
        assert unseen.status_code == 403, "only a message the officer may read can be reused"
    with in_.client("in.ncb") as ncb:
        held = ncb.post("/api/v1/messages", json=reuse | {"refers_to": None, "body": "He spoke at a protest rally."})
        assert held.json()["delivery"]["state"] == "held", held.text
        never_left = ncb.post("/api/v1/messages", json=reuse | {"refers_to": held.json()["id"]})
        assert never_left.status_code == 422 and "never reached" in never_left.json()["detail"]


def test_the_cli_forwards_refuses_and_answers_consent_as_the_api_does(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    plain = sent_to_india(ca, in_, caveats=["H0"])
    caveated = sent_to_india(ca, in_, caveats=["H2"])
    restricted = sent_to_india(ca, in_, caveats=["H3"], restrictions=RESTRICTION)

    def send(message_id: str, *extra: str) -> Any:
        args = ["--data", str(in_.data_dir), "--officer", "in.ncb", "--reason", "CBI runs the linked inquiry"]
        return in_.run_accord("forward", "send", message_id, *args, *extra)

    done = send(plain, "--to-agency", "CBI")
    assert done.returncode == 0 and "forwarded" in done.stdout, done.stderr
    refused = send(caveated, "--to-agency", "CBI")
    assert refused.returncode == 3 and "no onward dissemination" in refused.stdout, refused.stderr
    before = forwards_stored(in_)
    unknown = send(plain, "--to-agency", "STATE-POLICE")
    assert unknown.returncode == 1 and "not an agency of IN" in unknown.stderr
    assert forwards_stored(in_) == before

    asked = send(restricted, "--to-agency", "CBN")
    assert asked.returncode == 0 and "awaiting-consent" in asked.stdout, asked.stderr
    forward_id = asked.stdout.split()[1].rstrip(":")
    wait_for(lambda: forward_state(ca, forward_id) == "awaiting-consent")
    answered = ca.run_accord(
        "forward", "consent", forward_id, "--data", str(ca.data_dir), "--officer", "ca.rcmp", "--grant"
    )
    assert answered.returncode == 0 and "consent-granted" in answered.stdout, answered.stderr
    wait_for(lambda: forward_state(in_, forward_id) == "forwarded")
    listed = in_.run_accord("forward", "list", "--data", str(in_.data_dir), "--officer", "in.ncb")
    assert forward_id in listed.stdout


def test_the_forwards_list_reads_page_by_page(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    _, in_ = shared_pair
    with in_.client("in.ncb") as ncb:
        everything = [f["id"] for f in ncb.get("/api/v1/forwards").json()["forwards"]]
        assert len(everything) >= 2, "the forwards of the tests above"
        pages = every_page(ncb, "/api/v1/forwards", "forwards", limit=1)
        assert [page[0] for page in pages] == everything and all(len(page) == 1 for page in pages)
        assert_cursor_refused(ncb, "/api/v1/forwards", ncb.get("/api/v1/forwards", params={"limit": 1}).json()["next"])
