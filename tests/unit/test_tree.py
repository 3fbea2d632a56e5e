"""RFC 9162 Merkle trees: published test vectors, a naive reference transcribed from the RFC, and tamper checks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.crypto.errors import VerificationFailed
from accord.ledger.errors import (
    LeafIndexOutOfRange,
    MalformedHash,
    ProofFailed,
    ProofLengthMismatch,
    RootMismatch,
    TreeSizesOutOfOrder,
)
from accord.ledger.tree import (
    EMPTY_ROOT,
    HASH_SIZE,
    MemoryTree,
    consistency_proof,
    consistency_proof_length,
    inclusion_path_length,
    inclusion_proof,
    leaf_hash,
    node_hash,
    parents_completed,
    root,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------------------------------------------------------
# Published vectors. Leaves, roots, paths and proofs: google/certificate-transparency
# cpp/merkletree/merkle_tree_test.cc (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs), repeated in
# transparency-dev/merkle proof/verify_test.go (inclusionProofs, consistencyProofs, which adds the (6, 7) proof).
# Interior nodes: transparency-dev/merkle testonly/constants.go (NodeHashes). Leaf indices there are 1-based;
# here they are 0-based.
# ---------------------------------------------------------------------------------------------------------------

CT_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
CT_EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
CT_ROOTS = {  # tree size -> MTH(D[0:size])
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
CT_NODES = [  # [level][index]
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
CT_INCLUSION = [  # (0-based leaf index, tree size, audit path)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def hexes(values: Sequence[bytes]) -> list[str]:
    return [value.hex() for value in values]


def ct_tree() -> MemoryTree:
    return MemoryTree.from_leaf_hashes(leaf_hash(data) for data in CT_LEAVES)


# ---------------------------------------------------------------------------------------------------------------
# Naive reference: RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH and §2.1.4.1 PROOF/SUBPROOF transcribed recursively over
# D[start:end], with its own hashing. Only MTH is memoized, so that every size up to 300 stays fast.
# ---------------------------------------------------------------------------------------------------------------


def _k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while 2 * k < n:
        k *= 2
    return k


def path_length(index: int, size: int) -> int:
    """len(PATH(index, D[0:size])), following the same recursion without hashing."""
    length = 0
    while size > 1:
        k = _k(size)
        index, size = (index, k) if index < k else (index - k, size - k)
        length += 1
    return length


def consistency_length(m: int, n: int, b: bool = True) -> int:
    """len(SUBPROOF(m, D[0:n], b)), following the same recursion without hashing."""
    length = 0
    while m != n:
        k = _k(n)
        m, n, b = (m, k, b) if m <= k else (m - k, n - k, False)
        length += 1
    return length + (not b)


class Reference:
    def __init__(self, entries: Sequence[bytes]) -> None:
        self.entries = list(entries)
        self._mth: dict[tuple[int, int], bytes] = {}

    def mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return hashlib.sha256(b"\x00" + self.entries[start]).digest()
        if (start, end) not in self._mth:
            k = _k(n)
            left, right = self.mth(start, start + k), self.mth(start + k, end)
            self._mth[start, end] = hashlib.sha256(b"\x01" + left + right).digest()
        return self._mth[start, end]

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _k(n)
        if m < k:
            return [*self.path(m, start, start + k), self.mth(start + k, end)]
        return [*self.path(m - k, start + k, end), self.mth(start, start + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self.subproof(m, 0, n, True)

    def subproof(self, m: int, start: int, end: int, b: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if b else [self.mth(start, end)]
        k = _k(n)
        if m <= k:
            return [*self.subproof(m, start, start + k, b), self.mth(start + k, end)]
        return [*self.subproof(m - k, start + k, end, False), self.mth(start, start + k)]


class Probe:
    """A NodeSource over a bigger tree that fails on any subtree not complete within size, and counts lookups."""

    def __init__(self, tree: MemoryTree, size: int) -> None:
        self.tree, self.size, self.lookups = tree, size, 0

    def node(self, level: int, index: int) -> bytes:
        assert level >= 0 and index >= 0 and (index + 1) << level <= self.size, (level, index, self.size)
        self.lookups += 1
        return self.tree.node(level, index)


def entries_for(count: int, salt: int = 0) -> list[bytes]:
    return [salt.to_bytes(8, "big") + i.to_bytes(4, "big") for i in range(count)]


@cache
def fixture_300() -> tuple[Reference, MemoryTree, list[bytes]]:
    entries = entries_for(300)
    hashes = [leaf_hash(entry) for entry in entries]
    return Reference(entries), MemoryTree.from_leaf_hashes(hashes), hashes


def flip(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def refused(verify: Callable[..., None], *args: Any) -> ProofFailed:
    """The error the verifier raises for these arguments; the test fails if it accepts them."""
    with pytest.raises(ProofFailed) as caught:
        verify(*args)
    return caught.value


def accepts(verify: Callable[..., None], *args: Any) -> bool:
    try:
        verify(*args)
    except ProofFailed:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# Published vectors
# ---------------------------------------------------------------------------------------------------------------


def test_hashing_primitives() -> None:
    assert EMPTY_ROOT.hex() == CT_EMPTY_ROOT
    assert HASH_SIZE == 32
    assert leaf_hash(b"").hex() == CT_ROOTS[1]
    assert node_hash(leaf_hash(b""), leaf_hash(b"\x00")).hex() == CT_ROOTS[2]
    assert root(MemoryTree(), 0) == MemoryTree().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(9))
def test_vector_roots(size: int) -> None:
    tree = ct_tree()
    expected = CT_EMPTY_ROOT if size == 0 else CT_ROOTS[size]
    assert root(tree, size).hex() == expected
    assert tree.root(size).hex() == expected
    assert MemoryTree.from_leaf_hashes(leaf_hash(data) for data in CT_LEAVES[:size]).root().hex() == expected


def test_vector_interior_nodes() -> None:
    tree = ct_tree()
    for level, row in enumerate(CT_NODES):
        assert [tree.node(level, index).hex() for index in range(len(row))] == row
    with pytest.raises(IndexError):
        tree.node(4, 0)
    with pytest.raises(IndexError):
        tree.node(1, 4)
    with pytest.raises(IndexError):
        tree.node(0, -1)


def test_vector_appends_and_parents_completed() -> None:
    tree = MemoryTree()
    completed: dict[tuple[int, int], str] = {}
    for index, data in enumerate(CT_LEAVES):
        for level, position, value in parents_completed(index, leaf_hash(data), tree.node):
            completed[level, position] = value.hex()
        assert tree.append(leaf_hash(data)) == index
        assert tree.root().hex() == CT_ROOTS[index + 1]
    assert completed == {(level, i): value for level, row in enumerate(CT_NODES[1:], 1) for i, value in enumerate(row)}


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_vector_inclusion(index: int, size: int, path: list[str]) -> None:
    tree = ct_tree()
    assert hexes(inclusion_proof(tree, index, size)) == path
    proof = [bytes.fromhex(h) for h in path]
    leaf = leaf_hash(CT_LEAVES[index])
    tree_root = bytes.fromhex(CT_ROOTS[size])
    verify_inclusion(leaf, index, size, proof, tree_root)
    refused(verify_inclusion, leaf_hash(b"WrongLeaf"), index, size, proof, tree_root)
    refused(verify_inclusion, leaf, index, size, proof, EMPTY_ROOT)
    for wrong_index in (index - 1, index + 1, index ^ 2):
        refused(verify_inclusion, leaf, wrong_index, size, proof, tree_root)
    for wrong_size in (size * 2, size // 2):
        refused(verify_inclusion, leaf, index, wrong_size, proof, tree_root)
    for position in range(len(proof)):
        for bit in range(8 * HASH_SIZE):
            tampered = list(proof)
            tampered[position] = flip(proof[position], bit)
            refused(verify_inclusion, leaf, index, size, tampered, tree_root)
    for bit in range(8 * HASH_SIZE):
        refused(verify_inclusion, flip(leaf, bit), index, size, proof, tree_root)
        refused(verify_inclusion, leaf, index, size, proof, flip(tree_root, bit))
    refused(verify_inclusion, leaf, index, size, [*proof, tree_root], tree_root)
    refused(verify_inclusion, leaf, index, size, [tree_root, *proof], tree_root)
    if proof:
        refused(verify_inclusion, leaf, index, size, proof[:-1], tree_root)


@pytest.mark.parametrize(("old_size", "new_size", "expected"), CT_CONSISTENCY)
def test_vector_consistency(old_size: int, new_size: int, expected: list[str]) -> None:
    tree = ct_tree()
    assert hexes(consistency_proof(tree, old_size, new_size)) == expected
    proof = [bytes.fromhex(h) for h in expected]
    old_root, new_root = bytes.fromhex(CT_ROOTS[old_size]), bytes.fromhex(CT_ROOTS[new_size])
    verify_consistency(old_size, new_size, old_root, new_root, proof)
    if not proof:
        return
    assert_consistency_tamper_fails(old_size, new_size, old_root, new_root, proof, every_bit=True)


def assert_consistency_tamper_fails(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes], every_bit: bool
) -> None:
    """The probes of transparency-dev/merkle's corruptConsistencyProof, plus single-bit flips."""
    for wrong_old in (old_size - 1, old_size + 1, old_size ^ 2):
        refused(verify_consistency, wrong_old, new_size, old_root, new_root, proof)
    for wrong_new in (new_size * 2, new_size // 2):
        refused(verify_consistency, old_size, wrong_new, old_root, new_root, proof)
    refused(verify_consistency, old_size, new_size, new_root, old_root, proof)
    refused(verify_consistency, old_size, new_size, old_root, new_root, [])
    for extra in (old_root, new_root, proof[0], EMPTY_ROOT):
        refused(verify_consistency, old_size, new_size, old_root, new_root, [*proof, extra])
        refused(verify_consistency, old_size, new_size, old_root, new_root, [extra, *proof])
    refused(verify_consistency, old_size, new_size, old_root, new_root, proof[:-1])
    refused(verify_consistency, old_size, new_size, old_root, new_root, proof[1:])
    bits = range(8 * HASH_SIZE) if every_bit else (0, 7, 100, 255)
    for bit in bits:
        refused(verify_consistency, old_size, new_size, flip(old_root, bit), new_root, proof)
        refused(verify_consistency, old_size, new_size, old_root, flip(new_root, bit), proof)
        for position in range(len(proof)):
            tampered = list(proof)
            tampered[position] = flip(proof[position], bit)
            refused(verify_consistency, old_size, new_size, old_root, new_root, tampered)


# ---------------------------------------------------------------------------------------------------------------
# Every size up to 300 against the naive reference
# ---------------------------------------------------------------------------------------------------------------


def test_every_inclusion_proof_up_to_300() -> None:
    reference, tree, hashes = fixture_300()
    for size in range(1, 301):
        tree_root = reference.mth(0, size)
        probe = Probe(tree, size)
        assert root(probe, size) == tree_root
        for index in range(size):
            probe.lookups = 0
            proof = inclusion_proof(probe, index, size)
            assert probe.lookups <= 2 * size.bit_length()
            assert proof == reference.path(index, 0, size)
            verify_inclusion(hashes[index], index, size, proof, tree_root)


def test_every_consistency_proof_up_to_300() -> None:
    reference, tree, _ = fixture_300()
    for new_size in range(1, 301):
        new_root = reference.mth(0, new_size)
        probe = Probe(tree, new_size)
        for old_size in range(1, new_size + 1):
            probe.lookups = 0
            proof = consistency_proof(probe, old_size, new_size)
            assert probe.lookups <= 2 * new_size.bit_length() + 1
            assert proof == reference.proof(old_size, new_size)
            verify_consistency(old_size, new_size, reference.mth(0, old_size), new_root, proof)
        assert consistency_proof(probe, 0, new_size) == []
        verify_consistency(0, new_size, EMPTY_ROOT, new_root, [])


def test_wrong_index_fails_up_to_64() -> None:
    reference, tree, hashes = fixture_300()
    for size in range(1, 65):
        tree_root = reference.mth(0, size)
        for index in range(size):
            proof = inclusion_proof(tree, index, size)
            for other in range(-1, size + 1):
                if other != index:
                    refused(verify_inclusion, hashes[index], other, size, proof, tree_root)


def test_every_consistency_tamper_up_to_64() -> None:
    reference, tree, _ = fixture_300()
    for new_size in range(2, 65):
        for old_size in range(1, new_size):
            proof = consistency_proof(tree, old_size, new_size)
            old_root, new_root = reference.mth(0, old_size), reference.mth(0, new_size)
            assert_consistency_tamper_fails(old_size, new_size, old_root, new_root, proof, every_bit=False)


def test_proofs_only_verify_for_a_shape_of_their_length() -> None:
    """A proof's length must match the claimed sizes: a longer proof must not be folded on past the root."""
    reference, tree, hashes = fixture_300()
    for size in range(1, 17):
        tree_root = reference.mth(0, size)
        for index in range(size):
            proof = inclusion_proof(tree, index, size)
            for claimed_size in range(1, 2 * size + 1):
                for claimed_index in range(claimed_size):
                    if accepts(verify_inclusion, hashes[index], claimed_index, claimed_size, proof, tree_root):
                        assert len(proof) == path_length(claimed_index, claimed_size)
        for old_size in range(1, size):
            proof = consistency_proof(tree, old_size, size)
            old_root = reference.mth(0, old_size)
            for claimed_new in range(1, 2 * size + 1):
                for claimed_old in range(1, claimed_new):
                    if accepts(verify_consistency, claimed_old, claimed_new, old_root, tree_root, proof):
                        assert len(proof) == consistency_length(claimed_old, claimed_new)


sizes_300 = st.integers(min_value=1, max_value=300)


@settings(max_examples=300, deadline=None)
@given(size=sizes_300, data=st.data())
def test_inclusion_tamper(size: int, data: st.DataObject) -> None:
    reference, tree, hashes = fixture_300()
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(tree, index, size)
    leaf, tree_root = hashes[index], reference.mth(0, size)
    bit = data.draw(st.integers(0, 8 * HASH_SIZE - 1), label="bit")
    refused(verify_inclusion, flip(leaf, bit), index, size, proof, tree_root)
    refused(verify_inclusion, leaf, index, size, proof, flip(tree_root, bit))
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        tampered = list(proof)
        tampered[position] = flip(proof[position], bit)
        refused(verify_inclusion, leaf, index, size, tampered, tree_root)
        refused(verify_inclusion, leaf, index, size, proof[:position] + proof[position + 1 :], tree_root)
    extra = data.draw(st.sampled_from([leaf, tree_root, EMPTY_ROOT, *proof]), label="extra")
    at = data.draw(st.integers(0, len(proof)), label="at")
    refused(verify_inclusion, leaf, index, size, [*proof[:at], extra, *proof[at:]], tree_root)
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index) if size > 1 else st.just(size))
    refused(verify_inclusion, leaf, other, size, proof, tree_root)
    # Only the proof's shape binds the size (a signed tree head binds it to the root), so a wrong size can pass
    # only if it asks for a proof of exactly this length; the probes of the reference implementations never do.
    for wrong_size in (size * 2, size // 2, size - 1, size + 1, data.draw(sizes_300, label="wrong size")):
        if wrong_size != size and accepts(verify_inclusion, leaf, index, wrong_size, proof, tree_root):
            assert wrong_size not in (size * 2, size // 2)
            assert path_length(index, wrong_size) == len(proof)


@settings(max_examples=300, deadline=None)
@given(new_size=st.integers(2, 300), data=st.data())
def test_consistency_tamper(new_size: int, data: st.DataObject) -> None:
    reference, tree, _ = fixture_300()
    old_size = data.draw(st.integers(1, new_size - 1), label="old size")
    proof = consistency_proof(tree, old_size, new_size)
    old_root, new_root = reference.mth(0, old_size), reference.mth(0, new_size)
    bit = data.draw(st.integers(0, 8 * HASH_SIZE - 1), label="bit")
    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    tampered = list(proof)
    tampered[position] = flip(proof[position], bit)
    refused(verify_consistency, old_size, new_size, old_root, new_root, tampered)
    refused(verify_consistency, old_size, new_size, flip(old_root, bit), new_root, proof)
    refused(verify_consistency, old_size, new_size, old_root, flip(new_root, bit), proof)
    assert_consistency_tamper_fails(old_size, new_size, old_root, new_root, proof, every_bit=False)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 5000), salt=st.integers(0, 2**32), data=st.data())
