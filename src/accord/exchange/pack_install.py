"""Installing a policy pack on a node: refused when its id and version were installed before with other contents,
nothing done when it is the pack the node runs already; else signed with the node's key, logged, and every held
disclosure decided again under it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, select

from accord.exchange.review import reevaluate_held
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.policy.installed import installed_dir
from accord.policy.pack import PackError, PolicyPack, install_pack, load_installed_pack, require_new_version
from accord.store.tables import events

INSTALLED_BY = "operator"


@dataclass(frozen=True, slots=True)
class PackInstalled:
    pack: PolicyPack
    changed: bool  # False: the node runs this very pack already, and nothing was done
    redecided: dict[str, int] = field(default_factory=dict)  # held disclosures decided again, by verdict


def install_policy_pack(node: Node, candidate: PolicyPack, source: Path) -> PackInstalled:
    """Install the pack read from `source` (`candidate`, already checked by its caller's cases if any)."""
    running = _running_pack(node)
    if running is not None and running.sha256 == candidate.sha256:
        return PackInstalled(running, changed=False)
    with node.engine.begin() as conn:
        require_new_version(candidate, _installed_labels(conn))
        pack = install_pack(source, installed_dir(node.settings.data_dir), node.keys, node.party)
        log_pack_installed(conn, pack)
    return PackInstalled(pack, changed=True, redecided=reevaluate_held(node))


def log_pack_installed(conn: Connection, pack: PolicyPack) -> None:
    """The ledger's record of a pack installed, whose label `require_new_version` checks the next pack against."""
    append_event(conn, EventType.POLICY_PACK_INSTALLED, INSTALLED_BY, {"pack": pack.label})


def _installed_labels(conn: Connection) -> list[str]:
    refs = conn.execute(select(events.c.refs).where(events.c.type == EventType.POLICY_PACK_INSTALLED.value))
    return [str(json.loads(each).get("pack", "")) for each in refs.scalars()]


def _running_pack(node: Node) -> PolicyPack | None:
    """The installed pack, if it verifies: one that does not is replaced by whatever the operator installs."""
    try:
        return load_installed_pack(installed_dir(node.settings.data_dir), node.keys.public)
    except PackError:
        return None
