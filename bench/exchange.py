"""End-to-end exchange benchmark: two real node processes (Canada → India) on loopback, SQLite, default settings.

Usage: .venv/bin/python bench/exchange.py [--messages N] [--backlog M] [--urgent-probe N] [--recipients N]
                                          [--setting NAME=VALUE …] [--profile DIR] [--quick]
       .venv/bin/python bench/exchange.py --database postgresql://postgres@127.0.0.1:5432/postgres [--workers 1,2,4]

1. N typical ~2 KB messages are sent Canada → India through POST /api/v1/messages/batch; throughput is measured
   from the first API call to the last receipt stored at Canada, latency per message as delivered_at − created_at
   read from Canada's `messages` table.
2. The floor: what any secure, durable exchange must do per message (Ed25519 signature, X25519 + AES-256-GCM seal,
   one SQLite INSERT committed per 100), timed in this process.
3. Backlog: India is stopped, M messages are queued at Canada, India is started and the drain is timed until the
   last receipt is stored at Canada; also the rate from the first receipt to the last (past India's start-up), and
   the CPU the whole machine spent busy during the drain, per message (Linux).
4. With --recipients N: N officers of India's NCB are on duty, so India's notifier tells each of every arrival; once
   it has, the delay from a message stored at India to its notice made, p50 and p99.

Scale-out (--database, a PostgreSQL server the benchmark creates and drops its own databases on): for each count W of
--workers, both nodes on fresh PostgreSQL databases, each node run as W `accord node serve` processes (API and
federation endpoint, no delivery threads, no screen workers) and W `accord node deliver` processes sharing its
outbox, its address a round-robin TCP balancer in front of its W serve processes (as a reverse proxy would be). N
messages are sent as in 1.; throughput and latency are reported for each W, and the check that no message was lost or
duplicated across workers: every message sent is delivered once, with one receipt at Canada, and India holds each
once, each channel sequence number once.

With --setting NAME=VALUE (repeatable) both nodes run with that setting of theirs (`accord.config.Settings`, e.g.
delivery_workers=3), and the JSON line names it; otherwise they run with the defaults.

One JSON line goes to stdout, whatever happened (with an `error` and what was measured when a step fails); progress
goes to stderr. With --profile DIR both nodes run under cProfile (every thread) and their profiles are written to DIR
and summarised on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import itertools
import json
import os
import pstats
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx
import psycopg
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from accord.bootstrap import init_node
from accord.config import load_settings, write_node_file
from accord.directory.officers import Role, create_officer
from accord.domain.parties import Party
from accord.trust.peers import export_descriptor, pin_peer
from pg_databases import PG_ADMIN_DSN, libpq_dsn, postgres_database, postgres_reachable
from progress import Progress, log  # bench/progress.py, beside this script
from result_line import add_run_options, fill_defaults, result_line

PASSWORD = "bench-password-not-secret"
SENDER = ("ca.bench", "RCMP")
RECIPIENT_AGENCY = "NCB"  # what every bench draft is addressed to
NOTIFIED_WAIT_S = 300.0  # the longest the bench waits for India's notifier to tell of every arrival
BATCH = 500
CLIENT_THREADS = 4
FLOOR_MESSAGES = 20_000
FLOOR_REPEATS = 3  # the best of these is the floor: it is a limit, so noise from other processes is not counted
FLOOR_COMMIT_EVERY = 100
POLL_S = 0.5
URGENT_EVERY_S = 0.25  # the urgent probes' pace: a steady trickle, not a burst
URGENT_FIRST_INDEX = 10_000_000  # their drafts' numbers, apart from the bulk's
DELIVERY_TIMEOUT_S = 3600.0
FULL: dict[str, Any] = {"messages": 10_000, "backlog": 100_000, "workers": [1, 2, 4], "recipients": 0}
QUICK: dict[str, Any] = {"messages": 20, "backlog": 20, "workers": [1, 2], "recipients": 1}  # every step runs
QUICK_FLOOR = (500, 1)  # messages, repeats
DB_FILE = "accord.sqlite3"
NODE_SETTINGS: dict[str, str] = {}  # --setting NAME=VALUE: given to both nodes as ACCORD_NAME (default: none)
LOG_FILE = "node.log"


# ---------------------------------------------------------------------------------------------------- messages

_BODY_SENTENCES = (
    "Further to our telephone conversation, we request confirmation of the consignee, the importer-exporter code "
    "and the licence under which the shipment described below was cleared.",
    "The consignment was declared as industrial solvents but laboratory analysis found 4-anilinopiperidine and "
    "1-boc-4-AP, both listed precursors, in quantities inconsistent with the declared end use.",
    "Please also indicate whether the same consignee received earlier shipments from the supplier named in the "
    "subjects, and the banking channel used to pay for them, if that is known to you.",
    "The information is provided for intelligence purposes only and may not be used as evidence or disclosed to a "
    "third party without the prior written consent of the originating agency.",
    "We would be grateful for a reply within the routine response period; an officer of our liaison team is "
    "available around the clock should you need clarification of any detail.",
)


def typical_draft(index: int) -> dict[str, Any]:
    """A request of about 2 KB as an officer submits it: ~1.5 KB of body, three subjects, handling, legal basis."""
    body = f"Reference CA-RCMP-{index:08d}. " + " ".join(_BODY_SENTENCES * 2)
    body = body[:1500]
    return {
        "kind": "request",
        "recipient_agency": RECIPIENT_AGENCY,
        "focus_area": "drugs",
        "offence": "06012",  # ICCS: trafficking of controlled drugs or precursors
        "priority": "routine",
        "handling": {"classification": "Protected B", "tlp": "AMBER", "caveats": ["H0", "H2"]},
        "legal_basis": "Privacy Act s.8(2)(f); Canada–India arrangement on law-enforcement cooperation",
        "title": f"Consignee of a 4-AP shipment, bill of lading MAEU{index:09d}",
        "body": body,
        "subjects": [
            {
                "kind": "organisation",
                "name": "Example Chem Pvt Ltd",
                "identifiers": [{"scheme": "iec", "value": "0512345678"}],
            },
            {  # an organisation, not a person: a request naming a person waits for a mistreatment-risk assessment
                "kind": "organisation",
                "name": "Sample Supplier Chemicals Co Ltd",
                "aliases": ["Sample Supplier"],
                "identifiers": [{"scheme": "registration", "value": "91310000MA1FL0000X", "issuer": "CHN"}],
            },
            {
                "kind": "shipment",
                "name": "Container MSKU0000000",
                "identifiers": [{"scheme": "waybill", "value": f"MAEU{index:09d}"}],
            },
        ],
    }


# ---------------------------------------------------------------------------------------------------- nodes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ReadOnly:
    """A read-only connection to a node's database, SQLite or PostgreSQL, taking `?` placeholders either way."""

    def __init__(self, database_url: str) -> None:
        self.postgres = database_url.startswith("postgresql")
        if self.postgres:
            self._conn: Any = psycopg.connect(libpq_dsn(database_url), autocommit=True)
        else:
            path = database_url.removeprefix("sqlite:///")
            self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        return self._conn.execute(query.replace("?", "%s") if self.postgres else query, params)

    def close(self) -> None:
        self._conn.close()


