"""What operators and oversight ask of this node's ledger: who may look, its status, a checkpoint round now, and the
audit bundle an oversight body verifies offline."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from accord.directory.officers import Officer, Role
from accord.errors import Forbidden
from accord.exchange.transport import PeerClient
from accord.exchange.witnessing import checkpoint_round
from accord.ledger.alarms import Alarm, count_alarms, list_alarms
from accord.ledger.bundle import BundleSummary, Progress, Verdict
from accord.ledger.checkpoints import StoredCheckpoint, latest, ledger_size, list_checkpoints
from accord.ledger.export import ExportingNode, export_bundle
from accord.ledger.notes import origin_for
from accord.ledger.verify import verify_bundle
from accord.node import Node
from accord.trust.peers import export_descriptor

AUDIT_ROLES = frozenset({Role.OPERATOR, Role.OVERSIGHT, Role.LEGAL})


def require_audit_role(officer: Officer) -> None:
    if not AUDIT_ROLES & officer.roles:
        raise Forbidden("the ledger is open to operators, legal officers and oversight")


def require_operator(officer: Officer, what: str) -> None:
    """`what` (e.g. "channel health") is for node operators only."""
    if Role.OPERATOR not in officer.roles:
        raise Forbidden(f"{what} is for node operators")


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    size: int
    checkpoints: list[StoredCheckpoint]  # the newest first
    alarms: list[Alarm]  # the newest first
    alarm_count: int


def ledger_status(node: Node, checkpoints: int = 20, alarms: int = 50) -> LedgerStatus:
    with node.engine.connect() as conn:
        return LedgerStatus(
            ledger_size(conn), list_checkpoints(conn, limit=checkpoints), list_alarms(conn, alarms), count_alarms(conn)
        )


def all_alarms(node: Node) -> list[Alarm]:
    """Every alarm raised here, the oldest first."""
    with node.engine.connect() as conn:
        return list_alarms(conn, newest_first=False)


def checkpoint_now(node: Node) -> StoredCheckpoint | None:
    """Sign a checkpoint if the ledger grew and ask the peer to countersign; the node's newest checkpoint after."""
    with PeerClient(timeout_s=30.0) as client:
        checkpoint_round(node, client)
    with node.engine.connect() as conn:
        return latest(conn, origin_for(node.node_id))


def verify_own_ledger(node: Node) -> Verdict:
    """Export this node's audit bundle and verify it exactly as an oversight body would, offline."""
    with tempfile.TemporaryDirectory(prefix="accord-verify-") as folder:
        bundle = Path(folder) / "bundle.json.gz"
        export_audit_bundle(node, bundle)
        return verify_bundle(bundle)


def export_audit_bundle(node: Node, out: Path, progress: Progress | None = None) -> BundleSummary:
    exporting = ExportingNode(
        node.node_id, node.party.value, export_descriptor(node), node.keys.public.signing_fingerprint
    )
    return export_bundle(node.engine, exporting, out, progress)
