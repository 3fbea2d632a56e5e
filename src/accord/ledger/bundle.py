"""The audit bundle's format and what its export and its verification report, shared by both; also the format of the
witnessed-head file, a peer's evidence of the newest checkpoint of a log it countersigned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from accord.errors import AccordError
from accord.i18n import N_

FORMAT = "accord-audit-bundle/1"
WITNESSED_FORMAT = "accord-witnessed-head/1"
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
# A witnessed-head file is the witnessed part of a bundle: the witness (`node`), the logs it pinned (`peers`) and,
# for each, the newest checkpoint it countersigned, with its cosignature.
WITNESSED_REQUIRED: dict[str, type] = {"exported_at": str, "node": dict, "peers": list, "witnessed": list}
MISSING_LISTED = 20  # missing leaves named one by one before the rest are counted

Progress = Callable[[int, int], None]


class UnreadableBundle(AccordError):
    slug = "unreadable-bundle"
    title = N_("The audit bundle cannot be read")


class Outcome(StrEnum):
    """What a verification shows, from the strongest claim to none."""

    VERIFIED = "verified"  # every check passed, and every signature that counts is by a trusted key
    NOT_PROVEN = "not-proven"  # internally consistent, but no trust anchor: the log's operator could have made it
    FAILED = "failed"  # at least one problem
    UNREADABLE = "unreadable"  # the file could not be read as a bundle at all


@dataclass(frozen=True, slots=True)
class NodeKey:
    """A node and the fingerprint (RFC 7638 thumbprint) of its signing key, to compare out of band."""

    node_id: str
    party: str
    fingerprint: str

    def __str__(self) -> str:
        return f"{self.node_id} ({self.party}) {self.fingerprint}"


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A signing key the verifier is told to trust, by fingerprint; from a trust file, also whose key it is."""

    fingerprint: str
    node_id: str | None = None
    party: str | None = None

    def __str__(self) -> str:
        return f"{self.fingerprint} ({self.node_id}, {self.party})" if self.node_id else self.fingerprint


@dataclass(frozen=True, slots=True)
class Countersignatures:
    """The checkpoints of the log one peer key countersigned, each verified."""

    key: NodeKey
    sizes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class WitnessedHead:
    """A checkpoint of the log that the peer's own evidence shows it countersigned, and that the leaves reproduce."""

    witness: NodeKey
    size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class BundleSummary:
    node: NodeKey | None
    peers: tuple[NodeKey, ...]
    leaves: int
    checkpoints: int
    countersigned: int
    witnessed: int
    # Filled in by the verifier: who countersigned what, how many leaves the newest such checkpoint covers, and the
    # peer's evidence the bundle matched.
    countersigners: tuple[Countersignatures, ...] = ()
    covered: int = 0
    witnessed_heads: tuple[WitnessedHead, ...] = ()


EMPTY_SUMMARY = BundleSummary(None, (), 0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Every problem found, the first first; warnings do not make a bundle fail.

    Without trust anchors a bundle is at best NOT_PROVEN: its signatures are checked against the keys it carries,
    which whoever holds the log's key could have made.
    """

    problems: list[str]
    warnings: list[str]
    summary: BundleSummary
    anchors: tuple[TrustedKey, ...] = ()
    readable: bool = True
    # (node id, key, the trusted key it descends from): keys reached by verified rotation statements from a trusted one
    rotated: tuple[tuple[str, str, str], ...] = ()

    @property
    def outcome(self) -> Outcome:
        if not self.readable:
            return Outcome.UNREADABLE
        if self.problems:
            return Outcome.FAILED
        return Outcome.VERIFIED if self.anchors else Outcome.NOT_PROVEN

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.VERIFIED

    def trusts(self, key: NodeKey) -> bool:
        """Whether `key` is a trusted key, and trusted as this node's, or one its rotation statements lead to."""
        return self.rotated_from(key) is not None or any(
            anchor.fingerprint == key.fingerprint
            and anchor.node_id in (None, key.node_id)
            and anchor.party in (None, key.party)
            for anchor in self.anchors
        )

    def rotated_from(self, key: NodeKey) -> str | None:
        """The trusted key from which verified rotation statements lead to `key`, if they do."""
        return next((first for node, fp, first in self.rotated if (node, fp) == (key.node_id, key.fingerprint)), None)
