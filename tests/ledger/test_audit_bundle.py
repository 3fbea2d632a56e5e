"""The audit bundle: a real Canada node with India pinned as its peer, countersigning in process, exported and verified
offline; then each way of tampering with the ledger or the file, named by the first problem the verifier reports."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from accord.bootstrap import init_node
from accord.cli.audit import audit_app
from accord.config import load_settings, write_node_file
from accord.crypto.keys import NodeKeys
from accord.directory.officers import Role, create_officer
from accord.domain.drafts import MessageDraft
from accord.domain.parties import Party
from accord.exchange.audit import export_audit_bundle as export_bundle
from accord.exchange.sending import send_messages
from accord.exchange.witnessing import countersign, issue_checkpoint, raise_alarm
from accord.ledger.bundle import Verdict
from accord.ledger.checkpoints import latest
from accord.ledger.events import EventType, append_events, event_row, leaf_bytes, leaf_record
from accord.ledger.notes import CheckpointBody, origin_for, parse_note, sign_checkpoint
from accord.ledger.proofs import StoredTree
from accord.ledger.tree import MemoryTree, consistency_proof, leaf_hash
from accord.ledger.verify import verify_bundle
from accord.node import Node
from accord.store.tables import checkpoints, events, ledger_head, ledger_nodes
from accord.trust.peers import export_descriptor, pin_peer
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PASSWORD, draft

# Canada's ledger opens with what node init logs (node.initialised, workplan.initialised, policy.pack_installed,
# peer.pinned); events are added up to each checkpoint size and India countersigns each checkpoint, then 5 more
# events wait for the next round: 68 leaves, checkpoints of size 23, 43 and 63.
CHECKPOINT_SIZES = (23, 43, 63)
UNCOUNTERSIGNED = 5
LEAVES = CHECKPOINT_SIZES[-1] + UNCOUNTERSIGNED
TAMPERED = 30  # a leaf under the second checkpoint, not the first


@dataclass
class Ledger:
    """Canada's node (the log under audit) and India's (its countersigning peer), both open in this process."""

    ca: Node
    india: Node
    root: Path

    def export(self, name: str = "bundle.json.gz") -> Path:
        out = self.root / name
        export_bundle(self.ca, out)
        return out

    def close(self) -> None:
        self.ca.close()
        self.india.close()


def open_pair(root: Path, ca_url: str | None, in_url: str | None) -> Ledger:
    """As tests/integration/nodes.py::create_pair does it, without processes: init both, pin each as the other's."""
    opened = {}
    for party, url in ((Party.CA, ca_url), (Party.IN, in_url)):
        data_dir = root / party.value.lower()
        data_dir.mkdir(parents=True)
        write_node_file(data_dir, "127.0.0.1", 9, None)  # the discard port: nothing answers there
        opened[party] = init_node(load_settings(data_dir, database_url=url), party)
    pin_peer(opened[Party.CA], export_descriptor(opened[Party.IN]))
    pin_peer(opened[Party.IN], export_descriptor(opened[Party.CA]))
    return Ledger(opened[Party.CA], opened[Party.IN], root)


def ledger_size_of(node: Node) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(ledger_head.c.size)).scalar_one())


def append(node: Node, count: int) -> None:
    with node.engine.begin() as conn:
        first = int(conn.execute(select(ledger_head.c.size)).scalar_one())
        rows = [
            event_row(EventType.MESSAGE_CREATED, "ca.rcmp", {"message": f"m-{i}", "seq": i}, f"body {i}".encode())
            for i in range(first, first + count)
        ]
        append_events(conn, rows)


def countersign_latest(log: Node, witness: Node) -> None:
    """What request_cosignature does over HTTP: the witness countersigns, the log stores the line on its row."""
    origin = origin_for(log.node_id)
    with log.engine.connect() as conn:
        newest = latest(conn, origin)
        anchor = latest(conn, origin, cosigned_only=True)
        assert newest is not None
        from_size = anchor.size if anchor else 0
        proof = consistency_proof(StoredTree(conn), from_size, newest.size) if from_size else []
    line = countersign(witness, newest.note, from_size, [p.hex() for p in proof])
    with log.engine.begin() as conn:
        conn.execute(
            update(checkpoints)
            .where(checkpoints.c.id == newest.id)
            .values(cosigner=origin_for(witness.node_id), cosignature=line, cosigned_at=datetime.now(UTC))
        )


