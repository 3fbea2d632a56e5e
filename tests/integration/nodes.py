"""Real node processes on loopback for integration tests: init, pin, officers, copies of an initialised pair, start,
stop, kill -9, and a clock a test can run ahead."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from accord.bootstrap import init_node, open_node
from accord.clock import move_clock
from accord.config import load_settings, write_node_file
from accord.crypto.keys import NodeKeys
from accord.directory.officers import Role, create_officer
from accord.domain.handling import CommonLevel
from accord.domain.parties import Party
from accord.exchange.transport import tls_context
from accord.node import KEY_DIR
from accord.trust.peers import export_descriptor, pin_peer, repoint_peer
from tests.conftest import DatabaseFactory, databases_for
from tests.integration.launcher import LaunchedProcess, NodeLauncher, stop_launched, wait_answering

PASSWORD = "correct-horse-battery-staple"
# Settings of the test process that its nodes keep (every other ACCORD_* variable is the node's own).
PASSED_ON = ("ACCORD_PASSWORD_HASHING",)
# In a node's data directory: how far its clock runs ahead, for nodes started with an offset clock.
CLOCK_FILE = "clock-offset"

# Officers each test node gets: (username, agency, roles)
OFFICERS = {
    Party.CA: [
        ("ca.rcmp", "RCMP", ["officer"]),
        ("ca.cbsa", "CBSA", ["officer"]),
        ("ca.operator", "PS", ["operator"]),
        ("ca.legal", "PS", ["legal"]),
        ("ca.deputy", "PS", ["deputy_head"]),
        ("ca.rcmp.lawyer", "RCMP", ["officer", "legal"]),
        ("ca.coord", "PS", ["coordinator"]),
        ("ca.ocs", "HC-OCS", ["officer"]),
        ("ca.cccs", "CCCS", ["officer", "analyst"]),
        ("ca.ircc", "IRCC", ["officer"]),
    ],
    Party.IN: [
        ("in.ncb", "NCB", ["officer"]),
        ("in.cbi", "CBI", ["officer"]),
        ("in.operator", "MHA", ["operator"]),
        ("in.ncb.duty", "NCB", ["officer"]),
        ("in.coord", "MHA", ["coordinator"]),
        ("in.cbn", "CBN", ["officer"]),
        ("in.certin", "CERT-In", ["officer", "analyst"]),
        ("in.boi", "BOI", ["officer"]),
        ("in.legal", "MHA", ["legal"]),
    ],
}
# Officers with a narrower need-to-know: (username, agency, roles, clearance, focus areas)
RESTRICTED_OFFICERS = {
    Party.CA: [],
    Party.IN: [
        ("in.ncb.cyber", "NCB", ["officer"], CommonLevel.SECRET, ("cyber",)),
        ("in.ncb.low", "NCB", ["officer"], CommonLevel.RESTRICTED, ()),
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningNode:
    party: Party
    data_dir: Path
    database_url: str
    port: int
    extra_env: dict[str, str] = field(default_factory=dict)
    launcher: NodeLauncher | None = None
    process: LaunchedProcess | None = None
    _engine: Engine | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def keys(self) -> NodeKeys:
        return NodeKeys.load(self.data_dir / KEY_DIR)

    @property
    def node_id(self) -> str:
        return f"{self.party.value.lower()}-node-1"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_") or k in PASSED_ON}
        env["ACCORD_DATABASE_URL"] = self.database_url
        env["ACCORD_RETRY_MAX_S"] = "1.0"
        env["ACCORD_RETRY_BASE_S"] = "0.1"
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        self.launch()
        self.wait_healthy()

    def use_offset_clock(self) -> None:
        """From its next start, the node's clock is the system clock plus what `run_clock_ahead` adds."""
        self.extra_env["ACCORD_CLOCK_OFFSET_FILE"] = str(self.data_dir / CLOCK_FILE)

    def run_clock_ahead(self, seconds: float) -> None:
        """Let `seconds` pass for the running node, at once."""
        assert "ACCORD_CLOCK_OFFSET_FILE" in self.extra_env, "start the node with use_offset_clock() first"
        move_clock(self.data_dir / CLOCK_FILE, seconds)

    def launch(self) -> None:
        """Start the node's process (`accord node serve`) without waiting for it to answer."""
        assert self.launcher is not None, "a node that runs is a copy of a template (PairTemplates.copy)"
        assert self.process is None or self.process.has_exited(), "already running"
        argv = ["node", "serve", "--data", str(self.data_dir)]
        self.process = self.launcher.launch(argv, self.env(), self.data_dir / "node.log")

    def run_accord(
        self, *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout_s: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """`accord ARGS` run to its end, as an operator's shell would run it (in the node's environment unless told
        otherwise); its exit code and output, as `subprocess.run` gives them."""
        assert self.launcher is not None, "a node that runs is a copy of a template (PairTemplates.copy)"
        return self.launcher.run(list(args), self.env() if env is None else env, input=input, timeout_s=timeout_s)

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        assert self.process is not None
        wait_answering(self.url, self.process, self.data_dir / "node.log", timeout_s=timeout_s)

    def stop(self) -> None:
        if self.process is not None:
            stop_launched([self.process])

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout_s=30)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from accord.store.engine import make_engine

            self._engine = make_engine(self.database_url)
        return self._engine

    def token(self, username: str, password: str = PASSWORD) -> str:
        response = httpx.post(
            self.url + "/api/v1/token", data={"username": username, "password": password}, verify=tls_context()
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def client(self, username: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token(username)}"},
            timeout=30.0,
            verify=tls_context(),
        )

    def dispose(self) -> None:
        self.stop()
        if self._engine is not None:
            self._engine.dispose()


