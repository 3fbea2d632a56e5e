"""Verifies an audit bundle offline: descriptors, every leaf's hash, every signature, every root, every proof.

Stands alone for an oversight body: it imports the pure parts of the ledger and the crypto, never the store or a node.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, NoReturn

from accord.crypto.descriptors import NodeDescriptor, verify_descriptor
from accord.crypto.errors import BadSignature, MalformedArtefact, VerificationFailed
from accord.ledger.bundle import (
    CHUNK,
    EMPTY_SUMMARY,
    FORMAT,
    GZIP_MAGIC,
    LEAF_FIELDS,
    MISSING_LISTED,
    REQUIRED,
    BundleSummary,
    NodeKey,
    Progress,
    UnreadableBundle,
    Verdict,
)
from accord.ledger.errors import ProofFailed
from accord.ledger.leaves import leaf_bytes, leaf_record
from accord.ledger.notes import SignedCheckpoint, origin_for, parse_note, verify_checkpoint, verify_cosignature
from accord.ledger.tree import HASH_SIZE, MemoryTree, leaf_hash, verify_consistency


def verify_bundle(path: Path, progress: Progress | None = None, expect_fingerprints: Sequence[str] = ()) -> Verdict:
    """Check the bundle offline: descriptors, every leaf's hash, every signature, every root, every proof."""
    try:
        bundle = _read_bundle(path)
    except UnreadableBundle as problem:
        return Verdict([problem.detail], [], EMPTY_SUMMARY)
    return _Audit(bundle, progress).run(expect_fingerprints)