@dataclass
class BenchNode:
    """A node as the benchmark runs it: one `accord node serve` process on SQLite, or on PostgreSQL `workers` serve
    processes and as many `accord node deliver` processes behind a round-robin balancer at the node's port."""

    party: Party
    data_dir: Path
    port: int
    profile_dir: Path | None = None
    database: str | None = None  # a PostgreSQL URL; unset, SQLite in data_dir
    workers: int = 1
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    backend_ports: list[int] = field(default_factory=list)
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILE

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.db_path.resolve()}"

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self.processes[0] if self.processes else None

    def env(self) -> dict[str, str]:
        # the sandbox's configuration: default Settings, only the database named explicitly
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
        env |= {f"ACCORD_{name.upper()}": value for name, value in NODE_SETTINGS.items()}
        env["ACCORD_DATABASE_URL"] = self.database_url
        return env

    def command(self) -> list[str]:
        if self.profile_dir is None:
            return [sys.executable, "-m", "accord", "node", "serve", "--data", str(self.data_dir)]
        label = self.party.value.lower()
        return [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve-profiled",
            str(self.profile_dir / label),
            "--data",
            str(self.data_dir),
        ]

    def commands(self) -> list[list[str]]:
        """The node's processes: the serve process on SQLite; on PostgreSQL the balancer, then the workers."""
        if self.database is None:
            return [self.command()]
        if not self.backend_ports:
            self.backend_ports = [free_port() for _ in range(self.workers)]
        accord = [sys.executable, "-m", "accord", "node"]
        data = ["--data", str(self.data_dir)]
        balancer = [sys.executable, str(Path(__file__).resolve()), "--balance", str(self.port)]
        balancer += ["--to", ",".join(map(str, self.backend_ports))]
        # API and federation endpoint only; the W serve processes take the machine's cores, so none screens batches
        # in worker processes of its own (README: scale-out).
        only_serve = ["--delivery-workers", "0", "--screen-workers", "0"]
        serve = [[*accord, "serve", *data, "--port", str(p), *only_serve] for p in self.backend_ports]
        deliver = [[*accord, "deliver", *data] for _ in range(self.workers)]
        return [balancer, *serve, *deliver]

    def start(self) -> None:
        if self.running():
            raise RuntimeError(f"{self.party} node is already running")
        if self._log is None:
            self._log = open(self.data_dir / LOG_FILE, "ab")  # noqa: SIM115 - lives as long as the node
        self.processes = [
            subprocess.Popen(command, env=self.env(), stdout=self._log, stderr=self._log) for command in self.commands()
        ]

    def running(self) -> bool:
        return bool(self.processes) and all(process.poll() is None for process in self.processes)

    def health_urls(self) -> list[str]:
        ports = self.backend_ports if self.database is not None else [self.port]
        return [f"http://127.0.0.1:{port}/healthz" for port in ports] + [self.url + "/healthz"]

    def wait_healthy(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s * self.workers
        for url in self.health_urls():
            while True:
                if not self.running():
                    raise RuntimeError(f"{self.party} node exited: {self.log_tail()}")
                try:
                    if httpx.get(url, timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.party} node not healthy after {timeout_s} s at {url}: {self.log_tail()}")
                time.sleep(0.02)

    def log_tail(self) -> str:
        path = self.data_dir / LOG_FILE
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self, timeout_s: float = 60.0) -> None:
        for process in reversed(self.processes):  # the balancer last: the serve processes end their requests first
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def close(self) -> None:
        try:
            self.stop()
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None


