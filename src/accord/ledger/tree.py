"""RFC 9162 (RFC 6962) Merkle tree hashes, inclusion and consistency proofs, over stored perfect subtrees."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from accord.ledger.errors import (
    LeafIndexOutOfRange,
    MalformedHash,
    ProofLengthMismatch,
    RootMismatch,
    TreeSizesOutOfOrder,
)

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The interior node over two subtree hashes: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class NodeSource(Protocol):
    """Gives the hash of any perfect, aligned subtree that is complete in the log."""

    def node(self, level: int, index: int) -> bytes:
        """MTH(D[index·2^level : (index+1)·2^level]); level 0 is the leaf hash."""
        ...


def _split(n: int) -> int:
    """The RFC's k: the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def parents_completed(index: int, leaf: bytes, node: Callable[[int, int], bytes]) -> list[tuple[int, int, bytes]]:
    """The (level, index, hash) of every perfect subtree of level >= 1 that appending leaf number index completes.

    A subtree at level l is completed exactly when index + 1 is a multiple of 2^l, i.e. once for each trailing 1
    bit of index; its left child is already stored and its right child is the one computed just before it.
    """
    if index < 0:
        raise ValueError("leaf index must be non-negative")
    completed: list[tuple[int, int, bytes]] = []
    level, position, current = 0, index, leaf
    while position & 1:
        current = node_hash(node(level, position - 1), current)
        level, position = level + 1, position >> 1
        completed.append((level, position, current))
    return completed


def subtree_hash(source: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) from at most log2(end - start) + 1 stored perfect subtrees.

    The RFC splits a range at the largest power of two below its size, so MTH of a range is the right-fold of
    node_hash over its perfect subtrees, largest first. That needs start to be a multiple of the largest of them,
    which every range the RFC's recursion produces from D[0:n] is.
    """
    size = end - start
    if start < 0 or size < 0:
        raise ValueError(f"invalid range [{start}, {end})")
    if size == 0:
        return EMPTY_ROOT
    top = size.bit_length() - 1
    if start % (1 << top):
        raise ValueError(f"range [{start}, {end}) is not aligned to its largest perfect subtree")
    parts: list[bytes] = []
    position = start
    for level in range(top, -1, -1):
        if size >> level & 1:
            parts.append(source.node(level, position >> level))
            position += 1 << level
    result = parts.pop()
    while parts:
        result = node_hash(parts.pop(), result)
    return result


def root(source: NodeSource, size: int) -> bytes:
    """MTH(D[0:size]); the empty tree's root is SHA-256 of the empty string."""
    return subtree_hash(source, 0, size)


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf-side sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            path.append(subtree_hash(source, mid, end))
            end = mid
        else:
            path.append(subtree_hash(source, start, mid))
            start = mid
    path.reverse()
    return path


