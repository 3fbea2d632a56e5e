"""A peer's declared restores as the witness's ledger logs them (`peer.ledger_restored` leaves), read from an audit
bundle's leaves. Pure: the offline verifier reads them with nothing but this module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accord.ledger.leaves import EventType

ROOT_HEX = 64  # a SHA-256 root, in hex


@dataclass(frozen=True, slots=True)
class DeclaredRestore:
    """A log's owner restored it to (size, root); the witness had countersigned the `lost` checkpoints beyond it."""

    index: int  # the leaf of the witness's ledger that logs the declaration
    origin: str
    size: int
    root: bytes
    lost: tuple[tuple[int, bytes], ...]  # (size, root) of each checkpoint set aside

    def loses(self, size: int, root: bytes) -> bool:
        return (size, root) in self.lost

    @property
    def lost_sizes(self) -> tuple[int, ...]:
        return tuple(size for size, _root in self.lost)


def declared_restores(leaves: Sequence[Any]) -> list[DeclaredRestore]:
    """Every well-formed `peer.ledger_restored` leaf among `leaves`, in ledger order; whether each leaf is the
    witness's (its hash, a checkpoint the witness signed over it) is for the caller to check."""
    found = []
    for entry in leaves:
        if not isinstance(entry, dict) or entry.get("type") != EventType.PEER_LEDGER_RESTORED.value:
            continue
        refs, index = entry.get("refs"), entry.get("index")
        if type(index) is not int or not isinstance(refs, dict):
            continue
        origin, size, root, lost = refs.get("origin"), refs.get("size"), _root(refs.get("root")), refs.get("lost")
        if not isinstance(origin, str) or type(size) is not int or root is None or not isinstance(lost, list):
            continue
        pairs = [_lost(item) for item in lost]
        if None in pairs:
            continue
        found.append(DeclaredRestore(index, origin, size, root, tuple(p for p in pairs if p is not None)))
    return found


def _lost(item: Any) -> tuple[int, bytes] | None:
    size, root = (item.get("size"), _root(item.get("root"))) if isinstance(item, dict) else (None, None)
    return (size, root) if type(size) is int and root is not None else None


def _root(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) != ROOT_HEX:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None
