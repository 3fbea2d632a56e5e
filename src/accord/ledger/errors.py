"""Why an RFC 9162 proof does not verify: one error per failing step, each naming what was expected and found."""

from __future__ import annotations

from accord.crypto.errors import VerificationFailed
from accord.i18n import N_


class ProofFailed(VerificationFailed):
    """An inclusion or consistency proof does not show what it was presented to show.

    `expected` is what the signed tree head (or the proof's own shape) commits to, `actual` what the verifier
    found; both are in the message too.
    """

    slug = "proof-failed"
    title = N_("The Merkle proof does not verify")

    expected: object
    actual: object


class MalformedHash(ProofFailed):
    """A value that must be a SHA-256 hash (leaf, root or proof element) has another length."""

    slug = "malformed-hash"
    title = N_("A hash in the proof is not 32 bytes")

    expected: int
    actual: int

    def __init__(self, proof: str, name: str, expected: int, actual: int) -> None:
        super().__init__(f"{proof}: {name} is {actual} bytes, expected {expected}")
        self.name, self.expected, self.actual = name, expected, actual


class LeafIndexOutOfRange(ProofFailed):
    """RFC 9162 §2.1.3.2 step 1: the leaf index is not below the tree size."""

    slug = "leaf-index-out-of-range"
    title = N_("The leaf index is not in the tree")

    expected: range
    actual: int

    def __init__(self, proof: str, expected: range, actual: int) -> None:
        super().__init__(
            f"{proof}: leaf index {actual} is not in the tree, expected {expected.start} <= index < {expected.stop}"
        )
        self.expected, self.actual = expected, actual


class TreeSizesOutOfOrder(ProofFailed):
    """A consistency proof goes from a tree to one at least as large; the old size is not in that range."""

    slug = "tree-sizes-out-of-order"
    title = N_("The old tree is larger than the new one")

    expected: range
    actual: int

    def __init__(self, proof: str, expected: range, actual: int) -> None:
        super().__init__(
            f"{proof}: old tree size {actual} is out of order, expected {expected.start} <= old size <= "
            f"{expected.stop - 1}, the new tree size"
        )
        self.expected, self.actual = expected, actual


class ProofLengthMismatch(ProofFailed):
    """The proof has another number of hashes than PATH (§2.1.3.1) or PROOF (§2.1.4.1) for these sizes has: the
    verifier ran out of proof before reaching the root, or reached the root with proof left over."""

    slug = "proof-length-mismatch"
    title = N_("The proof has the wrong number of hashes")

    expected: int
    actual: int

    def __init__(self, proof: str, expected: int, actual: int) -> None:
        super().__init__(f"{proof} has {actual} {'hash' if actual == 1 else 'hashes'}, expected {expected}")
        self.expected, self.actual = expected, actual


class RootMismatch(ProofFailed):
    """The proof reconstructs another root than the tree head commits to."""

    slug = "root-mismatch"
    title = N_("The proof does not reconstruct the signed root")

    expected: bytes
    actual: bytes

    def __init__(self, proof: str, tree_size: int, expected: bytes, actual: bytes) -> None:
        super().__init__(
            f"{proof} reconstructs root {actual.hex()} for tree size {tree_size}, expected {expected.hex()}"
        )
        self.tree_size, self.expected, self.actual = tree_size, expected, actual