def test_large_random_trees(size: int, salt: int, data: st.DataObject) -> None:
    entries = entries_for(size, salt)
    reference = Reference(entries)
    tree = MemoryTree.from_leaf_hashes(leaf_hash(entry) for entry in entries)
    tree_root = reference.mth(0, size)
    assert tree.root() == tree_root
    for index in data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=10), label="indices"):
        proof = inclusion_proof(Probe(tree, size), index, size)
        assert proof == reference.path(index, 0, size)
        verify_inclusion(leaf_hash(entries[index]), index, size, proof, tree_root)
    for old_size in data.draw(st.lists(st.integers(1, size), min_size=1, max_size=10), label="old sizes"):
        proof = consistency_proof(Probe(tree, size), old_size, size)
        assert proof == reference.proof(old_size, size)
        verify_consistency(old_size, size, reference.mth(0, old_size), tree_root, proof)


# ---------------------------------------------------------------------------------------------------------------
# Appends and stored subtrees
# ---------------------------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(size=st.integers(0, 700), salt=st.integers(0, 2**32))
def test_append_matches_bulk_build(size: int, salt: int) -> None:
    entries = entries_for(size, salt)
    reference = Reference(entries)
    hashes = [leaf_hash(entry) for entry in entries]
    bulk = MemoryTree.from_leaf_hashes(hashes)
    incremental = MemoryTree()
    for index, value in enumerate(hashes):
        assert incremental.append(value) == index
        assert incremental.size == index + 1
        assert incremental.root() == bulk.root(index + 1) == reference.mth(0, index + 1)
    assert incremental.size == bulk.size == size
    for level in range(size.bit_length()):
        for index in range(size >> level):
            assert incremental.node(level, index) == bulk.node(level, index)