def create_pair(
    root: Path,
    profile_dir: Path | None,
    databases: dict[Party, str] | None = None,
    workers: int = 1,
    recipients: int = 0,
) -> tuple[BenchNode, BenchNode]:
    """Initialise Canada and India (keys, database, identity), pin each as the other's peer, add the sender and
    `recipients` officers of India's NCB on duty (each told of every message that arrives for NCB)."""
    nodes: dict[Party, BenchNode] = {}
    opened = {}
    for party in (Party.CA, Party.IN):
        data_dir = root / party.value.lower()
        data_dir.mkdir(parents=True)
        database = databases[party] if databases else None
        bench_node = BenchNode(party, data_dir, free_port(), profile_dir, database, workers)
        write_node_file(data_dir, "127.0.0.1", bench_node.port, None)
        opened[party] = init_node(load_settings(data_dir, database_url=bench_node.database_url), party)
        nodes[party] = bench_node
    try:
        username, agency = SENDER
        create_officer(opened[Party.CA], username, PASSWORD, "Bench sender", agency, frozenset({Role.OFFICER}))
        for n in range(recipients):
            officer = (f"in.ncb.{n}", PASSWORD, f"Bench recipient {n}", RECIPIENT_AGENCY, frozenset({Role.OFFICER}))
            create_officer(opened[Party.IN], *officer, duty=True)
        pin_peer(opened[Party.CA], export_descriptor(opened[Party.IN]))
        pin_peer(opened[Party.IN], export_descriptor(opened[Party.CA]))
    finally:
        for node in opened.values():
            node.close()
    return nodes[Party.CA], nodes[Party.IN]


def sign_in(node: BenchNode, username: str) -> str:
    response = httpx.post(node.url + "/api/v1/token", data={"username": username, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


# ---------------------------------------------------------------------------------------------------- sending


def send_messages(node: BenchNode, token: str, total: int, first_index: int, label: str) -> datetime:
    """POST `total` drafts in batches from CLIENT_THREADS threads; returns the wall time of the first call."""
    batches = [
        (start, min(BATCH, total - (start - first_index))) for start in range(first_index, first_index + total, BATCH)
    ]
    counter = itertools.count()
    sent = 0
    lock = threading.Lock()
    progress = Progress(label, total)
    started = datetime.now(UTC)

    def worker() -> None:
        nonlocal sent
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=node.url, headers=headers, timeout=httpx.Timeout(300.0, connect=10.0)) as client:
            while (n := next(counter)) < len(batches):
                start, size = batches[n]
                drafts = [typical_draft(i) for i in range(start, start + size)]
                response = client.post("/api/v1/messages/batch", json={"messages": drafts})
                if response.status_code != 201:
                    raise RuntimeError(f"batch refused: HTTP {response.status_code} {response.text[:500]}")
                with lock:
                    sent += size
                    progress.update(sent)

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        for future in [pool.submit(worker) for _ in range(CLIENT_THREADS)]:
            future.result()
    return started


@contextmanager
def read_only(node: BenchNode) -> Iterator[ReadOnly]:
    conn = ReadOnly(node.database_url)
    try:
        yield conn
    finally:
        conn.close()


def wait_delivered(node: BenchNode, expected: int, label: str, watch: list[BenchNode]) -> None:
    """Poll the sender's database (read only) until its outbox is empty and `expected` messages are delivered."""
    progress = Progress(label, expected, every_s=5.0)
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while True:
        for running in watch:
            if not running.running():
                raise RuntimeError(f"{running.party} node exited: {running.log_tail()}")
        with read_only(node) as conn:
            # count(*) is answered from an index; a WHERE on an unindexed column would scan every body
            pending = int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])
            if pending == 0:
                delivered, failed = conn.execute(
                    "SELECT count(delivered_at), count(CASE WHEN state IN ('failed', 'held', 'refused') THEN 1 END) "
                    "FROM messages WHERE direction = 'outgoing'"
                ).fetchone()
                if failed:  # none of these will ever be delivered: waiting longer would only hide why
                    states = conn.execute(
                        "SELECT state, min(state_reason), count(*) FROM messages WHERE direction = 'outgoing' "
                        "AND state IN ('failed', 'held', 'refused') GROUP BY state"
                    ).fetchall()
                    raise RuntimeError(f"{failed} messages not sent: {states}; see {node.data_dir / LOG_FILE}")
                if int(delivered) >= expected:
                    progress.update(int(delivered), force=True)
                    return
        progress.update(max(0, expected - pending), f"(outbox {pending})")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: not delivered within {DELIVERY_TIMEOUT_S} s")
        time.sleep(POLL_S)


