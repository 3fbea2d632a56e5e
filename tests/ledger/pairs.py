"""A real Canada node with India pinned as its peer, countersigning in process: the ledgers the audit tests export,
verify and forge, and what an insider forges a bundle with (the node's own key, the project's signing primitives)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from accord.bootstrap import init_node
from accord.cli.audit import audit_app
from accord.config import load_settings, write_node_file
from accord.crypto.descriptors import NodeDescriptor, sign_descriptor
from accord.crypto.keys import NodeKeys
from accord.domain.parties import Party
from accord.exchange.audit import export_audit_bundle
from accord.exchange.witnessing import checkpoint_request, countersign, issue_checkpoint
from accord.ledger.bundle import Verdict
from accord.ledger.checkpoints import latest
from accord.ledger.events import EventType, append_events, event_row
from accord.ledger.leaves import leaf_bytes, leaf_record
from accord.ledger.notes import CheckpointBody, cosign, origin_for, parse_note, sign_checkpoint
from accord.ledger.proofs import StoredTree
from accord.ledger.tree import MemoryTree, consistency_proof, leaf_hash
from accord.node import Node
from accord.store.tables import checkpoints, ledger_head
from accord.trust.peers import export_descriptor, load_peers, pin_peer
from tests.conftest import DatabaseFactory

# Canada's ledger opens with what node init logs (node.initialised, workplan.initialised, policy.pack_installed,
# peer.pinned); events are added up to each checkpoint size and India countersigns each checkpoint, then 5 more
# events wait for the next round: 68 leaves, checkpoints of size 23, 43 and 63.
CHECKPOINT_SIZES = (23, 43, 63)
UNCOUNTERSIGNED = 5
LEAVES = CHECKPOINT_SIZES[-1] + UNCOUNTERSIGNED
TAMPERED = 30  # a leaf under the second checkpoint, not the first
CA_LOG = "accord/ca-node-1"


@dataclass
class Ledger:
    """Canada's node (the log under audit) and India's (its countersigning peer), both open in this process."""

    ca: Node
    india: Node
    root: Path

    def export(self, name: str = "bundle.json.gz", node: Node | None = None) -> Path:
        out = self.root / name
        export_audit_bundle(node or self.ca, out)
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
        [peer] = load_peers(log, conn)
    line = countersign(witness, checkpoint_request(log, peer, newest.note, from_size, proof))
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


def cover_tail(ledger: Ledger) -> None:
    """The next checkpoint round: Canada signs its whole ledger and India countersigns it."""
    issue_checkpoint(ledger.ca, force=True)
    countersign_latest(ledger.ca, ledger.india)


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


def cli(node: Node | None, *args: str) -> Result:
    """`accord audit …` as an operator runs it at `node` (or as an oversight body runs it, with no node at all)."""
    env = {"ACCORD_DATABASE_URL": node.settings.resolved_database_url} if node is not None else {}
    return CliRunner().invoke(audit_app, list(args), env=env)


# ------------------------------------------------------------------------------------ what an insider forges with


def self_made_node(node_id: str, party: Party) -> tuple[NodeKeys, dict[str, str]]:
    """A fresh key and a self-signed descriptor for it, as a bundle's `node` or `peers` entry: anyone can make one."""
    keys = NodeKeys.generate()
    descriptor = NodeDescriptor(node_id, party.value, "https://127.0.0.1:9", keys.public, datetime.now(UTC).isoformat())
    return keys, {"node_id": node_id, "party": party.value, "descriptor": sign_descriptor(descriptor, keys)}


def rewrite_leaf(bundle: dict[str, Any], index: int, refs: dict[str, Any]) -> None:
    """Give leaf `index` new contents and the leaf hash that matches them, as someone with the database would."""
    bundle["leaves"][index] = leaf_entry(index, bundle["leaves"][index], refs)


