"""Verifies a case export offline (ledger/case_format.py), from its JSON or from the PDF that embeds it: the node's
signature over the manifest, every record against the manifest, every leaf's hash and inclusion proof, the checkpoint's
signature and countersignature, the receipts, and each sent message's content against its ledger leaf.

Like the audit bundle's verifier it stands alone, and trusts only the keys it is given, never the descriptors the
export carries: without trust anchors the verdict is at best NOT_PROVEN. It proves what the export holds, never that
the export holds all of the case: a leaf left out is simply absent (only the audit bundle has every leaf), so only what
the export itself names — a receipt's leaf, a sent message's creation — must be there.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from accord.crypto.errors import VerificationFailed
from accord.crypto.receipts import LedgerPosition
from accord.crypto.signing import signed_kid, verify_claims
from accord.i18n import _
from accord.ledger.batch_receipts import receipt_signer_claims, verify_delivery_receipt
from accord.ledger.bundle import (
    EMPTY_SUMMARY,
    GZIP_MAGIC,
    BundleSummary,
    Countersignatures,
    TrustedKey,
    UnreadableBundle,
    Verdict,
)
from accord.ledger.case_format import (
    ATTACHMENT_NAME,
    FORMAT,
    PROOF_FIELD,
    REQUIRED,
    SIGNATURE_TYP,
    case_manifest,
    content_sha256,
)
from accord.ledger.errors import ProofFailed
from accord.ledger.leaves import EventType
from accord.ledger.tree import verify_inclusion
from accord.ledger.verify import (
    _Audit,
    _check_leaf,
    _check_outline,
    _Checkpoint,
    _decode,
    _hashes,
    _node_key,
    _parse_entry,
    _read_bytes,
)

PDF_MAGIC = b"%PDF-"
# The events after which a sent message's content may differ from what its message.created leaf recorded.
CONTENT_CHANGES = frozenset({EventType.REVIEW_DECIDED, EventType.DATA_PURGED})
SNIFFED_BYTES = 64 * 1024  # the format member is written first: this much of a file tells a case export


@dataclass(frozen=True, slots=True)
class CaseVerdict:
    """A case export's verdict and what it is about."""

    verdict: Verdict
    message_id: str = ""
    case_id: str = ""
    messages: int = 0
    checkpoint_size: int = 0
    unproven: tuple[int, ...] = ()  # leaves under no countersigned checkpoint, let through by allow_uncovered_tail


def is_case_export(path: Path) -> bool:
    """Whether `path` holds a case export rather than an audit bundle: a PDF, or JSON whose opening names the case
    format (an unreadable file is left to the bundle's verifier, which says what is wrong with it)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFFED_BYTES)
        if head.startswith(PDF_MAGIC):
            return True
        if head[:2] == GZIP_MAGIC:
            with gzip.open(path, "rb") as handle:
                head = handle.read(SNIFFED_BYTES)
    except (OSError, EOFError, zlib.error):
        return False
    return f'"{FORMAT}"'.encode() in head


def read_case_export(path: Path) -> dict[str, Any]:
    """The export's document, from its JSON or from the PDF it is embedded in; UnreadableBundle says why not."""
    raw = _read_bytes(path, "case export")
    if raw.startswith(PDF_MAGIC):
        raw = _embedded_json(raw)
    document = _decode(raw, path, "case export")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise UnreadableBundle(_("the file is not a case export ({FORMAT})").format(FORMAT=FORMAT))
    _check_outline(document, "case export", REQUIRED)
    return dict(document)


def _embedded_json(pdf: bytes) -> bytes:
    import pypdfium2  # imported here: only a PDF needs it

    try:
        document = pypdfium2.PdfDocument(pdf)
    except pypdfium2.PdfiumError as exc:
        raise UnreadableBundle(_("the PDF cannot be read: {exc}").format(exc=exc)) from exc
    try:
        for position in range(document.count_attachments()):
            attachment = document.get_attachment(position)
            if attachment.get_name() == ATTACHMENT_NAME:
                return bytes(attachment.get_data())
    finally:
        document.close()
    raise UnreadableBundle(
        _("the PDF embeds no {name}: it is not a case export, or the file was stripped").format(name=ATTACHMENT_NAME)
    )


