"""Trust in an audit bundle comes from outside it. Each forgery an insider holding Canada's signing key can make, built
with the project's own primitives (real keys, sign_checkpoint, cosign, sign_descriptor), and what `accord audit verify`
answers: its exit code and its first problem. Then the commands that give an oversight body its trust anchors and
the peer's witnessed evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from accord.crypto.keys import NodeKeys
from accord.domain.parties import Party
from accord.ledger.anchors import TRUST_FORMAT
from accord.ledger.bundle import WITNESSED_FORMAT
from accord.ledger.notes import SignedCheckpoint, cosign, parse_note, sign_checkpoint
from tests.ledger.conftest import CleanFiles
from tests.ledger.pairs import (
    CA_LOG,
    CHECKPOINT_SIZES,
    LEAVES,
    TAMPERED,
    Ledger,
    add_checkpoint,
    cli,
    cover_tail,
    fabricate_leaves,
    fingerprint,
    leaf_tree,
    read,
    resign,
    rewrite_leaf,
    self_made_node,
    write,
)

VERIFIED, FAILED, UNUSABLE, NOT_PROVEN = 0, 1, 2, 3  # `accord audit verify`'s exit codes
REWRITTEN = {"message": "m-forged"}


def verify(*args: str) -> Result:
    """`accord audit verify …` as an oversight body runs it: no node, no database, only the files."""
    return cli(None, "verify", *args)


def expect_both(clean: CleanFiles) -> list[str]:
    return ["--expect-fingerprint", clean.ca_fingerprint, "--expect-fingerprint", clean.india_fingerprint]


def problems(result: Result) -> list[str]:
    """The problems `verify` printed, the first first."""
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("FAILED: "), result.output
    return [lines[0].removeprefix("FAILED: "), *(line.strip() for line in lines[1:])]


def root_hex(bundle: Path, size: int) -> str:
    return leaf_tree(read(bundle)).root(size).hex()


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


# --------------------------------------------------------------------------------------------- the happy paths


def test_an_honest_bundle_verifies_under_both_nodes_keys_and_names_who_countersigned_what(clean: CleanFiles) -> None:
    result = verify(str(clean.covered), "--trust", str(clean.trust), "--witnessed", str(clean.india_bundle))

    assert result.exit_code == VERIFIED, result.output
    ca, india = clean.ca_fingerprint, clean.india_fingerprint
    assert f"  log   ca-node-1 (CA)  {ca}  trusted\n  peer  in-node-1 (IN)  {india}  trusted\n" in result.stdout
    assert f"countersigned by in-node-1 (IN) {india}: checkpoint sizes 23, 43, 63, {LEAVES}\n" in result.stdout
    witnessed = f"its countersigned checkpoint size 63 (root {root_hex(clean.covered, 63)})"
    assert f"witnessed by in-node-1 (IN) {india}: {witnessed} is a head of this bundle's leaves\n" in result.stdout
    assert f"VERIFIED: {LEAVES} leaves, all under checkpoint size {LEAVES} countersigned by in-node-1" in result.stdout


def test_without_a_trust_anchor_nothing_is_proven_against_the_logs_operator(clean: CleanFiles) -> None:
    result = verify(str(clean.covered))

    assert result.exit_code == NOT_PROVEN, result.output
    assert result.stderr.startswith("NOT PROVEN: the bundle is only internally consistent.")
    assert "nothing is proven against the log's operator" in result.stderr
    assert f"  log   ca-node-1 (CA)  {clean.ca_fingerprint}  (no trust anchor given)" in result.stdout
    assert "VERIFIED" not in result.output


# --------------------------------------------------------------------------- (a) a self-made peer countersigns


def forge_with_second_peer(clean: CleanFiles, tmp_path: Path, keep_genuine_peer: bool) -> tuple[Path, str]:
    """Leaf 30 rewritten, every checkpoint re-signed with Canada's own key and countersigned by a self-made
    "in-node-2" of India's party: a fresh key, a self-signed descriptor, added to (or replacing) the genuine peer."""
    bundle = read(clean.covered)
    rewrite_leaf(bundle, TAMPERED, REWRITTEN)
    keys, peer = self_made_node("in-node-2", Party.IN)
    bundle["peers"] = [*bundle["peers"], peer] if keep_genuine_peer else [peer]
    resign(bundle, clean.ca_keys.signing, ("in-node-2", keys.signing))
    return write(tmp_path / "second-peer.json.gz", bundle), keys.public.signing_fingerprint


