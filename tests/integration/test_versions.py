"""Versions between peers on a running pair: each node learns the other's wire versions from the start-up hellos; a
peer of the release before versions (a hello, a descriptor, an envelope without them: the golden format) is spoken to
and read in version 1; a peer sharing no version is refused with both sides' versions, its channel held, an alarm
raised, until it says hello in a version both speak again.

The older or newer peer is played with the running node's own keys: what it signs is exactly what that release
signs (tests/golden.py's claims, without `ver`; a hello without `versions`)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from accord.crypto.keys import NodeKeys
from accord.crypto.receipts import verify_receipt
from accord.crypto.signing import sign_claims, verify_claims
from accord.crypto.versions import OWN_VERSIONS
from accord.exchange.wake import HELLO_TYP
from accord.ledger.batch_receipts import is_delivery_proof
from accord.store.tables import inbound_envelopes, ledger_alarms, messages, peer_versions
from tests.integration.forgery import batch, claims_for, message, post_batch, seal
from tests.integration.nodes import RunningNode, draft, wait_for

HELLO = "/federation/v1/hello"
PROBLEM_JSON = "application/problem+json"
CA, IN = "ca-node-1", "in-node-1"


def hello(signer: NodeKeys, iss: str, aud: str, **claims: Any) -> str:
    return sign_claims(
        {"iss": iss, "aud": aud, "iat": int(time.time()), "jti": f"hello-{time.time_ns()}"} | claims,
        signer.signing,
        HELLO_TYP,
    )


def say_hello(to: RunningNode, token: str) -> httpx.Response:
    return httpx.post(to.url + HELLO, content=token, headers={"Content-Type": "application/jose"}, timeout=10.0)


def stored_versions(node: RunningNode, peer: str) -> Any:
    with node.engine.connect() as conn:
        return conn.execute(select(peer_versions).where(peer_versions.c.peer_node_id == peer)).one_or_none()


@pytest.fixture
def pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> Iterator[tuple[RunningNode, RunningNode]]:
    """The module's pair, on SQLite (a protocol's rules: tests/integration/conftest.py says why); whatever a test made
    a node believe of its peer's versions, a current hello puts back."""
    ca, india = shared_sqlite_pair
    yield ca, india
    current = {"versions": OWN_VERSIONS.claim()}
    assert say_hello(ca, hello(india.keys, IN, CA, **current)).status_code == 200
    assert say_hello(india, hello(ca.keys, CA, IN, **current)).status_code == 200