def _read_bundle(path: Path) -> dict[str, Any]:
    """The parsed bundle, or one UnreadableBundle naming what is wrong with the file or its outline."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableBundle(f"cannot read bundle {path}: {exc.strerror or exc}") from exc
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise UnreadableBundle(f"bundle is not a readable gzip file: {exc}") from exc
    elif path.name.endswith(".gz"):
        raise UnreadableBundle("bundle's name ends in .gz but it is not gzip-compressed")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableBundle(f"bundle is not UTF-8 text at byte {exc.start}") from exc
    try:
        bundle = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        byte = len(text[: exc.pos].encode("utf-8"))
        raise UnreadableBundle(f"bundle is not valid JSON at byte {byte}: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:
        raise UnreadableBundle(f"bundle is not valid JSON: {exc}") from exc
    _check_outline(bundle)
    return dict(bundle)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _check_outline(bundle: Any) -> None:
    if not isinstance(bundle, dict):
        raise UnreadableBundle("bundle is not a JSON object")
    if "format" not in bundle:
        raise UnreadableBundle("bundle lacks 'format'")
    if bundle["format"] != FORMAT:
        raise UnreadableBundle(f"bundle format is {bundle['format']!r}, not {FORMAT!r}")
    for key, kind in REQUIRED.items():
        if key not in bundle:
            raise UnreadableBundle(f"bundle lacks {key!r}")
        if not isinstance(bundle[key], kind):
            raise UnreadableBundle(f"bundle's {key!r} is not a JSON {'object' if kind is dict else 'array'}")


@dataclass(frozen=True, slots=True)
class _Leaves:
    """What the leaf checks leave for the checkpoint checks."""

    count: int = 0
    tree: MemoryTree = field(default_factory=MemoryTree)
    intact: bool = True  # every leaf is where it belongs and matches its recorded hash


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    """A checkpoint entry of the bundle whose note parses; nothing about it is verified yet."""

    note: str
    signed: SignedCheckpoint  # the body and the first signature line, to check a cosignature over
    cosigner: Any
    cosignature: Any

    @property
    def size(self) -> int:
        return self.signed.body.size


class _Audit:
    """One pass over a parsed bundle; problems are collected in the order the checks run."""

    def __init__(self, bundle: dict[str, Any], progress: Progress | None) -> None:
        self.bundle = bundle
        self.progress = progress
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.node: NodeDescriptor | None = None
        self.peers: dict[str, NodeDescriptor] = {}  # by log origin
        self.leaves = _Leaves()
        self.checkpoints: list[_Checkpoint] = []
        self.countersigned: list[int] = []  # sizes of checkpoints whose signature and countersignature verify
        self.witnessed = 0

    def run(self, expect_fingerprints: Sequence[str]) -> Verdict:
        self.check_descriptors(expect_fingerprints)
        self.check_leaves()
        self.check_checkpoints()
        self.check_consistency()
        self.check_witnessed()
        self.check_countersigned()
        return Verdict(self.problems, self.warnings, self.summary())

    def summary(self) -> BundleSummary:
        return BundleSummary(
            node=_node_key(self.node) if self.node else None,
            peers=tuple(_node_key(p) for p in self.peers.values()),
            leaves=self.leaves.count,
            checkpoints=len(self.checkpoints),
            countersigned=len(self.countersigned),
            witnessed=self.witnessed,
        )

    # --------------------------------------------------------------------------------------------- descriptors

    def check_descriptors(self, expect_fingerprints: Sequence[str]) -> None:
        self.node = self._descriptor("node", self.bundle["node"])
        for entry in self.bundle["peers"]:
            peer = self._descriptor("peer", entry)
            if peer is not None and self._is_other_party(peer):
                self.peers[origin_for(peer.node_id)] = peer
        known = {d.keys.signing_fingerprint for d in (self.node, *self.peers.values()) if d is not None}
        for fingerprint in expect_fingerprints:
            if fingerprint not in known:
                self.problems.append(f"key fingerprint {fingerprint} was expected but no node in this bundle has it")

    def _descriptor(self, kind: str, entry: Any) -> NodeDescriptor | None:
        """The self-signed descriptor of a node the bundle names; it must be that node's own."""
        named = entry.get("node_id") if isinstance(entry, dict) else None
        label = f"the {kind} {named}" if isinstance(named, str) else f"a {kind}"
        if not isinstance(entry, dict) or not isinstance(entry.get("descriptor"), str):
            self.problems.append(f"{label}'s descriptor is missing")
            return None
        try:
            descriptor = verify_descriptor(entry["descriptor"])
        except VerificationFailed as exc:
            self.problems.append(f"{label}'s descriptor does not verify: {exc.detail}")
            return None
        if (descriptor.node_id, descriptor.party) != (named, entry.get("party")):
            self.problems.append(
                f"{label}'s descriptor is for {descriptor.node_id} ({descriptor.party}), "
                f"not {named} ({entry.get('party')})"
            )
            return None
        return descriptor

    def _is_other_party(self, peer: NodeDescriptor) -> bool:
        """A countersignature is worth something only from the other party's key, never the log's own."""
        if self.node is None:
            return True
        if peer.party == self.node.party or peer.keys.signing_fingerprint == self.node.keys.signing_fingerprint:
            self.problems.append(
                f"the peer {peer.node_id} is not the other party: it has {self.node.node_id}'s party or key"
            )
            return False
        return True

    # -------------------------------------------------------------------------------------------------- leaves

    def check_leaves(self) -> None:
        entries: list[Any] = self.bundle["leaves"]
        total, damaged = len(entries), 0
        indexes: list[int | None] = []
        hashes: list[bytes] = []
        for position, entry in enumerate(entries):
            index, recorded, problem = _check_leaf(position, entry)
            indexes.append(index)
            hashes.append(recorded or bytes(HASH_SIZE))  # an unreadable hash matches no root
            if problem:
                self.problems.append(problem)
                damaged += 1
            if self.progress is not None and (position + 1) % CHUNK == 0:
                self.progress(position + 1, total)
        if self.progress is not None:
            self.progress(total, total)
        order = _order_problems(indexes)
        self.problems.extend(order)
        self.leaves = _Leaves(total, MemoryTree.from_leaf_hashes(hashes), intact=not damaged and not order)

    # --------------------------------------------------------------------------------------------- checkpoints

    def check_checkpoints(self) -> None:
        for position, entry in enumerate(self.bundle["checkpoints"]):
            parsed = _parse_entry(entry)
            if isinstance(parsed, str):
                self.problems.append(f"checkpoint {position} of the bundle: {parsed}")
            else:
                self.checkpoints.append(parsed)
        self.checkpoints.sort(key=lambda c: c.size)
        largest = max((c.size for c in self.checkpoints), default=0)
        if largest > self.leaves.count:
            self.problems.append(f"log truncated: checkpoint size {largest} but only {self.leaves.count} leaves")
        if self.node is None and self.checkpoints:
            self.problems.append("no checkpoint signature can be checked: the node's descriptor did not verify")
        matching: list[int] = []  # sizes of signed checkpoints whose root the leaves reproduce
        for checkpoint in self.checkpoints:
            signed = self._check_signature(checkpoint)
            if self._check_countersignature(checkpoint) and signed:
                self.countersigned.append(checkpoint.size)
            if self._check_root(checkpoint, matching) and signed:
                matching.append(checkpoint.size)

    def _check_signature(self, checkpoint: _Checkpoint) -> bool:
        if self.node is None:
            return False
        try:
            verify_checkpoint(checkpoint.note, origin_for(self.node.node_id), self.node.keys.signing)
        except BadSignature:
            self.problems.append(f"checkpoint size {checkpoint.size}: not signed by {self.node.node_id}'s key")
            return False
        except MalformedArtefact as exc:
            self.problems.append(f"checkpoint size {checkpoint.size}: {exc.detail}")
            return False
        return True

    def _check_countersignature(self, checkpoint: _Checkpoint) -> bool:
        if checkpoint.cosignature is None:
            return False
        cosigner = checkpoint.cosigner
        peer = self.peers.get(cosigner) if isinstance(cosigner, str) else None
        if peer is None or not isinstance(checkpoint.cosignature, str):
            self.problems.append(f"checkpoint size {checkpoint.size}: countersigned by {cosigner!r}, not a pinned peer")
            return False
        try:
            verify_cosignature(checkpoint.signed, checkpoint.cosignature, cosigner, peer.keys.signing)
        except VerificationFailed:
            self.problems.append(
                f"checkpoint size {checkpoint.size}: the peer's countersignature does not verify — "
                "the history it countersigned was rewritten"
            )
            return False
        return True

    def _check_root(self, checkpoint: _Checkpoint, matching: Sequence[int]) -> bool:
        size = checkpoint.size
        if size > self.leaves.count:
            return False  # reported once, as a truncated log
        if self.leaves.tree.root(size) == checkpoint.signed.body.root:
            return True
        problem = f"checkpoint size {size}: root does not match {_leaf_range(0, size)}"
        earlier = max((s for s in matching if s < size), default=0)
        if self.leaves.intact and earlier:
            # Every leaf matches its recorded hash, so recorded hashes were replaced after the checkpoint committed
            # to them; a leaf changes the root of every checkpoint after it, so the last smaller checkpoint that
            # still matches bounds where the first replaced leaf is.
            problem += (
                f" — the first rewritten leaf is among {_leaf_range(earlier, size)} "
                f"({_leaf_range(0, earlier)} match checkpoint size {earlier})"
            )
        self.problems.append(problem)
        return False

    def check_consistency(self) -> None:
        proofs: dict[tuple[Any, Any], Any] = {}
        for entry in self.bundle["consistency"]:
            if isinstance(entry, dict):
                proofs[(entry.get("from_size"), entry.get("to_size"))] = entry.get("proof")
        for old, new in pairwise(self.checkpoints):
            proof = _hashes(proofs.get((old.size, new.size)))
            if proof is None:
                self.problems.append(
                    f"checkpoints size {old.size} and {new.size}: the bundle has no consistency proof between them"
                )
                continue
            try:
                verify_consistency(old.size, new.size, old.signed.body.root, new.signed.body.root, proof)
            except ProofFailed as failure:
                self.problems.append(
                    f"checkpoint size {new.size}: not an extension of checkpoint size {old.size} ({failure.detail})"
                )

    # ----------------------------------------------------------------------------------------------- witnessed

    def check_witnessed(self) -> None:
        for position, entry in enumerate(self.bundle["witnessed"]):
            parsed = _parse_entry(entry)
            if isinstance(parsed, str):
                self.problems.append(f"witnessed checkpoint {position} of the bundle: {parsed}")
            elif self._check_witnessed(parsed):
                self.witnessed += 1

    def _check_witnessed(self, checkpoint: _Checkpoint) -> bool:
        """A peer's checkpoint: signed by the peer's key, countersigned by this node's."""
        origin = checkpoint.signed.body.origin
        label = f"witnessed checkpoint of {origin} size {checkpoint.size}"
        peer = self.peers.get(origin)
        if peer is None:
            self.problems.append(f"{label}: its origin is not a pinned peer")
            return False
        try:
            signed = verify_checkpoint(checkpoint.note, origin, peer.keys.signing)
        except VerificationFailed:
            self.problems.append(f"{label}: not signed by {peer.node_id}'s key")
            return False
        if self.node is None:
            return False  # reported once, with the own checkpoints
        try:
            if not isinstance(checkpoint.cosignature, str):
                raise MalformedArtefact("no countersignature")
            verify_cosignature(signed, checkpoint.cosignature, origin_for(self.node.node_id), self.node.keys.signing)
        except VerificationFailed:
            self.problems.append(f"{label}: {self.node.node_id}'s countersignature does not verify")
            return False
        return True

    # ------------------------------------------------------------------------------------------- countersigned

    def check_countersigned(self) -> None:
        if not self.countersigned:
            self.problems.append("nothing in this bundle is countersigned by the peer")
            return
        covered = max(self.countersigned)
        if covered < self.leaves.count:
            self.warnings.append(
                f"{_leaf_range(covered, self.leaves.count)} not countersigned by the peer yet "
                "(the next checkpoint round covers them)"
            )