def consistency_proof(source: NodeSource, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1; empty when old_size is 0 or equals new_size."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"cannot prove tree size {old_size} consistent with size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end = 0, new_size
    whole_old_tree = True  # the RFC's b: the current subtree still starts at leaf 0, so its old root is known
    while end != old_size:
        mid = start + _split(end - start)
        if old_size <= mid:
            proof.append(subtree_hash(source, mid, end))
            end = mid
        else:
            proof.append(subtree_hash(source, start, mid))
            start, whole_old_tree = mid, False
    if not whole_old_tree:
        proof.append(subtree_hash(source, start, end))
    proof.reverse()
    return proof


def _all_hashes(*values: bytes) -> bool:
    return all(len(value) == HASH_SIZE for value in values)


def _check_hashes(proof: str, named: dict[str, bytes], path: Sequence[bytes]) -> None:
    """Every value the verifier hashes must be a SHA-256 hash; the RFC takes that as given."""
    for name, value in [*named.items(), *((f"proof hash {i}", p) for i, p in enumerate(path))]:
        if len(value) != HASH_SIZE:
            raise MalformedHash(proof, name, HASH_SIZE, len(value))


def inclusion_path_length(index: int, size: int) -> int:
    """len(PATH(index, D[0:size])) of RFC 9162 §2.1.3.1, following its recursion without hashing (0 <= index < size)."""
    length = 0
    while size > 1:
        k = _split(size)
        index, size = (index, k) if index < k else (index - k, size - k)
        length += 1
    return length


def consistency_proof_length(old_size: int, new_size: int) -> int:
    """len(PROOF(old_size, D[0:new_size])) of RFC 9162 §2.1.4.1: SUBPROOF's recursion without hashing, plus the
    subtree it ends on when that is not the whole old tree (its b). Zero when old_size is 0 or equals new_size."""
    if old_size in (0, new_size):
        return 0
    length, whole_old_tree = 0, True
    while old_size != new_size:
        k = _split(new_size)
        if old_size <= k:
            new_size = k
        else:
            old_size, new_size, whole_old_tree = old_size - k, new_size - k, False
        length += 1
    return length + (not whole_old_tree)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2: check that proof shows the leaf hash at index in the tree of size with this root.

    Returns if it does; otherwise raises the ProofFailed of the first step that fails, naming what that step
    expected and what it found (RootMismatch: the signed root and the one the proof reconstructs).

    The proof binds index and root, but only the proof's shape binds size, so size must come with root from a
    signed tree head.
    """
    what = f"the inclusion proof of leaf {index} in the tree of size {size}"
    _check_hashes(what, {"leaf hash": leaf, "root hash": root}, proof)
    if not 0 <= index < size:  # 1.
        raise LeafIndexOutOfRange(what, range(size), index)
    fn, sn = index, size - 1  # 2.
    result = leaf  # 3.
    for sibling in proof:  # 4.
        if sn == 0:  # 4a. the root is reached with proof left over
            raise ProofLengthMismatch(what, inclusion_path_length(index, size), len(proof))
        if fn & 1 or fn == sn:  # 4b.
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1  # 4c.
    if sn != 0:  # 5. sn is 0: else the proof ran out below the root
        raise ProofLengthMismatch(what, inclusion_path_length(index, size), len(proof))
    if result != root:  # 5. r is the root the tree head commits to
        raise RootMismatch(what, size, root, result)


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2: check that proof shows the tree (old_size, old_root) is a prefix of (new_size, new_root).

    Returns if it does; otherwise raises the ProofFailed of the first step that fails, naming what that step
    expected and what it found (RootMismatch: the signed root of one of the two trees and the one the proof
    reconstructs for it).

    The RFC leaves old_size 0 and old_size == new_size to the caller: both need an empty proof, the first an
    old_root of the empty tree, the second equal roots.
    """
    what = f"the consistency proof from tree size {old_size} to {new_size}"
    _check_hashes(what, {"old root hash": old_root, "new root hash": new_root}, proof)
    if not 0 <= old_size <= new_size:
        raise TreeSizesOutOfOrder(what, range(new_size + 1), old_size)
    if old_size == 0:  # every tree extends the empty one, whose root is MTH({}) = SHA-256()
        if proof:
            raise ProofLengthMismatch(what, 0, len(proof))
        if old_root != EMPTY_ROOT:
            raise RootMismatch(what, 0, old_root, EMPTY_ROOT)
        if new_size == 0 and new_root != EMPTY_ROOT:
            raise RootMismatch(what, 0, new_root, EMPTY_ROOT)
        return
    if old_size == new_size:  # the same tree: an empty proof leaves the old root as it is
        if proof:
            raise ProofLengthMismatch(what, 0, len(proof))
        if new_root != old_root:
            raise RootMismatch(what, new_size, new_root, old_root)
        return
    if not proof:  # 1.
        raise ProofLengthMismatch(what, consistency_proof_length(old_size, new_size), 0)
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # 2. first is an exact power of 2
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # 3.
    while fn & 1:  # 4.
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]  # 5.
    for sibling in path[1:]:  # 6.
        if sn == 0:  # 6a. the new root is reached with proof left over
            raise ProofLengthMismatch(what, consistency_proof_length(old_size, new_size), len(proof))
        if fn & 1 or fn == sn:  # 6b.
            first = node_hash(sibling, first)
            second = node_hash(sibling, second)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, sibling)
        fn, sn = fn >> 1, sn >> 1  # 6c.
    if sn != 0:  # 7. sn is 0: else the proof ran out below the new root
        raise ProofLengthMismatch(what, consistency_proof_length(old_size, new_size), len(proof))
    if first != old_root:  # 7. fr is the old tree head's root
        raise RootMismatch(what, old_size, old_root, first)
    if second != new_root:  # 7. sr is the new tree head's root
        raise RootMismatch(what, new_size, new_root, second)


class MemoryTree:
    """Every perfect subtree of an in-memory sequence of leaf hashes: a NodeSource for proofs and verifiers.

    Each level is one bytearray of concatenated 32-byte hashes, which keeps a million-leaf tree near 64 MB and
    makes a node's two children one contiguous slice to hash.
    """

    def __init__(self) -> None:
        self._levels: list[bytearray] = [bytearray()]

    @classmethod
    def from_leaf_hashes(cls, hashes: Iterable[bytes]) -> MemoryTree:
        """Builds all levels bottom-up in one pass: one hash per interior node."""
        leaves = list(hashes)
        if not _all_hashes(*leaves):
            raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes")
        tree = cls()
        level = bytearray(b"".join(leaves))
        tree._levels = [level]
        sha256, pair = hashlib.sha256, 2 * HASH_SIZE
        while len(level) >= pair:
            with memoryview(level) as view:  # released before append() may need to grow this level
                level = bytearray(
                    b"".join(
                        sha256(b"\x01" + view[offset : offset + pair]).digest()
                        for offset in range(0, len(view) - pair + 1, pair)
                    )
                )
            tree._levels.append(level)
        return tree

    @property
    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    def node(self, level: int, index: int) -> bytes:
        if level < 0 or index < 0 or level >= len(self._levels):
            raise IndexError(f"no perfect subtree at level {level}, index {index}")
        offset = index * HASH_SIZE
        value = bytes(self._levels[level][offset : offset + HASH_SIZE])
        if len(value) != HASH_SIZE:
            raise IndexError(f"no perfect subtree at level {level}, index {index}")
        return value

    def root(self, size: int | None = None) -> bytes:
        """The root of the first size leaves (all of them by default)."""
        if size is None:
            size = self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree has {self.size} leaves, not {size}")
        return subtree_hash(self, 0, size)

    def append(self, leaf: bytes) -> int:
        """Adds a leaf hash and the perfect subtrees it completes; returns the leaf's index."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes")
        index = self.size
        self._levels[0] += leaf
        for level, _, value in parents_completed(index, leaf, self.node):
            if level == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level] += value
        return index
