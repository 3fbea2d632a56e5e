"""The sandbox's two nodes: an India node and a Canada node on loopback, pinned to each other, with sample officers;
created once, then started as node processes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from accord.bootstrap import init_node, open_node
from accord.config import Settings, load_settings, write_node_file
from accord.datafiles import SampleOfficer, load_sample_officers
from accord.directory.officers import Role, create_officer
from accord.domain.parties import Party
from accord.exchange.roster import publish_roster
from accord.node import KEY_DIR, Node
from accord.sandbox.matching import seed_sample_holdings, share_sandbox_key
from accord.sandbox.networks import seed_sample_network
from accord.store.modes import tighten
from accord.trust.peers import export_descriptor, load_peers, pin_peer, repoint_peer

SANDBOX_PORTS = {Party.IN: 8401, Party.CA: 8402}
HOST = "127.0.0.1"
# Every sandbox address is under .invalid, a top-level domain that never resolves (RFC 2606 §2).
MAIL_DOMAIN = "sandbox.invalid"


@dataclass(frozen=True, slots=True)
class SandboxNode:
    party: Party
    node_id: str
    data_dir: Path
    url: str
    officers: tuple[SampleOfficer, ...]


def sandbox_data_dir(var_dir: Path, party: Party) -> Path:
    return var_dir / party.value.lower()


def prepare_sandbox(var_dir: Path, ports: dict[Party, int] | None = None) -> list[SandboxNode]:
    """Create (once) both nodes with SQLite, keys, sample officers and their part of the SAMPLE network, and pin each
    as the other's peer; what their data directories hold is the owner's alone (tightened if made before it was)."""
    ports = ports or SANDBOX_PORTS
    opened: dict[Party, Node] = {}
    try:
        for party, port in ports.items():
            opened[party] = _open_or_init(sandbox_data_dir(var_dir, party), party, port)
            seed_sample_network(opened[party])  # once: a node holding the SAMPLE network's case is left as it is
            seed_sample_holdings(opened[party])
        share_sandbox_key(opened[Party.CA], opened[Party.IN])
        for party, node in opened.items():
            other = opened[party.other]
            with node.engine.connect() as conn:
                pinned = {peer.node_id for peer in load_peers(node, conn)}
            if other.node_id in pinned:
                repoint_peer(node, other.node_id, other.settings.resolved_public_url)
            else:
                pin_peer(node, export_descriptor(other))
                publish_roster(node)  # the peer can check TLP:RED recipients named from its side at compose
        return [
            SandboxNode(
                party,
                node.node_id,
                node.settings.data_dir,
                node.settings.resolved_public_url,
                load_sample_officers(party),
            )
            for party, node in opened.items()
        ]
    finally:
        for node in opened.values():
            node.close()


def _open_or_init(data_dir: Path, party: Party, port: int) -> Node:
    data_dir.mkdir(parents=True, exist_ok=True)
    write_node_file(data_dir, HOST, port, None)
    settings = sandbox_settings(data_dir)
    if (data_dir / KEY_DIR).exists():
        tighten(data_dir, settings.resolved_database_url)  # a sandbox made before its files were owner-only
        return open_node(settings)
    node = init_node(settings, party)
    for officer in load_sample_officers(party):
        roles = frozenset(Role(r) for r in officer.roles)
        create_officer(
            node,
            officer.username,
            officer.sample_password,
            officer.name,
            officer.agency,
            roles,
            is_sample=True,
            email=officer.email,
            duty=officer.duty,
        )
    return node


def sandbox_settings(data_dir: Path) -> Settings:
    """A sandbox node always runs on its own SQLite file, whatever ACCORD_* the shell has."""
    return load_settings(data_dir, database_url=_sqlite_url(data_dir))


def _sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'accord.sqlite3').resolve()}"


def node_environment(node: SandboxNode, mail_port: int | None = None) -> dict[str, str]:
    """The sandbox always runs on its own SQLite files, whatever ACCORD_* the shell has; with a `mail_port`, it mails
    its notifications to the sandbox's mail catcher there (plain SMTP: loopback only), linking to its own address."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["ACCORD_DATABASE_URL"] = _sqlite_url(node.data_dir)
    env["ACCORD_PUBLIC_URL"] = node.url
    if mail_port is not None:
        env["ACCORD_SMTP_HOST"] = HOST
        env["ACCORD_SMTP_PORT"] = str(mail_port)
        env["ACCORD_SMTP_STARTTLS"] = "false"
        env["ACCORD_SMTP_FROM"] = f"Accord {node.party} sandbox <accord@{node.party.value.lower()}.{MAIL_DOMAIN}>"
    return env