def verify_case_export(
    path: Path, *, anchors: Sequence[TrustedKey] = (), allow_uncovered_tail: bool = False
) -> CaseVerdict:
    """Check the case export offline against the trust anchors; `allow_uncovered_tail` makes a leaf that no
    countersigned checkpoint covered at export time a warning rather than a problem."""
    try:
        document = read_case_export(path)
    except UnreadableBundle as problem:
        return CaseVerdict(Verdict([problem.detail], [], EMPTY_SUMMARY, tuple(anchors), readable=False))
    return _CaseAudit(document, tuple(anchors)).run(allow_uncovered_tail)


class _CaseAudit:
    """One pass over a parsed case export; the audit bundle's checks of descriptors, anchors and checkpoint
    signatures, on the export's one checkpoint."""

    def __init__(self, document: dict[str, Any], anchors: tuple[TrustedKey, ...]) -> None:
        self.document = document
        checkpoint = document.get("checkpoint")
        outline = {"node": document["node"], "peers": document["peers"], "checkpoints": [], "leaves": []}
        self.audit = _Audit(outline, None, anchors)
        self.anchors = anchors
        self.checkpoint = _parse_entry(checkpoint) if checkpoint is not None else None
        self.manifest: dict[str, Any] | None = None
        self.proven: set[int] = set()  # indexes of the leaves proven under the countersigned checkpoint
        self.uncovered: list[int] = []
        self.countersigned = False

    @property
    def problems(self) -> list[str]:
        return self.audit.problems

    @property
    def warnings(self) -> list[str]:
        return self.audit.warnings

    def run(self, allow_uncovered_tail: bool) -> CaseVerdict:
        self.audit.check_descriptors()
        self.audit.check_anchors()
        self.check_signature()
        if self.manifest is not None:
            self.check_records()
            self.check_leaf_list()
        self.check_leaves()
        root = self.check_checkpoint()
        self.check_proofs(root, allow_uncovered_tail)
        self.check_ledger_contents()
        self.check_receipts()
        case = self.document["case"]
        return CaseVerdict(
            Verdict(self.problems, self.warnings, self.summary(), self.anchors),
            message_id=str(case.get("message_id", "")),
            case_id=str(case.get("case_id", "")),
            messages=len(case.get("messages") or ()),
            checkpoint_size=self.checkpoint.size if isinstance(self.checkpoint, _Checkpoint) else 0,
            unproven=tuple(self.uncovered) if allow_uncovered_tail else (),
        )

    def summary(self) -> BundleSummary:
        node = self.audit.node
        size = self.checkpoint.size if isinstance(self.checkpoint, _Checkpoint) else 0
        cosigner = self.audit.peers.get(self.checkpoint.cosigner) if isinstance(self.checkpoint, _Checkpoint) else None
        countersigners = (
            (Countersignatures(_node_key(cosigner), (size,)),) if self.countersigned and cosigner is not None else ()
        )
        return BundleSummary(
            node=_node_key(node) if node else None,
            peers=tuple(_node_key(p) for p in self.audit.peers.values()),
            leaves=len(self.leaves),
            checkpoints=int(self.checkpoint is not None),
            countersigned=int(self.countersigned),
            witnessed=0,
            countersigners=countersigners,
            covered=len(self.proven),
        )

    @property
    def leaves(self) -> list[Any]:
        return list(self.document["leaves"])

    # -------------------------------------------------------------------------------------------- the signature

    def check_signature(self) -> None:
        """The node's signature over the manifest, by its trusted key; the manifest is what the rest is held to."""
        node = self.audit.node
        if node is None:
            return  # its descriptor did not verify: reported
        if not self.audit.node_counts:
            return  # its key is not trusted: reported with the anchors
        token = self.document["signature"]
        try:
            signed_kid(token, SIGNATURE_TYP)
            manifest = verify_claims(token, node.keys.signing)
            if manifest.get("format") != FORMAT:
                raise VerificationFailed(_("the signed payload is not a case manifest"))
        except VerificationFailed as exc:
            self.problems.append(
                f"the export's signature does not verify with {node.node_id}'s key: it was not made by {node.node_id}, "
                f"or its manifest was changed ({exc.detail})"
            )
            return
        self.manifest = manifest

    # ---------------------------------------------------------------------------------- records and the manifest

    def check_records(self) -> None:
        """Each message's content, then the whole case, against what the node signed."""
        assert self.manifest is not None
        node = self.document["node"].get("node_id")
        signed = self.manifest.get("messages") or {}
        case = self.document["case"]
        messages = case.get("messages") if isinstance(case.get("messages"), list) else []
        present = set()
        for message in messages:
            if not isinstance(message, dict):
                self.problems.append("a message of the case is not a JSON object")
                continue
            message_id = str(message.get("id"))
            present.add(message_id)
            if message_id not in signed:
                self.problems.append(f"message {message_id} is not in the manifest {node} signed: it was added")
            elif content_sha256(message.get("content")) != signed[message_id]:
                self.problems.append(
                    f"message {message_id}: its content is not what {node} signed at export (it was changed after)"
                )
        for message_id in signed:
            if message_id not in present:
                self.problems.append(f"message {message_id}, in the manifest {node} signed, is missing: it was dropped")
        expected = case_manifest(self.document, self.leaves, self.document.get("checkpoint"))
        for key in ("case_id", "message_id", "exported_at", "exported_by", "case_sha256"):
            if expected[key] != self.manifest.get(key):
                what = "the case's records" if key == "case_sha256" else f"the export's {key}"
                self.problems.append(f"{what} differ from what {node} signed at export (changed after)")
        if expected["checkpoint_sha256"] != self.manifest.get("checkpoint_sha256"):
            self.problems.append(f"the checkpoint is not the one {node} signed into the export: it was replaced")

    def check_leaf_list(self) -> None:
        """The leaves against the signed list: the same leaves, each once, in ledger order."""
        assert self.manifest is not None
        signed = [tuple(entry) for entry in self.manifest.get("leaves") or () if isinstance(entry, list)]
        signed_hashes = {index: leaf_hash for index, leaf_hash in signed}
        listed = [(leaf.get("index"), leaf.get("leaf_hash")) for leaf in self.leaves if isinstance(leaf, dict)]
        indexes = [index for index, _hash in listed]
        for before, after in pairwise(indexes):
            if isinstance(before, int) and isinstance(after, int) and after <= before:
                self.problems.append(
                    f"the leaves are not in ledger order: leaf {after} comes after leaf {before} (events were "
                    "reordered)"
                )
                break
        kinds = {leaf.get("index"): leaf.get("type") for leaf in self.leaves if isinstance(leaf, dict)}
        for index, leaf_hash in signed:
            if index not in kinds:
                self.problems.append(f"leaf {index}, in the manifest the node signed, is missing: an event was dropped")
            elif leaf_hash != next(h for i, h in listed if i == index):
                self.problems.append(f"leaf {index}: its hash is not the one the node signed")
        for index, _hash in listed:
            if index not in signed_hashes:
                self.problems.append(
                    f"leaf {index} ({kinds[index]}) is not in the manifest the node signed: it was added"
                )

    # ---------------------------------------------------------------------------------- leaves and their proofs

    def check_leaves(self) -> None:
        for position, entry in enumerate(self.leaves):
            record = {k: v for k, v in entry.items() if k != PROOF_FIELD} if isinstance(entry, dict) else entry
            _, _, problem = _check_leaf(position, record)
            if problem:
                self.problems.append(problem)

    def check_checkpoint(self) -> bytes | None:
        """The root every proof must lead to: of a checkpoint signed by the node and countersigned by the peer."""
        if self.checkpoint is None:
            return None
        if isinstance(self.checkpoint, str):
            self.problems.append(f"the export's checkpoint: {self.checkpoint}")
            return None
        signed = self.audit._check_signature(self.checkpoint)
        cosigner = self.audit._check_countersignature(self.checkpoint)
        if cosigner is None and self.checkpoint.cosignature is None:
            self.problems.append(f"checkpoint size {self.checkpoint.size}: not countersigned by the peer")
        self.countersigned = signed and cosigner is not None and self.audit.node_counts
        return self.checkpoint.signed.body.root if self.countersigned else None

    def check_proofs(self, root: bytes | None, allow_uncovered_tail: bool) -> None:
        size = self.checkpoint.size if isinstance(self.checkpoint, _Checkpoint) else 0
        uncovered = self.uncovered
        for entry in self.leaves:
            if not isinstance(entry, dict) or type(entry.get("index")) is not int:
                continue  # reported with the leaves
            index = entry["index"]
            if index >= size:
                uncovered.append(index)
                continue
            proof = _hashes(entry.get(PROOF_FIELD))
            leaf = _hashes([entry.get("leaf_hash")])
            if proof is None or not leaf:
                self.problems.append(f"leaf {index}: it has no readable inclusion proof")
                continue
            if root is None:
                continue  # the checkpoint does not count: reported
            try:
                verify_inclusion(leaf[0], index, size, proof, root)
            except ProofFailed as failure:
                self.problems.append(
                    f"leaf {index}: its inclusion proof does not lead to the root of checkpoint size {size} "
                    f"({failure.detail})"
                )
                continue
            self.proven.add(index)
        if uncovered:
            named = f"leaf {uncovered[0]} is" if len(uncovered) == 1 else f"leaves {', '.join(map(str, uncovered))} are"
            text = f"{named} under no checkpoint countersigned by the peer at export time"
            if allow_uncovered_tail:
                self.warnings.append(text + " (export the case again after the next checkpoint round)")
            else:
                self.problems.append(text + ": nothing shows they were not rewritten or made up")

    # ------------------------------------------------------------------------------ records against the ledger

    def check_ledger_contents(self) -> None:
        """A message this node sent: its content is what its message.created leaf recorded the SHA-256 of."""
        leaves = [leaf for leaf in self.leaves if isinstance(leaf, dict) and isinstance(leaf.get("refs"), dict)]
        messages = self.document["case"].get("messages")
        for message in messages if isinstance(messages, list) else ():
            if not isinstance(message, dict) or message.get("direction") != "outgoing":
                continue
            message_id = message.get("id")
            about = [leaf for leaf in leaves if leaf["refs"].get("message") == message_id]
            created = next((leaf for leaf in about if leaf.get("type") == EventType.MESSAGE_CREATED), None)
            if created is None:
                self.problems.append(f"message {message_id}: the export has no ledger leaf recording its creation")
                continue
            if content_sha256(message.get("content")) == created.get("payload_sha256"):
                continue
            # Only a proven leaf excuses the difference: a field of the export, or a leaf in the uncovered tail, is
            # the exporter's word alone.
            changed = any(leaf.get("type") in CONTENT_CHANGES and leaf.get("index") in self.proven for leaf in about)
            text = (
                f"message {message_id}: its content does not match the SHA-256 that leaf {created.get('index')} "
                "(message.created) recorded"
            )
            if changed:
                self.warnings.append(text + "; it was changed on review or purged under retention since")
            else:
                self.problems.append(text)

    def check_receipts(self) -> None:
        """Each receipt, signed by the receiving node's key (the peer's for a message sent, this node's for one
        received), for that message."""
        keys = {d.node_id: d for d in (self.audit.node, *self.audit.peers.values()) if d is not None}
        messages = self.document["case"].get("messages")
        for message in messages if isinstance(messages, list) else ():
            receipt = message.get("receipt") if isinstance(message, dict) else None
            if not isinstance(receipt, str):
                continue
            try:
                receiver = keys.get(str(receipt_signer_claims(receipt).get("receiver")))
                if receiver is None or not self.audit._counts(receiver):
                    raise VerificationFailed(_("the receiving node's key is not a trusted key in this export"))
                claims = verify_delivery_receipt(receipt, receiver.keys, str(message.get("id")))
            except VerificationFailed as exc:
                self.problems.append(f"message {message.get('id')}: its receipt does not verify ({exc.detail})")
                continue
            if self.audit.node is not None and receiver.node_id == self.audit.node.node_id:
                self.check_receipt_leaf(str(message.get("id")), claims.ledger)

    def check_receipt_leaf(self, message_id: str, position: LedgerPosition) -> None:
        """A receipt this node signed names the leaf that recorded the envelope: the export must hold that leaf."""
        held = next((x for x in self.leaves if isinstance(x, dict) and x.get("index") == position.index), None)
        if held is None:
            problem = _(
                "message {message}: its receipt names leaf {index}, which the export does not hold: "
                "an event was dropped"
            )
        elif held.get("leaf_hash") != position.leaf_hash.hex():
            problem = _("message {message}: leaf {index} is not the leaf its receipt names: it was replaced")
        else:
            return
        self.problems.append(problem.format(message=message_id, index=position.index))