@settings(max_examples=30, deadline=None)
@given(size=st.integers(0, 1100), salt=st.integers(0, 2**32))
def test_parents_completed_is_exactly_the_perfect_subtrees(size: int, salt: int) -> None:
    entries = entries_for(size, salt)
    reference = Reference(entries)
    store: dict[tuple[int, int], bytes] = {}  # what an append-only database would hold

    def node(level: int, index: int) -> bytes:
        return store[level, index]

    for index, entry in enumerate(entries):
        value = leaf_hash(entry)
        completed = parents_completed(index, value, node)
        trailing_ones = (index ^ (index + 1)).bit_length() - 1
        assert [(level, position) for level, position, _ in completed] == [
            (level, ((index + 1) >> level) - 1) for level in range(1, trailing_ones + 1)
        ]
        store[0, index] = value
        for level, position, digest in completed:
            assert (level, position) not in store
            store[level, position] = digest
    expected = {(level, index) for level in range(size.bit_length()) for index in range(size >> level)}
    assert set(store) == expected
    for (level, index), digest in store.items():
        assert digest == reference.mth(index << level, (index + 1) << level)


def test_subtree_hash_ranges() -> None:
    reference, tree, _ = fixture_300()
    for start, end in [(0, 0), (0, 1), (0, 300), (256, 300), (288, 299), (64, 128), (128, 256), (7, 8), (6, 7)]:
        assert subtree_hash(tree, start, end) == reference.mth(start, end)
    for start, end in [(1, 3), (2, 6), (64, 200), (-1, 0), (5, 4)]:
        with pytest.raises(ValueError):
            subtree_hash(tree, start, end)


