"""Backup and restore of a running node: India is backed up while it runs, traffic flows both ways, India is killed
and its data directory and database destroyed, the backup restored, and the pair converges with nothing lost."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from accord.ledger.checkpoints import ledger_size
from accord.ledger.leaves import leaf_bytes
from accord.ledger.tree import leaf_hash
from accord.store.tables import checkpoints, events, ledger_alarms, messages
from tests.conftest import PG_ADMIN_DSN
from tests.integration.nodes import RunningNode, draft, wait_for

PASSPHRASE = "a long passphrase kept in the vault"


def _send(client: Any, **fields: Any) -> str:
    response = client.post("/api/v1/messages", json=draft(**fields))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _india_draft(title: str) -> dict[str, Any]:
    return {"recipient_agency": "RCMP", "title": title, "handling": {"classification": "Restricted", "tlp": "AMBER"}}


def _ids(node: RunningNode, direction: str) -> set[str]:
    with node.engine.connect() as conn:
        return set(conn.scalars(select(messages.c.id).where(messages.c.direction == direction)))


def _delivered(node: RunningNode, ids: set[str]) -> bool:
    """The node holds every one of `ids`, and those it sent carry the peer's receipt."""
    with node.engine.connect() as conn:
        rows = conn.execute(select(messages.c.direction, messages.c.state).where(messages.c.id.in_(ids))).all()
    return len(rows) == len(ids) and all(r.state in ("delivered", "read") for r in rows if r.direction == "outgoing")


def _destroy(node: RunningNode) -> None:
    """The disk failed: the data directory and the database are gone (an empty database is made again on PostgreSQL,
    as an operator's `createdb` would)."""
    node.kill9()
    if node._engine is not None:
        node._engine.dispose()
        node._engine = None
    shutil.rmtree(node.data_dir)
    url = make_url(node.database_url)
    if url.drivername.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(url.database) + suffix).unlink(missing_ok=True)
        return
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{url.database}"')


def _restore(node: RunningNode, archive: Path, passphrase: str = PASSPHRASE) -> Any:
    env = node.env() | {"ACCORD_BACKUP_PASSPHRASE": passphrase}
    return node.run_accord("node", "restore", "--from", str(archive), "--data", str(node.data_dir), env=env)


def test_a_destroyed_node_restored_from_its_backup_converges_with_its_peer_and_nothing_is_lost(
    pair: tuple[RunningNode, RunningNode], tmp_path: Path
) -> None:
    ca, india = pair
    archive = tmp_path / "india.backup.tar"
    with ca.client("ca.rcmp") as rcmp, india.client("in.ncb") as ncb:
        before = {_send(rcmp, title="Before the backup"), _send(ncb, **_india_draft("Before the backup, from India"))}
        wait_for(lambda: _delivered(ca, before) and _delivered(india, before))
        checkpoint = india.run_accord("audit", "checkpoint", "--data", str(india.data_dir))
        assert checkpoint.returncode == 0, checkpoint.stderr

        env = india.env() | {"ACCORD_BACKUP_PASSPHRASE": PASSPHRASE}
        backup = india.run_accord("node", "backup", "--data", str(india.data_dir), "--out", str(archive), env=env)
        assert backup.returncode == 0, backup.stderr
        assert archive.stat().st_mode & 0o077 == 0, "the archive is the operator's alone"
        with tarfile.open(archive) as tar:
            names = tar.getnames()
        assert "manifest.jws" in names and "keys.sealed" in names
        assert not any(name.startswith("keys/") or name.endswith(".pem") for name in names), "keys only sealed"

        after = {_send(rcmp, title="After the backup"), _send(ncb, **_india_draft("After the backup, from India"))}
        wait_for(lambda: _delivered(ca, after) and _delivered(india, after))
        # Canada countersigns India's ledger beyond the backup: leaves the restore loses.
        lost = india.run_accord("audit", "checkpoint", "--data", str(india.data_dir))
        assert lost.returncode == 0, lost.stderr
        with india.engine.connect() as conn:
            lost_size = ledger_size(conn)

    expected_ca_out, expected_ca_in = _ids(ca, "outgoing"), _ids(ca, "incoming")
    live = _restore(india, archive)
    assert live.returncode != 0 and "not empty" in live.stderr, "a live node's data directory is never overwritten"

    _destroy(india)
    wrong = _restore(india, archive, "not the passphrase at all")
    assert wrong.returncode != 0 and "passphrase" in wrong.stderr
    assert not india.data_dir.exists(), "a refused restore writes nothing"

    restored = _restore(india, archive)
    assert restored.returncode == 0, restored.stderr + restored.stdout
    assert "sends again 1 envelopes" in restored.stdout
    assert "1 own messages sent after the backup rebuilt" in restored.stdout
    assert f"checkpoints of sizes {lost_size}" in restored.stdout, restored.stdout
    india.start()

    wait_for(lambda: _ids(india, "incoming") == expected_ca_out, 30)
    assert _ids(india, "outgoing") == expected_ca_in
    with ca.client("ca.rcmp") as rcmp, india.client("in.ncb") as ncb:
        fresh = {_send(ncb, **_india_draft("After the restore, from India")), _send(rcmp, title="After the restore")}
        wait_for(lambda: _delivered(ca, fresh) and _delivered(india, fresh), 30)
    assert _ids(india, "incoming") == _ids(ca, "outgoing")
    assert _ids(india, "outgoing") == _ids(ca, "incoming")

    checkpoint = india.run_accord("audit", "checkpoint", "--data", str(india.data_dir))
    assert checkpoint.returncode == 0, checkpoint.stderr
    with india.engine.connect() as conn:
        own = checkpoints.c.origin == "accord/in-node-1"
        newest = conn.execute(select(checkpoints).where(own).order_by(checkpoints.c.size.desc()).limit(1)).one()
        assert newest.size == ledger_size(conn) and newest.cosignature, "the peer countersigns the restored log"
    for node in (ca, india):
        with node.engine.connect() as conn:
            assert conn.execute(select(ledger_alarms)).first() is None, "no alarm on either side"
    with ca.engine.connect() as conn:
        declared = conn.execute(select(events.c.refs).where(events.c.type == "peer.ledger_restored")).scalars().all()
        set_aside = conn.execute(select(checkpoints.c.size).where(checkpoints.c.lost_in_restore.is_not(None))).all()
    assert len(declared) == 1 and [row.size for row in set_aside] == [lost_size], "the lost branch is kept aside"
    restore = json.loads(declared[0])
    assert restore["origin"] == "accord/in-node-1" and restore["lost"][0]["size"] == lost_size
    _verify_across_the_restore(ca, india, tmp_path, restore["size"], lost_size)


