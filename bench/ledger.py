"""Ledger benchmark: appends in the node's own transaction, proofs and checkpoints as the tree grows, audit bundles.

Usage: .venv/bin/python bench/ledger.py [--appends N] [--sizes 1000,100000,1000000] [--postgres [DSN]]
                                        [--skip-bundle] [--quick]

1. Appends: a real node (init_node, Canada) takes N single-event transactions, each `append_event` in its own
   `engine.begin()` as a service does it, then N events as `append_events` of 100 rows per transaction. On SQLite,
   and on PostgreSQL when --postgres is given or the server answers at postgresql://postgres@127.0.0.1:5432/postgres
   (a throw-away database `accord_bench_<random>` is created and dropped).
2. Proofs: a SQLite ledger is filled (10,000 rows per transaction) to each size of --sizes; at each size the median
   time to read an inclusion proof and a consistency proof from the database for random leaves and old sizes, their
   length (it must grow as log2 n), the stored subtrees each reads, the time to verify them, the time to issue a
   signed checkpoint and that of one single-event append (rolled back, so the size stays). With --postgres the sizes
   up to 10^5 are measured on PostgreSQL too.
3. Audit bundle: a Canada ledger of 10^5 events whose checkpoint India countersigned (in process, as
   `request_cosignature` stores it) is exported with `accord.exchange.audit.export_audit_bundle` and verified
   offline with `accord.ledger.verify.verify_bundle`.

One JSON line goes to stdout, whatever happened (with an `error` and what was measured when a step fails); progress
goes to stderr. --quick measures on SQLite only unless --postgres is given.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import update

from accord.bootstrap import init_node
from accord.config import load_settings
from accord.domain.parties import Party
from accord.exchange.audit import export_audit_bundle, trust_anchors
from accord.exchange.witnessing import checkpoint_request, countersign, issue_checkpoint
from accord.ledger.checkpoints import ledger_size
from accord.ledger.events import EventType, append_event, append_events, event_row, tree_root
from accord.ledger.notes import origin_for
from accord.ledger.proofs import StoredTree, prove_inclusion
from accord.ledger.tree import (
    HASH_SIZE,
    NodeSource,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from accord.ledger.verify import verify_bundle
from accord.node import Node
from accord.store.tables import checkpoints
from accord.trust.peers import export_descriptor, load_peers, pin_peer
from pg_databases import PG_ADMIN_DSN, postgres_database, postgres_reachable
from progress import Progress, log  # bench/progress.py, beside this script
from result_line import add_run_options, fill_defaults, result_line

FULL: dict[str, Any] = {"appends": 20_000, "sizes": [1000, 100_000, 1_000_000]}
QUICK: dict[str, Any] = {"appends": 200, "sizes": [1000]}
QUICK_BUNDLE_LEAVES = 1000
QUICK_PROOF_SAMPLES = 20
ACTOR = "bench"
APPEND_BATCH = 100
FILL_BATCH = 10_000
PROOF_SAMPLES = 200
VERIFY_REPEATS = 20  # a verification takes microseconds: time this many in a row and divide
CHECKPOINT_REPEATS = 5
APPEND_SAMPLES = 100
POSTGRES_PROOF_MAX = 100_000
BUNDLE_LEAVES = 100_000
DB_FILE = "accord.sqlite3"


# ---------------------------------------------------------------------------------------------------- nodes


@contextmanager
def opened_node(data_dir: Path, database_url: str | None = None, party: Party = Party.CA) -> Iterator[Node]:
    """A freshly initialised node (keys, migrated database, identity), on SQLite in data_dir unless a URL is given."""
    data_dir.mkdir(parents=True)
    url = database_url or f"sqlite:///{(data_dir / DB_FILE).resolve()}"
    node = init_node(load_settings(data_dir, database_url=url), party)
    try:
        yield node
    finally:
        node.close()


# ---------------------------------------------------------------------------------------------------- appends


def read_event(index: int) -> dict[str, Any]:
    return event_row(EventType.MESSAGE_READ, ACTOR, {"message": str(index)})


def appends_per_s(node: Node, count: int, label: str) -> float:
    """One event per transaction, appended inside it as a service does: the rate a busy node can log at."""
    progress = Progress(label, count)
    started = time.perf_counter()
    for n in range(count):
        with node.engine.begin() as conn:
            append_event(conn, EventType.MESSAGE_READ, ACTOR, {"message": str(n)})
        progress.update(n + 1)
    elapsed = time.perf_counter() - started
    log(f"{label}: {count / elapsed:.0f} appends/s")
    return count / elapsed


def batched_appends_per_s(node: Node, count: int, label: str) -> float:
    """APPEND_BATCH events per transaction, as a batch of messages is logged."""
    progress = Progress(label, count)
    started = time.perf_counter()
    for first in range(0, count, APPEND_BATCH):
        last = min(first + APPEND_BATCH, count)
        with node.engine.begin() as conn:
            append_events(conn, [read_event(n) for n in range(first, last)])
        progress.update(last)
    elapsed = time.perf_counter() - started
    log(f"{label}: {count / elapsed:.0f} appends/s")
    return count / elapsed


def fill(node: Node, size: int, label: str) -> None:
    """Grow the ledger to exactly `size` leaves, FILL_BATCH per transaction."""
    with node.engine.connect() as conn:
        current = ledger_size(conn)
    if current > size:
        raise ValueError(f"the ledger already holds {current} leaves, more than {size}")
    progress = Progress(label, size)
    while current < size:
        rows = [read_event(n) for n in range(current, min(current + FILL_BATCH, size))]
        with node.engine.begin() as conn:
            current = append_events(conn, rows).size
        progress.update(current)


# ---------------------------------------------------------------------------------------------------- proofs


class CountingSource:
    """A NodeSource that counts the stored subtrees a proof reads: one indexed SELECT each from StoredTree."""

    def __init__(self, source: NodeSource) -> None:
        self.source = source
        self.reads = 0

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.source.node(level, index)


def timed(call: Callable[[], Any], repeats: int = 1) -> tuple[float, Any]:
    """Seconds per call (the mean of `repeats` in a row) and the last call's result."""
    started = time.perf_counter()
    for _ in range(repeats):
        value = call()
    return (time.perf_counter() - started) / repeats, value