# ---------------------------------------------------------------------------------------------------------------
# Malformed input
# ---------------------------------------------------------------------------------------------------------------


def test_generators_reject_impossible_requests() -> None:
    tree = ct_tree()
    for index, size in [(0, 0), (1, 1), (-1, 4), (8, 8)]:
        with pytest.raises(ValueError):
            inclusion_proof(tree, index, size)
    for old_size, new_size in [(2, 1), (-1, 3), (1, 0)]:
        with pytest.raises(ValueError):
            consistency_proof(tree, old_size, new_size)
    assert consistency_proof(tree, 0, 0) == consistency_proof(tree, 8, 8) == []
    with pytest.raises(IndexError):
        inclusion_proof(tree, 0, 9)
    with pytest.raises(ValueError):
        tree.root(9)
    with pytest.raises(ValueError):
        MemoryTree.from_leaf_hashes([b"short"])
    with pytest.raises(ValueError):
        tree.append(b"\x00" * 33)
    with pytest.raises(ValueError):
        parents_completed(-1, EMPTY_ROOT, tree.node)


def test_verify_inclusion_rejects_malformed_input() -> None:
    tree = ct_tree()
    leaf, tree_root = leaf_hash(CT_LEAVES[0]), tree.root()
    proof = inclusion_proof(tree, 0, 8)
    verify_inclusion(leaf, 0, 8, proof, tree_root)
    for index, size in [(0, 0), (8, 8), (9, 8), (-1, 8), (1, 0), (2, 1)]:
        assert isinstance(refused(verify_inclusion, leaf, index, size, proof, tree_root), LeafIndexOutOfRange)
        assert isinstance(refused(verify_inclusion, leaf, index, size, [], tree_root), LeafIndexOutOfRange)
    verify_inclusion(leaf, 0, 1, [], leaf)
    assert isinstance(refused(verify_inclusion, leaf, 0, 1, [], EMPTY_ROOT), RootMismatch)
    assert isinstance(refused(verify_inclusion, b"", 0, 1, [], b""), MalformedHash)
    assert isinstance(refused(verify_inclusion, leaf, 0, 1, [leaf], leaf), ProofLengthMismatch)
    assert isinstance(refused(verify_inclusion, leaf, 0, 8, [], tree_root), ProofLengthMismatch)
    assert isinstance(refused(verify_inclusion, leaf[:-1], 0, 8, proof, tree_root), MalformedHash)
    assert isinstance(refused(verify_inclusion, leaf, 0, 8, proof, tree_root + b"\x00"), MalformedHash)
    for position in range(len(proof)):
        for wrong in (b"", proof[position][:-1], proof[position] + b"\x00"):
            tampered = list(proof)
            tampered[position] = wrong
            assert isinstance(refused(verify_inclusion, leaf, 0, 8, tampered, tree_root), MalformedHash)
    assert isinstance(refused(verify_inclusion, leaf, 0, 8, [*proof, b""], tree_root), MalformedHash)