def _utc(value: str | datetime) -> datetime:
    if isinstance(value, datetime):  # PostgreSQL's timestamptz
        return value.astimezone(UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def delivery_times(node: BenchNode, since: datetime) -> list[tuple[datetime, datetime]]:
    """(created_at, delivered_at) of outgoing messages created at or after `since`."""
    since_text = since.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with read_only(node) as conn:
        rows = conn.execute(
            "SELECT created_at, delivered_at FROM messages WHERE direction = 'outgoing' AND created_at >= ?",
            (since if conn.postgres else since_text,),
        ).fetchall()
    return [(_utc(created), _utc(delivered)) for created, delivered in rows]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


# ---------------------------------------------------------------------------------------------------- urgent probe


def send_urgent_probes(node: BenchNode, token: str, count: int, stop: threading.Event) -> dict[str, datetime]:
    """While the bulk load runs, POST `count` single urgent messages one after another, one every URGENT_EVERY_S;
    returns each one's id and the wall time just before its API call (its latency is counted from there)."""
    sent: dict[str, datetime] = {}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=node.url, headers=headers, timeout=httpx.Timeout(300.0, connect=10.0)) as client:
        for n in range(count):
            if stop.wait(URGENT_EVERY_S):
                break
            called = datetime.now(UTC)
            draft = typical_draft(URGENT_FIRST_INDEX + n) | {"priority": "urgent"}
            response = client.post("/api/v1/messages", json=draft)
            if response.status_code != 201:
                raise RuntimeError(f"urgent message refused: HTTP {response.status_code} {response.text[:500]}")
            sent[str(response.json()["id"])] = called
    return sent


def _probe_rows(node: BenchNode, sent: dict[str, datetime]) -> list[tuple[str, str, str]]:
    if not sent:
        return []
    with read_only(node) as conn:
        return conn.execute(
            f"SELECT id, created_at, delivered_at FROM messages WHERE id IN ({','.join('?' * len(sent))})", tuple(sent)
        ).fetchall()


def without_probes(
    times: list[tuple[datetime, datetime]], node: BenchNode, sent: dict[str, datetime]
) -> list[tuple[datetime, datetime]]:
    """The bulk's (created_at, delivered_at), the urgent probes' taken out."""
    left = list(times)
    for _, created, delivered in _probe_rows(node, sent):
        left.remove((_utc(created), _utc(delivered)))
    return left


def _first_sent(node: BenchNode, refs: set[str]) -> dict[str, datetime]:
    """When each of `refs` was first handed to the transport: its first `envelope.sent` event, which the sender
    logs once the batch is signed and sealed, just before posting it."""
    first: dict[str, datetime] = {}
    with read_only(node) as conn:
        rows = conn.execute(
            "SELECT json_extract(refs, '$.ref'), at FROM events WHERE type = 'envelope.sent' "
            f"AND json_extract(refs, '$.ref') IN ({','.join('?' * len(refs))}) ORDER BY id",
            tuple(refs),
        )
        for ref, at in rows:
            first.setdefault(ref, _utc(at))
    return first