def create_pair(root: Path, ca_database_url: str, in_database_url: str) -> tuple[RunningNode, RunningNode]:
    """Initialise a Canada and an India node, pin each as the other's peer, add officers; not started."""
    nodes: dict[Party, RunningNode] = {}
    opened = {}
    for party, url in ((Party.CA, ca_database_url), (Party.IN, in_database_url)):
        data_dir = root / party.value.lower()
        data_dir.mkdir(parents=True)
        port = free_port()
        write_node_file(data_dir, "127.0.0.1", port, None)
        settings = load_settings(data_dir, database_url=url)
        node = init_node(settings, party)
        for username, agency, roles in OFFICERS[party]:
            create_officer(node, username, PASSWORD, username, agency, frozenset(Role(r) for r in roles))
        for username, agency, roles, clearance, areas in RESTRICTED_OFFICERS[party]:
            create_officer(
                node, username, PASSWORD, username, agency, frozenset(Role(r) for r in roles), False, clearance, areas
            )
        opened[party] = node
        nodes[party] = RunningNode(party, data_dir, url, port)
    pin_peer(opened[Party.CA], export_descriptor(opened[Party.IN]))
    pin_peer(opened[Party.IN], export_descriptor(opened[Party.CA]))
    for node in opened.values():
        node.close()
    return nodes[Party.CA], nodes[Party.IN]


class PairTemplates:
    """Per storage backend, one pair made by `create_pair` (keys, migrated databases, officers, pins) on first use and
    never started; every test's pair is a copy of it, which costs a file copy or a `CREATE DATABASE … TEMPLATE`
    instead of key generation, migrations and officer accounts. Each test process (xdist worker) has its own."""

    def __init__(self, root: Path, launcher: NodeLauncher) -> None:
        self.root = root
        self.launcher = launcher
        self._pairs: dict[str, tuple[RunningNode, RunningNode]] = {}
        self._databases: list[DatabaseFactory] = []

    def copy(self, databases: DatabaseFactory, root: Path) -> tuple[RunningNode, RunningNode]:
        """A Canada and India pair like a fresh one, in `root` and on `databases`, on ports of its own; not started."""
        template = self._template(databases.backend)
        ca, in_ = (copy_node(node, databases, root) for node in template)
        ca.launcher = in_.launcher = self.launcher
        for node, peer in ((ca, in_), (in_, ca)):
            opened = open_local(node)
            try:
                repoint_peer(opened, peer.node_id, peer.url)
            finally:
                opened.close()
        return ca, in_

    def _template(self, backend: str) -> tuple[RunningNode, RunningNode]:
        if backend not in self._pairs:
            root = Path(tempfile.mkdtemp(prefix=f"{backend}-", dir=self.root))
            databases = databases_for(backend, root)
            self._databases.append(databases)
            self._pairs[backend] = create_pair(root, databases.new_url("template_ca"), databases.new_url("template_in"))
        return self._pairs[backend]

    def drop_all(self) -> None:
        for databases in self._databases:
            databases.drop_all()


def copy_node(node: RunningNode, databases: DatabaseFactory, root: Path) -> RunningNode:
    """The node's data directory and database copied, listening on a port of its own (its peer's URL unchanged)."""
    data_dir = root / node.data_dir.name
    shutil.copytree(node.data_dir, data_dir)  # keys keep their mode 0600
    port = free_port()
    write_node_file(data_dir, "127.0.0.1", port, None)
    return RunningNode(node.party, data_dir, databases.copy_url(node.database_url, node.data_dir.name), port)