def test_verify_consistency_rejects_malformed_input() -> None:
    tree = ct_tree()
    roots = {size: tree.root(size) for size in range(9)}
    proof = consistency_proof(tree, 3, 7)
    verify_consistency(3, 7, roots[3], roots[7], proof)
    # Trivial cases, which §2.1.4.2 leaves to the caller.
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 5, EMPTY_ROOT, roots[5], [])
    verify_consistency(4, 4, roots[4], roots[4], [])
    assert isinstance(refused(verify_consistency, 0, 0, EMPTY_ROOT, roots[1], []), RootMismatch)
    assert isinstance(refused(verify_consistency, 0, 5, roots[1], roots[5], []), RootMismatch)
    assert isinstance(refused(verify_consistency, 0, 5, EMPTY_ROOT, roots[5], [EMPTY_ROOT]), ProofLengthMismatch)
    assert isinstance(refused(verify_consistency, 0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]), ProofLengthMismatch)
    assert isinstance(refused(verify_consistency, 4, 4, roots[4], roots[5], []), RootMismatch)
    assert isinstance(refused(verify_consistency, 4, 4, roots[4], roots[4], [roots[4]]), ProofLengthMismatch)
    assert isinstance(refused(verify_consistency, 1, 2, roots[1], roots[2], []), ProofLengthMismatch)
    # Time travel, negative sizes, wrong hash lengths.
    assert isinstance(refused(verify_consistency, 7, 3, roots[7], roots[3], proof), TreeSizesOutOfOrder)
    assert isinstance(refused(verify_consistency, 2, 1, roots[2], roots[1], []), TreeSizesOutOfOrder)
    assert isinstance(refused(verify_consistency, 1, 0, roots[1], EMPTY_ROOT, []), TreeSizesOutOfOrder)
    assert isinstance(refused(verify_consistency, -1, 7, roots[3], roots[7], proof), TreeSizesOutOfOrder)
    assert isinstance(refused(verify_consistency, 3, 7, roots[3][:-1], roots[7], proof), MalformedHash)
    assert isinstance(refused(verify_consistency, 3, 7, roots[3], b"", proof), MalformedHash)
    tampered = [*proof[:-1], proof[-1] + b"\x00"]
    assert isinstance(refused(verify_consistency, 3, 7, roots[3], roots[7], tampered), MalformedHash)
    assert isinstance(refused(verify_consistency, 3, 7, roots[3], roots[7], [*proof, b""]), MalformedHash)