def test_a_self_made_peer_countersigning_a_rewritten_history_proves_nothing_without_anchors(
    clean: CleanFiles, tmp_path: Path
) -> None:
    forged, made_up = forge_with_second_peer(clean, tmp_path, keep_genuine_peer=True)

    result = verify(str(forged))

    # Internally consistent, so not a failure; but never VERIFIED, and the made-up key is shown for what it is.
    assert result.exit_code == NOT_PROVEN, result.output
    assert f"  peer  in-node-2 (IN)  {made_up}  (no trust anchor given)" in result.stdout
    assert "VERIFIED" not in result.output


@pytest.mark.parametrize("anchors", ["--expect-fingerprint", "--trust"])
def test_a_self_made_peer_countersigning_a_rewritten_history_is_not_a_trusted_key(
    clean: CleanFiles, tmp_path: Path, anchors: str
) -> None:
    forged, made_up = forge_with_second_peer(clean, tmp_path, keep_genuine_peer=True)
    given = expect_both(clean) if anchors == "--expect-fingerprint" else ["--trust", str(clean.trust)]

    result = verify(str(forged), *given)

    assert result.exit_code == FAILED, result.output
    untrusted = [
        f"checkpoint size {size}: countersigned by in-node-2 (IN) with key {made_up}, which is not a trusted key"
        for size in (*CHECKPOINT_SIZES, LEAVES)
    ]
    assert problems(result) == [*untrusted, "nothing in this bundle is countersigned by a trusted peer key"]
    assert f"  peer  in-node-2 (IN)  {made_up}  NOT TRUSTED" in result.stdout
    assert "VERIFIED" not in result.output and "countersigned by in-node-2" not in result.stdout


def test_a_self_made_peer_in_place_of_the_genuine_one_leaves_the_trusted_key_unaccounted_for(
    clean: CleanFiles, tmp_path: Path
) -> None:
    forged, made_up = forge_with_second_peer(clean, tmp_path, keep_genuine_peer=False)

    result = verify(str(forged), "--trust", str(clean.trust))

    assert result.exit_code == FAILED, result.output
    assert problems(result)[:2] == [
        f"trusted key {clean.india_fingerprint} (in-node-1, IN) is carried by no node in this bundle",
        f"checkpoint size 23: countersigned by in-node-2 (IN) with key {made_up}, which is not a trusted key",
    ]


# ------------------------------------------------------------------------------ (b) the uncountersigned tail


@pytest.mark.parametrize(
    ("forgery", "tail"), [("rewritten", "leaves 63..67"), ("fabricated", "leaves 63..70")], ids=["rewritten", "made-up"]
)
def test_tail_leaves_rewritten_or_made_up_fail_strict_verification(
    clean: CleanFiles, tmp_path: Path, forgery: str, tail: str
) -> None:
    bundle = read(clean.bundle)
    if forgery == "rewritten":
        rewrite_leaf(bundle, 65, REWRITTEN)
    else:  # three more leaves, under a checkpoint Canada signed itself and no peer countersigned
        fabricate_leaves(bundle, 3)
        add_checkpoint(bundle, clean.ca_keys.signing)
    forged = write(tmp_path / "tail.json.gz", bundle)

    strict = verify(str(forged), "--trust", str(clean.trust))
    relaxed = verify(str(forged), "--trust", str(clean.trust), "--allow-uncovered-tail")

    assert strict.exit_code == FAILED, strict.output
    assert problems(strict) == [
        f"{tail} are under no checkpoint countersigned by a trusted peer key: "
        "nothing shows they were not rewritten or made up"
    ]
    # An operator's own look at a live node: the tail is reported, and the rest verified.
    assert relaxed.exit_code == VERIFIED, relaxed.output
    assert f"warning: {tail} are under no checkpoint countersigned by a trusted peer key yet" in relaxed.stdout


# ---------------------------------------------------------------------- (c) cut back, against the peer's evidence