def urgent_figures(node: BenchNode, peer: BenchNode, sent: dict[str, datetime]) -> dict[str, Any]:
    """API call → receipt stored at the sender, per urgent probe: p50 and p99 (nearest rank); and the same for each
    stage: the API call until the message is stored (`accepted`), stored until the peer stored it (`carried`), and
    until its receipt is stored back at the sender (`receipted`); `carried` is split at the moment its envelope,
    signed and sealed, is handed to the transport: claimed and sealed (`sealed`), then posted, checked and stored
    by the peer (`posted`). Both nodes share this machine's clock."""
    if not sent:
        return {}
    rows = _probe_rows(node, sent)
    with read_only(peer) as conn:
        received = dict(
            conn.execute(
                f"SELECT id, received_at FROM messages WHERE id IN ({','.join('?' * len(sent))})", tuple(sent)
            ).fetchall()
        )
    handed = _first_sent(node, set(sent))
    stages: dict[str, list[float]] = {
        "total": [],
        "accepted": [],
        "carried": [],
        "sealed": [],
        "posted": [],
        "receipted": [],
    }
    slowest: list[tuple[float, str]] = []
    for ref, created, delivered in rows:
        at_peer = _utc(received[ref])
        stages["total"].append((_utc(delivered) - sent[ref]).total_seconds() * 1000)
        stages["accepted"].append((_utc(created) - sent[ref]).total_seconds() * 1000)
        stages["carried"].append((at_peer - _utc(created)).total_seconds() * 1000)
        stages["sealed"].append((handed[ref] - _utc(created)).total_seconds() * 1000)
        stages["posted"].append((at_peer - handed[ref]).total_seconds() * 1000)
        stages["receipted"].append((_utc(delivered) - at_peer).total_seconds() * 1000)
        parts = ", ".join(f"{stage} {values[-1]:.0f} ms" for stage, values in stages.items())
        number = list(sent).index(ref) + 1
        slowest.append((stages["total"][-1], f"#{number} of {len(sent)}, sent {sent[ref].time().isoformat()}: {parts}"))
    for _, line in sorted(slowest, reverse=True)[:3]:
        log(f"slow urgent probe, {line}")
    figures: dict[str, Any] = {"urgent_probes": len(rows)}
    for stage, values in stages.items():
        values.sort()
        prefix = "urgent" if stage == "total" else f"urgent_{stage}"
        figures[f"{prefix}_p50_ms"] = round(percentile(values, 0.50), 1)
        figures[f"{prefix}_p99_ms"] = round(percentile(values, 0.99), 1)
    return figures


# ---------------------------------------------------------------------------------------------------- the floor


def floor_messages_per_s(count: int, workdir: Path) -> float:
    """Ed25519 sign + X25519/HKDF/AES-256-GCM seal + one SQLite INSERT (WAL, synchronous=NORMAL) per message."""
    signing = Ed25519PrivateKey.generate()
    recipient = X25519PrivateKey.generate().public_key()
    template = typical_draft(0)
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "floor.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE sealed (id INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE, envelope BLOB NOT NULL)")
        started = time.perf_counter()
        conn.execute("BEGIN")
        for n in range(count):
            ref = f"msg-{n:012d}"
            payload = json.dumps(template | {"id": ref}, separators=(",", ":"), sort_keys=True).encode()
            signed = payload + signing.sign(payload)
            ephemeral = X25519PrivateKey.generate()
            shared = ephemeral.exchange(recipient)
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"bench-envelope").derive(shared)
            nonce = os.urandom(12)
            sealed = AESGCM(key).encrypt(nonce, signed, ref.encode())
            conn.execute("INSERT INTO sealed (ref, envelope) VALUES (?, ?)", (ref, nonce + sealed))
            if (n + 1) % FLOOR_COMMIT_EVERY == 0:
                conn.execute("COMMIT")
                conn.execute("BEGIN")
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    log(f"floor: {count} messages of {len(payload)} B in {elapsed:.2f} s")
    return count / elapsed


# ---------------------------------------------------------------------------------------------------- profiling


def serve_profiled(out_prefix: Path, data_dir: Path) -> None:
    """Run `accord node serve` with a cProfile per thread (main, delivery, AnyIO workers); dump each at its end."""
    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    original_run = threading.Thread.run
    serial = itertools.count()

    def dump(profile: cProfile.Profile, name: str) -> None:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        profile.dump_stats(f"{out_prefix}-{safe}-{os.getpid()}-{next(serial)}.prof")

    def profiled_run(self: threading.Thread) -> None:
        profile = cProfile.Profile()
        profile.enable()
        try:
            original_run(self)
        finally:
            profile.disable()
            dump(profile, self.name)

    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    from accord.cli import main

    sys.argv = ["accord", "node", "serve", "--data", str(data_dir)]
    profile = cProfile.Profile()
    profile.enable()
    try:
        main()
    finally:
        profile.disable()
        dump(profile, "main")


def summarise_profiles(profile_dir: Path, label: str, top: int = 25) -> None:
    files = sorted(profile_dir.glob(f"{label}-*.prof"))
    if not files:
        log(f"no profiles for {label} in {profile_dir}")
        return
    for pattern in ("main", "delivery", "AnyIO"):
        group = [str(f) for f in files if f.name.startswith(f"{label}-{pattern}")]
        if not group:
            continue
        out = io.StringIO()
        stats = pstats.Stats(group[0], stream=out)
        for extra in group[1:]:
            stats.add(extra)
        stats.strip_dirs().sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top // 2)
        print(f"===== {label} / {pattern} threads ({len(group)} profiles) =====", file=sys.stderr)
        print(out.getvalue(), file=sys.stderr)


# ---------------------------------------------------------------------------------------------------- the run