def _verify_across_the_restore(ca: RunningNode, india: RunningNode, tmp_path: Path, size: int, lost: int) -> None:
    """Each bundle verifies against the other node's evidence, the declared restore named as a warning; India's
    fails against a Canada bundle whose record of the declaration was changed."""
    files = {name: tmp_path / name for name in ("ca.trust", "in.trust", "ca.json", "in.json", "in-witnessed.json")}
    for node, trust, bundle in ((ca, "ca.trust", "ca.json"), (india, "in.trust", "in.json")):
        for args in (
            ("audit", "checkpoint", "--data", str(node.data_dir)),
            ("audit", "trust-file", "--data", str(node.data_dir), "--out", str(files[trust])),
            ("audit", "export", "--data", str(node.data_dir), "--out", str(files[bundle])),
        ):
            done = node.run_accord(*args)
            assert done.returncode == 0, done.stderr + done.stdout
    witnessed = india.run_accord(
        "audit",
        "witnessed",
        "--data",
        str(india.data_dir),
        "--origin",
        "accord/ca-node-1",
        "--out",
        str(files["in-witnessed.json"]),
    )
    assert witnessed.returncode == 0, witnessed.stderr
    trust = ("--trust", str(files["ca.trust"]), "--trust", str(files["in.trust"]))
    lost_leaves = f"leaves {size}..{lost - 1}"
    for bundle, evidence in (("ca.json", "in-witnessed.json"), ("in.json", "ca.json")):
        verdict = ca.run_accord("audit", "verify", str(files[bundle]), *trust, "--witnessed", str(files[evidence]))
        assert verdict.returncode == 0, verdict.stdout + verdict.stderr
        assert "VERIFIED" in verdict.stdout and lost_leaves in verdict.stdout, verdict.stdout

    changed = json.loads(files["ca.json"].read_text())
    for leaf in changed["leaves"]:
        if leaf["type"] == "peer.ledger_restored":  # its hash made again: no checkpoint Canada signed covers it now
            leaf["refs"]["lost"] = []
            record = {name: leaf[name] for name in ("index", "type", "actor", "refs", "payload_sha256")}
            record["at"] = leaf["at"]
            leaf["leaf_hash"] = leaf_hash(leaf_bytes(record)).hex()
    files["ca.json"].write_text(json.dumps(changed))
    verdict = ca.run_accord("audit", "verify", str(files["in.json"]), *trust, "--witnessed", str(files["ca.json"]))
    failed = verdict.stdout + verdict.stderr
    assert verdict.returncode == 1 and f"checkpoint size {lost}: ca-node-1 countersigned root" in failed, failed


def test_a_changed_archive_is_refused_and_nothing_is_restored(
    pair: tuple[RunningNode, RunningNode], tmp_path: Path
) -> None:
    _ca, india = pair
    archive = tmp_path / "india.backup.tar"
    env = india.env() | {"ACCORD_BACKUP_PASSPHRASE": PASSPHRASE}
    backup = india.run_accord("node", "backup", "--data", str(india.data_dir), "--out", str(archive), env=env)
    assert backup.returncode == 0, backup.stderr
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(archive) as source, tarfile.open(tampered, "w") as target:
        for member in source:
            data = source.extractfile(member)
            assert data is not None
            content = data.read()
            if member.name == "config/node.json":
                content = content.replace(b"127.0.0.1", b"127.0.0.2")
            member.size = len(content)
            target.addfile(member, io.BytesIO(content))
    target_dir = tmp_path / "elsewhere"
    refused = india.run_accord(
        "node", "restore", "--from", str(tampered), "--data", str(target_dir), "--offline", env=env
    )
    assert refused.returncode != 0 and "SHA-256" in refused.stderr
    assert not target_dir.exists()
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(archive.read_bytes()[:2000])
    refused = india.run_accord("node", "restore", "--from", str(damaged), "--data", str(target_dir), env=env)
    assert refused.returncode != 0 and "damaged" in refused.stderr
    assert not target_dir.exists()