def cut_back(bundle: dict[str, Any], size: int) -> dict[str, Any]:
    """The bundle as it was at checkpoint `size`: later leaves, checkpoints and proofs dropped."""
    bundle["leaves"] = bundle["leaves"][:size]
    bundle["checkpoints"] = [c for c in bundle["checkpoints"] if parse_note(c["note"])[0].size <= size]
    bundle["consistency"] = [p for p in bundle["consistency"] if p["to_size"] <= size]
    return bundle


@pytest.mark.parametrize("evidence", ["india_bundle", "witnessed_head"])
def test_a_bundle_cut_back_to_an_earlier_checkpoint_is_caught_by_what_the_peer_witnessed(
    clean: CleanFiles, tmp_path: Path, evidence: str
) -> None:
    cut = write(tmp_path / "cut.json.gz", cut_back(read(clean.covered), 43))
    witnessed = str(getattr(clean, evidence))

    alone = verify(str(cut), "--trust", str(clean.trust))
    with_evidence = verify(str(cut), "--trust", str(clean.trust), "--witnessed", witnessed)

    # On its own the cut bundle is a consistent, countersigned history of 43 leaves: only the peer knows of more.
    assert alone.exit_code == VERIFIED, alone.output
    assert with_evidence.exit_code == FAILED, with_evidence.output
    assert problems(with_evidence) == [
        f"log truncated: in-node-1 countersigned checkpoint size 63 of {CA_LOG} (root {root_hex(clean.covered, 63)}), "
        "but this bundle has only 43 leaves and its newest checkpoint is size 43"
    ]


def test_a_history_rewritten_under_a_witnessed_checkpoint_is_named_with_both_roots(
    clean: CleanFiles, tmp_path: Path
) -> None:
    """Leaf 50 rewritten and checkpoint size 63, which India countersigned over it, dropped from the bundle."""
    bundle = cut_back(read(clean.bundle), 43)
    bundle["leaves"] = read(clean.bundle)["leaves"]
    rewrite_leaf(bundle, 50, REWRITTEN)
    forged = write(tmp_path / "rewritten.json.gz", bundle)

    result = verify(
        str(forged), "--trust", str(clean.trust), "--witnessed", str(clean.witnessed_head), "--allow-uncovered-tail"
    )

    assert result.exit_code == FAILED, result.output
    assert problems(result) == [
        f"checkpoint size 63: in-node-1 countersigned root {root_hex(clean.bundle, 63)}, but this bundle's "
        f"leaves 0..62 give root {root_hex(forged, 63)}"
    ]


def test_witnessed_evidence_made_by_the_logs_operator_is_not_trusted(clean: CleanFiles, tmp_path: Path) -> None:
    """A witnessed-head file for a short history, "countersigned" by a self-made key under India's node id."""
    cut = write(tmp_path / "cut.json.gz", cut_back(read(clean.covered), 43))
    head = json.loads(clean.witnessed_head.read_text())
    keys, witness = self_made_node("in-node-1", Party.IN)
    note = read(cut)["checkpoints"][-1]["note"]
    body, lines = parse_note(note)
    cosignature = cosign(SignedCheckpoint(body, lines[0]), "accord/in-node-1", keys.signing, body.issued_at)
    head["node"], head["witnessed"] = witness, [{"note": note, "cosignature": cosignature}]
    forged_evidence = write_json(tmp_path / "forged.head.json", head)

    result = verify(str(cut), "--trust", str(clean.trust), "--witnessed", str(forged_evidence))

    assert result.exit_code == FAILED, result.output
    assert problems(result) == [
        f"the witnessed evidence forged.head.json: its witness in-node-1 (IN) signs with key "
        f"{keys.public.signing_fingerprint}, which is not a trusted key"
    ]


# ------------------------------------------------------------------------------------ (e) a wrong trust file


