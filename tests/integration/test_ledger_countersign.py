"""Both nodes checkpoint their ledgers and countersign each other's, each checkpoint in a request the peer signed; a
rewritten, truncated or split history signed by the peer raises an alarm, a stranger or a replay raises none; operators
page through alarms and acknowledge them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import Engine, delete, func, insert, select, update

from accord.ledger.alarms import AlarmKind, raise_alarm
from accord.ledger.events import leaf_bytes, leaf_record, tree_root
from accord.ledger.notes import CheckpointBody, sign_checkpoint
from accord.ledger.tree import MemoryTree, leaf_hash
from accord.store.tables import checkpoints, events, ledger_alarms, ledger_head, ledger_nodes
from tests.conftest import DatabaseFactory
from tests.integration.forgery import checkpoint_claims, forge_signed_request, sign_request
from tests.integration.nodes import PairTemplates, RunningNode, draft, wait_for
from tests.integration.test_web_sessions import csrf_of, sign_in

CHECKPOINTS = "/federation/v1/checkpoints"
ALARMS = "/api/v1/audit/alarms"
ORIGIN_CA = "accord/ca-node-1"
CONFLICT = "inconsistent-checkpoint"
ACKED = "alarm-already-acknowledged"


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
    """The checkpoint submission as it was before it was signed: JSON anyone could post."""
    payload = {"checkpoint": note, "from_size": from_size, "consistency": proof or []}
    return httpx.post(node.url + CHECKPOINTS, json=payload, timeout=10.0)


def _post_request(node: RunningNode, token: str | bytes) -> httpx.Response:
    return httpx.post(node.url + CHECKPOINTS, content=token, headers={"Content-Type": "application/jose"}, timeout=10.0)


def _problem(response: httpx.Response, status_code: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:accord:problem:{slug}"
    return body


@dataclass(frozen=True)
class Witness:
    """What India holds: its alarms, its ledger's size, and the checkpoints of Canada's it countersigned."""

    alarms: int
    ledger: int
    canada_checkpoints: int


def checkpoint_of(node: RunningNode, origin: str) -> Any:
    """A checkpoint of `origin` the node holds, read in a transaction of its own: a poll inside one SQLite read
    transaction would see its first snapshot again and again."""
    with node.engine.connect() as conn:
        return conn.execute(select(checkpoints).where(checkpoints.c.origin == origin)).first()


def witness_state(node: RunningNode) -> Witness:
    with node.engine.connect() as conn:
        return Witness(
            conn.scalar(select(func.count()).select_from(ledger_alarms)) or 0,
            int(conn.execute(select(ledger_head.c.size)).scalar_one()),
            conn.scalar(select(func.count()).select_from(checkpoints).where(checkpoints.c.origin == ORIGIN_CA)) or 0,
        )


def test_strangers_and_replays_raise_no_alarm_but_a_split_or_shrunk_log_signed_by_the_peer_does(
    ledger_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = ledger_pair
    send_and_deliver(ca)
    wait_for(lambda: checkpoint_of(in_, ORIGIN_CA), 30)
    ca.stop()  # no more genuine checkpoints from Canada: what follows is compared with the last one
    with in_.engine.connect() as conn:
        seen = conn.execute(
            select(checkpoints).where(checkpoints.c.origin == ORIGIN_CA).order_by(checkpoints.c.size.desc())
        ).first()
    assert seen is not None
    with ca.engine.connect() as conn:
        small_root = tree_root(conn, 4)
    now, ca_key, stranger = int(time.time()), ca.keys.signing, OKPKey.generate_key("Ed25519")
    bogus_proof = [b"\x07" * 32] * 4
    extension = sign_checkpoint(CheckpointBody(ORIGIN_CA, seen.size + 5, b"\x01" * 32, now), ca_key)
    before = witness_state(in_)

    # Anyone who reaches the port, holding Canada's genuine notes (every audit bundle has them): refused, no alarm.
    _problem(_post_note(in_, seen.note, seen.size), 400, "malformed-artefact")  # unsigned: not a JWS
    _problem(_post_note(in_, extension.note, seen.size, [p.hex() for p in bogus_proof]), 400, "malformed-artefact")
    in_stranger_request = sign_request(checkpoint_claims(extension.note, seen.size, bogus_proof), stranger)
    assert _problem(_post_request(in_, in_stranger_request), 401, "peer-not-authenticated")["reason"] == (
        "unknown-sender"
    )
    under_pinned_kid = forge_signed_request(
        checkpoint_claims(extension.note, seen.size, bogus_proof), stranger, ca.keys.public.signing_fingerprint
    )
    assert _problem(_post_request(in_, under_pinned_kid), 401, "peer-not-authenticated")["reason"] == "bad-signature"
    stale_request = sign_request(checkpoint_claims(seen.note, iat=now - 3600), ca_key)
    assert _problem(_post_request(in_, stale_request), 401, "peer-not-authenticated")["reason"] == "stale"
    _problem(_post_request(in_, b"{"), 400, "malformed-artefact")
    _problem(_post_request(in_, sign_request(checkpoint_claims("not a checkpoint"), ca_key)), 400, "malformed-artefact")

    # Canada's own old checkpoints again: the one countersigned gets the same answer, an older one is stale.
    again = _post_request(in_, sign_request(checkpoint_claims(seen.note, seen.size), ca_key))
    assert again.status_code == 200 and again.json()["cosignature"] == seen.cosignature
    older = sign_checkpoint(CheckpointBody(ORIGIN_CA, 4, small_root, int(seen.issued_at.timestamp()) - 60), ca_key)
    _problem(_post_request(in_, sign_request(checkpoint_claims(older.note), ca_key)), 409, "stale-checkpoint")

    assert witness_state(in_) == before, "a refusal left an alarm, a ledger leaf or a checkpoint behind"
    with in_.client("in.operator") as india:
        assert alarms(india) == []

    # Contradictions Canada's key signed: each refused with its alarm.
    split = sign_checkpoint(CheckpointBody(ORIGIN_CA, seen.size, b"\x03" * 32, now), ca_key)
    body = _problem(_post_request(in_, sign_request(checkpoint_claims(split.note, seen.size), ca_key)), 409, CONFLICT)
    assert body["contradiction"] == "split-view"
    shrunk = sign_checkpoint(CheckpointBody(ORIGIN_CA, 4, small_root, now + 1), ca_key)
    body = _problem(_post_request(in_, sign_request(checkpoint_claims(shrunk.note), ca_key)), 409, CONFLICT)
    assert body["contradiction"] == "log-truncated"

    with in_.client("in.operator") as india:
        assert sorted(a["kind"] for a in alarms(india)) == ["log-truncated", "split-view"]
        assert status(india)["unacknowledged_alarms"] == 2
    with in_.engine.connect() as conn:
        stored = conn.execute(select(checkpoints.c.root).where(checkpoints.c.origin == ORIGIN_CA)).scalars().all()
    assert b"\x03" * 32 not in {bytes(root) for root in stored}, "a refused checkpoint is not stored"


def test_alarms_are_paged_filtered_and_acknowledged_through_the_api_and_the_audit_page(
    ledger_pair: tuple[RunningNode, RunningNode],
) -> None:
    _, in_ = ledger_pair
    kinds = [AlarmKind.SPLIT_VIEW, AlarmKind.LOG_TRUNCATED, AlarmKind.SPLIT_VIEW, AlarmKind.HISTORY_REWRITTEN]
    raised = [
        raise_alarm(in_.engine, "in-node-1", ORIGIN_CA, kind, f"contradiction number {n}", {"n": n})
        for n, kind in enumerate(kinds)
    ]
    ids = [a.id for a in raised if a is not None]

    with in_.client("in.operator") as operator, in_.client("in.ncb") as officer:
        first = operator.get(ALARMS, params={"limit": 3}).json()
        rest = operator.get(ALARMS, params={"limit": 3, "after": first["next_after"]}).json()
        assert [a["id"] for a in first["alarms"]] == ids[:3] and first["next_after"] == ids[2]
        assert [a["id"] for a in rest["alarms"]] == ids[3:] and rest["next_after"] is None
        splits = operator.get(ALARMS, params={"kind": "split-view"}).json()["alarms"]
        assert [a["id"] for a in splits] == [ids[0], ids[2]]
        assert operator.get(ALARMS, params={"since": "2000-01-01T00:00:00"}).status_code == 422

        acked = operator.post(f"{ALARMS}/{ids[1]}/acknowledgement", json={"note": "the peer restored a backup"})
        assert acked.status_code == 200, acked.text
        assert acked.json()["acknowledged"]["by"] == "in.operator"
        _problem(operator.post(f"{ALARMS}/{ids[1]}/acknowledgement", json={"note": "again"}), 409, ACKED)
        _problem(operator.post(f"{ALARMS}/999999/acknowledgement", json={"note": "none"}), 404, "alarm-not-found")
        assert operator.post(f"{ALARMS}/{ids[0]}/acknowledgement", json={"note": ""}).status_code == 422
        _problem(officer.post(f"{ALARMS}/{ids[0]}/acknowledgement", json={"note": "mine?"}), 403, "forbidden")
        _problem(officer.get(ALARMS), 403, "forbidden")

        open_ = operator.get(ALARMS, params={"acknowledged": "false"}).json()
        done = operator.get(ALARMS, params={"acknowledged": "true"}).json()
        assert [a["id"] for a in open_["alarms"]] == [ids[0], ids[2], ids[3]] and open_["unacknowledged"] == 3
        assert [a["id"] for a in done["alarms"]] == [ids[1]]
        assert done["alarms"][0]["acknowledged"]["note"] == "the peer restored a backup"

    web, signed_in = sign_in(in_, "in.operator")
    try:
        assert signed_in.status_code == 303
        page = web.get("/audit")
        assert 'title="unacknowledged ledger alarms">3</span>' in page.text, "the navigation counts open alarms"
        assert "Alarms: 3 open of 4" in page.text and "contradiction number 1" not in page.text
        posted = web.post(f"/audit/alarms/{ids[0]}/acknowledgement", data={"note": "checked", "csrf": csrf_of(page)})
        assert posted.status_code == 303
        after = web.get("/audit?show=all")
        assert 'title="unacknowledged ledger alarms">2</span>' in after.text
        assert "the peer restored a backup" in after.text and "by in.operator" in after.text
    finally:
        web.close()