# ---------------------------------------------------------------------------------------------------------------
# Each refusal names what was expected and what was found
# ---------------------------------------------------------------------------------------------------------------


def test_a_tampered_root_is_named_beside_the_root_the_inclusion_proof_reconstructs() -> None:
    tree = ct_tree()
    leaf, signed_root = leaf_hash(CT_LEAVES[5]), flip(tree.root(), 3)

    error = refused(verify_inclusion, leaf, 5, 8, inclusion_proof(tree, 5, 8), signed_root)

    assert isinstance(error, RootMismatch)
    assert (error.expected, error.actual, error.tree_size) == (signed_root, tree.root(), 8)
    assert str(error) == (
        f"the inclusion proof of leaf 5 in the tree of size 8 reconstructs root {CT_ROOTS[8]} for tree size 8, "
        f"expected {signed_root.hex()}"
    )


def test_another_leaf_reconstructs_another_root_which_the_error_names() -> None:
    tree = ct_tree()
    proof = inclusion_proof(tree, 5, 8)
    wrong_leaf = leaf_hash(b"not the logged entry")

    error = refused(verify_inclusion, wrong_leaf, 5, 8, proof, tree.root())

    assert isinstance(error, RootMismatch)
    assert error.expected == tree.root()
    assert error.actual != tree.root()
    assert error.actual.hex() in error.detail and tree.root().hex() in error.detail


