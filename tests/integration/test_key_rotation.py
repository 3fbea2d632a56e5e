"""Key rotation between two real node processes: Canada's operator rotates its signing key at the command line while
messages flow both ways; none is lost, India pins the new key, and Canada's old log still verifies offline from the
trust file written before the rotation. A stranger's statement on the federation port is refused and changes nothing.
One pair per store for the module."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from joserfc.jwk import OKPKey
from sqlalchemy import func, select

from accord.crypto.keys import KeyRole
from accord.crypto.rotation import RotationStatement, sign_rotation
from accord.exchange.transport import KEY_ROTATIONS_PATH
from accord.store.tables import events, key_rotations, peers
from tests.integration.nodes import RunningNode, draft, wait_for


def pinned_key(node: RunningNode, peer: str) -> str:
    with node.engine.connect() as conn:
        return str(conn.execute(select(peers.c.signing_fingerprint).where(peers.c.node_id == peer)).scalar_one())


def event_refs(node: RunningNode, event_type: str) -> list[dict[str, str]]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(events.c.refs).where(events.c.type == event_type).order_by(events.c.id)).all()
    return [json.loads(row.refs) for row in rows]


def test_canadas_signing_key_rotates_while_messages_flow_and_the_old_log_still_verifies_offline(
    shared_pair: tuple[RunningNode, RunningNode], tmp_path: Path
) -> None:
    ca, in_ = shared_pair
    old_trust = tmp_path / "before.trust.json"
    assert ca.run_accord("audit", "trust-file", "--data", str(ca.data_dir), "--out", str(old_trust)).returncode == 0
    old_key = ca.keys.public.signing_fingerprint
    with ca.client("ca.rcmp") as rcmp, in_.client("in.ncb") as ncb:
        sent = [rcmp.post("/api/v1/messages", json=draft(title=f"Before {i}")).json()["id"] for i in range(3)]

        rotated = ca.run_accord("keys", "rotate", "--signing", "--data", str(ca.data_dir))

        assert rotated.returncode == 0, rotated.stderr
        new_key = ca.keys.public.signing_fingerprint
        assert new_key != old_key and f"new key  {new_key}" in rotated.stdout
        assert "statement delivered to in-node-1" in rotated.stdout
        sent += [rcmp.post("/api/v1/messages", json=draft(title=f"After {i}")).json()["id"] for i in range(3)]
        wait_for(  # each one receipted by India (under the new key for the later three)
            lambda: all(
                rcmp.get(f"/api/v1/messages/{m}").json()["delivery"]["state"] in {"delivered", "read"} for m in sent
            )
        )
        answer = ncb.post(f"/api/v1/messages/{sent[-1]}/reply", json={"body": "Received after the rotation."})
        assert answer.status_code == 201, answer.text
        wait_for(lambda: rcmp.get(f"/api/v1/messages/{answer.json()['id']}").status_code == 200)

        assert {rcmp.get(f"/api/v1/messages/{m}").json()["delivery"]["state"] for m in sent} <= {"delivered", "read"}
        inbox = {m["id"] for m in ncb.get("/api/v1/messages", params={"box": "inbox", "limit": 100}).json()["messages"]}
        assert set(sent) <= inbox
    assert pinned_key(in_, ca.node_id) == new_key
    assert event_refs(in_, "peer.key_rotated")[-1]["new"] == new_key
    assert event_refs(ca, "key.rotated")[-1]["old"] == old_key

    bundle = tmp_path / "ca.json.gz"
    assert ca.run_accord("audit", "checkpoint", "--data", str(ca.data_dir)).returncode == 0
    assert ca.run_accord("audit", "export", "--data", str(ca.data_dir), "--out", str(bundle)).returncode == 0
    verified = ca.run_accord("audit", "verify", str(bundle), "--trust", str(old_trust), "--allow-uncovered-tail")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shown = " ".join(verified.stdout.split())  # the console may wrap the long line
    assert f"{new_key} trusted: its rotation statements lead to it from {old_key}" in shown


def test_a_strangers_rotation_statement_on_the_federation_port_is_refused_and_changes_nothing(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    stranger = OKPKey.generate_key("Ed25519")
    issued = datetime.now(UTC).replace(microsecond=0)
    statement = RotationStatement(
        node_id=ca.node_id,
        aud=in_.node_id,
        role=KeyRole.SIGNING,
        old_key=OKPKey.import_key(ca.keys.public.signing.as_dict(private=False)),
        new_key=OKPKey.import_key(stranger.as_dict(private=False)),
        issued_at=issued,
        overlap_until=issued + timedelta(days=7),
        emergency=False,
    )
    with in_.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(key_rotations)).scalar_one()
    pinned = pinned_key(in_, ca.node_id)

    answer = httpx.post(
        in_.url + KEY_ROTATIONS_PATH,
        content=sign_rotation(statement, stranger),
        headers={"Content-Type": "application/jose"},
    )

    assert answer.status_code == 403, answer.text
    assert answer.json()["type"] == "urn:accord:problem:unknown-sender"
    with in_.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(key_rotations)).scalar_one() == before
    assert pinned_key(in_, ca.node_id) == pinned
