"""Inclusion and consistency proofs over the node's stored tree (events.leaf_hash and ledger_nodes)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from accord.errors import NotFound
from accord.i18n import _
from accord.ledger.tree import inclusion_proof
from accord.store.tables import events, ledger_nodes


class StoredTree:
    """The node's ledger as a NodeSource: one indexed read per perfect subtree a proof needs."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def node(self, level: int, index: int) -> bytes:
        if level == 0:
            value = self.conn.execute(select(events.c.leaf_hash).where(events.c.id == index)).scalar()
        else:
            value = self.conn.execute(
                select(ledger_nodes.c.hash).where(ledger_nodes.c.level == level, ledger_nodes.c.idx == index)
            ).scalar()
        if value is None:
            raise NotFound(
                _("the ledger has no subtree at level {level}, index {index}").format(level=level, index=index)
            )
        return bytes(value)


def prove_inclusion(conn: Connection, index: int, size: int) -> list[bytes]:
    if not 0 <= index < size:
        raise NotFound(_("leaf {index} is not in a tree of {size} leaves").format(index=index, size=size))
    return inclusion_proof(StoredTree(conn), index, size)