def test_an_inclusion_proof_of_the_wrong_length_names_the_length_its_shape_needs() -> None:
    reference, tree, hashes = fixture_300()
    proof = inclusion_proof(tree, 100, 300)
    tree_root = reference.mth(0, 300)

    longer = refused(verify_inclusion, hashes[100], 100, 300, [*proof, EMPTY_ROOT], tree_root)
    shorter = refused(verify_inclusion, hashes[100], 100, 300, proof[:-1], tree_root)

    for error, actual in ((longer, len(proof) + 1), (shorter, len(proof) - 1)):
        assert isinstance(error, ProofLengthMismatch)
        assert (error.expected, error.actual) == (path_length(100, 300), actual) == (len(proof), actual)
        assert error.detail == (
            f"the inclusion proof of leaf 100 in the tree of size 300 has {actual} hashes, expected {len(proof)}"
        )


def test_a_leaf_index_outside_the_tree_is_named_with_the_range_it_must_be_in() -> None:
    tree = ct_tree()

    error = refused(verify_inclusion, leaf_hash(CT_LEAVES[0]), 8, 8, inclusion_proof(tree, 0, 8), tree.root())

    assert isinstance(error, LeafIndexOutOfRange)
    assert (error.expected, error.actual) == (range(8), 8)
    assert error.actual not in error.expected
    assert "leaf index 8 is not in the tree, expected 0 <= index < 8" in error.detail