def measure_proofs(node: Node, size: int, rng: random.Random, samples: int = PROOF_SAMPLES) -> dict[str, Any]:
    """Median cost of inclusion and consistency proofs read from the database at this size, and of verifying them."""
    indexes = [rng.randrange(size) for _ in range(samples)]
    old_sizes = [rng.randrange(1, size) for _ in range(samples)]
    inclusion_s, inclusion_hashes, inclusion_reads, verify_inclusion_s = [], [], [], []
    consistency_s, consistency_hashes, consistency_reads, verify_consistency_s = [], [], [], []
    # one connection for the whole series, as one API request would hold one; closed before the checkpoint,
    # which on SQLite needs the write lock this connection's BEGIN IMMEDIATE holds
    with node.engine.connect() as conn:
        tree = StoredTree(conn)
        root = tree_root(conn, size)
        for index in indexes:
            seconds, proof = timed(partial(prove_inclusion, conn, index, size))
            inclusion_s.append(seconds)
            leaf = tree.node(0, index)
            seconds, _ = timed(partial(verify_inclusion, leaf, index, size, proof, root), VERIFY_REPEATS)
            verify_inclusion_s.append(seconds)
            counting = CountingSource(tree)
            inclusion_proof(counting, index, size)
            inclusion_hashes.append(len(proof))
            inclusion_reads.append(counting.reads)
        for old_size in old_sizes:
            seconds, proof = timed(partial(consistency_proof, tree, old_size, size))
            consistency_s.append(seconds)
            old_root = tree_root(conn, old_size)
            seconds, _ = timed(partial(verify_consistency, old_size, size, old_root, root, proof), VERIFY_REPEATS)
            verify_consistency_s.append(seconds)
            counting = CountingSource(tree)
            consistency_proof(counting, old_size, size)
            consistency_hashes.append(len(proof))
            consistency_reads.append(counting.reads)
    return {
        "size": size,
        "log2_n": round(math.log2(size), 2),
        "inclusion_ms": round(statistics.median(inclusion_s) * 1e3, 3),
        "inclusion_ms_max": round(max(inclusion_s) * 1e3, 3),
        "inclusion_hashes": max(inclusion_hashes),
        "inclusion_bytes": max(inclusion_hashes) * HASH_SIZE,
        "inclusion_reads": max(inclusion_reads),
        "consistency_ms": round(statistics.median(consistency_s) * 1e3, 3),
        "consistency_ms_max": round(max(consistency_s) * 1e3, 3),
        "consistency_hashes": max(consistency_hashes),
        "consistency_bytes": max(consistency_hashes) * HASH_SIZE,
        "consistency_reads": max(consistency_reads),
        "verify_inclusion_us": round(statistics.median(verify_inclusion_s) * 1e6, 2),
        "verify_consistency_us": round(statistics.median(verify_consistency_s) * 1e6, 2),
    }


