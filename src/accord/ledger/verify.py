"""Verifies an audit bundle offline: descriptors, every leaf's hash, every signature, every root, every proof, and
that the signatures that count are by keys the verifier was told to trust.

Stands alone for an oversight body: it imports the pure parts of the ledger and the crypto, never the store or a node.

Trust comes from outside the bundle. A bundle carries the descriptors of its node and of its peers, but whoever holds
the log's key can make a descriptor for any key, so a signature counts only under a trust anchor: a key fingerprint
the oversight body obtained out of band. Without one, every check runs against the keys the bundle carries and the
verdict is at best NOT_PROVEN. With them, a leaf counts only under a checkpoint signed by the log's trusted key and
countersigned by the peer's; the peer's own record of what it countersigned (its bundle, or a witnessed-head file)
shows whether the bundle was cut back to an earlier checkpoint.

Keys rotate (`crypto.rotation`). A bundle carries each node's rotation statements, and the verifier follows them:
from the node's first key (or, with trust anchors, from the first key of that node the auditor pinned out of band),
each statement must be signed by the signing key then in force and replace it, and the key it names is in force
after it. A checkpoint or cosignature counts under any key of the chain so reached, so checkpoints from before a
rotation verify under the old key and later ones under the new. A statement not signed by the key then in force
ends the chain, with a precise problem; an emergency rotation (its old key was compromised, so its signature proves
nothing) is followed only to a key the trust anchors name.
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

from joserfc.jwk import OKPKey

from accord.crypto.descriptors import NodeDescriptor, verify_descriptor
from accord.crypto.errors import BadSignature, MalformedArtefact, VerificationFailed
from accord.crypto.keys import KeyRole, PublicKeys
from accord.crypto.rotation import verify_rotation
from accord.crypto.signing import unverified_claims
from accord.i18n import _
from accord.ledger.bundle import (
    CHUNK,
    EMPTY_SUMMARY,
    FORMAT,
    GZIP_MAGIC,
    LEAF_FIELDS,
    MISSING_LISTED,
    REQUIRED,
    WITNESSED_FORMAT,
    WITNESSED_REQUIRED,
    BundleSummary,
    Countersignatures,
    NodeKey,
    Progress,
    TrustedKey,
    UnreadableBundle,
    Verdict,
    WitnessedHead,
)
from accord.ledger.declared_restores import DeclaredRestore, declared_restores
from accord.ledger.errors import ProofFailed
from accord.ledger.leaves import leaf_bytes, leaf_record
from accord.ledger.notes import (
    SignedCheckpoint,
    origin_for,
    parse_note,
    verify_by_any,
    verify_checkpoint,
    verify_cosignature,
)
from accord.ledger.tree import HASH_SIZE, MemoryTree, leaf_hash, verify_consistency


@dataclass(frozen=True, slots=True)
class WitnessedEvidence:
    """What a peer recorded of the checkpoints it countersigned for other logs: its own audit bundle or a
    witnessed-head file, read but not yet verified (the audit checks every signature in it)."""

    name: str
    node: Any  # the witness's descriptor entry
    peers: list[Any]  # the logs it pinned
    witnessed: list[Any]  # checkpoints of those logs, each with the witness's cosignature
    # Of an audit bundle only: the witness's own leaves and checkpoints, where a log's declared restore is logged.
    leaves: list[Any] = field(default_factory=list)
    checkpoints: list[Any] = field(default_factory=list)


def verify_bundle(
    path: Path,
    progress: Progress | None = None,
    *,
    anchors: Sequence[TrustedKey] = (),
    witnessed: Sequence[WitnessedEvidence] = (),
    allow_uncovered_tail: bool = False,
) -> Verdict:
    """Check the bundle offline against the trust anchors and the peer's witnessed evidence.

    Every leaf must lie under a checkpoint signed by the log's trusted key and countersigned by a trusted peer key;
    `allow_uncovered_tail` reports the leaves after the newest such checkpoint as a warning instead (a live node's
    own look: the next checkpoint round covers them).
    """
    try:
        bundle = _read_bundle(path)
    except UnreadableBundle as problem:
        return Verdict([problem.detail], [], EMPTY_SUMMARY, tuple(anchors), readable=False)
    return _Audit(bundle, progress, tuple(anchors)).run(witnessed, allow_uncovered_tail)


def read_witnessed(path: Path) -> WitnessedEvidence:
    """The peer's evidence: its audit bundle or a witnessed-head file; raises UnreadableBundle if it is neither."""
    noun = f"witnessed evidence {path.name}"
    document = _decode(_read_bytes(path, "witnessed evidence"), path, noun)
    required = {FORMAT: REQUIRED, WITNESSED_FORMAT: WITNESSED_REQUIRED}
    if not isinstance(document, dict) or document.get("format") not in required:
        raise UnreadableBundle(
            _("{noun} is neither an audit bundle ({FORMAT}) nor a witnessed-head file").format(noun=noun, FORMAT=FORMAT)
        )
    _check_outline(document, noun, required[document["format"]])
    own = (document["leaves"], document["checkpoints"]) if document["format"] == FORMAT else ([], [])
    return WitnessedEvidence(path.name, document["node"], document["peers"], document["witnessed"], *own)