def test_a_short_hash_is_named_with_its_length_and_the_hash_size() -> None:
    tree = ct_tree()
    proof = inclusion_proof(tree, 0, 8)
    proof[1] = proof[1][:31]

    error = refused(verify_inclusion, leaf_hash(CT_LEAVES[0]), 0, 8, proof, tree.root())

    assert isinstance(error, MalformedHash)
    assert (error.name, error.expected, error.actual) == ("proof hash 1", HASH_SIZE, 31)
    assert error.detail.endswith("proof hash 1 is 31 bytes, expected 32")


def test_a_rewritten_old_tree_is_named_by_the_old_root_the_consistency_proof_reconstructs() -> None:
    tree = ct_tree()
    signed_old_root = flip(tree.root(3), 200)

    error = refused(verify_consistency, 3, 7, signed_old_root, tree.root(7), consistency_proof(tree, 3, 7))

    assert isinstance(error, RootMismatch)
    assert (error.tree_size, error.expected, error.actual) == (3, signed_old_root, bytes.fromhex(CT_ROOTS[3]))
    assert str(error) == (
        f"the consistency proof from tree size 3 to 7 reconstructs root {CT_ROOTS[3]} for tree size 3, "
        f"expected {signed_old_root.hex()}"
    )


def test_a_rewritten_new_tree_is_named_by_the_new_root_the_consistency_proof_reconstructs() -> None:
    tree = ct_tree()
    signed_new_root = flip(tree.root(7), 0)

    error = refused(verify_consistency, 3, 7, tree.root(3), signed_new_root, consistency_proof(tree, 3, 7))

    assert isinstance(error, RootMismatch)
    assert (error.tree_size, error.expected, error.actual) == (7, signed_new_root, bytes.fromhex(CT_ROOTS[7]))
    assert CT_ROOTS[7] in error.detail and signed_new_root.hex() in error.detail


def test_two_heads_of_one_size_with_different_roots_are_named_by_both_roots() -> None:
    tree = ct_tree()

    error = refused(verify_consistency, 4, 4, tree.root(4), tree.root(5), [])

    assert isinstance(error, RootMismatch)
    assert (error.tree_size, error.expected, error.actual) == (4, tree.root(5), tree.root(4))


def test_a_consistency_proof_of_the_wrong_length_names_the_length_its_shape_needs() -> None:
    reference, tree, _ = fixture_300()
    proof = consistency_proof(tree, 37, 300)
    old_root, new_root = reference.mth(0, 37), reference.mth(0, 300)

    for tampered in ([*proof, EMPTY_ROOT], proof[:-1], []):
        error = refused(verify_consistency, 37, 300, old_root, new_root, tampered)
        assert isinstance(error, ProofLengthMismatch)
        assert (error.expected, error.actual) == (consistency_length(37, 300), len(tampered))
        assert error.detail == (
            f"the consistency proof from tree size 37 to 300 has {len(tampered)} hashes, expected {len(proof)}"
        )


def test_an_old_tree_larger_than_the_new_is_named_with_the_sizes_allowed() -> None:
    tree = ct_tree()

    error = refused(verify_consistency, 7, 3, tree.root(7), tree.root(3), consistency_proof(tree, 3, 7))

    assert isinstance(error, TreeSizesOutOfOrder)
    assert (error.expected, error.actual) == (range(4), 7)
    assert "old tree size 7 is out of order, expected 0 <= old size <= 3" in error.detail


def test_the_shape_lengths_match_the_rfc_recursions() -> None:
    for size in range(1, 130):
        for index in range(size):
            assert inclusion_path_length(index, size) == path_length(index, size)
        for old_size in range(1, size):
            assert consistency_proof_length(old_size, size) == consistency_length(old_size, size)
        assert consistency_proof_length(0, size) == consistency_proof_length(size, size) == 0


def test_every_proof_failure_is_a_verification_failure_with_its_own_problem_slug() -> None:
    errors = (ProofFailed, MalformedHash, LeafIndexOutOfRange, TreeSizesOutOfOrder, ProofLengthMismatch, RootMismatch)
    assert len({error.slug for error in errors}) == len(errors)
    for error in errors:
        assert issubclass(error, VerificationFailed)
        assert error.slug != VerificationFailed.slug