def test_each_node_learns_the_others_versions_from_the_start_up_hellos_and_shows_them(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, india = pair
    for node, peer in ((ca, IN), (india, CA)):
        row = wait_for(lambda node=node, peer=peer: (r := stored_versions(node, peer)) and r.source == "hello" and r)
        assert json.loads(row.advertised) == {"envelope": [1, 2], "protocol": [1]}
    listed = ca.run_accord("peer", "list", "--data", str(ca.data_dir))
    assert listed.returncode == 0, listed.stderr
    assert IN in listed.stdout and "envelope [1, 2]; protocol [1]" in listed.stdout
    shown = india.run_accord("peer", "show", CA, "--data", str(india.data_dir))
    assert shown.returncode == 0, shown.stderr
    assert "sending in           envelope 2; protocol 1" in shown.stdout
    assert "in its hello" in shown.stdout
    unknown = india.run_accord("peer", "show", "xx-node-9", "--data", str(india.data_dir))
    assert unknown.returncode == 1 and "no peer node xx-node-9 is pinned" in unknown.stderr


def test_the_answer_to_a_hello_is_the_answering_nodes_own_signed_hello_with_its_versions(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, india = pair
    answer = say_hello(india, hello(ca.keys, CA, IN, versions=OWN_VERSIONS.claim()))
    assert answer.status_code == 200, answer.text
    claims = verify_claims(answer.json()["hello"], india.keys.public.signing)
    assert (claims["iss"], claims["aud"], claims["versions"]) == (IN, CA, {"envelope": [1, 2], "protocol": [1]})


def test_a_node_of_the_release_before_versions_is_read_and_spoken_to_in_version_1(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, india = pair
    # Its hello carries no versions: India records that it advertised none.
    assert say_hello(india, hello(ca.keys, CA, IN)).status_code == 200
    row = stored_versions(india, CA)
    assert (row.advertised, row.source) == (None, "hello")
    shown = india.run_accord("peer", "show", CA, "--data", str(india.data_dir))
    assert "none (a release before versions: 1)" in shown.stdout and "envelope 1; protocol 1" in shown.stdout
    # Its envelope is the golden format (no `ver`): accepted, with a receipt.
    sent = message()
    claims = claims_for(sent)
    assert "ver" not in claims
    answer = post_batch(india.url, batch(seal(claims, ca.keys, india.keys.public), refs=[sent.id]), ca.keys.signing)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["outcome"] == "accepted"


def test_an_envelope_in_a_version_this_node_does_not_read_is_refused_naming_it_and_nothing_is_stored(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, india = pair
    sent = message()
    token = seal(claims_for(sent, ver=7), ca.keys, india.keys.public)
    answer = post_batch(india.url, batch(token, refs=[sent.id]), ca.keys.signing)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    problem = answer.json()
    assert problem["type"] == "urn:accord:problem:unsupported-envelope-version"
    assert (problem["version"], problem["supported"]) == (7, [1, 2])
    assert "format version 7" in problem["detail"]
    with india.engine.connect() as conn:
        assert conn.execute(select(inbound_envelopes).where(inbound_envelopes.c.ref_id == sent.id)).first() is None


def test_a_peer_sharing_no_version_is_refused_its_channel_held_and_released_by_its_next_hello(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, india = pair
    newer = {"envelope": [7, 8], "protocol": [1]}
    refused = say_hello(ca, hello(india.keys, IN, CA, versions=newer))
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"] == "urn:accord:problem:no-common-version"
    assert (problem["supported"], problem["peer"]) == ({"envelope": [1, 2], "protocol": [1]}, newer)
    assert "this node understands [1, 2], the peer advertises [7, 8]" in problem["detail"]
    assert problem["hello"]  # Canada's own signed hello, so India's operator sees Canada's versions
    with ca.engine.connect() as conn:
        alarm = conn.execute(
            select(ledger_alarms).where(ledger_alarms.c.kind == "no-common-version").order_by(ledger_alarms.c.id.desc())
        ).first()
    assert alarm is not None and alarm.origin == f"accord/{IN}" and "[7, 8]" in alarm.detail

    with ca.client("ca.rcmp") as rcmp:
        created = rcmp.post("/api/v1/messages", json=draft(title="Held while no version is shared"))
        assert created.status_code == 201, created.text
    message_id = created.json()["id"]

    def last_error() -> str | None:
        with ca.engine.connect() as conn:
            row = conn.execute(select(messages.c.last_error, messages.c.state).where(messages.c.id == message_id)).one()
        return row.last_error if row.state == "queued" else None

    assert "no-common-version" in wait_for(last_error)
    listed = ca.run_accord("peer", "list", "--data", str(ca.data_dir))
    assert "nothing: no envelope version in common" in listed.stdout

    # India says hello again as a node of the release before versions: Canada sends it the message in version 1.
    assert say_hello(ca, hello(india.keys, IN, CA)).status_code == 200

    def delivered() -> bool:
        with ca.engine.connect() as conn:
            return conn.execute(select(messages.c.state).where(messages.c.id == message_id)).scalar_one() == "delivered"

    wait_for(delivered)


def test_a_peer_advertising_only_version_1_is_sent_version_1_envelopes_each_with_its_own_receipt(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, india = pair
    older = {"envelope": [1], "protocol": [1]}
    assert say_hello(ca, hello(india.keys, IN, CA, versions=older)).status_code == 200
    with ca.client("ca.rcmp") as rcmp:
        created = rcmp.post("/api/v1/messages", json=draft(title="To a peer of envelope version 1"))
        assert created.status_code == 201, created.text
    message_id = created.json()["id"]

    def receipt() -> str | None:
        with ca.engine.connect() as conn:
            return conn.execute(select(messages.c.receipt).where(messages.c.id == message_id)).scalar_one()

    kept = wait_for(receipt)
    assert not is_delivery_proof(kept)  # a compact JWS of its own, not a batch receipt with a proof
    assert verify_receipt(kept, india.keys.public, message_id).ref == message_id
    with india.engine.connect() as conn:
        digest = conn.execute(
            select(inbound_envelopes.c.digest).where(inbound_envelopes.c.ref_id == message_id)
        ).scalar_one()
    assert verify_receipt(kept, india.keys.public, message_id).digest == digest