def test_a_trust_file_naming_another_key_for_the_peer_fails_every_countersignature(
    clean: CleanFiles, tmp_path: Path
) -> None:
    stranger = NodeKeys.generate().public.signing_fingerprint
    document = json.loads(clean.trust.read_text())
    document["keys"][1]["fingerprint"] = stranger
    trust = write_json(tmp_path / "wrong.trust.json", document)

    result = verify(str(clean.covered), "--trust", str(trust))

    assert result.exit_code == FAILED, result.output
    india = clean.india_fingerprint
    assert problems(result)[:2] == [
        f"the peer in-node-1 (IN) signs with key {india}, but the trust anchors give in-node-1 key {stranger}",
        f"checkpoint size 23: countersigned by in-node-1 (IN) with key {india}, which is not a trusted key",
    ]


def test_a_trust_file_giving_the_logs_key_to_the_other_node_fails(clean: CleanFiles, tmp_path: Path) -> None:
    document = json.loads(clean.trust.read_text())
    first, second = document["keys"]
    first["fingerprint"], second["fingerprint"] = second["fingerprint"], first["fingerprint"]
    trust = write_json(tmp_path / "swapped.trust.json", document)

    result = verify(str(clean.covered), "--trust", str(trust))

    assert result.exit_code == FAILED, result.output
    assert problems(result)[0] == (
        f"the log ca-node-1 (CA) signs with key {clean.ca_fingerprint}, which the trust anchors give to in-node-1 (IN)"
    )


def test_two_trust_files_that_disagree_are_refused_before_anything_is_verified(
    clean: CleanFiles, tmp_path: Path
) -> None:
    stranger = NodeKeys.generate().public.signing_fingerprint
    document = json.loads(clean.trust.read_text())
    document["keys"][1]["fingerprint"] = stranger
    other = write_json(tmp_path / "india-says.trust.json", document)

    result = verify(str(clean.covered), "--trust", str(clean.trust), "--trust", str(other))

    assert result.exit_code == UNUSABLE, result.output
    assert result.stderr == (
        f"error: the trust anchors disagree: in-node-1 has key {clean.india_fingerprint} and key {stranger}\n"
    )


# ------------------------------------------------------------------------------ (f) a new key for the log itself


def forge_log_key(clean: CleanFiles, tmp_path: Path) -> tuple[Path, str]:
    """A new key and self-signed descriptor for ca-node-1; every checkpoint re-signed with it over the same bodies
    (India's cosignatures cover the body only, so they still verify), and India's checkpoint re-countersigned."""
    bundle = read(clean.covered)
    keys, node = self_made_node("ca-node-1", Party.CA)
    bundle["node"] = node
    for entry in bundle["checkpoints"]:
        entry["note"] = sign_checkpoint(parse_note(entry["note"])[0], keys.signing).note
    for entry in bundle["witnessed"]:
        body, lines = parse_note(entry["note"])
        entry["cosignature"] = cosign(SignedCheckpoint(body, lines[0]), CA_LOG, keys.signing, body.issued_at)
    return write(tmp_path / "new-log-key.json.gz", bundle), keys.public.signing_fingerprint


def test_checkpoints_signed_by_a_log_key_that_is_not_trusted_fail(clean: CleanFiles, tmp_path: Path) -> None:
    forged, new_key = forge_log_key(clean, tmp_path)

    unanchored = verify(str(forged))
    by_file = verify(str(forged), "--trust", str(clean.trust))
    by_fingerprint = verify(str(forged), *expect_both(clean))
    with_evidence = verify(str(forged), "--witnessed", str(clean.india_bundle))

    assert unanchored.exit_code == NOT_PROVEN, unanchored.output  # consistent in itself: only an anchor tells
    assert by_file.exit_code == by_fingerprint.exit_code == FAILED
    assert problems(by_file)[0] == (
        f"the log ca-node-1 (CA) signs with key {new_key}, but the trust anchors give ca-node-1 key "
        f"{clean.ca_fingerprint}"
    )
    assert problems(by_fingerprint)[:2] == [
        f"the log ca-node-1 (CA) signs with key {new_key}, which is not a trusted key",
        f"trusted key {clean.ca_fingerprint} is carried by no node in this bundle",
    ]
    assert "nothing in this bundle is countersigned by a trusted peer key" in problems(by_file)
    # India's own bundle carries the key India pinned for Canada: even without anchors it is not this one.
    assert with_evidence.exit_code == FAILED, with_evidence.output
    assert problems(with_evidence)[0] == (
        f"the witnessed evidence india.json.gz: in-node-1 pinned ca-node-1 with key {clean.ca_fingerprint}, but this "
        f"bundle's log signs with key {new_key}"
    )