def run(
    messages: int,
    backlog: int,
    profile_dir: Path | None,
    result: dict[str, Any],
    floor: tuple[int, int] = (FLOOR_MESSAGES, FLOOR_REPEATS),
    urgent_probes: int = 0,
    recipients: int = 0,
) -> None:
    """Steps 1 to 3 on SQLite; each figure goes into `result` as soon as it is measured. With `recipients`, then
    how long after India stored each message its recipients were told of it (India's notifier)."""
    root = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    nodes: list[BenchNode] = []
    result |= {"database": "sqlite", "messages": messages, "backlog": backlog}
    try:
        log(f"initialising two nodes under {root}")
        ca, in_ = create_pair(root, profile_dir, recipients=recipients)
        nodes = [ca, in_]
        token = start_pair(ca, in_)
        size = len(json.dumps(typical_draft(0), ensure_ascii=False).encode())
        log(f"nodes up: Canada {ca.url}, India {in_.url}; draft is {size} B of JSON")

        # 1. throughput and latency, end to end
        result |= throughput(ca, in_, token, messages, urgent_probes)

        # 2. the floor
        floor_messages, floor_repeats = floor
        limit = max(floor_messages_per_s(floor_messages, root / f"floor-{n}") for n in range(floor_repeats))
        result["limit_messages_per_s"] = round(limit, 1)
        result["ratio"] = round(result["messages_per_s"] / limit, 4)

        # 4. backlog drain
        if backlog > 0:
            in_.stop()
            log("India stopped; queueing the backlog at Canada")
            queued_from = send_messages(ca, token, backlog, messages, "backlog queued")
            started = datetime.now(UTC)
            busy_from = machine_busy_s()
            in_.start()
            in_.wait_healthy()
            log(f"India up again after {(datetime.now(UTC) - started).total_seconds():.1f} s; draining")
            wait_delivered(ca, messages + backlog, "backlog delivered", nodes)
            busy_to = machine_busy_s()
            backlog_times = [delivered for _, delivered in delivery_times(ca, queued_from)]
            if len(backlog_times) != backlog:
                raise RuntimeError(f"expected {backlog} delivered backlog messages, found {len(backlog_times)}")
            first_after = min(backlog_times)
            log(f"first backlog receipt {(first_after - started).total_seconds():.1f} s after India's start")
            drain_s = (max(backlog_times) - started).total_seconds()
            result["backlog_drain_s"] = round(drain_s, 3)
            # Past the start-up: from the first receipt to the last, the rate the two nodes sustain.
            steady_s = (max(backlog_times) - first_after).total_seconds()
            result["backlog_steady_messages_per_s"] = round(backlog / steady_s, 1) if steady_s > 0 else None
            if busy_from is not None and busy_to is not None:
                # Every process of the machine, the start-up included: what a message costs the two cores.
                result["backlog_cpu_ms_per_message"] = round((busy_to - busy_from) * 1000 / backlog, 3)
            with read_only(ca) as conn:
                attempts = conn.execute("SELECT max(attempts), avg(attempts) FROM messages").fetchone()
                events = conn.execute("SELECT type, count(*) FROM events GROUP BY type ORDER BY type").fetchall()
            log(f"Canada: attempts per message max {attempts[0]}, mean {attempts[1]:.2f}; events {dict(events)}")
        if recipients > 0:
            result |= notification_delays(in_, recipients)
    except BaseException:
        log_tails(nodes)
        raise
    finally:
        close_all(nodes, root)
        if profile_dir is not None:
            for label in ("ca", "in"):
                summarise_profiles(profile_dir, label)


def machine_busy_s() -> float | None:
    """CPU seconds the whole machine has spent busy since it started (every core, every process), from Linux's
    /proc/stat; None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle, and waiting for I/O
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # guest time is already counted in user time


def notification_delays(in_: BenchNode, recipients: int) -> dict[str, Any]:
    """Once India's notifier has told every recipient of every message received (or after NOTIFIED_WAIT_S): how long
    after a message was stored its notices were made, p50 and p99 over all of them."""
    with read_only(in_) as conn:
        expected = recipients * conn.execute("SELECT count(*) FROM messages WHERE direction = 'incoming'").fetchone()[0]
    progress = Progress("notified (India's notices made)", expected)
    deadline = time.monotonic() + NOTIFIED_WAIT_S
    while time.monotonic() < deadline:
        with read_only(in_) as conn:
            made = int(conn.execute("SELECT count(*) FROM notifications").fetchone()[0])
        progress.update(made, force=made >= expected)
        if made >= expected:
            break
        time.sleep(POLL_S)
    with read_only(in_) as conn:
        pairs = conn.execute(
            "SELECT n.created_at, m.received_at FROM notifications n JOIN messages m ON m.id = n.message_id"
        ).fetchall()
    delays = sorted((_utc(made_at) - _utc(received)).total_seconds() for made_at, received in pairs)
    if len(delays) < expected:
        raise RuntimeError(f"India's notifier made {len(delays)} of {expected} notices in {NOTIFIED_WAIT_S:.0f} s")
    return {
        "recipients": recipients,
        "notices": len(delays),
        "notified_p50_ms": round(percentile(delays, 0.50) * 1000, 1),
        "notified_p99_ms": round(percentile(delays, 0.99) * 1000, 1),
    }


def start_pair(ca: BenchNode, in_: BenchNode) -> str:
    """Both nodes started and answering; the bench officer's bearer token at Canada."""
    for node in (ca, in_):
        node.start()
    for node in (ca, in_):
        node.wait_healthy()
    return sign_in(ca, SENDER[0])