def checkpoint_ms(node: Node) -> float:
    """Median time to sign and store the current tree head (root from at most log2 n stored subtrees)."""
    times = [timed(partial(issue_checkpoint, node, force=True))[0] for _ in range(CHECKPOINT_REPEATS)]
    return round(statistics.median(times) * 1e3, 3)


def append_ms(node: Node) -> float:
    """Median time of a one-event transaction at the current size, rolled back so the tree keeps that size."""
    times = []
    for n in range(APPEND_SAMPLES):
        with node.engine.connect() as conn:
            started = time.perf_counter()
            with conn.begin() as transaction:
                append_event(conn, EventType.MESSAGE_READ, ACTOR, {"message": str(n)})
                transaction.rollback()
            times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1e3, 3)


def proof_series(
    node: Node, sizes: list[int], rng: random.Random, label: str, results: list[dict[str, Any]], samples: int
) -> None:
    """Fill and measure at each size; each row goes into `results` as soon as it is measured."""
    for size in sizes:
        fill(node, size, f"{label}: filling the ledger to {size}")
        row = measure_proofs(node, size, rng, samples)
        row["checkpoint_ms"] = checkpoint_ms(node)
        row["append_ms"] = append_ms(node)
        log(
            f"{label} n={size}: inclusion {row['inclusion_ms']} ms ({row['inclusion_hashes']} hashes, "
            f"{row['inclusion_reads']} reads), consistency {row['consistency_ms']} ms "
            f"({row['consistency_hashes']} hashes, {row['consistency_reads']} reads), "
            f"checkpoint {row['checkpoint_ms']} ms, one append {row['append_ms']} ms"
        )
        results.append(row)


# ---------------------------------------------------------------------------------------------------- audit bundle


def countersign_in_process(ca: Node, india: Node) -> None:
    """Issue Canada's checkpoint, have India countersign it and store the cosignature as request_cosignature does."""
    stored = issue_checkpoint(ca, force=True)
    if stored is None:
        raise RuntimeError("issue_checkpoint(force=True) issued nothing")
    with ca.engine.connect() as conn:
        [peer] = load_peers(ca, conn)
    line = countersign(india, checkpoint_request(ca, peer, stored.note, 0, []))
    with ca.engine.begin() as conn:
        conn.execute(
            update(checkpoints)
            .where(checkpoints.c.id == stored.id)
            .values(cosigner=origin_for(india.node_id), cosignature=line, cosigned_at=datetime.now(UTC))
        )


def reporter(label: str) -> Callable[[int, int], None]:
    """A progress callback (done, total) as the bundle export and verification call it, shown as Progress lines."""
    shown: Progress | None = None
    last = -1

    def report(done: int, total: int) -> None:
        nonlocal shown, last
        if shown is None:
            shown = Progress(label, total)
        if done != last:  # the verifier reports its last chunk twice when the total is a multiple of it
            shown.total, last = total, done
            shown.update(done)

    return report


def measure_bundle(root: Path, leaves: int) -> dict[str, Any]:
    """Export a countersigned ledger of `leaves` events to one JSON file and verify it offline, from the file alone."""
    out = root / "bundle.json"
    with opened_node(root / "ca", party=Party.CA) as ca, opened_node(root / "in", party=Party.IN) as india:
        pin_peer(ca, export_descriptor(india))
        pin_peer(india, export_descriptor(ca))
        fill(ca, leaves, "bundle: filling Canada's ledger")
        countersign_in_process(ca, india)
        anchors = trust_anchors(ca)  # what an oversight body obtains out of band: both nodes' keys
        export_s, summary = timed(partial(export_audit_bundle, ca, out, reporter("bundle: exporting")))
    size = out.stat().st_size
    log(f"bundle: {summary.leaves} leaves exported in {export_s:.2f} s, {size} bytes")
    verify_s, verdict = timed(partial(verify_bundle, out, reporter("bundle: verifying"), anchors=anchors))
    if not verdict.ok:
        raise RuntimeError(f"the bundle does not verify: {verdict.problems}")
    for warning in verdict.warnings:
        log(f"bundle: warning: {warning}")
    log(f"bundle: verified in {verify_s:.2f} s")
    return {
        "verify_bundle_s": round(verify_s, 3),
        "export_bundle_s": round(export_s, 3),
        "bundle_leaves": summary.leaves,
        "bundle_bytes": size,
    }