def fill(ledger: Ledger) -> Ledger:
    for size in CHECKPOINT_SIZES:
        append(ledger.ca, size - ledger_size_of(ledger.ca))
        issue_checkpoint(ledger.ca, force=True)
        countersign_latest(ledger.ca, ledger.india)
    issue_checkpoint(ledger.india, force=True)
    countersign_latest(ledger.india, ledger.ca)  # a checkpoint of India's that Canada witnessed
    append(ledger.ca, UNCOUNTERSIGNED)
    return ledger


@pytest.fixture
def ledger(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Ledger]:
    pair = fill(open_pair(tmp_path, databases.new_url("ca"), databases.new_url("in")))
    yield pair
    pair.close()


@pytest.fixture(scope="module")
def clean_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One untampered bundle (SQLite) for the tests that damage the file rather than the database."""
    pair = fill(open_pair(tmp_path_factory.mktemp("clean"), None, None))
    try:
        return pair.export("clean.json.gz")
    finally:
        pair.close()


def read(path: Path) -> dict[str, Any]:
    return dict(json.loads(gzip.decompress(path.read_bytes())))


def write(path: Path, bundle: dict[str, Any]) -> Path:
    path.write_bytes(gzip.compress(json.dumps(bundle).encode()))
    return path


def first_problem(verdict: Verdict) -> str:
    assert not verdict.ok
    return verdict.problems[0]


def fingerprint(node: Node) -> str:
    return node.keys.public.signing_fingerprint


# ------------------------------------------------------------------------------------------------- the happy path


def test_an_untampered_ledger_exports_and_verifies_offline(ledger: Ledger) -> None:
    out = ledger.root / "bundle.json"
    exports: list[tuple[int, int]] = []
    verifies: list[tuple[int, int]] = []

    exported = export_bundle(ledger.ca, out, lambda done, total: exports.append((done, total)))
    verdict = verify_bundle(out, lambda done, total: verifies.append((done, total)))

    assert verdict.problems == []
    assert verdict.ok
    assert verdict.warnings == [
        "leaves 63..67 not countersigned by the peer yet (the next checkpoint round covers them)"
    ]
    summary = verdict.summary
    assert (summary.leaves, summary.checkpoints, summary.countersigned, summary.witnessed) == (LEAVES, 3, 3, 1)
    assert summary.node is not None and summary.node.fingerprint == fingerprint(ledger.ca)
    assert [p.fingerprint for p in summary.peers] == [fingerprint(ledger.india)]
    assert exported == summary
    assert exports[-1] == verifies[-1] == (LEAVES, LEAVES)


def test_the_bundle_holds_leaf_records_and_signatures_but_no_message_contents(ledger: Ledger) -> None:
    out = ledger.export("bundle.json")
    bundle = json.loads(out.read_text())

    assert list(bundle) == [
        "format", "exported_at", "node", "peers", "checkpoints", "witnessed", "consistency", "leaves"
    ]  # fmt: skip
    assert bundle["format"] == "accord-audit-bundle/1"
    assert [leaf["index"] for leaf in bundle["leaves"]] == list(range(LEAVES))
    with ledger.ca.engine.connect() as conn:
        row = conn.execute(select(events).where(events.c.id == TAMPERED)).one()
    assert bundle["leaves"][TAMPERED] == {
        **leaf_record(row.id, row.at, row.type, row.actor, row.refs, row.payload_sha256),
        "leaf_hash": bytes(row.leaf_hash).hex(),
    }
    assert [parse_note(c["note"])[0].size for c in bundle["checkpoints"]] == list(CHECKPOINT_SIZES)
    assert all(c["cosigner"] == "accord/in-node-1" for c in bundle["checkpoints"])
    assert [(c["from_size"], c["to_size"]) for c in bundle["consistency"]] == [(23, 43), (43, 63)]
    assert parse_note(bundle["witnessed"][0]["note"])[0].origin == "accord/in-node-1"
    assert "body 30" not in out.read_text()  # the payload is only its SHA-256


def test_expected_fingerprints_must_be_the_keys_in_the_bundle(clean_bundle: Path) -> None:
    summary = verify_bundle(clean_bundle).summary
    assert summary.node is not None
    both = [summary.node.fingerprint, *(p.fingerprint for p in summary.peers)]

    assert verify_bundle(clean_bundle, expect_fingerprints=both).ok
    stranger = NodeKeys.generate().public.signing_fingerprint
    assert verify_bundle(clean_bundle, expect_fingerprints=[stranger]).problems == [
        f"key fingerprint {stranger} was expected but no node in this bundle has it"
    ]


# ------------------------------------------------------------------------------------- tampering with the database


@pytest.mark.parametrize("column", ["refs", "type"])
def test_an_event_edited_in_the_database_is_named_by_its_leaf(ledger: Ledger, column: str) -> None:
    value = '{"message":"m-forged"}' if column == "refs" else EventType.MESSAGE_READ.value
    with ledger.ca.engine.begin() as conn:
        conn.execute(update(events).where(events.c.id == TAMPERED).values({column: value}))

    verdict = verify_bundle(ledger.export())

    assert first_problem(verdict) == "leaf 30: its contents do not match its recorded hash"
    assert len(verdict.problems) == 1  # the recorded hash still matches every checkpoint


def test_an_event_deleted_from_the_database_is_named_as_missing(ledger: Ledger) -> None:
    with ledger.ca.engine.begin() as conn:
        conn.execute(delete(events).where(events.c.id == TAMPERED))

    verdict = verify_bundle(ledger.export())

    assert first_problem(verdict) == "leaf 30 is missing"
    assert "checkpoint size 43: root does not match leaves 0..42" in verdict.problems


def test_two_events_swapped_in_the_database_are_named_at_the_first(ledger: Ledger) -> None:
    contents = [events.c.at, events.c.type, events.c.actor, events.c.refs, events.c.payload_sha256, events.c.leaf_hash]
    with ledger.ca.engine.begin() as conn:
        first, second = (conn.execute(select(*contents).where(events.c.id == i)).one() for i in (30, 31))
        conn.execute(update(events).where(events.c.id == 30).values(dict(second._mapping)))
        conn.execute(update(events).where(events.c.id == 31).values(dict(first._mapping)))

    verdict = verify_bundle(ledger.export())

    assert verdict.problems[:2] == [
        "leaf 30: its contents do not match its recorded hash",
        "leaf 31: its contents do not match its recorded hash",
    ]


def test_a_truncated_log_is_named_by_the_checkpoint_it_falls_short_of(ledger: Ledger) -> None:
    with ledger.ca.engine.begin() as conn:
        conn.execute(delete(events).where(events.c.id >= 60))
        conn.execute(update(ledger_head).values(size=60))

    verdict = verify_bundle(ledger.export())

    assert first_problem(verdict) == "log truncated: checkpoint size 63 but only 60 leaves"


def rewrite_history(node: Node, index: int) -> MemoryTree:
    """Forge leaf `index` the way someone with database access would: new record, new leaf hash, new subtrees."""
    with node.engine.begin() as conn:
        conn.execute(update(events).where(events.c.id == index).values(refs='{"message":"m-forged"}'))
        rows = conn.execute(select(events).order_by(events.c.id)).all()
        hashes = [
            leaf_hash(leaf_bytes(leaf_record(r.id, r.at, r.type, r.actor, r.refs, r.payload_sha256))) for r in rows
        ]
        conn.execute(update(events).where(events.c.id == index).values(leaf_hash=hashes[index]))
        tree = MemoryTree.from_leaf_hashes(hashes)
        conn.execute(delete(ledger_nodes))
        conn.execute(
            ledger_nodes.insert(),
            [
                {"level": level, "idx": idx, "hash": tree.node(level, idx)}
                for level in range(1, len(hashes).bit_length())
                for idx in range(len(hashes) >> level)
            ],
        )
    return tree


def test_a_rewritten_history_re_signed_with_the_node_key_fails_the_peer_countersignature(ledger: Ledger) -> None:
    tree = rewrite_history(ledger.ca, TAMPERED)
    with ledger.ca.engine.begin() as conn:  # re-sign every checkpoint over the new roots; keep India's lines
        for row in conn.execute(select(checkpoints).where(checkpoints.c.origin == "accord/ca-node-1")).all():
            body = CheckpointBody(row.origin, row.size, tree.root(row.size), int(row.issued_at.timestamp()))
            note = sign_checkpoint(body, ledger.ca.keys.signing).note
            conn.execute(update(checkpoints).where(checkpoints.c.id == row.id).values(note=note, root=body.root))

    verdict = verify_bundle(ledger.export())

    assert verdict.problems == [
        "checkpoint size 43: the peer's countersignature does not verify — the history it countersigned was rewritten",
        "checkpoint size 63: the peer's countersignature does not verify — the history it countersigned was rewritten",
    ]


def test_leaf_hashes_replaced_under_signed_checkpoints_are_located_between_them(ledger: Ledger) -> None:
    with ledger.ca.engine.connect() as conn:
        signed_root = conn.execute(
            select(checkpoints.c.root).where(checkpoints.c.origin == "accord/ca-node-1", checkpoints.c.size == 43)
        ).scalar_one()
    tree = rewrite_history(ledger.ca, TAMPERED)

    verdict = verify_bundle(ledger.export())

    assert first_problem(verdict) == (
        "checkpoint size 43: root does not match leaves 0..42 — the first rewritten leaf is among leaves 23..42 "
        "(leaves 0..22 match checkpoint size 23)"
    )
    # The proof from the rewritten ledger reproduces the old head but not the new one: the error names both roots.
    assert (
        "checkpoint size 43: not an extension of checkpoint size 23 (the consistency proof from tree size 23 to 43 "
        f"reconstructs root {tree.root(43).hex()} for tree size 43, expected {bytes(signed_root).hex()})"
    ) in verdict.problems


def test_a_checkpoint_signed_by_an_unpinned_key_is_named(ledger: Ledger) -> None:
    with ledger.ca.engine.begin() as conn:
        row = conn.execute(select(checkpoints).where(checkpoints.c.size == 43)).one()
        body, _ = parse_note(row.note)
        forged = sign_checkpoint(body, NodeKeys.generate().signing).note
        conn.execute(update(checkpoints).where(checkpoints.c.id == row.id).values(note=forged))

    verdict = verify_bundle(ledger.export())

    assert verdict.problems == ["checkpoint size 43: not signed by ca-node-1's key"]


def test_a_ledger_the_peer_never_countersigned_does_not_verify(databases: DatabaseFactory, tmp_path: Path) -> None:
    pair = open_pair(tmp_path, databases.new_url("ca"), databases.new_url("in"))
    try:
        append(pair.ca, 20)
        issue_checkpoint(pair.ca, force=True)
        verdict = verify_bundle(pair.export())
    finally:
        pair.close()

    assert verdict.problems == ["nothing in this bundle is countersigned by the peer"]


# ----------------------------------------------------------------------------------------- tampering with the file


def test_a_truncated_gzip_file_is_one_clear_problem(clean_bundle: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "cut.json.gz"
    damaged.write_bytes(clean_bundle.read_bytes()[:-100])

    assert verify_bundle(damaged).problems == [
        "bundle is not a readable gzip file: Compressed file ended before the end-of-stream marker was reached"
    ]


def test_invalid_json_is_named_by_its_byte_offset(clean_bundle: Path, tmp_path: Path) -> None:
    text = gzip.decompress(clean_bundle.read_bytes())
    at = text.index(b'"leaves"')
    damaged = tmp_path / "broken.json"
    damaged.write_bytes(text[:at] + text[at + 1 :])

    assert first_problem(verify_bundle(damaged)) == (
        f"bundle is not valid JSON at byte {at}: Expecting property name enclosed in double quotes"
    )


def test_a_character_flipped_in_a_leaf_is_named_by_that_leaf(clean_bundle: Path, tmp_path: Path) -> None:
    bundle = read(clean_bundle)
    bundle["leaves"][5]["actor"] = bundle["leaves"][5]["actor"].replace("r", "R", 1)

    assert verify_bundle(write(tmp_path / "flipped.json.gz", bundle)).problems == [
        "leaf 5: its contents do not match its recorded hash"
    ]


@pytest.mark.parametrize("key", ["format", "node", "leaves", "checkpoints"])
def test_a_bundle_without_a_required_member_is_one_clear_problem(clean_bundle: Path, tmp_path: Path, key: str) -> None:
    bundle = read(clean_bundle)
    del bundle[key]

    assert verify_bundle(write(tmp_path / "partial.json.gz", bundle)).problems == [f"bundle lacks {key!r}"]


def test_reordered_leaves_are_named_where_the_order_breaks(clean_bundle: Path, tmp_path: Path) -> None:
    bundle = read(clean_bundle)
    leaves = bundle["leaves"]
    leaves[5], leaves[6] = leaves[6], leaves[5]

    assert first_problem(verify_bundle(write(tmp_path / "reordered.json.gz", bundle))) == (
        "leaf 6 appears where leaf 5 should be"
    )


def test_a_leaf_whose_index_disagrees_with_its_position_is_named(clean_bundle: Path, tmp_path: Path) -> None:
    bundle = read(clean_bundle)
    bundle["leaves"][5]["index"] = 6

    verdict = verify_bundle(write(tmp_path / "renumbered.json.gz", bundle))

    assert verdict.problems[:3] == [
        "leaf 6: its contents do not match its recorded hash",
        "the leaf at position 5 says it is leaf 6",
        "leaf 5 is missing",
    ]


def test_the_node_listed_as_its_own_peer_cannot_countersign(clean_bundle: Path, tmp_path: Path) -> None:
    bundle = read(clean_bundle)
    bundle["peers"].append(bundle["node"])

    assert verify_bundle(write(tmp_path / "self.json.gz", bundle)).problems == [
        "the peer ca-node-1 is not the other party: it has ca-node-1's party or key"
    ]


def test_leaves_cut_from_the_end_of_the_file_are_a_truncated_log(clean_bundle: Path, tmp_path: Path) -> None:
    bundle = read(clean_bundle)
    del bundle["leaves"][50:]

    assert first_problem(verify_bundle(write(tmp_path / "short.json.gz", bundle))) == (
        "log truncated: checkpoint size 63 but only 50 leaves"
    )


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    assert verify_bundle(tmp_path / "absent.json").problems == [
        f"cannot read bundle {tmp_path / 'absent.json'}: No such file or directory"
    ]


# ------------------------------------------------------------------------------------------------------- the CLI


def cli(ledger: Ledger, *args: str) -> Any:
    env = {"ACCORD_DATABASE_URL": ledger.ca.settings.resolved_database_url}
    return CliRunner().invoke(audit_app, list(args), env=env)


def test_the_cli_exports_and_verifies_a_bundle(ledger: Ledger) -> None:
    out = ledger.root / "cli.json.gz"
    data = str(ledger.ca.settings.data_dir)

    exported = cli(ledger, "export", "--data", data, "--out", str(out))
    verified = cli(ledger, "verify", str(out), "--expect-fingerprint", fingerprint(ledger.india))

    assert exported.exit_code == 0, exported.output
    assert f"exported {LEAVES} leaves, 3 checkpoints (3 countersigned by the peer)" in exported.stdout
    assert verified.exit_code == 0, verified.output
    assert f"VERIFIED: {LEAVES} leaves, 3 checkpoints, 3 countersigned by in-node-1" in verified.stdout
    assert fingerprint(ledger.ca) in verified.stdout and fingerprint(ledger.india) in verified.stdout
    assert "warning: leaves 63..67 not countersigned by the peer yet" in verified.stdout


def test_the_cli_fails_a_tampered_bundle_with_its_first_problem(clean_bundle: Path, tmp_path: Path) -> None:
    bundle = read(clean_bundle)
    del bundle["leaves"][TAMPERED]

    verified = CliRunner().invoke(audit_app, ["verify", str(write(tmp_path / "cut.json.gz", bundle))])

    assert verified.exit_code == 1
    assert verified.stderr.startswith("FAILED: leaf 30 is missing\n  checkpoint size 43: root does not match")
    assert "VERIFIED" not in verified.stdout


def test_the_cli_proves_a_message_once_a_countersigned_checkpoint_covers_it(ledger: Ledger) -> None:
    officer = create_officer(ledger.ca, "ca.rcmp", PASSWORD, "Constable", "RCMP", frozenset({Role.OFFICER}))
    [queued] = send_messages(ledger.ca, officer, [MessageDraft(**draft())])
    data = str(ledger.ca.settings.data_dir)

    pending = cli(ledger, "prove", "--data", data, "--message", queued.message.id)
    issue_checkpoint(ledger.ca)
    countersign_latest(ledger.ca, ledger.india)
    proven = cli(ledger, "prove", "--data", data, "--message", queued.message.id)

    assert pending.exit_code == 1
    assert "not yet under a countersigned checkpoint" in pending.stderr
    assert proven.exit_code == 0, proven.output
    assert "VERIFIED: " in proven.stdout and "NOT VERIFIED" not in proven.stdout
    assert "— accord/in-node-1 " in proven.stdout  # the countersignature line of the checkpoint


def test_the_cli_checkpoint_reports_a_peer_that_did_not_countersign(ledger: Ledger) -> None:
    result = cli(ledger, "checkpoint", "--data", str(ledger.ca.settings.data_dir))

    assert result.exit_code == 1
    assert f"checkpoint size {LEAVES}" in result.stdout
    assert "— accord/ca-node-1 " in result.stdout
    assert f"the peer has not countersigned checkpoint size {LEAVES}" in result.stderr


def test_the_cli_lists_alarms_and_fails_while_there_are_any(ledger: Ledger) -> None:
    data = str(ledger.ca.settings.data_dir)
    quiet = cli(ledger, "alarms", "--data", data)
    raise_alarm(ledger.ca, "accord/in-node-1", "split-view", "two roots for size 7", {"note": "…"})
    loud = cli(ledger, "alarms", "--data", data)

    assert (quiet.exit_code, loud.exit_code) == (0, 1)
    assert "no ledger alarms" in quiet.stdout
    assert "split-view" in loud.stdout and "two roots for size 7" in loud.stdout


def test_the_cli_refuses_a_data_directory_without_a_node(tmp_path: Path) -> None:
    result = CliRunner().invoke(audit_app, ["alarms", "--data", str(tmp_path / "nowhere")])

    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot read key file")


# An import hook that refuses the database, the network and the node: what an oversight body's machine may lack.
_BLOCKED_IMPORTS = """
import sys
from importlib.abc import MetaPathFinder

BLOCKED = (
    "sqlalchemy", "psycopg", "httpx", "fastapi", "accord.store", "accord.node", "accord.trust", "accord.exchange"
)


class Refuse(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.startswith(BLOCKED):
            raise ImportError(f"{name} is not available to the offline verifier")
        return None


sys.meta_path.insert(0, Refuse())
from accord.ledger.verify import verify_bundle

verdict = verify_bundle(__import__("pathlib").Path(sys.argv[1]))
loaded = sorted(m for m in sys.modules if m.startswith(BLOCKED))
print(verdict.ok, verdict.summary.leaves, loaded)
"""


def test_the_offline_verifier_runs_without_the_database_the_network_or_the_node(clean_bundle: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _BLOCKED_IMPORTS, str(clean_bundle)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", str(LEAVES), "[]"]
