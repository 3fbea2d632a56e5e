"""The audit bundle: a real Canada node with India pinned as its peer, countersigning in process, exported and verified
offline; then each way of tampering with the ledger or the file, named by the first problem the verifier reports.

Canada's ledger has 5 leaves after its newest countersigned checkpoint, as a live node has between two checkpoint
rounds; strict verification (the default) reports them as a problem after whatever the test is about (TAIL).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from accord.crypto.keys import NodeKeys
from accord.directory.officers import Role, create_officer
from accord.domain.drafts import MessageDraft
from accord.exchange.audit import export_audit_bundle as export_bundle
from accord.exchange.audit import trust_anchors
from accord.exchange.sending import send_messages
from accord.exchange.witnessing import issue_checkpoint, raise_alarm
from accord.ledger.bundle import Outcome, TrustedKey
from accord.ledger.events import EventType
from accord.ledger.leaves import leaf_bytes, leaf_record
from accord.ledger.notes import CheckpointBody, parse_note, sign_checkpoint
from accord.ledger.tree import MemoryTree, leaf_hash
from accord.ledger.verify import verify_bundle
from accord.node import Node
from accord.store.tables import checkpoints, events, ledger_head, ledger_nodes
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PASSWORD, draft
from tests.ledger.conftest import CleanFiles
from tests.ledger.pairs import (
    CHECKPOINT_SIZES,
    LEAVES,
    TAMPERED,
    Ledger,
    append,
    cli,
    countersign_latest,
    cover_tail,
    fingerprint,
    first_problem,
    open_pair,
    read,
    write,
)

TAIL = (
    "leaves 63..67 are under no checkpoint countersigned by the peer: nothing shows they were not rewritten or made up"
)


# ------------------------------------------------------------------------------------------------- the happy path


def test_an_untampered_ledger_exports_and_verifies_offline(ledger: Ledger) -> None:
    cover_tail(ledger)  # every leaf under a countersigned checkpoint
    out = ledger.root / "bundle.json"
    exports: list[tuple[int, int]] = []
    verifies: list[tuple[int, int]] = []

    exported = export_bundle(ledger.ca, out, lambda done, total: exports.append((done, total)))
    anchors = trust_anchors(ledger.ca)
    verdict = verify_bundle(out, lambda done, total: verifies.append((done, total)), anchors=anchors)

    assert (verdict.problems, verdict.warnings) == ([], [])
    assert verdict.outcome is Outcome.VERIFIED and verdict.ok
    summary = verdict.summary
    assert (summary.leaves, summary.checkpoints, summary.countersigned, summary.witnessed) == (LEAVES, 4, 4, 1)
    assert summary.node is not None and summary.node.fingerprint == fingerprint(ledger.ca)
    assert [p.fingerprint for p in summary.peers] == [fingerprint(ledger.india)]
    [india] = summary.countersigners
    assert (india.key.node_id, india.key.party, india.key.fingerprint) == ("in-node-1", "IN", fingerprint(ledger.india))
    assert india.sizes == (*CHECKPOINT_SIZES, LEAVES)
    assert summary.covered == LEAVES
    exported_counts = (exported.leaves, exported.checkpoints, exported.countersigned, exported.witnessed)
    assert exported_counts == (summary.leaves, summary.checkpoints, summary.countersigned, summary.witnessed)
    assert (exported.node, exported.peers) == (summary.node, summary.peers)
    assert exports[-1] == verifies[-1] == (LEAVES, LEAVES)


def test_leaves_after_the_newest_countersigned_checkpoint_fail_strict_verification(ledger: Ledger) -> None:
    out = ledger.export()
    anchors = trust_anchors(ledger.ca)

    strict = verify_bundle(out, anchors=anchors)
    relaxed = verify_bundle(out, anchors=anchors, allow_uncovered_tail=True)

    # Was a warning before trust anchors: a leaf no trusted peer countersigned is one the log's operator could have
    # rewritten or made up, so it fails unless the verifier asks to let the tail pass.
    assert strict.problems == [TAIL.replace("by the peer", "by a trusted peer key")]
    assert (relaxed.problems, relaxed.outcome) == ([], Outcome.VERIFIED)
    assert relaxed.warnings == [
        "leaves 63..67 are under no checkpoint countersigned by a trusted peer key yet "
        "(the next checkpoint round covers them)"
    ]
    assert relaxed.summary.covered == CHECKPOINT_SIZES[-1]


def test_the_node_checks_its_own_ledger_under_its_own_and_its_pinned_peers_keys(ledger: Ledger) -> None:
    from accord.exchange.audit import verify_own_ledger

    verdict = verify_own_ledger(ledger.ca)

    assert verdict.outcome is Outcome.VERIFIED, verdict.problems
    assert {a.fingerprint for a in verdict.anchors} == {fingerprint(ledger.ca), fingerprint(ledger.india)}
    assert verdict.warnings == [
        "leaves 63..67 are under no checkpoint countersigned by a trusted peer key yet "
        "(the next checkpoint round covers them)"
    ]


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
    both = [TrustedKey(summary.node.fingerprint), *(TrustedKey(p.fingerprint) for p in summary.peers)]

    assert verify_bundle(clean_bundle, anchors=both, allow_uncovered_tail=True).ok
    stranger = NodeKeys.generate().public.signing_fingerprint
    problems = verify_bundle(clean_bundle, anchors=[TrustedKey(stranger)], allow_uncovered_tail=True).problems
    assert f"trusted key {stranger} is carried by no node in this bundle" in problems


# ------------------------------------------------------------------------------------- tampering with the database


@pytest.mark.parametrize("column", ["refs", "type"])
def test_an_event_edited_in_the_database_is_named_by_its_leaf(ledger: Ledger, column: str) -> None:
    value = '{"message":"m-forged"}' if column == "refs" else EventType.MESSAGE_READ.value
    with ledger.ca.engine.begin() as conn:
        conn.execute(update(events).where(events.c.id == TAMPERED).values({column: value}))

    verdict = verify_bundle(ledger.export())

    # The recorded hash still matches every checkpoint: nothing else is wrong but the tail no peer countersigned yet.
    assert verdict.problems == ["leaf 30: its contents do not match its recorded hash", TAIL]


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
        TAIL.replace("leaves 63..67", "leaves 23..67"),  # checkpoint size 23 is the newest India's signature holds
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

    assert verdict.problems == ["checkpoint size 43: not signed by ca-node-1's key", TAIL]


def test_a_ledger_the_peer_never_countersigned_does_not_verify(databases: DatabaseFactory, tmp_path: Path) -> None:
    pair = open_pair(tmp_path, databases.new_migrated_url("ca"), databases.new_migrated_url("in"))
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
        "leaf 5: its contents do not match its recorded hash",
        TAIL,
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
        "the peer ca-node-1 is not the other party: it has ca-node-1's party or key",
        TAIL,
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


def test_the_cli_exports_and_verifies_a_bundle(ledger: Ledger) -> None:
    cover_tail(ledger)
    out = ledger.root / "cli.json.gz"
    data = str(ledger.ca.settings.data_dir)
    ca, india = fingerprint(ledger.ca), fingerprint(ledger.india)

    exported = cli(ledger.ca, "export", "--data", data, "--out", str(out))
    # Both keys now: the log's own checkpoint signatures count only under a trusted key too.
    verified = cli(None, "verify", str(out), "--expect-fingerprint", ca, "--expect-fingerprint", india)

    assert exported.exit_code == 0, exported.output
    assert f"exported {LEAVES} leaves, 4 checkpoints (4 countersigned by the peer)" in exported.stdout
    assert verified.exit_code == 0, verified.output
    assert f"  log   ca-node-1 (CA)  {ca}  trusted\n  peer  in-node-1 (IN)  {india}  trusted\n" in verified.stdout
    assert f"countersigned by in-node-1 (IN) {india}: checkpoint sizes 23, 43, 63, {LEAVES}\n" in verified.stdout
    assert (
        f"VERIFIED: {LEAVES} leaves, all under checkpoint size {LEAVES} countersigned by in-node-1 (IN); 4 checkpoints "
        "signed by ca-node-1 (CA), 4 of them countersigned, all under trusted keys; 1 of the peer's checkpoints "
        "countersigned by ca-node-1 (CA)\n"
    ) in verified.stdout
    assert "warning" not in verified.stdout


def test_the_cli_fails_a_tampered_bundle_with_its_first_problem(clean_bundle: Path, tmp_path: Path) -> None:
    bundle = read(clean_bundle)
    del bundle["leaves"][TAMPERED]

    verified = cli(None, "verify", str(write(tmp_path / "cut.json.gz", bundle)))

    assert verified.exit_code == 1
    assert verified.stderr.startswith("FAILED: leaf 30 is missing\n  checkpoint size 43: root does not match")
    assert "VERIFIED" not in verified.stdout


def test_the_cli_proves_a_message_once_a_countersigned_checkpoint_covers_it(ledger: Ledger) -> None:
    officer = create_officer(ledger.ca, "ca.rcmp", PASSWORD, "Constable", "RCMP", frozenset({Role.OFFICER}))
    [queued] = send_messages(ledger.ca, officer, [MessageDraft(**draft())])
    data = str(ledger.ca.settings.data_dir)

    pending = cli(ledger.ca, "prove", "--data", data, "--message", queued.message.id)
    issue_checkpoint(ledger.ca)
    countersign_latest(ledger.ca, ledger.india)
    proven = cli(ledger.ca, "prove", "--data", data, "--message", queued.message.id)

    assert pending.exit_code == 1
    assert "not yet under a countersigned checkpoint" in pending.stderr
    assert proven.exit_code == 0, proven.output
    assert "VERIFIED: " in proven.stdout and "NOT VERIFIED" not in proven.stdout
    assert "— accord/in-node-1 " in proven.stdout  # the countersignature line of the checkpoint


def test_the_cli_checkpoint_reports_a_peer_that_did_not_countersign(ledger: Ledger) -> None:
    result = cli(ledger.ca, "checkpoint", "--data", str(ledger.ca.settings.data_dir))

    assert result.exit_code == 1
    assert f"checkpoint size {LEAVES}" in result.stdout
    assert "— accord/ca-node-1 " in result.stdout
    assert f"the peer has not countersigned checkpoint size {LEAVES}" in result.stderr


def test_the_cli_lists_alarms_and_fails_while_there_are_any(ledger: Ledger) -> None:
    data = str(ledger.ca.settings.data_dir)
    quiet = cli(ledger.ca, "alarms", "--data", data)
    raise_alarm(ledger.ca, "accord/in-node-1", "split-view", "two roots for size 7", {"note": "…"})
    loud = cli(ledger.ca, "alarms", "--data", data)

    assert (quiet.exit_code, loud.exit_code) == (0, 1)
    assert "no ledger alarms" in quiet.stdout
    assert "split-view" in loud.stdout and "two roots for size 7" in loud.stdout


def test_the_cli_refuses_a_data_directory_without_a_node(tmp_path: Path) -> None:
    result = cli(None, "alarms", "--data", str(tmp_path / "nowhere"))

    assert result.exit_code == 1
    assert result.stderr.startswith("error: no node in")
    assert "there is no such directory" in result.stderr and "accord node init --party CA" in result.stderr


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
from pathlib import Path

from accord.ledger.anchors import load_anchors
from accord.ledger.verify import read_witnessed, verify_bundle

bundle, trust, evidence = map(Path, sys.argv[1:])
verdict = verify_bundle(
    bundle, anchors=load_anchors([trust], []), witnessed=[read_witnessed(evidence)], allow_uncovered_tail=True
)
loaded = sorted(m for m in sys.modules if m.startswith(BLOCKED))
print(verdict.outcome, verdict.summary.leaves, len(verdict.summary.witnessed_heads), loaded)
"""


def test_the_offline_verifier_runs_without_the_database_the_network_or_the_node(clean: CleanFiles) -> None:
    files = [str(clean.bundle), str(clean.trust), str(clean.india_bundle)]
    result = subprocess.run(
        [sys.executable, "-c", _BLOCKED_IMPORTS, *files], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["verified", str(LEAVES), "3", "[]"]