# ---------------------------------------------------------------------------------------------------- the run


def run(
    result: dict[str, Any],
    appends: int,
    sizes: list[int],
    postgres_dsn: str | None,
    *,
    postgres_proofs: bool,
    bundle_leaves: int,
    proof_samples: int,
    seed: int,
) -> None:
    """Each figure goes into `result` as soon as it is measured; no bundle when `bundle_leaves` is 0."""
    rng = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix="accord-bench-ledger-"))
    try:
        log(f"working under {root}")
        with opened_node(root / "appends-sqlite") as node:
            result["appends_per_s"] = round(appends_per_s(node, appends, "sqlite appends"), 1)
            result["batched_appends_per_s"] = round(batched_appends_per_s(node, appends, "sqlite batched"), 1)
        if postgres_dsn is not None:
            with postgres_database(postgres_dsn) as url, opened_node(root / "appends-postgres", url) as node:
                result["appends_per_s_postgres"] = round(appends_per_s(node, appends, "postgres appends"), 1)
                result["batched_appends_per_s_postgres"] = round(
                    batched_appends_per_s(node, appends, "postgres batched"), 1
                )
        with opened_node(root / "proofs-sqlite") as node:
            proof_series(node, sizes, rng, "sqlite", result.setdefault("proofs", []), proof_samples)
        small = [size for size in sizes if size <= POSTGRES_PROOF_MAX]
        if postgres_dsn is not None and postgres_proofs and small:
            with postgres_database(postgres_dsn) as url, opened_node(root / "proofs-postgres", url) as node:
                proof_series(node, small, rng, "postgres", result.setdefault("proofs_postgres", []), proof_samples)
        if bundle_leaves:
            result.update(measure_bundle(root / "bundle", bundle_leaves))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--sizes is a comma-separated list of integers, not {text!r}") from exc
    if not sizes or sizes[0] < 2:
        raise argparse.ArgumentTypeError("every size must be at least 2 (the node's own first event is leaf 0)")
    return sizes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--appends", type=int, default=None, help="events appended one per transaction, then batched")
    parser.add_argument("--sizes", type=parse_sizes, default=None, help="tree sizes (default 1000,100000,1000000)")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=PG_ADMIN_DSN,
        default=None,
        metavar="DSN",
        help=f"measure on PostgreSQL too, proofs included (default server {PG_ADMIN_DSN}); without it, appends "
        "are measured there only if that server answers",
    )
    parser.add_argument("--skip-bundle", action="store_true", help="do not export and verify an audit bundle")
    parser.add_argument("--seed", type=int, default=1, help="seed for the random leaves and old sizes")
    add_run_options(
        parser,
        f"{QUICK['appends']} appends, size {QUICK['sizes'][0]}, a bundle of {QUICK_BUNDLE_LEAVES} leaves, SQLite only",
    )
    args = parser.parse_args(argv)
    fill_defaults(args, full=FULL, quick=QUICK)
    quick = args.quick
    if args.appends < 1:
        parser.error("--appends must be positive")
    postgres_dsn: str | None = args.postgres
    if postgres_dsn is not None and not postgres_reachable(postgres_dsn):
        parser.error(f"PostgreSQL is not reachable at {postgres_dsn}")
    if postgres_dsn is None and not quick and postgres_reachable(PG_ADMIN_DSN):
        log(f"PostgreSQL answers at {PG_ADMIN_DSN}: measuring appends there too")
        postgres_dsn = PG_ADMIN_DSN
    bundle_leaves = 0 if args.skip_bundle else QUICK_BUNDLE_LEAVES if quick else BUNDLE_LEAVES
    with result_line("ledger", args) as result:
        run(
            result,
            args.appends,
            args.sizes,
            postgres_dsn,
            postgres_proofs=args.postgres is not None,
            bundle_leaves=bundle_leaves,
            proof_samples=QUICK_PROOF_SAMPLES if quick else PROOF_SAMPLES,
            seed=args.seed,
        )


if __name__ == "__main__":
    main()
