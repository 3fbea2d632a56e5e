"""Both nodes checkpoint their ledgers and countersign each other's; a rewritten or forged history raises alarms."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import Engine, delete, insert, select, update

from accord.ledger.events import leaf_bytes, leaf_record
from accord.ledger.notes import CheckpointBody, origin_for, sign_checkpoint
from accord.ledger.tree import MemoryTree, leaf_hash
from accord.store.tables import checkpoints, events, ledger_nodes
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PairTemplates, RunningNode, draft, wait_for

CHECKPOINTS = "/federation/v1/checkpoints"
ORIGIN_CA = "accord/ca-node-1"


@pytest.fixture
def ledger_pair(
    templates: PairTemplates, databases: DatabaseFactory, tmp_path: Path
) -> Iterator[tuple[RunningNode, RunningNode]]:
    ca, in_ = templates.copy(databases, tmp_path)
    for node in (ca, in_):  # both start at once: each finds the other when it comes up
        node.extra_env["ACCORD_CHECKPOINT_INTERVAL_S"] = "0.3"
        node.launch()
    for node in (ca, in_):
        node.wait_healthy()
    yield ca, in_
    ca.dispose()
    in_.dispose()


def status(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/api/v1/audit/status")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def alarms(client: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = status(client)["alarms"]
    return found


def send_and_deliver(ca: RunningNode) -> str:
    with ca.client("ca.rcmp") as rcmp:
        sent = rcmp.post("/api/v1/messages", json=draft())
        assert sent.status_code == 201, sent.text
        message_id: str = sent.json()["id"]
        wait_for(lambda: rcmp.get(f"/api/v1/messages/{message_id}").json()["delivery"]["state"] == "delivered")
    return message_id


def test_receipt_is_proven_in_the_receivers_ledger_against_a_checkpoint_both_nodes_signed(
    ledger_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = ledger_pair
    message_id = send_and_deliver(ca)
    with ca.client("ca.operator") as operator, ca.client("ca.rcmp") as rcmp:

        def proof() -> dict[str, Any] | None:
            body: dict[str, Any] = operator.get(f"/api/v1/audit/messages/{message_id}/proof").json()
            return body if body["verified"] else None

        proven = wait_for(proof, 30)
        logs = {(leaf["log"], leaf["event"]) for leaf in proven["leaves"]}
        assert {("own", "message.created"), ("own", "envelope.delivered"), ("peer", "envelope.received")} <= logs
        [receiver] = [leaf for leaf in proven["leaves"] if leaf["log"] == "peer"]
        note = receiver["checkpoint"]["note"]
        assert note.startswith("accord/in-node-1\n")
        assert "\u2014 accord/in-node-1 " in note and "\u2014 accord/ca-node-1 " in note
        assert len(receiver["proof"]) >= 1

        forbidden = rcmp.get(f"/api/v1/audit/messages/{message_id}/proof")
        assert forbidden.status_code == 403
        assert rcmp.get("/api/v1/audit/status").status_code == 403

    # Both signatures are kept on both sides: India holds Canada's checkpoints with its own countersignature.
    with in_.client("in.operator") as india:
        witnessed = [c for c in status(india)["checkpoints"] if c["origin"] == "accord/ca-node-1"]
        assert witnessed and all(c["countersigned"] and c["cosigner"] == "accord/in-node-1" for c in witnessed)
        assert alarms(india) == []


def rewrite_history(engine: Engine) -> None:
    """What an insider with database access would do: change an old event and rebuild every hash after it."""
    with engine.begin() as conn:
        rows = conn.execute(select(events).order_by(events.c.id)).all()
        conn.execute(update(events).where(events.c.id == 1).values(type="officer.created", actor="someone-else"))
        hashes = []
        for row in rows:
            kind, actor = ("officer.created", "someone-else") if row.id == 1 else (row.type, row.actor)
            record = leaf_record(row.id, row.at, kind, actor, row.refs, row.payload_sha256)
            hashes.append(leaf_hash(leaf_bytes(record)))
            conn.execute(update(events).where(events.c.id == row.id).values(leaf_hash=hashes[-1]))
        tree = MemoryTree.from_leaf_hashes(hashes)
        conn.execute(delete(ledger_nodes))
        level = 1
        while tree.size >> level:
            conn.execute(
                insert(ledger_nodes),
                [{"level": level, "idx": i, "hash": tree.node(level, i)} for i in range(tree.size >> level)],
            )
            level += 1


def test_a_rewritten_history_is_refused_by_the_peer_and_raises_alarms_on_both_sides(
    ledger_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = ledger_pair
    send_and_deliver(ca)
    with ca.client("ca.operator") as operator:
        wait_for(
            lambda: any(
                c["countersigned"] for c in status(operator)["checkpoints"] if c["origin"].endswith("ca-node-1")
            )
        )
    ca.stop()
    rewrite_history(ca.engine)
    ca.start()
    send_and_deliver(ca)  # the log grows, so the next checkpoint round signs the rewritten tree

    with in_.client("in.operator") as india:
        raised = wait_for(lambda: [a for a in alarms(india) if a["kind"] == "history-rewritten"], 30)
        assert "ca-node-1" in raised[0]["detail"] and "rewritten" in raised[0]["detail"]
    with in_.engine.connect() as conn:
        logged = conn.execute(select(events.c.refs).where(events.c.type == "ledger.alarm")).scalars().all()
    assert any("history-rewritten" in refs for refs in logged), "the alarm itself is in India's ledger"
    with ca.client("ca.operator") as operator:
        wait_for(lambda: [a for a in alarms(operator) if a["kind"] == "peer-reports-inconsistency"], 30)
        own = [c for c in status(operator)["checkpoints"] if c["origin"] == "accord/ca-node-1"]
        assert not own[0]["countersigned"], "the rewritten head stays without India's countersignature"


def _post_note(node: RunningNode, note: str, from_size: int = 0, proof: list[str] | None = None) -> httpx.Response:
    payload = {"checkpoint": note, "from_size": from_size, "consistency": proof or []}
    return httpx.post(node.url + CHECKPOINTS, json=payload, timeout=10.0)


def _problem(response: httpx.Response, status_code: int, slug: str) -> None:
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == f"urn:accord:problem:{slug}"


def test_forged_split_and_shrunk_checkpoints_are_refused_each_with_its_alarm(
    ledger_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = ledger_pair
    send_and_deliver(ca)
    origin = origin_for("ca-node-1")
    with in_.engine.connect() as conn:
        wait_for(lambda: conn.execute(select(checkpoints).where(checkpoints.c.origin == origin)).first(), 30)
    ca.stop()  # no more genuine checkpoints from Canada: the forgeries below are compared with the last one
    with in_.engine.connect() as conn:
        seen = wait_for(
            lambda: conn.execute(
                select(checkpoints).where(checkpoints.c.origin == origin).order_by(checkpoints.c.size.desc())
            ).first(),
            30,
        )
    now = int(time.time())

    stranger = OKPKey.generate_key("Ed25519")
    forged = sign_checkpoint(CheckpointBody(origin, seen.size + 5, b"\x01" * 32, now), stranger)
    _problem(_post_note(in_, forged.note, seen.size), 400, "bad-signature")

    unknown = sign_checkpoint(CheckpointBody("accord/xx-node-9", 3, b"\x02" * 32, now), stranger)
    _problem(_post_note(in_, unknown.note), 403, "unknown-sender")

    ca_key = ca.keys.signing
    split = sign_checkpoint(CheckpointBody(origin, seen.size, b"\x03" * 32, now), ca_key)
    _problem(_post_note(in_, split.note, seen.size), 409, "inconsistent-checkpoint")

    shrunk = sign_checkpoint(CheckpointBody(origin, max(seen.size - 1, 0), b"\x04" * 32, now), ca_key)
    _problem(_post_note(in_, shrunk.note, 0), 409, "inconsistent-checkpoint")

    _problem(_post_note(in_, "not a checkpoint"), 400, "malformed-artefact")
    assert httpx.post(in_.url + CHECKPOINTS, content=b"{", timeout=10.0).status_code == 422

    with in_.client("in.operator") as india:
        kinds = [a["kind"] for a in alarms(india)]
    for kind in ("bad-checkpoint-signature", "unknown-origin", "split-view", "log-truncated"):
        assert kind in kinds, kinds
    with in_.engine.connect() as conn:
        stored = conn.execute(select(checkpoints.c.root).where(checkpoints.c.origin == origin)).scalars().all()
    refused = {bytes([b]) * 32 for b in range(1, 5)}
    assert not refused & {bytes(root) for root in stored}, "a refused checkpoint is not stored"
