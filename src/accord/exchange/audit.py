"""What operators and oversight ask of this node's ledger: who may look, its status, a checkpoint round now, the
audit bundle an oversight body verifies offline, and what it verifies it with: the trust file naming both nodes'
keys, and this node's evidence of the peer's checkpoints it countersigned."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Connection, or_, select

from accord.crypto.keys import KeyRole
from accord.directory.officers import Officer, Role
from accord.errors import Forbidden
from accord.exchange.transport import PeerClient
from accord.exchange.witnessing import checkpoint_round
from accord.i18n import _
from accord.ledger.alarms import (
    UNACKNOWLEDGED,
    Alarm,
    AlarmFilter,
    AlarmPage,
    acknowledge_alarm,
    count_alarms,
    list_alarms,
)
from accord.ledger.anchors import write_trust_file
from accord.ledger.bundle import BundleSummary, Progress, TrustedKey, Verdict
from accord.ledger.checkpoints import StoredCheckpoint, latest, ledger_size, list_checkpoints
from accord.ledger.event_log import EventFilter, EventPage, list_events
from accord.ledger.export import ExportingNode, export_bundle, export_witnessed_heads
from accord.ledger.notes import origin_for
from accord.ledger.verify import verify_bundle
from accord.node import Node
from accord.store.tables import key_rotations, messages
from accord.trust.peers import export_descriptor, load_peers

AUDIT_ROLES = frozenset({Role.OPERATOR, Role.OVERSIGHT, Role.LEGAL})
CLI_OPERATOR = "operator"  # who acts at the node's command line, as for `accord peer import`


def require_audit_role(officer: Officer) -> None:
    if not AUDIT_ROLES & officer.roles:
        raise Forbidden(_("the ledger is open to operators, legal officers and oversight"))


def require_operator(officer: Officer, what: str) -> None:
    """`what` (e.g. "channel health") is for node operators only."""
    if Role.OPERATOR not in officer.roles:
        raise Forbidden(_("{what} is for node operators").format(what=what))


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    size: int
    checkpoints: list[StoredCheckpoint]  # the newest first
    alarms: list[Alarm]  # the newest unacknowledged ones first
    alarm_count: int
    unacknowledged: int


def ledger_status(node: Node, checkpoints: int = 20, alarms: int = 50) -> LedgerStatus:
    with node.engine.connect() as conn:
        return LedgerStatus(
            ledger_size(conn),
            list_checkpoints(conn, limit=checkpoints),
            list_alarms(conn, UNACKNOWLEDGED, limit=alarms, newest_first=True).alarms if alarms else [],
            count_alarms(conn),
            count_alarms(conn, UNACKNOWLEDGED),
        )


def alarms(node: Node, which: AlarmFilter = UNACKNOWLEDGED, *, after: int | None = None, limit: int = 50) -> AlarmPage:
    """A page of the alarms `which` selects, the oldest first, after the alarm with id `after`."""
    with node.engine.connect() as conn:
        return list_alarms(conn, which, after=after, limit=limit)


def unacknowledged_alarms(node: Node) -> int:
    """How many alarms no operator has acknowledged yet (what the navigation and `accord audit alarms` count)."""
    with node.engine.connect() as conn:
        return count_alarms(conn, UNACKNOWLEDGED)


def acknowledge(node: Node, alarm_id: int, note: str, officer: Officer | None = None) -> Alarm:
    """An operator acknowledges an alarm with a note; `officer` None is the operator at the node's command line."""
    if officer is None:
        return acknowledge_alarm(node.engine, alarm_id, note, by=CLI_OPERATOR, actor=CLI_OPERATOR)
    require_operator(officer, "acknowledging a ledger alarm")
    return acknowledge_alarm(node.engine, alarm_id, note, by=officer.username, actor=officer.id)


def checkpoint_now(node: Node) -> StoredCheckpoint | None:
    """Sign a checkpoint if the ledger grew and ask the peer to countersign; the node's newest checkpoint after."""
    with PeerClient(timeout_s=30.0) as client:
        checkpoint_round(node, client)
    with node.engine.connect() as conn:
        return latest(conn, origin_for(node.node_id))


def trust_anchors(node: Node) -> tuple[TrustedKey, ...]:
    """This node's signing keys and each pinned peer's (the ones in force and the ones rotations retired, which
    signed the older checkpoints), with party and node id: what it trusts, and what an oversight body collects out
    of band from each operator as a trust file."""
    with node.engine.connect() as conn:
        peers = load_peers(node, conn)
        retired = conn.execute(
            select(key_rotations.c.old_fingerprint)
            .where(key_rotations.c.node_id == node.node_id, key_rotations.c.role == KeyRole.SIGNING.value)
            .order_by(key_rotations.c.id.desc())
        ).scalars()
        own = [node.keys.public.signing_fingerprint, *retired]
    return (
        *(TrustedKey(fingerprint, node.node_id, node.party.value) for fingerprint in own),
        *(TrustedKey(f, p.node_id, p.party.value) for p in peers for f in p.pinned.signing_fingerprints),
    )


def export_trust_file(node: Node, out: Path) -> tuple[TrustedKey, ...]:
    keys = trust_anchors(node)
    write_trust_file(keys, out, written_by=node.node_id)
    return keys


def verify_own_ledger(node: Node) -> Verdict:
    """Export this node's audit bundle and verify it as an oversight body would, offline, trusting this node's key
    and its pinned peer's. The leaves after the newest countersigned checkpoint are a warning, not a failure: on a
    live node the next checkpoint round covers them."""
    with tempfile.TemporaryDirectory(prefix="accord-verify-") as folder:
        bundle = Path(folder) / "bundle.json.gz"
        export_audit_bundle(node, bundle)
        return verify_bundle(bundle, anchors=trust_anchors(node), allow_uncovered_tail=True)


def _exporting(node: Node) -> ExportingNode:
    return ExportingNode(node.node_id, node.party.value, export_descriptor(node), node.keys.public.signing_fingerprint)


def export_audit_bundle(node: Node, out: Path, progress: Progress | None = None) -> BundleSummary:
    return export_bundle(node.engine, _exporting(node), out, progress)


def export_witnessed(node: Node, out: Path, origin: str | None = None) -> list[StoredCheckpoint]:
    """The newest checkpoint of the peer's log (or of `origin`) this node countersigned, written with its
    cosignature for an oversight body auditing the peer's bundle."""
    return export_witnessed_heads(node.engine, _exporting(node), out, origin)


def ledger_events(
    node: Node,
    officer: Officer,
    which: EventFilter,
    *,
    case: str | None = None,
    after: int | None = None,
    limit: int = 50,
) -> EventPage:
    """The ledger's events for oversight, in ledger order; `case` (a case's id or one of its messages') keeps the
    events naming the case or any of its messages."""
    require_audit_role(officer)
    with node.engine.connect() as conn:
        if case is not None:
            which = replace(which, names=case_names(conn, case))
        return list_events(conn, which, after=after, limit=limit)


def case_names(conn: Connection, case: str) -> set[str]:
    """The ids that name a case in the ledger: the case's own and each of its messages', from a case's id or one of
    its messages' ids."""
    cases = select(messages.c.case_id).where(or_(messages.c.id == case, messages.c.case_id == case))
    found = conn.execute(select(messages.c.id, messages.c.case_id).where(messages.c.case_id.in_(cases))).all()
    return {case} | {row.id for row in found} | {row.case_id for row in found}