@contextmanager
def running_pair(
    templates: PairTemplates,
    databases: DatabaseFactory,
    root: Path,
    *,
    env: dict[str, str] | None = None,
    offset_clock: bool = False,
) -> Iterator[tuple[RunningNode, RunningNode]]:
    """A started Canada and India pair on fresh databases (with extra ACCORD_* settings, and clocks a test can run
    ahead if asked); stopped afterwards."""
    ca, in_ = templates.copy(databases, root)
    try:
        for node in (ca, in_):  # both start at once: each finds the other when it comes up
            node.extra_env.update(env or {})
            if offset_clock:
                node.use_offset_clock()
            node.launch()
        for node in (ca, in_):
            node.wait_healthy()
        yield ca, in_
    finally:
        stop_launched([node.process for node in (ca, in_) if node.process is not None])
        ca.dispose()
        in_.dispose()


def draft(**overrides: Any) -> dict[str, Any]:
    """A valid request from Canada to India's NCB; override any field."""
    base: dict[str, Any] = {
        "kind": "request",
        "recipient_agency": "NCB",
        "focus_area": "drugs",
        "priority": "routine",
        "handling": {"classification": "Protected B", "tlp": "AMBER", "caveats": ["H0", "H2"]},
        "legal_basis": "Privacy Act s.8(2)(f); Canada–India arrangement",
        "title": "Consignee of a 4-AP shipment",
        "body": "Please confirm the consignee and licence of the shipment described.",
        "offence": "06012",  # ICCS: trafficking of controlled drugs or precursors
        "subjects": [
            {
                "kind": "organisation",
                "name": "Example Chem Pvt Ltd",
                "identifiers": [{"scheme": "iec", "value": "0512345678"}],
            }
        ],
    }
    base.update(overrides)
    return base


def ask_and_answer(ca: RunningNode, in_: RunningNode, title: str, answer: dict[str, Any]) -> tuple[str, str]:
    """Canada's RCMP officer asks India's NCB (the standard draft with `title`); once it has arrived, NCB replies
    with `answer`. The request's id and the reply's."""
    with ca.client("ca.rcmp") as rcmp, in_.client("in.ncb") as ncb:
        sent = rcmp.post("/api/v1/messages", json=draft(title=title))
        assert sent.status_code == 201, sent.text
        request_id: str = sent.json()["id"]
        wait_for(lambda: ncb.get(f"/api/v1/messages/{request_id}").status_code == 200)
        reply = ncb.post(f"/api/v1/messages/{request_id}/reply", json=answer)
        assert reply.status_code == 201, reply.text
    reply_id: str = reply.json()["id"]
    return request_id, reply_id


def wait_for(predicate: Any, timeout_s: float = 30.0, interval_s: float = 0.1) -> Any:
    """The first true value of `predicate`, asked at once, then again and again: after 10 ms at first, the pause
    doubling up to `interval_s`, so a quick condition is seen at once and a slow one is not asked too often."""
    deadline = time.monotonic() + timeout_s
    pause = 0.01
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met in {timeout_s} s")
        time.sleep(min(pause, interval_s, max(0.0, deadline - time.monotonic())))
        pause *= 2


def open_local(node: RunningNode) -> Any:
    """Open the node in this process (for direct inspection), without serving it."""
    return open_node(load_settings(node.data_dir, database_url=node.database_url))


CA_FACTORS = (
    "country_record",
    "entity_record",
    "individual_profile",
    "information_nature",
    "assurance_reliability",
    "prior_experience",
)


def assessment(case_id: str, persons: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """A mistreatment-risk assessment as a legal officer records it through the API: Canada's factors each rated,
    no substantial risk, made today; override any field."""
    person_fields = ("name", "aliases", "date_of_birth", "nationality", "identifiers")
    base: dict[str, Any] = {
        "case_id": case_id,
        "persons": [{k: v for k, v in p.items() if k in person_fields} for p in persons],
        "factors": [{"factor": f, "rating": "moderate", "note": "per the country assessment"} for f in CA_FACTORS],
        "conclusion": "no_substantial_risk",
        "rationale": "Information is limited to location; the receiving unit's record is adequate.",
        "assessed_on": datetime.now(UTC).date().isoformat(),
    }
    base.update(overrides)
    return base
