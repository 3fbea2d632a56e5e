"""The audit bundle's format and what its export and its verification report, shared by both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from accord.errors import AccordError

FORMAT = "accord-audit-bundle/1"
CHUNK = 10_000  # event rows read, and leaves hashed, between two progress reports
GZIP_MAGIC = b"\x1f\x8b"
LEAF_FIELDS = frozenset({"index", "at", "type", "actor", "refs", "payload_sha256", "leaf_hash"})
REQUIRED: dict[str, type] = {
    "exported_at": str,
    "node": dict,
    "peers": list,
    "checkpoints": list,
    "witnessed": list,
    "consistency": list,
    "leaves": list,
}
MISSING_LISTED = 20  # missing leaves named one by one before the rest are counted

Progress = Callable[[int, int], None]


class UnreadableBundle(AccordError):
    slug = "unreadable-bundle"
    title = "The audit bundle cannot be read"


@dataclass(frozen=True, slots=True)
class NodeKey:
    """A node and the fingerprint (RFC 7638 thumbprint) of its signing key, to compare out of band."""

    node_id: str
    party: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class BundleSummary:
    node: NodeKey | None
    peers: tuple[NodeKey, ...]
    leaves: int
    checkpoints: int
    countersigned: int
    witnessed: int


EMPTY_SUMMARY = BundleSummary(None, (), 0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Every problem found, the first first; warnings do not make a bundle fail."""

    problems: list[str]
    warnings: list[str]
    summary: BundleSummary

    @property
    def ok(self) -> bool:
        return not self.problems