def log_tails(nodes: list[BenchNode]) -> None:
    """The nodes' own account of a failure, before their folders go."""
    for node in nodes:
        log(f"{node.party} log, last lines:\n{node.log_tail()}")


def close_all(nodes: list[BenchNode], root: Path) -> None:
    """Stop the nodes and remove their folders; a node that fails to stop is reported, the rest still go."""
    for node in nodes:
        try:
            node.close()
        except Exception as exc:  # cleaning up: report and go on
            log(f"stopping {node.party} failed: {exc!r}")
    shutil.rmtree(root, ignore_errors=True)


def throughput(ca: BenchNode, in_: BenchNode, token: str, messages: int, urgent_probes: int = 0) -> dict[str, Any]:
    """Step 1: `messages` sent through Canada's API at once, until the last receipt is stored at Canada; with
    `urgent_probes`, single urgent messages sent during the load, their latency reported apart."""
    probe_stop = threading.Event()
    with ThreadPoolExecutor(1) as probe_pool:
        probes = probe_pool.submit(send_urgent_probes, ca, token, urgent_probes, probe_stop)
        first_call = send_messages(ca, token, messages, 0, "sent (API accepted)")
        wait_delivered(ca, messages, "delivered (receipts at Canada)", [ca, in_])
        probe_stop.set()
        urgent_sent = probes.result()
    wait_delivered(ca, messages + len(urgent_sent), "urgent probes delivered", [ca, in_])
    times = without_probes(delivery_times(ca, first_call), ca, urgent_sent)
    if len(times) != messages:
        raise RuntimeError(f"expected {messages} delivered messages, found {len(times)}")
    last_receipt = max(delivered for _, delivered in times)
    seconds = (last_receipt - first_call).total_seconds()
    latencies = sorted((delivered - created).total_seconds() * 1000 for created, delivered in times)
    return {
        "seconds": round(seconds, 3),
        "messages_per_s": round(messages / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    } | urgent_figures(ca, in_, urgent_sent)


# ---------------------------------------------------------------------------------------------------- scale-out


def scale_out(admin_dsn: str, messages: int, workers: list[int], result: dict[str, Any]) -> None:
    """For each worker count, a fresh pair on PostgreSQL: throughput, latency and the lost-or-duplicated check."""
    result |= {"database": "postgresql", "messages": messages, "scale_out": []}
    for count in workers:
        row: dict[str, Any] = {"workers": count}
        result["scale_out"].append(row)  # in the result before it is measured: a failure still shows which count
        root = Path(tempfile.mkdtemp(prefix=f"accord-bench-w{count}-"))
        nodes: list[BenchNode] = []
        try:
            with postgres_database(admin_dsn, "bench_ca") as ca_url, postgres_database(admin_dsn, "bench_in") as in_url:
                log(f"{count} worker process(es) per node: initialising two nodes on PostgreSQL under {root}")
                ca, in_ = create_pair(root, None, {Party.CA: ca_url, Party.IN: in_url}, count)
                nodes = [ca, in_]
                token = start_pair(ca, in_)
                row |= throughput(ca, in_, token, messages)
                row["check"] = exactly_once(ca, in_, messages)
                log(f"{count} worker process(es) per node: {json.dumps(row)}")
                for node in nodes:
                    node.close()
                nodes = []
        except BaseException:
            log_tails(nodes)
            raise
        finally:
            close_all(nodes, root)
        if not row["check"]["ok"]:
            raise RuntimeError(f"messages lost or duplicated with {count} workers: {row['check']}")


def exactly_once(ca: BenchNode, in_: BenchNode, expected: int) -> dict[str, Any]:
    """Every message Canada sent is delivered once, with one receipt, and India holds each once under its own
    channel sequence number: counts and distinct ids on both sides, and the two sets of ids compared."""
    with read_only(ca) as conn:
        sent, sent_ids, sent_seqs, delivered, receipts, failed = conn.execute(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT channel_seq), count(delivered_at), count(receipt), "
            "count(CASE WHEN state = 'failed' THEN 1 END) FROM messages WHERE direction = 'outgoing'"
        ).fetchone()
        outbox_left = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        ids_sent = {row[0] for row in conn.execute("SELECT id FROM messages WHERE direction = 'outgoing'")}
    with read_only(in_) as conn:
        received, received_ids, received_seqs = conn.execute(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT channel_seq) FROM messages "
            "WHERE direction = 'incoming'"
        ).fetchone()
        envelopes, envelope_seqs, envelope_refs = conn.execute(
            "SELECT count(*), count(DISTINCT seq), count(DISTINCT ref_id) FROM inbound_envelopes WHERE kind = 'message'"
        ).fetchone()
        ids_received = {row[0] for row in conn.execute("SELECT id FROM messages WHERE direction = 'incoming'")}
    check = {
        "sent": sent,
        "delivered_with_receipt": min(delivered, receipts),
        "received": received,
        "lost": len(ids_sent - ids_received),
        "unexpected": len(ids_received - ids_sent),
        "duplicated_at_india": (received - received_ids) + (envelopes - envelope_refs),
        "sequence_numbers_repeated": (sent - sent_seqs) + (received - received_seqs) + (envelopes - envelope_seqs),
        "failed": failed,
        "outbox_left": outbox_left,
    }
    check["ok"] = (
        sent == sent_ids == expected
        and delivered == receipts == expected
        and received == envelopes == expected
        and not (check["lost"] or check["unexpected"] or check["duplicated_at_india"])
        and not (check["sequence_numbers_repeated"] or failed or outbox_left)
    )
    return check