def _node_key(descriptor: NodeDescriptor) -> NodeKey:
    return NodeKey(descriptor.node_id, descriptor.party, descriptor.keys.signing_fingerprint)


def _check_leaf(position: int, entry: Any) -> tuple[int | None, bytes | None, str | None]:
    """The leaf's index and recorded hash (None where unreadable), and its problem if it has one."""
    if not isinstance(entry, dict):
        return None, None, f"the leaf at position {position} is not a JSON object"
    index = entry.get("index")
    if type(index) is not int:
        return None, None, f"the leaf at position {position} has no whole-number 'index'"
    if entry.keys() != LEAF_FIELDS:
        missing, extra = sorted(LEAF_FIELDS - entry.keys()), sorted(entry.keys() - LEAF_FIELDS)
        return index, None, f"leaf {index}: " + (f"lacks {missing}" if missing else f"has unknown fields {extra}")
    recorded = _hash(entry["leaf_hash"])
    if recorded is None:
        return index, None, f"leaf {index}: its recorded hash is not {HASH_SIZE * 2} hex digits"
    try:
        at = datetime.fromisoformat(entry["at"])
    except (TypeError, ValueError):
        return index, recorded, f"leaf {index}: 'at' is not a UTC time"
    if at.tzinfo is None or not isinstance(entry["refs"], dict):
        return index, recorded, f"leaf {index}: its contents do not match its recorded hash"
    record = leaf_record(index, at, entry["type"], entry["actor"], entry["refs"], entry["payload_sha256"])
    try:
        computed = leaf_hash(leaf_bytes(record))
    except (ValueError, RecursionError) as exc:  # a value RFC 8785 cannot encode, such as a 2^60 integer
        return index, recorded, f"leaf {index}: its contents cannot be canonicalised ({exc})"
    if computed != recorded:
        return index, recorded, f"leaf {index}: its contents do not match its recorded hash"
    return index, recorded, None