def fabricate_leaves(bundle: dict[str, Any], count: int) -> None:
    """Append `count` made-up leaves, each with a correct leaf hash."""
    template = bundle["leaves"][-1]
    for index in range(len(bundle["leaves"]), len(bundle["leaves"]) + count):
        bundle["leaves"].append(leaf_entry(index, template, {"message": f"m-made-up-{index}"}))


def leaf_entry(index: int, template: dict[str, Any], refs: dict[str, Any]) -> dict[str, Any]:
    at = datetime.fromisoformat(template["at"])
    record = leaf_record(index, at, template["type"], template["actor"], refs, template["payload_sha256"])
    return {**record, "leaf_hash": leaf_hash(leaf_bytes(record)).hex()}


def leaf_tree(bundle: dict[str, Any]) -> MemoryTree:
    return MemoryTree.from_leaf_hashes(bytes.fromhex(leaf["leaf_hash"]) for leaf in bundle["leaves"])


def resign(
    bundle: dict[str, Any],
    log_key: OKPKey,
    cosigner: tuple[str, OKPKey] | None,
    sizes: tuple[int, ...] | None = None,
) -> None:
    """Sign a checkpoint of the bundle's leaves at each size (by default, the sizes its checkpoints have) with
    `log_key`, countersign each as `cosigner` (node id and key; None leaves it uncountersigned), and replace the
    checkpoints and their consistency proofs with them: a history rewritten by whoever holds the log's key."""
    tree = leaf_tree(bundle)
    origin = origin_for(bundle["node"]["node_id"])
    sizes = sizes or tuple(parse_note(c["note"])[0].size for c in bundle["checkpoints"])
    entries = []
    for size in sizes:
        signed = sign_checkpoint(CheckpointBody(origin, size, tree.root(size), 1_795_372_800 + size), log_key)
        entry: dict[str, Any] = {"note": signed.note, "cosigner": None, "cosignature": None}
        if cosigner is not None:
            name = origin_for(cosigner[0])
            entry.update(cosigner=name, cosignature=cosign(signed, name, cosigner[1], 1_795_372_900 + size))
        entries.append(entry)
    bundle["checkpoints"] = entries
    bundle["consistency"] = [
        {"from_size": old, "to_size": new, "proof": [p.hex() for p in consistency_proof(tree, old, new)]}
        for old, new in pairwise(sizes)
    ]


def add_checkpoint(bundle: dict[str, Any], log_key: OKPKey) -> None:
    """Sign a checkpoint of all the bundle's leaves with `log_key`, uncountersigned (no peer would countersign it),
    with the consistency proof from the bundle's newest checkpoint."""
    tree = leaf_tree(bundle)
    origin = origin_for(bundle["node"]["node_id"])
    size, newest = tree.size, max(parse_note(c["note"])[0].size for c in bundle["checkpoints"])
    signed = sign_checkpoint(CheckpointBody(origin, size, tree.root(size), 1_795_372_800 + size), log_key)
    bundle["checkpoints"].append({"note": signed.note, "cosigner": None, "cosignature": None})
    proof = [p.hex() for p in consistency_proof(tree, newest, size)]
    bundle["consistency"].append({"from_size": newest, "to_size": size, "proof": proof})


def open_pinned_nodes(databases: DatabaseFactory, tmp_path: Path) -> tuple[Node, Node]:
    """Canada's and India's nodes, each pinning the other, open in this process (their federation address is the
    discard port: nothing answers there, so whatever crosses is called in process)."""
    opened = {}
    for party in (Party.CA, Party.IN):
        data_dir = tmp_path / party.value.lower()
        data_dir.mkdir()
        write_node_file(data_dir, "127.0.0.1", 9, None)
        opened[party] = init_node(load_settings(data_dir, database_url=databases.new_migrated_url(party.value)), party)
    pin_peer(opened[Party.CA], export_descriptor(opened[Party.IN]))
    pin_peer(opened[Party.IN], export_descriptor(opened[Party.CA]))
    return opened[Party.CA], opened[Party.IN]