def _read_bundle(path: Path) -> dict[str, Any]:
    """The parsed bundle, or one UnreadableBundle naming what is wrong with the file or its outline."""
    bundle = _decode(_read_bytes(path, "bundle"), path, "bundle")
    if not isinstance(bundle, dict):
        raise UnreadableBundle(_("bundle is not a JSON object"))
    if "format" not in bundle:
        raise UnreadableBundle(_("bundle lacks 'format'"))
    if bundle["format"] != FORMAT:
        raise UnreadableBundle(
            _("bundle format is {format!r}, not {FORMAT!r}").format(format=bundle["format"], FORMAT=FORMAT)
        )
    _check_outline(bundle, "bundle", REQUIRED)
    return dict(bundle)


def _read_bytes(path: Path, noun: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableBundle(
            _("cannot read {noun} {path}: {value}").format(noun=noun, path=path, value=exc.strerror or exc)
        ) from exc


def _decode(raw: bytes, path: Path, noun: str) -> Any:
    """The JSON document in `raw` (gzip-compressed or not); `noun` names it in every message."""
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise UnreadableBundle(_("{noun} is not a readable gzip file: {exc}").format(noun=noun, exc=exc)) from exc
    elif path.name.endswith(".gz"):
        raise UnreadableBundle(_("{noun}'s name ends in .gz but it is not gzip-compressed").format(noun=noun))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableBundle(
            _("{noun} is not UTF-8 text at byte {start}").format(noun=noun, start=exc.start)
        ) from exc
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        byte = len(text[: exc.pos].encode("utf-8"))
        raise UnreadableBundle(
            _("{noun} is not valid JSON at byte {byte}: {msg}").format(noun=noun, byte=byte, msg=exc.msg)
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise UnreadableBundle(_("{noun} is not valid JSON: {exc}").format(noun=noun, exc=exc)) from exc


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _check_outline(document: dict[str, Any], noun: str, required: dict[str, type]) -> None:
    for key, kind in required.items():
        if key not in document:
            raise UnreadableBundle(_("{noun} lacks {key!r}").format(noun=noun, key=key))
        if not isinstance(document[key], kind):
            raise UnreadableBundle(
                _("{noun}'s {key!r} is not a JSON {value}").format(
                    noun=noun, key=key, value="object" if kind is dict else "array"
                )
            )


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

    def __init__(self, bundle: dict[str, Any], progress: Progress | None, anchors: tuple[TrustedKey, ...]) -> None:
        self.bundle = bundle
        self.progress = progress
        self.anchors = anchors
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.node: NodeDescriptor | None = None
        self.node_counts = False  # whether the log's own signatures count: its key is trusted (or nothing is)
        self.peers: dict[str, NodeDescriptor] = {}  # by log origin
        self.leaves = _Leaves()
        self.checkpoints: list[_Checkpoint] = []
        self.matching: list[int] = []  # sizes of checkpoints whose signature verifies and whose root the leaves give
        self.countersigned: dict[int, NodeDescriptor] = {}  # size -> the peer whose countersignature counts
        self.witnessed = 0
        self.witnessed_heads: list[WitnessedHead] = []
        self.chains: dict[str, list[OKPKey]] = {}  # node id -> its signing keys the rotations lead to, oldest first

    def run(self, evidence: Sequence[WitnessedEvidence], allow_uncovered_tail: bool) -> Verdict:
        self.check_descriptors()
        self.check_rotations()
        self.check_anchors()
        self.check_leaves()
        self.check_checkpoints()
        self.check_consistency()
        self.check_witnessed()
        for each in evidence:
            self.check_evidence(each)
        self.check_covered(allow_uncovered_tail)
        return Verdict(self.problems, self.warnings, self.summary(), self.anchors, rotated=self._rotated())

    def _rotated(self) -> tuple[tuple[str, str, str], ...]:
        """Each key that verified rotation statements lead to from a trusted key, with that trusted key."""
        if not self.anchors:
            return ()
        rotated: list[tuple[str, str, str]] = []
        for descriptor in (self.node, *self.peers.values()):
            keys = self._signing_keys(descriptor) if descriptor is not None else []
            if descriptor is None or not keys:
                continue
            first = str(keys[0].thumbprint())
            rotated += [
                (descriptor.node_id, str(key.thumbprint()), first)
                for key in keys[1:]
                if not self._anchored(str(key.thumbprint()))
            ]
        return tuple(rotated)

    def summary(self) -> BundleSummary:
        by_key: dict[str, list[int]] = {}
        keys: dict[str, NodeKey] = {}
        for size, peer in sorted(self.countersigned.items()):
            key = _node_key(peer)
            keys.setdefault(key.fingerprint, key)
            by_key.setdefault(key.fingerprint, []).append(size)
        return BundleSummary(
            node=_node_key(self.node) if self.node else None,
            peers=tuple(_node_key(p) for p in self.peers.values()),
            leaves=self.leaves.count,
            checkpoints=len(self.checkpoints),
            countersigned=len(self.countersigned),
            witnessed=self.witnessed,
            countersigners=tuple(Countersignatures(keys[f], tuple(sizes)) for f, sizes in by_key.items()),
            covered=self.covered,
            witnessed_heads=tuple(self.witnessed_heads),
        )

    @property
    def covered(self) -> int:
        """Leaves under the newest checkpoint that is signed, countersigned and reproduced by the leaves."""
        return max((size for size in self.countersigned if size in self.matching), default=0)

    # --------------------------------------------------------------------------------------------- descriptors

    def check_descriptors(self) -> None:
        self.node = self._descriptor("node", self.bundle["node"])
        seen = {self.node.node_id} if self.node else set()
        for entry in self.bundle["peers"]:
            peer = self._descriptor("peer", entry)
            if peer is None or not self._is_other_party(peer):
                continue
            if peer.node_id in seen:
                self.problems.append(f"the bundle carries two descriptors for {peer.node_id}")
                continue
            seen.add(peer.node_id)
            self.peers[origin_for(peer.node_id)] = peer

    def _descriptor(self, kind: str, entry: Any, label: str | None = None) -> NodeDescriptor | None:
        """The self-signed descriptor of a node the bundle names; it must be that node's own."""
        named = entry.get("node_id") if isinstance(entry, dict) else None
        label = label or (f"the {kind} {named}" if isinstance(named, str) else f"a {kind}")
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

    # ---------------------------------------------------------------------------------------------- rotations

    def check_rotations(self) -> None:
        """Follow each node's rotation statements from its first key; the chain ends at the first that fails."""
        entries = self.bundle.get("rotations", [])
        if not isinstance(entries, list):
            self.problems.append("the bundle's 'rotations' is not a JSON array")
            entries = []
        by_node: dict[str, list[str]] = {}
        for position, entry in enumerate(entries):
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("node_id", "statement")):
                self.problems.append(f"rotation statement {position} of the bundle has no 'node_id' and 'statement'")
                continue
            by_node.setdefault(entry["node_id"], []).append(entry["statement"])
        known = {d.node_id: d for d in (self.node, *self.peers.values()) if d is not None}
        for node_id in by_node.keys() - known.keys():
            self.problems.append(f"the bundle carries rotation statements of {node_id}, which is no node of it")
        for node_id, descriptor in known.items():
            self.chains[node_id] = self._follow(descriptor, by_node.get(node_id, []))

    def _follow(self, descriptor: NodeDescriptor, tokens: list[str]) -> list[OKPKey]:
        node_id = descriptor.node_id
        in_force = PublicKeys(
            signing=_first_old(tokens, KeyRole.SIGNING) or descriptor.keys.signing,
            encryption=_first_old(tokens, KeyRole.ENCRYPTION) or descriptor.keys.encryption,
        )
        chain = [in_force.signing]
        for position, token in enumerate(tokens):
            label = f"rotation statement {position} of {node_id}"
            try:
                statement = verify_rotation(token, in_force)
            except VerificationFailed as exc:
                self.problems.append(f"{label} is refused: {exc.detail}")
                break
            if statement.node_id != node_id:
                self.problems.append(f"{label} rotates a key of {statement.node_id}")
                break
            if statement.emergency and self.anchors and not self._anchored(statement.new_fingerprint):
                self.problems.append(
                    f"{label} is an emergency rotation to key {statement.new_fingerprint}: its old key was "
                    "compromised, so its signature proves nothing; trust the new key only once its fingerprint is "
                    "compared out of band (add it to the trust file)"
                )
                break
            if statement.role is KeyRole.SIGNING:
                in_force = PublicKeys(signing=statement.new_key, encryption=in_force.encryption)
                chain.append(statement.new_key)
            else:
                in_force = PublicKeys(signing=in_force.signing, encryption=statement.new_key)
        if descriptor.keys.signing_fingerprint not in {str(k.thumbprint()) for k in chain}:
            self.problems.append(
                f"{node_id}'s descriptor signs with key {descriptor.keys.signing_fingerprint}, to which its rotation "
                "statements do not lead"
            )
        return chain

    def _anchored(self, fingerprint: str) -> bool:
        return any(anchor.fingerprint == fingerprint for anchor in self.anchors)

    def _chain(self, descriptor: NodeDescriptor) -> list[OKPKey]:
        """The node's chain of signing keys, if this descriptor's key is on it; else the descriptor's key alone."""
        chain = self.chains.get(descriptor.node_id, [])
        if descriptor.keys.signing_fingerprint in {str(key.thumbprint()) for key in chain}:
            return chain
        return [descriptor.keys.signing]

    def _signing_keys(self, descriptor: NodeDescriptor) -> list[OKPKey]:
        """The node's keys whose signatures are checked: its whole chain, or with trust anchors, the chain from the
        first key of it the auditor pinned (a statement vouches for the key after it, never the one before)."""
        chain = self._chain(descriptor)
        if not self.anchors:
            return chain
        for position, key in enumerate(chain):
            if self._anchored(str(key.thumbprint())):
                return chain[position:]
        return []

    def _verify_checkpoint(self, note: str, origin: str, descriptor: NodeDescriptor) -> SignedCheckpoint:
        return verify_by_any(self._signing_keys(descriptor), lambda key: verify_checkpoint(note, origin, key))

    def _verify_cosignature(
        self, checkpoint: SignedCheckpoint, line: str, cosigner: str, descriptor: NodeDescriptor
    ) -> int:
        return verify_by_any(
            self._signing_keys(descriptor), lambda key: verify_cosignature(checkpoint, line, cosigner, key)
        )

    # ------------------------------------------------------------------------------------------------ anchors

    def check_anchors(self) -> None:
        """The log's key must be trusted; a descriptor must not give a trusted node another key, or a trusted key
        to another node; every anchor must be a key the bundle carries."""
        if not self.anchors:
            self.node_counts = self.node is not None  # NOT_PROVEN at best: the bundle's own keys stand in
            return
        if self.node is not None:
            self.node_counts = self._check_anchor("log", self.node)
        for peer in self.peers.values():
            self._check_anchor("peer", peer)
        carried = [d for d in (self.node, *self.peers.values()) if d is not None]
        fingerprints = {str(key.thumbprint()) for d in carried for key in self._chain(d)}
        nodes = {d.node_id for d in carried}
        for anchor in self.anchors:
            if anchor.fingerprint not in fingerprints and anchor.node_id not in nodes:
                self.problems.append(f"trusted key {anchor} is carried by no node in this bundle")

    def _check_anchor(self, role: str, descriptor: NodeDescriptor) -> bool:
        """Whether the descriptor's key is trusted as this node's; a problem if it contradicts an anchor."""
        fingerprint = descriptor.keys.signing_fingerprint
        anchor = self._anchor(descriptor)
        if anchor is not None:
            if self._counts(descriptor):
                return True
            self.problems.append(
                f"the {role} {descriptor.node_id} ({descriptor.party}) signs with key {fingerprint}, "
                f"which the trust anchors give to {anchor.node_id} ({anchor.party})"
            )
            return False
        named = self._anchor_naming(descriptor)
        if named is not None:
            self.problems.append(
                f"the {role} {descriptor.node_id} ({descriptor.party}) signs with key {fingerprint}, "
                f"but the trust anchors give {descriptor.node_id} key {named.fingerprint}"
            )
        elif role == "log":  # a peer's key matters only where it signs, and is named there
            self.problems.append(
                f"the log {descriptor.node_id} ({descriptor.party}) signs with key {fingerprint}, "
                "which is not a trusted key"
            )
        return False

    def _anchor(self, descriptor: NodeDescriptor) -> TrustedKey | None:
        """The first anchor naming a key of the node's chain (its descriptor's key, or one a rotation replaced)."""
        fingerprints = [str(key.thumbprint()) for key in self._chain(descriptor)]
        return next((a for f in fingerprints for a in self.anchors if a.fingerprint == f), None)

    def _anchor_naming(self, descriptor: NodeDescriptor) -> TrustedKey | None:
        return next((a for a in self.anchors if a.node_id == descriptor.node_id), None)

    def _counts(self, descriptor: NodeDescriptor) -> bool:
        """Whether signatures by this descriptor's key count: with anchors, only if it is trusted as this node's."""
        if not self.anchors:
            return True
        anchor = self._anchor(descriptor)
        if anchor is None:
            return False
        return anchor.node_id is None or (anchor.node_id, anchor.party) == (descriptor.node_id, descriptor.party)

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
        for checkpoint in self.checkpoints:
            signed = self._check_signature(checkpoint)
            countersigner = self._check_countersignature(checkpoint)
            if countersigner is not None and signed and self.node_counts:
                self.countersigned[checkpoint.size] = countersigner
            if self._check_root(checkpoint) and signed:
                self.matching.append(checkpoint.size)

    def _check_signature(self, checkpoint: _Checkpoint) -> bool:
        if self.node is None:
            return False
        try:
            self._verify_checkpoint(checkpoint.note, origin_for(self.node.node_id), self.node)
        except BadSignature:
            self.problems.append(f"checkpoint size {checkpoint.size}: not signed by {self.node.node_id}'s key")
            return False
        except MalformedArtefact as exc:
            self.problems.append(f"checkpoint size {checkpoint.size}: {exc.detail}")
            return False
        return True

    def _check_countersignature(self, checkpoint: _Checkpoint) -> NodeDescriptor | None:
        """The peer whose countersignature on the checkpoint counts, if there is one."""
        if checkpoint.cosignature is None:
            return None
        cosigner = checkpoint.cosigner
        peer = self.peers.get(cosigner) if isinstance(cosigner, str) else None
        if peer is None or not isinstance(checkpoint.cosignature, str):
            self.problems.append(f"checkpoint size {checkpoint.size}: countersigned by {cosigner!r}, not a pinned peer")
            return None
        if not self._counts(peer):
            self.problems.append(
                f"checkpoint size {checkpoint.size}: countersigned by {peer.node_id} ({peer.party}) with key "
                f"{peer.keys.signing_fingerprint}, which is not a trusted key"
            )
            return None
        try:
            self._verify_cosignature(checkpoint.signed, checkpoint.cosignature, cosigner, peer)
        except VerificationFailed:
            self.problems.append(
                f"checkpoint size {checkpoint.size}: the peer's countersignature does not verify — "
                "the history it countersigned was rewritten"
            )
            return None
        return peer

    def _check_root(self, checkpoint: _Checkpoint) -> bool:
        size = checkpoint.size
        if size > self.leaves.count:
            return False  # reported once, as a truncated log
        if self.leaves.tree.root(size) == checkpoint.signed.body.root:
            return True
        problem = f"checkpoint size {size}: root does not match {_leaf_range(0, size)}"
        earlier = max((s for s in self.matching if s < size), default=0)
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
        for restore in declared_restores(self.bundle["leaves"]):
            if not restore.lost:
                continue
            self.warnings.append(
                f"leaf {restore.index}: {restore.origin} declared its log restored to size {restore.size} "
                f"(root {restore.root.hex()}); the checkpoints of it countersigned here beyond that, sizes "
                f"{', '.join(str(s) for s in restore.lost_sizes)}, are of a branch it lost "
                f"({_leaf_range(restore.size, max(restore.lost_sizes))} of that branch)"
            )

    def _check_witnessed(self, checkpoint: _Checkpoint) -> bool:
        """A peer's checkpoint: signed by the peer's key, countersigned by this node's."""
        origin = checkpoint.signed.body.origin
        label = f"witnessed checkpoint of {origin} size {checkpoint.size}"
        peer = self.peers.get(origin)
        if peer is None:
            self.problems.append(f"{label}: its origin is not a pinned peer")
            return False
        if not self._counts(peer):
            self.problems.append(
                f"{label}: signed by {peer.node_id} ({peer.party}) with key {peer.keys.signing_fingerprint}, "
                "which is not a trusted key"
            )
            return False
        try:
            signed = self._verify_checkpoint(checkpoint.note, origin, peer)
        except VerificationFailed:
            self.problems.append(f"{label}: not signed by {peer.node_id}'s key")
            return False
        if self.node is None or not self.node_counts:
            return False  # reported once, with the own checkpoints or the anchors
        try:
            if not isinstance(checkpoint.cosignature, str):
                raise MalformedArtefact(_("no countersignature"))
            self._verify_cosignature(signed, checkpoint.cosignature, origin_for(self.node.node_id), self.node)
        except VerificationFailed:
            self.problems.append(f"{label}: {self.node.node_id}'s countersignature does not verify")
            return False
        return True

    # ------------------------------------------------------------------------------------ the peer's evidence

    def check_evidence(self, evidence: WitnessedEvidence) -> None:
        """The peer's record of this log's checkpoints it countersigned: each one must be a head of these leaves.

        Each entry authenticates itself (signed by the log's key, cosigned by the witness's, both trusted), so a
        bundle cut back to an earlier checkpoint, or rewritten under one, cannot hide from it.
        """
        label = f"the witnessed evidence {evidence.name}"
        if self.node is None:
            return  # nothing to check it against: the node's descriptor did not verify
        witness = self._descriptor("witness", evidence.node)
        if witness is None:
            return
        if witness.party == self.node.party:
            self.problems.append(
                f"{label}: its witness {witness.node_id} is of {self.node.node_id}'s own party, {witness.party}"
            )
            return
        if not self._counts(witness):
            self.problems.append(
                f"{label}: its witness {witness.node_id} ({witness.party}) signs with key "
                f"{witness.keys.signing_fingerprint}, which is not a trusted key"
            )
            return
        self._check_pinned_log(label, witness, self.node, evidence.peers)
        if not self.node_counts:
            return  # the log's key is not trusted: reported once, with the anchors
        origin = origin_for(self.node.node_id)
        restores = [r for r in self._witnessed_restores(witness, evidence) if r.origin == origin]
        found = False
        for position, entry in enumerate(evidence.witnessed):
            parsed = _parse_entry(entry)
            if isinstance(parsed, str):
                self.problems.append(f"{label}: witnessed checkpoint {position}: {parsed}")
            elif parsed.signed.body.origin == origin:
                found = True
                self._check_witnessed_head(label, witness, self.node, parsed, restores)
        if not found:
            self.problems.append(f"{label} holds no checkpoint of {origin} countersigned by {witness.node_id}")

    def _check_pinned_log(self, label: str, witness: NodeDescriptor, log: NodeDescriptor, pinned: list[Any]) -> None:
        """The key the witness pinned for this log must be the key this bundle's log signs with."""
        for entry in pinned:
            if not isinstance(entry, dict) or entry.get("node_id") != log.node_id:
                continue
            seen = self._descriptor("log", entry, f"{label}: the descriptor {witness.node_id} pinned for {log.node_id}")
            chain = {str(key.thumbprint()) for key in self._chain(log)}
            if seen is not None and seen.keys.signing_fingerprint not in chain:
                self.problems.append(
                    f"{label}: {witness.node_id} pinned {log.node_id} with key {seen.keys.signing_fingerprint}, "
                    f"but this bundle's log signs with key {log.keys.signing_fingerprint}"
                )

    def _witnessed_restores(self, witness: NodeDescriptor, evidence: WitnessedEvidence) -> list[DeclaredRestore]:
        """The declared restores the witness's own ledger logs: only if every leaf of its bundle matches its hash
        and a checkpoint signed by the witness's key covers the leaf that logs the declaration."""
        if not evidence.leaves:
            return []
        hashes = []
        for position, entry in enumerate(evidence.leaves):
            index, recorded, problem = _check_leaf(position, entry)
            if problem or recorded is None or index != position:
                return []
            hashes.append(recorded)
        tree, own = MemoryTree.from_leaf_hashes(hashes), origin_for(witness.node_id)
        covered = 0
        for entry in evidence.checkpoints:
            parsed = _parse_entry(entry)
            if isinstance(parsed, str) or parsed.signed.body.origin != own or parsed.size > tree.size:
                continue
            try:
                signed = self._verify_checkpoint(parsed.note, own, witness)
            except VerificationFailed:
                continue
            if tree.root(signed.body.size) == signed.body.root:
                covered = max(covered, signed.body.size)
        return [restore for restore in declared_restores(evidence.leaves) if restore.index < covered]

    def _check_witnessed_head(
        self,
        label: str,
        witness: NodeDescriptor,
        log: NodeDescriptor,
        checkpoint: _Checkpoint,
        restores: Sequence[DeclaredRestore] = (),
    ) -> None:
        """One checkpoint of the log the witness countersigned: both signatures, then the leaves must give its root,
        unless the witness logged the log's declared restore that set it aside, and the leaves give that head."""
        origin, size = checkpoint.signed.body.origin, checkpoint.size
        try:
            signed = self._verify_checkpoint(checkpoint.note, origin, log)
        except VerificationFailed:
            self.problems.append(f"{label}: checkpoint size {size} of {origin} is not signed by {origin}'s key")
            return
        try:
            if not isinstance(checkpoint.cosignature, str):
                raise MalformedArtefact(_("no countersignature"))
            self._verify_cosignature(signed, checkpoint.cosignature, origin_for(witness.node_id), witness)
        except VerificationFailed:
            self.problems.append(
                f"{label}: {witness.node_id}'s countersignature on checkpoint size {size} of {origin} does not verify"
            )
            return
        root = signed.body.root
        if self._lost_in_restore(label, witness, log, signed, restores):
            return
        if size > self.leaves.count:
            newest = max((c.size for c in self.checkpoints), default=0)
            self.problems.append(
                f"log truncated: {witness.node_id} countersigned checkpoint size {size} of {origin} "
                f"(root {root.hex()}), but this bundle has only {self.leaves.count} leaves and its newest checkpoint "
                f"is size {newest}"
            )
            return
        ours = self.leaves.tree.root(size)
        if ours != root:
            self.problems.append(
                f"checkpoint size {size}: {witness.node_id} countersigned root {root.hex()}, but this bundle's "
                f"{_leaf_range(0, size)} give root {ours.hex()}"
            )
            return
        self.witnessed_heads.append(WitnessedHead(_node_key(witness), size, root))

    def _lost_in_restore(
        self,
        label: str,
        witness: NodeDescriptor,
        log: NodeDescriptor,
        signed: SignedCheckpoint,
        restores: Sequence[DeclaredRestore],
    ) -> bool:
        """Whether the witness set this checkpoint aside in a declared restore of the log whose head these leaves
        give (so it is of a branch the log lost, not of these leaves); a warning names the lost leaves."""
        size, root = signed.body.size, signed.body.root
        if size <= self.leaves.count and self.leaves.tree.root(size) == root:
            return False  # a head of these leaves: nothing to excuse
        for restore in restores:
            if not restore.loses(size, root) or restore.size > self.leaves.count:
                continue
            if self.leaves.tree.root(restore.size) != restore.root:
                continue
            self.warnings.append(
                f"{label}: checkpoint size {size} of {signed.body.origin} (root {root.hex()}) that "
                f"{witness.node_id} countersigned is of a branch {log.node_id} lost: {witness.node_id}'s leaf "
                f"{restore.index} logs {log.node_id}'s declared restore to size {restore.size} (root "
                f"{restore.root.hex()}), which this bundle's leaves give; {_leaf_range(restore.size, size)} of that "
                "branch are lost"
            )
            return True
        return False

    # ------------------------------------------------------------------------------------------------ coverage

    def check_covered(self, allow_uncovered_tail: bool) -> None:
        """Strict by default: a leaf under no countersigned checkpoint is not proven against the log's operator."""
        who = "a trusted peer key" if self.anchors else "the peer"
        if not self.countersigned:
            self.problems.append(f"nothing in this bundle is countersigned by {who}")
            return
        covered = self.covered
        if covered >= self.leaves.count:
            return
        tail = _leaf_range(covered, self.leaves.count)
        verb = "is" if self.leaves.count - covered == 1 else "are"
        if allow_uncovered_tail:
            self.warnings.append(
                f"{tail} {verb} under no checkpoint countersigned by {who} yet (the next checkpoint round covers them)"
            )
        else:
            self.problems.append(
                f"{tail} {verb} under no checkpoint countersigned by {who}: "
                "nothing shows they were not rewritten or made up"
            )


def _first_old(tokens: list[str], role: KeyRole) -> OKPKey | None:
    """The old key the node's first statement for `role` replaces: where its chain starts. Read unverified: the
    statement is then verified under it, and the key counts only if an anchor (or nothing) says so."""
    for token in tokens:
        try:
            claims = unverified_claims(token)
            if claims.get("key") == role.value:
                return OKPKey.import_key(claims["old"]["jwk"])
        except (VerificationFailed, KeyError, TypeError, ValueError):
            continue
    return None


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