# ---------------------------------------------------------------------------------------------- the commands


def test_the_trust_file_names_this_nodes_key_and_its_pinned_peers(ledger: Ledger) -> None:
    cover_tail(ledger)
    trust, bundle = ledger.root / "ca.trust.json", ledger.export()

    written = cli(ledger.ca, "trust-file", "--data", str(ledger.ca.settings.data_dir), "--out", str(trust))
    verified = verify(str(bundle), "--trust", str(trust))

    assert written.exit_code == 0, written.output
    ca, india = fingerprint(ledger.ca), fingerprint(ledger.india)
    assert f"  ca-node-1 (CA)  {ca}\n  in-node-1 (IN)  {india}\n" in written.stdout
    document = json.loads(trust.read_text())
    assert (document["format"], document["written_by"]) == (TRUST_FORMAT, "ca-node-1")
    assert document["keys"] == [
        {"party": "CA", "node_id": "ca-node-1", "fingerprint": ca},
        {"party": "IN", "node_id": "in-node-1", "fingerprint": india},
    ]
    assert verified.exit_code == VERIFIED, verified.output


def test_the_peer_exports_the_newest_checkpoint_of_the_log_it_countersigned(ledger: Ledger) -> None:
    head, bundle = ledger.root / "india.head.json.gz", ledger.export()
    data = str(ledger.india.settings.data_dir)

    written = cli(ledger.india, "witnessed", "--data", data, "--out", str(head), "--origin", CA_LOG)
    unknown = cli(ledger.india, "witnessed", "--data", data, "--out", str(head), "--origin", "accord/xx-node-9")
    verified = verify(
        str(bundle), *["--expect-fingerprint", fingerprint(ledger.ca)],
        *["--expect-fingerprint", fingerprint(ledger.india)], "--witnessed", str(head), "--allow-uncovered-tail"
    )  # fmt: skip

    assert written.exit_code == 0, written.output
    root = root_hex(bundle, 63)
    assert f"wrote checkpoint size 63 of {CA_LOG} (root {root}), countersigned here at " in written.stdout
    document = read(head)
    assert (document["format"], document["node"]["node_id"], len(document["witnessed"])) == (
        WITNESSED_FORMAT, "in-node-1", 1
    )  # fmt: skip
    assert unknown.exit_code == 1
    assert unknown.stderr == "error: accord/xx-node-9 is not the log of a peer pinned here; see `accord peer import`\n"
    assert verified.exit_code == VERIFIED, verified.output
    witnessed = f"its countersigned checkpoint size 63 (root {root}) is a head of this bundle's leaves"
    assert f"witnessed by in-node-1 (IN) {fingerprint(ledger.india)}: {witnessed}" in verified.stdout
    assert f"VERIFIED: {LEAVES} leaves, 63 of them under checkpoint size 63" in verified.stdout


def test_unreadable_inputs_are_bad_usage_not_a_verdict(clean: CleanFiles, tmp_path: Path) -> None:
    absent = tmp_path / "absent.json"
    not_json = tmp_path / "notes.txt"
    not_json.write_text("the keys are in the safe")

    bundle = verify(str(absent), "--trust", str(clean.trust))
    trust = verify(str(clean.covered), "--trust", str(not_json))
    evidence = verify(str(clean.covered), "--trust", str(clean.trust), "--witnessed", str(not_json))
    fingerprint_ = verify(str(clean.covered), "--expect-fingerprint", "in-node-1")

    assert (bundle.exit_code, trust.exit_code, evidence.exit_code, fingerprint_.exit_code) == (UNUSABLE,) * 4
    assert bundle.stderr == f"error: cannot read bundle {absent}: No such file or directory\n"
    assert trust.stderr.startswith(f"error: trust file {not_json} is not JSON: ")
    assert evidence.stderr.startswith("error: witnessed evidence notes.txt is not valid JSON at byte 0: ")
    assert fingerprint_.stderr == (
        "error: 'in-node-1' is not a signing-key fingerprint (43 base64url characters, RFC 7638)\n"
    )
