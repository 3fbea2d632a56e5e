"""Amendments, the other opening kinds, attachments and channel health between two real node processes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from accord.store.tables import blob_transfers, blobs, inbound_envelopes, messages, outbox
from tests.conftest import BACKENDS, databases_for
from tests.integration.nodes import PairTemplates, RunningNode, draft, running_pair, wait_for
from tests.integration.test_web_sessions import sign_in
from tests.person_lists import as_pdf

ATTACHMENT_LIMIT = 6 * 1024 * 1024  # both nodes: room for the 5 MB attachment, and a limit cheap to exceed
PROBLEM = "application/problem+json"


class Pair:
    """The shared Canada–India pair of this module, with one signed-in client per officer."""

    def __init__(self, ca: RunningNode, in_: RunningNode) -> None:
        self.ca = ca
        self.in_ = in_
        self._clients: dict[str, httpx.Client] = {}

    def client(self, username: str) -> httpx.Client:
        if username not in self._clients:
            node = self.ca if username.startswith("ca.") else self.in_
            self._clients[username] = node.client(username)
        return self._clients[username]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


@pytest.fixture(scope="module", params=BACKENDS)
def nodes(
    request: pytest.FixtureRequest, templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """One running pair per backend for the whole module: each test sends its own messages and checks only those."""
    backend = str(request.param)
    databases = databases_for(backend, tmp_path_factory.mktemp(f"db-{backend}"))
    limit = {"ACCORD_MAX_ATTACHMENT_BYTES": str(ATTACHMENT_LIMIT)}
    with running_pair(templates, databases, tmp_path_factory.mktemp(f"nodes-{backend}"), env=limit) as (ca, in_):
        pair = Pair(ca, in_)
        try:
            yield pair
        finally:
            pair.close()
    databases.drop_all()


def send(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/messages", json=draft(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def delivery(client: httpx.Client, message_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/messages/{message_id}")
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()["delivery"]
    return state


def wait_delivered(client: httpx.Client, *message_ids: str) -> None:
    """Wait for the sender to hold the receipt of each message (read counts too: it was delivered first)."""
    wait_for(lambda: all(delivery(client, i)["state"] in {"delivered", "read"} for i in message_ids), 30)


def box(client: httpx.Client, name: str) -> dict[str, dict[str, Any]]:
    listed = client.get("/api/v1/messages", params={"box": name, "limit": 500})
    assert listed.status_code == 200, listed.text
    return {m["id"]: m for m in listed.json()["messages"]}


def amend(client: httpx.Client, message_id: str, **amendment: Any) -> httpx.Response:
    return client.post(f"/api/v1/messages/{message_id}/amendments", json=amendment)


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"urn:accord:problem:{slug}"
    assert problem["status"] == status
    return problem


def count(node: RunningNode, query: Any) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_withdrawal_retraction_and_correction_travel_to_india_and_take_effect_on_both_sides(nodes: Pair) -> None:
    rcmp, ncb = nodes.client("ca.rcmp"), nodes.client("in.ncb")
    withdrawn = send(rcmp, title="To be withdrawn")["id"]
    retracted = send(rcmp, title="To be retracted")["id"]
    corrected = send(rcmp, title="To be corrected")["id"]
    wait_delivered(rcmp, withdrawn, retracted, corrected)

    amendments = {
        withdrawn: ("withdrawal", "withdrawn", {"reason": "sent to the wrong agency"}),
        retracted: ("retraction", "retracted", {"reason": "the information proved unreliable"}),
        corrected: (
            "correction",
            "corrected",
            {"reason": "wrong licence", "title": "Consignee (corrected)", "body": "The licence is ZX-42, not ZX-24."},
        ),
    }
    by: dict[str, str] = {}
    for original, (kind, _effect, fields) in amendments.items():
        response = amend(rcmp, original, kind=kind, **fields)
        assert response.status_code == 201, response.text
        assert response.json()["kind"] == kind
        assert response.json()["delivery"]["state"] == "queued"
        by[original] = response.json()["id"]
    wait_delivered(rcmp, *by.values())

    canada, india = box(rcmp, "outbox"), box(ncb, "inbox")
    for original, (kind, effect, _fields) in amendments.items():
        for view in (canada, india):
            assert view[original]["amendment"] == effect
            assert view[original]["amended_by"] == by[original]
            assert view[by[original]]["kind"] == kind
            assert view[by[original]]["refers_to"] == original
            assert view[by[original]]["case_id"] == view[original]["case_id"]
        assert india[by[original]]["delivery"]["state"] == "received"
        assert canada[by[original]]["delivery"]["receipt"]

    correction = ncb.get(f"/api/v1/messages/{by[corrected]}").json()
    assert correction["title"] == "Consignee (corrected)"
    assert correction["body"] == "The licence is ZX-42, not ZX-24."
    withdrawal = ncb.get(f"/api/v1/messages/{by[withdrawn]}").json()
    assert withdrawal["body"] == "sent to the wrong agency"
    assert withdrawal["title"] == "Withdrawal: To be withdrawn"

    # Each side's copy of the original shows what amended it, with the new text and a link to the amendment.
    for client, node, officer in ((rcmp, nodes.ca, "ca.rcmp"), (ncb, nodes.in_, "in.ncb")):
        original = client.get(f"/api/v1/messages/{corrected}").json()
        assert original["body"] != "The licence is ZX-42, not ZX-24."  # the original keeps what was sent
        assert original["amended"]["id"] == by[corrected]
        assert original["amended"]["body"] == "The licence is ZX-42, not ZX-24."
        browser, _ = sign_in(node, officer)
        try:
            shown = browser.get(f"/messages/{corrected}").text
            assert 'data-amendment="corrected"' in shown
            assert "The licence is ZX-42, not ZX-24." in shown
            assert f'href="/messages/{by[corrected]}"' in shown
            box_page = browser.get("/outbox" if officer == "ca.rcmp" else "/inbox").text
            assert 'class="badge amended withdrawn"' in box_page
        finally:
            browser.close()


def test_a_withdrawn_message_cannot_be_amended_again_and_only_its_sending_agency_may_amend_it(nodes: Pair) -> None:
    rcmp, cbsa = nodes.client("ca.rcmp"), nodes.client("ca.cbsa")
    ncb, cbi = nodes.client("in.ncb"), nodes.client("in.cbi")
    message_id = send(rcmp, title="Withdrawn once")["id"]
    wait_delivered(rcmp, message_id)
    first = amend(rcmp, message_id, kind="withdrawal", reason="no longer needed")
    assert first.status_code == 201, first.text

    for kind in ("withdrawal", "retraction", "correction"):
        again = amend(rcmp, message_id, kind=kind, reason="once more", body="new body")
        assert "already withdrawn" in assert_problem(again, 409, "not-amendable")["detail"]
    # The amendment itself is not amendable either.
    assert_problem(amend(rcmp, first.json()["id"], kind="retraction", reason="undo"), 409, "not-amendable")
    # Another Canadian agency cannot see, let alone amend, RCMP's message.
    assert_problem(amend(cbsa, message_id, kind="retraction", reason="not ours"), 403, "forbidden")

    wait_delivered(rcmp, first.json()["id"])
    # India received the message, but only the sending agency amends it.
    assert_problem(amend(ncb, message_id, kind="retraction", reason="we disagree"), 409, "not-amendable")
    assert_problem(amend(cbi, message_id, kind="retraction", reason="not ours"), 403, "forbidden")
    with nodes.in_.engine.connect() as conn:
        made_in_india = conn.execute(select(messages.c.id).where(messages.c.refers_to == message_id)).all()
    assert [row.id for row in made_in_india] == [first.json()["id"]]  # only Canada's withdrawal, as received
    assert box(ncb, "inbox")[message_id]["amendment"] == "withdrawn"
    assert box(rcmp, "outbox")[message_id]["amendment"] == "withdrawn"


def test_a_share_and_an_alert_are_delivered_and_a_response_must_name_what_it_answers(nodes: Pair) -> None:
    rcmp, ncb = nodes.client("ca.rcmp"), nodes.client("in.ncb")
    share = send(rcmp, kind="share", title="Seizure statistics, Q3")
    alert = send(rcmp, kind="alert", priority="urgent", title="Courier route change", focus_area="drugs")
    assert share["deadline"] is None
    assert alert["deadline"] is not None
    wait_delivered(rcmp, share["id"], alert["id"])

    inbox = box(ncb, "inbox")
    assert inbox[share["id"]]["kind"] == "share"
    assert inbox[alert["id"]]["kind"] == "alert"
    assert inbox[alert["id"]]["priority"] == "urgent"
    assert inbox[alert["id"]]["deadline"] is not None

    answer = ncb.post(
        f"/api/v1/messages/{alert['id']}/reply",
        json={"handling": {"classification": "Restricted"}, "title": "Re: route", "body": "Noted; watching."},
    )
    assert answer.status_code == 201, answer.text
    wait_delivered(ncb, answer.json()["id"])
    assert box(rcmp, "outbox")[alert["id"]]["delivery"]["answered_at"] is not None

    before = count(nodes.ca, select(func.count()).select_from(messages))
    orphan = rcmp.post("/api/v1/messages", json=draft(kind="response", title="An answer to nothing"))
    assert "names the message it answers" in assert_problem(orphan, 422, "invalid-input")["detail"]
    amendment_as_message = rcmp.post("/api/v1/messages", json=draft(kind="withdrawal"))
    assert_problem(amendment_as_message, 422, "invalid-input")
    assert count(nodes.ca, select(func.count()).select_from(messages)) == before


def test_a_large_attachment_travels_beside_the_envelope_and_only_the_recipient_agency_downloads_it(
    nodes: Pair,
) -> None:
    rcmp, cbsa = nodes.client("ca.rcmp"), nodes.client("ca.cbsa")
    ncb, cbi = nodes.client("in.ncb"), nodes.client("in.cbi")
    # A real PDF (the minimisation screen reads it before it leaves), made large by an embedded stream.
    data = as_pdf(["Laboratory report 2026/114: 4-AP, purity 98 %"], padding=os.urandom(5 * 1024 * 1024))
    digest = hashlib.sha256(data).hexdigest()
    uploaded = rcmp.post("/api/v1/attachments", content=data, headers={"Content-Type": "application/pdf"})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json() == {"sha256": digest, "size": len(data), "media_type": "application/pdf", "name": None}

    share = send(
        rcmp,
        kind="share",
        title="Laboratory report",
        attachments=[{"sha256": digest, "name": "lab-report.pdf"}],
    )
    wait_delivered(rcmp, share["id"])

    # The bytes went to /federation/v1/blobs once; the envelope only names them.
    with nodes.ca.engine.connect() as conn:
        pushed = conn.execute(select(blob_transfers.c.peer_node_id).where(blob_transfers.c.sha256 == digest)).all()
    assert [row.peer_node_id for row in pushed] == ["in-node-1"]
    with nodes.in_.engine.connect() as conn:
        stored = conn.execute(select(blobs).where(blobs.c.sha256 == digest)).one()
        content = conn.execute(select(messages.c.content).where(messages.c.id == share["id"])).scalar_one()
    assert (stored.size, stored.media_type, stored.origin) == (len(data), "application/pdf", "ca-node-1")
    assert len(content) < 16 * 1024

    opened = ncb.get(f"/api/v1/messages/{share['id']}").json()
    assert opened["attachments"] == [
        {"sha256": digest, "name": "lab-report.pdf", "media_type": "application/pdf", "size": len(data)}
    ]
    downloaded = ncb.get(f"/api/v1/attachments/{digest}")
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(downloaded.content).hexdigest() == digest
    assert downloaded.content == data

    # An officer who may not read it is told what one is told of an attachment that does not exist: the answer is no
    # oracle of what was exchanged.
    never = hashlib.sha256(b"never exchanged").hexdigest()
    unknown = without_request(assert_problem(cbi.get(f"/api/v1/attachments/{never}"), 404, "not-found"), never)
    for officer in (cbi, cbsa):
        refused = assert_problem(officer.get(f"/api/v1/attachments/{digest}"), 404, "not-found")
        assert without_request(refused, digest) == unknown
    assert rcmp.get(f"/api/v1/attachments/{digest}").content == data


def without_request(problem: dict[str, Any], sha256: str) -> dict[str, Any]:
    """A problem as any request for any attachment would have it: without its request id and the digest asked for."""
    return {k: str(v).replace(sha256, "<sha256>") for k, v in problem.items() if k != "request_id"}


def test_a_message_naming_an_attachment_never_uploaded_is_refused_and_nothing_is_stored(nodes: Pair) -> None:
    rcmp = nodes.client("ca.rcmp")
    unknown = hashlib.sha256(b"never uploaded").hexdigest()

    def stored() -> tuple[int, int, int]:
        return (
            count(nodes.ca, select(func.count()).select_from(messages)),
            count(nodes.ca, select(func.count()).select_from(outbox)),
            count(nodes.ca, select(func.count()).select_from(blobs)),
        )

    before = stored()
    single = rcmp.post("/api/v1/messages", json=draft(attachments=[{"sha256": unknown, "name": "x.pdf"}]))
    assert unknown in assert_problem(single, 422, "invalid-input")["detail"]
    batch = rcmp.post(
        "/api/v1/messages/batch",
        json={"messages": [draft(title="fine"), draft(attachments=[{"sha256": unknown, "name": "x.pdf"}])]},
    )
    assert_problem(batch, 422, "invalid-input")  # all or nothing: the valid draft is not queued either
    not_a_digest = rcmp.post("/api/v1/messages", json=draft(attachments=[{"sha256": "../../etc/passwd", "name": "x"}]))
    assert_problem(not_a_digest, 422, "invalid-input")
    assert stored() == before
    assert_problem(rcmp.get(f"/api/v1/attachments/{unknown}"), 404, "not-found")


def test_an_attachment_over_the_size_limit_is_refused_with_413_and_not_stored(nodes: Pair) -> None:
    rcmp = nodes.client("ca.rcmp")
    before = count(nodes.ca, select(func.count()).select_from(blobs))
    too_big = b"\0" * (ATTACHMENT_LIMIT + 1)
    declared = rcmp.post("/api/v1/attachments", content=too_big, headers={"Content-Type": "application/pdf"})
    assert_problem(declared, 413, "payload-too-large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the node counts while it reads
        for start in range(0, len(too_big), 1024 * 1024):
            yield too_big[start : start + 1024 * 1024]

    streamed = rcmp.post("/api/v1/attachments", content=chunks(), headers={"Content-Type": "application/pdf"})
    assert_problem(streamed, 413, "payload-too-large")
    exactly = rcmp.post("/api/v1/attachments", content=too_big[:-1], headers={"Content-Type": "application/pdf"})
    assert exactly.status_code == 201, exactly.text
    assert count(nodes.ca, select(func.count()).select_from(blobs)) == before + 1


def test_the_operator_sees_an_empty_outbox_and_no_sequence_gaps_once_everything_is_delivered(nodes: Pair) -> None:
    rcmp, ncb = nodes.client("ca.rcmp"), nodes.client("in.ncb")
    sent = rcmp.post("/api/v1/messages/batch", json={"messages": [draft(title=f"health {n}") for n in range(25)]})
    assert sent.status_code == 201, sent.text
    ids = [m["id"] for m in sent.json()["messages"]]
    wait_delivered(rcmp, *ids)
    answer = ncb.post(
        f"/api/v1/messages/{ids[0]}/reply",
        json={"handling": {"classification": "Restricted"}, "title": "Re: health", "body": "Received."},
    )
    assert answer.status_code == 201, answer.text
    wait_delivered(ncb, answer.json()["id"])  # traffic on the India → Canada channel too
    wait_for(lambda: count(nodes.ca, select(func.count()).select_from(outbox)) == 0, 30)
    wait_for(lambda: count(nodes.in_, select(func.count()).select_from(outbox)) == 0, 30)

    for node, operator, inbound_channel in (
        (nodes.ca, "ca.operator", "in-node-1>ca-node-1"),
        (nodes.in_, "in.operator", "ca-node-1>in-node-1"),
    ):
        status = nodes.client(operator).get("/api/v1/channels")
        assert status.status_code == 200, status.text
        health = status.json()
        assert health["outbox"] == []
        [inbound] = [c for c in health["inbound"] if c["channel"] == inbound_channel]
        assert inbound["gaps"] == []
        assert inbound["missing"] == 0
        with node.engine.connect() as conn:
            stored = conn.execute(
                select(func.count(), func.max(inbound_envelopes.c.seq)).where(
                    inbound_envelopes.c.channel == inbound_channel
                )
            ).one()
        assert inbound["received"] == inbound["highest_seq"] == stored[0] == stored[1]

    refused = rcmp.get("/api/v1/channels")
    assert refused.status_code >= 400
    assert refused.headers["content-type"].startswith(PROBLEM)


def test_a_message_withdrawn_while_india_is_down_arrives_together_with_its_withdrawal(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = pair
    in_.stop()
    with ca.client("ca.rcmp") as rcmp:
        message_id = send(rcmp, title="Sent in haste")["id"]
        withdrawal = amend(rcmp, message_id, kind="withdrawal", reason="sent in haste")
        assert withdrawal.status_code == 201, withdrawal.text
        withdrawal_id = withdrawal.json()["id"]
        wait_for(lambda: delivery(rcmp, withdrawal_id)["attempts"] >= 1, 30)
        in_.start()
        wait_for(lambda: delivery(rcmp, withdrawal_id)["state"] in {"delivered", "failed"}, 30)
        assert delivery(rcmp, message_id)["state"] == "delivered"
        assert delivery(rcmp, withdrawal_id)["state"] == "delivered", delivery(rcmp, withdrawal_id)["reason"]
    with in_.client("in.ncb") as ncb:
        assert box(ncb, "inbox")[message_id]["amendment"] == "withdrawn"
