"""A node: its settings, identity, keys, database and rules, opened once per process and passed explicitly."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select

from accord.config import Settings
from accord.crypto.descriptors import NodeDescriptor
from accord.crypto.keys import NodeKeys
from accord.datafiles import DEFAULT_AGREEMENT, load_agreement
from accord.domain.agreement import Agreement
from accord.domain.parties import Party
from accord.errors import ConfigurationError
from accord.ledger.events import EventType, append_event
from accord.policy.engine import DisclosurePolicy
from accord.policy.installed import InstalledPolicy, install_shipped_pack
from accord.store.engine import make_engine
from accord.store.migrate import migrate
from accord.store.tables import agencies, node_identity
from accord.workplan.plan import ensure_default_plan, plan_is_empty

KEY_DIR = "keys"
BLOB_DIR = "blobs"


@dataclass(slots=True)
class Node:
    settings: Settings
    node_id: str
    party: Party
    agreement: Agreement
    keys: NodeKeys
    engine: Engine
    policy: DisclosurePolicy
    outbox_signal: threading.Event = field(default_factory=threading.Event)
    verified_descriptors: dict[str, NodeDescriptor] = field(default_factory=dict)

    @property
    def blob_dir(self) -> Path:
        return self.settings.data_dir / BLOB_DIR

    def close(self) -> None:
        self.engine.dispose()


def default_node_id(party: Party) -> str:
    return f"{party.value.lower()}-node-1"


def init_node(settings: Settings, party: Party, node_id: str | None = None) -> Node:
    """Create keys (mode 0600), migrate the database and record the node's identity and agencies."""
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / BLOB_DIR).mkdir(exist_ok=True)
    key_dir = data_dir / KEY_DIR
    if key_dir.exists() and any(key_dir.iterdir()):
        raise ConfigurationError(f"{data_dir} already holds a node (keys in {key_dir}); choose another --data")
    keys = NodeKeys.generate()
    keys.save(key_dir)
    migrate(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    agreement = load_agreement()
    node_id = node_id or default_node_id(party)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if conn.execute(select(node_identity.c.node_id)).first() is not None:
            raise ConfigurationError("the database already holds a node identity; use an empty database")
        conn.execute(
            insert(node_identity),
            [{"node_id": node_id, "party": party.value, "agreement": agreement.id, "created_at": now}],
        )
        conn.execute(
            insert(agencies),
            [
                {
                    "party": a.party.value,
                    "code": a.code,
                    "name": a.name,
                    "role": a.role,
                    "contact_24_7": a.contact_24_7,
                }
                for a in agreement.agencies
            ],
        )
        append_event(conn, EventType.NODE_INITIALISED, node_id, {"party": party.value, "agreement": agreement.id})
        ensure_default_plan(conn, agreement, node_id)
        pack = install_shipped_pack(data_dir, keys, party)
        append_event(conn, EventType.POLICY_PACK_INSTALLED, "operator", {"pack": pack.label})
    engine.dispose()
    return open_node(settings)


def open_node(settings: Settings, policy: DisclosurePolicy | None = None) -> Node:
    keys = NodeKeys.load(settings.data_dir / KEY_DIR)
    migrate(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    with engine.connect() as conn:
        row = conn.execute(select(node_identity)).first()
        plan_missing = plan_is_empty(conn)
    if row is None:
        raise ConfigurationError(f"no node identity in the database; run `accord node init --data {settings.data_dir}`")
    agreement = load_agreement(DEFAULT_AGREEMENT)
    if row.agreement != agreement.id:
        raise ConfigurationError(f"database was initialised for agreement {row.agreement}, not {agreement.id}")
    (settings.data_dir / BLOB_DIR).mkdir(parents=True, exist_ok=True)
    if plan_missing:  # a node made before the work plan existed gets the default plan once
        with engine.begin() as conn:
            ensure_default_plan(conn, agreement, row.node_id)
    return Node(
        settings=settings,
        node_id=row.node_id,
        party=Party(row.party),
        agreement=agreement,
        keys=keys,
        engine=engine,
        policy=policy or InstalledPolicy(settings.data_dir, keys.public, agreement),
    )