def balance(listen_port: int, backend_ports: list[int]) -> None:
    """A round-robin TCP balancer on loopback: each connection goes to the next backend, bytes copied both ways."""
    turn = itertools.cycle(backend_ports)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(1 << 16):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass  # either side hung up: the other is closed below
        finally:
            writer.close()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", next(turn))
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    async def serve() -> None:
        server = await asyncio.start_server(forward, "127.0.0.1", listen_port)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def worker_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--workers is a comma-separated list of integers, not {text!r}") from exc
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("every worker count must be at least 1")
    return counts


def node_setting(text: str) -> tuple[str, str]:
    """NAME=VALUE, NAME a field of the node's settings other than its database (which the bench chooses)."""
    from accord.config import Settings

    name, equals, value = text.partition("=")
    name = name.strip().lower()
    if not equals or name not in Settings.model_fields or name == "database_url":
        known = ", ".join(sorted(set(Settings.model_fields) - {"database_url"}))
        raise argparse.ArgumentTypeError(f"--setting is NAME=VALUE, NAME one of the node's settings ({known})")
    return name, value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=None, help="messages sent end to end (default 10,000)")
    parser.add_argument("--backlog", type=int, default=None, help="messages queued while India is down")
    parser.add_argument("--profile", type=Path, default=None, help="run both nodes under cProfile; write to DIR")
    parser.add_argument(
        "--database",
        default=None,
        metavar="DSN",
        help=f"scale-out on this PostgreSQL server (e.g. {PG_ADMIN_DSN}); it creates and drops its own databases",
    )
    parser.add_argument(
        "--workers", type=worker_counts, default=None, help="with --database: worker processes per node (1,2,4)"
    )
    parser.add_argument(
        "--urgent-probe",
        type=int,
        default=0,
        metavar="N",
        help="during step 1, send up to N single urgent messages, one every 0.25 s; report their p50/p99 latency",
    )
    parser.add_argument(
        "--recipients",
        type=int,
        default=None,
        metavar="N",
        help="N officers of India's NCB on duty, each told of every arrival; how soon (p50/p99; default 0, --quick 1)",
    )
    parser.add_argument(
        "--setting",
        type=node_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a node setting both nodes run with (e.g. delivery_workers=3); by default they run with the defaults",
    )
    add_run_options(parser, f"{QUICK['messages']} messages, backlog {QUICK['backlog']}, workers {QUICK['workers']}")
    parser.add_argument("--serve-profiled", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--balance", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--to", type=worker_counts, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_profiled is not None:
        serve_profiled(args.serve_profiled, args.data)
        return
    if args.balance is not None:
        balance(args.balance, args.to)
        return
    if args.database is not None and args.recipients is not None:  # asked for, not a default
        parser.error("--recipients measures the SQLite pair; it does not go with --database")
    fill_defaults(args, full=FULL, quick=QUICK)
    if args.messages < 1 or args.backlog < 0 or args.recipients < 0:
        parser.error("--messages must be positive, --backlog and --recipients not negative")
    if args.database is not None and args.profile is not None:
        parser.error("--profile measures the SQLite pair; it does not go with --database")
    if args.database is not None and not postgres_reachable(args.database):
        parser.error(f"PostgreSQL is not reachable at {args.database}")
    profile_dir: Path | None = args.profile.resolve() if args.profile else None
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    NODE_SETTINGS.update(args.setting)
    with result_line("exchange", args) as result:
        if NODE_SETTINGS:
            result["settings"] = dict(NODE_SETTINGS)
        if args.database is not None:
            scale_out(args.database, args.messages, args.workers, result)
        else:
            floor = QUICK_FLOOR if args.quick else (FLOOR_MESSAGES, FLOOR_REPEATS)
            run(args.messages, args.backlog, profile_dir, result, floor, args.urgent_probe, args.recipients)


if __name__ == "__main__":
    main()