def _order_problems(indexes: Sequence[int | None]) -> list[str]:
    """The first place the leaves depart from 0, 1, 2, … (if not a deletion), then every absent leaf index."""
    present = {i for i in indexes if i is not None}
    problems: list[str] = []
    for position, index in enumerate(indexes):
        if index is None or index == position:
            continue
        if indexes.count(index) > 1:
            problems.append(f"the leaf at position {position} says it is leaf {index}")
        elif position in present:
            problems.append(f"leaf {index} appears where leaf {position} should be")
        break  # otherwise a deletion, named below with every other missing leaf
    missing = [i for i in range(max(present, default=-1) + 1) if i not in present]
    problems.extend(f"leaf {i} is missing" for i in missing[:MISSING_LISTED])
    if len(missing) > MISSING_LISTED:
        problems.append(f"{len(missing) - MISSING_LISTED} more leaves are missing, the last leaf {missing[-1]}")
    return problems


def _parse_entry(entry: Any) -> _Checkpoint | str:
    """A checkpoint entry of the bundle, or what is wrong with it."""
    if not isinstance(entry, dict) or not isinstance(entry.get("note"), str):
        return "it has no note"
    try:
        body, lines = parse_note(entry["note"])
    except MalformedArtefact as exc:
        return exc.detail
    return _Checkpoint(entry["note"], SignedCheckpoint(body, lines[0]), entry.get("cosigner"), entry.get("cosignature"))


def _hash(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) != HASH_SIZE * 2:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _hashes(values: Any) -> list[bytes] | None:
    """A list of hex hashes, or None if it is not one."""
    if not isinstance(values, list):
        return None
    hashes = [_hash(v) for v in values]
    return [h for h in hashes if h is not None] if None not in hashes else None


def _leaf_range(start: int, end: int) -> str:
    if end - start == 1:
        return f"leaf {start}"
    return f"leaves {start}..{end - 1}" if end > start else "no leaves"
