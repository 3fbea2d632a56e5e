"""The case export: a real Canada node with India pinned as its peer, countersigning in process; a request is sent,
checkpointed and countersigned, then exported and verified offline with pinned keys; then each way of tampering with
the export is named by the first problem the verifier reports."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from accord.api.federation import router as federation_router
from accord.crypto.keys import NodeKeys
from accord.crypto.receipts import RECEIPT_CLAIM_TYP, sign_receipt
from accord.crypto.signing import sign_claims
from accord.directory.officers import Role, create_officer
from accord.domain.drafts import MessageDraft
from accord.domain.handling import CommonLevel
from accord.domain.parties import Party
from accord.errors import ConfigurationError, Forbidden
from accord.exchange.case_export import ExportFormat, export_case
from accord.exchange.sending import send_messages
from accord.exchange.witnessing import issue_checkpoint
from accord.ledger.bundle import Outcome, TrustedKey
from accord.ledger.case_format import SIGNATURE_TYP, case_manifest, content_sha256
from accord.ledger.case_verify import CaseVerdict, is_case_export, verify_case_export
from accord.ledger.events import EventType
from accord.ledger.leaves import leaf_bytes, leaf_record
from accord.ledger.notes import CheckpointBody, SignedCheckpoint, cosign, origin_for, parse_note, sign_checkpoint
from accord.ledger.tree import MemoryTree, inclusion_proof, leaf_hash
from accord.reports.case_report import render_case_pdf
from accord.sandbox import seed_traffic
from accord.store.tables import events
from tests.integration.nodes import PASSWORD, draft
from tests.ledger.pairs import cli, countersign_latest, fingerprint, open_pair, self_made_node


@dataclass(frozen=True)
class Exported:
    """Canada's export of a sent request's case, the pinned keys, and the key an insider at Canada holds."""

    path: Path
    pdf: Path
    anchors: tuple[TrustedKey, TrustedKey]
    ca_keys: NodeKeys
    message_id: str
    follow_up_id: str  # the case's second and last message
    foreign_exports: int  # case.exported events after an officer of another agency tried
    sandbox_events_after_refusal: int  # sandbox events at Canada (not a sandbox node) after seeding was tried
    hidden_id: str  # a Secret message added to the case afterwards
    restricted_export: str  # the case exported then by an officer cleared to Restricted only (its JSON)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    root = tmp_path_factory.mktemp("case")
    pair = open_pair(root, None, None)
    try:
        rcmp = create_officer(pair.ca, "ca.rcmp", PASSWORD, "Constable", "RCMP", frozenset({Role.OFFICER}))
        cbsa = create_officer(pair.ca, "ca.cbsa", PASSWORD, "Officer", "CBSA", frozenset({Role.OFFICER}))
        [queued] = send_messages(pair.ca, rcmp, [MessageDraft(**draft())])
        message_id = queued.message.id
        follow_up = MessageDraft(**draft(case_id=queued.message.case_id, title="Follow-up on the 4-AP consignee"))
        [followed] = send_messages(pair.ca, rcmp, [follow_up])
        with pytest.raises(ConfigurationError):
            seed_traffic({Party.CA: pair.ca, Party.IN: pair.india}, 1, 1, 1)
        with pytest.raises(Forbidden):
            export_case(pair.ca, cbsa, message_id, ExportFormat.JSON, witness=False)
        foreign = _exports(pair.ca, message_id)
        issue_checkpoint(pair.ca, force=True)
        countersign_latest(pair.ca, pair.india)
        export = export_case(pair.ca, rcmp, message_id, ExportFormat.JSON, witness=False)
        path, pdf = root / "case.json", root / "case.pdf"
        path.write_bytes(export.json_bytes())
        pdf.write_bytes(render_case_pdf(export))
        anchors = (TrustedKey(fingerprint(pair.ca)), TrustedKey(fingerprint(pair.india)))
        assert _exports(pair.ca, message_id) == foreign + 1
        secret = draft(case_id=queued.message.case_id, title="Source of the tip", handling={"classification": "Secret"})
        [hidden] = send_messages(pair.ca, rcmp, [MessageDraft(**secret)])
        junior = create_officer(
            pair.ca,
            "ca.rcmp.junior",
            PASSWORD,
            "Cadet",
            "RCMP",
            frozenset({Role.OFFICER}),
            clearance=CommonLevel.RESTRICTED,
        )
        restricted = export_case(pair.ca, junior, message_id, ExportFormat.JSON, witness=False).json_bytes().decode()
        return Exported(
            path,
            pdf,
            anchors,
            pair.ca.keys,
            message_id,
            followed.message.id,
            foreign,
            _sandbox_events(pair.ca),
            hidden.message.id,
            restricted,
        )
    finally:
        pair.close()


def _exports(node: Any, message_id: str) -> int:
    with node.engine.connect() as conn:
        rows = conn.execute(select(events.c.refs).where(events.c.type == EventType.CASE_EXPORTED.value)).all()
    return sum(message_id in row.refs for row in rows)


def _sandbox_events(node: Any) -> int:
    kinds = (EventType.SANDBOX_SEEDED.value, EventType.SANDBOX_MESSAGE_WRITTEN.value)
    with node.engine.connect() as conn:
        return len(conn.execute(select(events.c.id).where(events.c.type.in_(kinds))).all())


def _resign(exported: Exported, document: dict[str, Any]) -> None:
    """What an insider holding the node's key does after editing an export: sign its manifest again."""
    document["signature"] = sign_claims(
        case_manifest(document, document["leaves"], document["checkpoint"]), exported.ca_keys.signing, SIGNATURE_TYP
    )


def _verify(exported: Exported, document: dict[str, Any] | None = None, name: str = "tampered.json") -> CaseVerdict:
    path = exported.path
    if document is not None:
        path = exported.path.with_name(name)
        path.write_text(json.dumps(document))
    return verify_case_export(path, anchors=exported.anchors)


def _document(exported: Exported) -> dict[str, Any]:
    return dict(json.loads(exported.path.read_text()))


def _first_problem(verdict: CaseVerdict) -> str:
    assert verdict.verdict.outcome is Outcome.FAILED
    return verdict.verdict.problems[0]


def test_an_untampered_export_verifies_offline_under_the_pinned_keys(exported: Exported) -> None:
    verdict = _verify(exported)

    assert verdict.verdict.problems == []
    assert verdict.verdict.outcome is Outcome.VERIFIED
    assert verdict.message_id == exported.message_id
    document = _document(exported)
    types = [leaf["type"] for leaf in document["leaves"]]
    assert types[:2] == ["message.created", "policy.decided"]
    assert verdict.verdict.summary.covered == len(document["leaves"])
    assert is_case_export(exported.path)


def test_only_an_officer_who_may_read_the_case_can_export_it_and_the_refusal_exports_nothing(
    exported: Exported,
) -> None:
    # The fixture's CBSA officer was refused before the RCMP officer exported: the refusal wrote no export event.
    assert exported.foreign_exports == 0


def test_an_officer_s_export_does_not_tell_that_a_message_they_may_not_read_exists(exported: Exported) -> None:
    # Neither the thread nor the ledger leaves of a Restricted-cleared officer's export name the case's Secret message.
    assert exported.hidden_id not in exported.restricted_export
    assert exported.message_id in exported.restricted_export


def test_without_pinned_keys_an_export_is_not_proven(exported: Exported) -> None:
    verdict = verify_case_export(exported.path)

    assert verdict.verdict.outcome is Outcome.NOT_PROVEN


def test_keys_the_export_carries_are_never_trusted_in_place_of_the_pinned_ones(exported: Exported) -> None:
    stranger = TrustedKey(NodeKeys.generate().public.signing_fingerprint)
    verdict = verify_case_export(exported.path, anchors=(stranger, exported.anchors[1]))

    assert "which is not a trusted key" in _first_problem(verdict)


def test_a_changed_body_is_named_as_the_message_whose_content_changed(exported: Exported) -> None:
    document = _document(exported)
    document["case"]["messages"][0]["content"]["body"] = "Nothing to see here."

    problems = _verify(exported, document).verdict.problems

    assert problems[0] == (
        f"message {exported.message_id}: its content is not what ca-node-1 signed at export (it was changed after)"
    )
    assert any("does not match the SHA-256 that leaf" in p and "(message.created)" in p for p in problems)


def test_a_dropped_event_is_named_by_its_leaf(exported: Exported) -> None:
    document = _document(exported)
    dropped = document["leaves"].pop(1)

    problem = _first_problem(_verify(exported, document))

    assert problem == f"leaf {dropped['index']}, in the manifest the node signed, is missing: an event was dropped"


def test_reordered_events_are_named(exported: Exported) -> None:
    document = _document(exported)
    first, second = document["leaves"][:2]
    document["leaves"][:2] = [second, first]

    problem = _first_problem(_verify(exported, document))

    assert problem == (
        f"the leaves are not in ledger order: leaf {first['index']} comes after leaf {second['index']} "
        "(events were reordered)"
    )


def test_a_forged_checkpoint_is_refused_even_when_the_manifest_is_signed_again_by_an_insider(
    exported: Exported,
) -> None:
    """An insider with Canada's key re-signs a checkpoint over made-up leaves: India's countersignature no longer
    verifies, so nothing is proven."""
    document = _document(exported)
    body, _ = parse_note(document["checkpoint"]["note"])
    made_up = CheckpointBody(body.origin, body.size, bytes(32), body.issued_at)
    forged = sign_checkpoint(made_up, exported.ca_keys.signing)
    document["checkpoint"]["note"] = forged.note
    document["signature"] = sign_claims(
        case_manifest(document, document["leaves"], document["checkpoint"]), exported.ca_keys.signing, SIGNATURE_TYP
    )

    problem = _first_problem(_verify(exported, document))

    assert problem == (
        f"checkpoint size {body.size}: the peer's countersignature does not verify — "
        "the history it countersigned was rewritten"
    )


def test_a_checkpoint_stripped_of_its_countersignature_or_swapped_is_named(exported: Exported) -> None:
    stripped, swapped = _document(exported), _document(exported)
    stripped["checkpoint"]["cosignature"] = None
    body, _lines = parse_note(swapped["checkpoint"]["note"])
    swapped["checkpoint"]["note"] = swapped["checkpoint"]["note"].replace(f"time {body.issued_at}", "time 1")

    size = body.size
    assert _first_problem(_verify(exported, stripped)) == f"checkpoint size {size}: not countersigned by the peer"
    assert _first_problem(_verify(exported, swapped, "swapped.json")) == (
        "the checkpoint is not the one ca-node-1 signed into the export: it was replaced"
    )


def test_a_manifest_signed_by_another_key_is_refused(exported: Exported) -> None:
    document = _document(exported)
    document["signature"] = sign_claims(
        case_manifest(document, document["leaves"], document["checkpoint"]),
        NodeKeys.generate().signing,
        SIGNATURE_TYP,
    )

    problem = _first_problem(_verify(exported, document))

    assert problem.startswith("the export's signature does not verify with ca-node-1's key")


def test_a_changed_proof_is_named_by_its_leaf(exported: Exported) -> None:
    document = copy.deepcopy(_document(exported))
    leaf = document["leaves"][0]
    leaf["proof"][0] = "00" * 32

    problem = _first_problem(_verify(exported, document))

    assert problem.startswith(f"leaf {leaf['index']}: its inclusion proof does not lead to the root of checkpoint")


def test_the_cli_verifies_a_case_export_offline_with_pinned_fingerprints(exported: Exported) -> None:
    pinned = [arg for anchor in exported.anchors for arg in ("--expect-fingerprint", anchor.fingerprint)]

    verified = cli(None, "verify", str(exported.path), *pinned)
    document = _document(exported)
    document["leaves"].pop()
    tampered = exported.path.with_name("cli-tampered.json")
    tampered.write_text(json.dumps(document))
    failed = cli(None, "verify", str(tampered), *pinned)

    assert verified.exit_code == 0, verified.output
    assert "VERIFIED" in verified.stdout and exported.message_id in verified.stdout
    assert failed.exit_code == 1
    assert "an event was dropped" in failed.stderr


def test_a_pdf_export_carries_its_json_and_the_cli_verifies_the_pdf_offline(exported: Exported) -> None:
    pinned = [arg for anchor in exported.anchors for arg in ("--expect-fingerprint", anchor.fingerprint)]
    document = pypdfium2.PdfDocument(exported.pdf)
    text = document[0].get_textpage().get_text_range()
    stripped = exported.pdf.with_name("stripped.pdf")
    document.del_attachment(0)
    document.save(stripped)
    document.close()

    verified = cli(None, "verify", str(exported.pdf), *pinned)
    unreadable = cli(None, "verify", str(stripped), *pinned)

    assert "Consignee of a 4-AP shipment" in text and exported.message_id in text
    assert verified.exit_code == 0, verified.output
    assert "VERIFIED" in verified.stdout
    assert unreadable.exit_code == 2
    assert "embeds no case-export.json" in unreadable.stderr


# ------------------------------------------------------------------ attacks by the node's operator and by strangers


def _pinned(exported: Exported) -> list[str]:
    return [arg for anchor in exported.anchors for arg in ("--expect-fingerprint", anchor.fingerprint)]


def _written(exported: Exported, document: dict[str, Any], name: str) -> Path:
    path = exported.path.with_name(name)
    path.write_text(json.dumps(document))
    return path


def _about(leaf: dict[str, Any], message_id: str) -> bool:
    return message_id in json.dumps(leaf["refs"])


def _made_up_leaf(index: int, template: dict[str, Any], kind: EventType, refs: dict[str, Any]) -> dict[str, Any]:
    """A leaf an insider writes: any contents, with the hash that matches them."""
    at = datetime.fromisoformat(template["at"])
    record = leaf_record(index, at, kind.value, template["actor"], refs, template["payload_sha256"])
    return {**record, "leaf_hash": leaf_hash(leaf_bytes(record)).hex(), "proof": None}


def test_an_insider_who_cuts_off_the_cases_last_message_is_told_apart_only_by_what_the_verdict_says_it_proves(
    exported: Exported,
) -> None:
    """With Canada's key, an insider drops the case's last message and every leaf about it and signs again: each
    leaf left is still in the tree India countersigned, so an export alone cannot show the cut. The verdict must say
    that it does not prove the export complete."""
    document = _document(exported)
    document["case"]["messages"] = [m for m in document["case"]["messages"] if m["id"] != exported.follow_up_id]
    document["leaves"] = [leaf for leaf in document["leaves"] if not _about(leaf, exported.follow_up_id)]
    _resign(exported, document)

    honest = cli(None, "verify", str(exported.path), *_pinned(exported))
    cut = cli(None, "verify", str(_written(exported, document, "cut.json")), *_pinned(exported))

    assert len(_document(exported)["case"]["messages"]) == 2
    for result in (honest, cut):
        assert result.exit_code == 0, result.output
        assert "Not proven: that the export holds every message and event of the case." in result.stdout


def test_a_leaf_its_own_receipt_names_cannot_be_dropped_from_the_export(exported: Exported) -> None:
    """A receipt this node signed for a message it received names the leaf that recorded the envelope: an insider
    who drops that leaf and signs the manifest again is caught by the receipt."""
    document = _document(exported)
    named = document["leaves"][1]
    received = {**copy.deepcopy(document["case"]["messages"][0]), "id": "0190a000-0000-7000-8000-0000000000aa"}
    claims = {
        "typ": RECEIPT_CLAIM_TYP,
        "ref": received["id"],
        "kind": "message",
        "jti": "0190a000-0000-7000-8000-0000000000ab",
        "digest": "00" * 32,
        "channel": "in-node-1>ca-node-1",
        "seq": 1,
        "sender": "in-node-1",
        "receiver": "ca-node-1",
        "received_at": document["exported_at"],
        "ledger": {"index": named["index"], "leaf_hash": named["leaf_hash"], "tree_size": 10**6, "root": "00" * 32},
    }
    document["case"]["messages"].append(
        {**received, "direction": "incoming", "receipt": sign_receipt(claims, exported.ca_keys)}
    )
    _resign(exported, document)
    held = _verify(exported, document, "received.json")
    document["leaves"].remove(named)
    _resign(exported, document)

    dropped = _verify(exported, document, "received-dropped.json")

    assert held.verdict.problems == []
    assert dropped.verdict.problems == [
        f"message {received['id']}: its receipt names leaf {named['index']}, which the export does not hold: "
        "an event was dropped"
    ]


def test_a_leaf_past_the_countersigned_checkpoint_is_never_proven_even_when_the_tail_is_allowed(
    exported: Exported,
) -> None:
    """An insider adds a leaf after the last countersigned checkpoint and signs again: strict verification fails;
    allowing the tail makes it a warning that names the leaf NOT PROVEN."""
    document = _document(exported)
    size = parse_note(document["checkpoint"]["note"])[0].size
    template = document["leaves"][-1]
    document["leaves"].append(_made_up_leaf(size, template, EventType.MESSAGE_READ, {"message": exported.follow_up_id}))
    _resign(exported, document)
    path = _written(exported, document, "tail.json")

    strict = cli(None, "verify", str(path), *_pinned(exported))
    allowed = cli(None, "verify", str(path), "--allow-uncovered-tail", *_pinned(exported))

    assert strict.exit_code == 1
    assert f"leaf {size} is under no checkpoint countersigned by the peer at export time" in strict.stderr
    assert allowed.exit_code == 0, allowed.output
    assert f"NOT PROVEN: leaf {size} is under no checkpoint countersigned by the peer" in allowed.stdout
    assert verify_case_export(path, anchors=exported.anchors, allow_uncovered_tail=True).unproven == (size,)


def test_a_changed_message_is_not_excused_by_a_purge_the_exporter_made_up_past_the_checkpoint(
    exported: Exported,
) -> None:
    document = _document(exported)
    size = parse_note(document["checkpoint"]["note"])[0].size
    [message] = [m for m in document["case"]["messages"] if m["id"] == exported.follow_up_id]
    message["content"]["body"] = "Nothing to see here."
    message["purged_at"] = document["exported_at"]
    [created] = [
        leaf
        for leaf in document["leaves"]
        if leaf["type"] == EventType.MESSAGE_CREATED.value and _about(leaf, exported.follow_up_id)
    ]
    document["leaves"].append(_made_up_leaf(size, created, EventType.DATA_PURGED, {"message": exported.follow_up_id}))
    _resign(exported, document)
    path = _written(exported, document, "purged.json")

    verdict = verify_case_export(path, anchors=exported.anchors, allow_uncovered_tail=True).verdict

    assert verdict.problems == [
        f"message {exported.follow_up_id}: its content does not match the SHA-256 that leaf {created['index']} "
        "(message.created) recorded"
    ]


def test_a_countersignature_by_a_self_made_peer_counts_only_if_its_key_is_pinned(exported: Exported) -> None:
    """An insider makes a key pair for 'in-node-1', countersigns the checkpoint with it and puts its descriptor in
    the export: under the pinned keys it does not count."""
    document = _document(exported)
    keys, entry = self_made_node("in-node-1", Party.IN)
    body, lines = parse_note(document["checkpoint"]["note"])
    document["peers"] = [entry]
    document["checkpoint"]["cosignature"] = cosign(
        SignedCheckpoint(body, lines[0]), origin_for("in-node-1"), keys.signing, body.issued_at
    )
    _resign(exported, document)
    path = _written(exported, document, "self-made-peer.json")

    pinned = verify_case_export(path, anchors=exported.anchors).verdict
    self_pinned = verify_case_export(
        path, anchors=(exported.anchors[0], TrustedKey(keys.public.signing_fingerprint))
    ).verdict

    assert pinned.outcome is Outcome.FAILED
    assert (
        f"checkpoint size {body.size}: countersigned by in-node-1 (IN) with key {keys.public.signing_fingerprint}, "
        "which is not a trusted key"
    ) in pinned.problems
    assert self_pinned.outcome is Outcome.VERIFIED  # the verifier trusts exactly the keys it is given


def test_a_history_rewritten_under_the_same_size_with_consistent_proofs_fails_on_the_peers_countersignature(
    exported: Exported,
) -> None:
    """An insider changes a sent message, gives its leaf the matching hash, builds a tree of the checkpoint's size
    in which every proof of the export leads to a new root, and signs that root at the same size: only India's
    countersignature, over the old root, stands in the way, and it does."""
    document = _document(exported)
    body, _lines = parse_note(document["checkpoint"]["note"])
    [message] = [m for m in document["case"]["messages"] if m["id"] == exported.follow_up_id]
    message["content"]["body"] = "Nothing to see here."
    for position, leaf in enumerate(document["leaves"]):
        if leaf["type"] == EventType.MESSAGE_CREATED.value and _about(leaf, exported.follow_up_id):
            template = {**leaf, "payload_sha256": content_sha256(message["content"])}
            document["leaves"][position] = _made_up_leaf(
                leaf["index"], template, EventType.MESSAGE_CREATED, leaf["refs"]
            )
    hashes = [bytes(32)] * body.size
    for leaf in document["leaves"]:
        hashes[leaf["index"]] = bytes.fromhex(leaf["leaf_hash"])
    tree = MemoryTree.from_leaf_hashes(hashes)
    for leaf in document["leaves"]:
        leaf["proof"] = [h.hex() for h in inclusion_proof(tree, leaf["index"], body.size)]
    rewritten = CheckpointBody(body.origin, body.size, tree.root(body.size), body.issued_at)
    document["checkpoint"]["note"] = sign_checkpoint(rewritten, exported.ca_keys.signing).note
    _resign(exported, document)

    problems = _verify(exported, document, "rewritten.json").verdict.problems

    assert problems == [
        f"checkpoint size {body.size}: the peer's countersignature does not verify — "
        "the history it countersigned was rewritten"
    ]


def test_no_federation_route_exports_a_case_or_writes_sandbox_events_and_seeding_refuses_a_real_node(
    exported: Exported,
) -> None:
    """A stranger on the federation port reaches only these routes, each authenticated before it reads anything
    (tests/ledger/test_witnessing.py sends a stranger's checkpoint requests); exporting is an officer's act on the
    API or the web, and only the sandbox's seeding writes sandbox events, on sandbox nodes alone."""
    routes = {
        (route.path, *sorted(route.methods or ())) for route in federation_router.routes if isinstance(route, APIRoute)
    }

    assert routes == {
        ("/federation/v1/envelopes", "POST"),
        ("/federation/v1/blobs", "POST"),
        ("/federation/v1/hello", "POST"),
        ("/federation/v1/checkpoints", "POST"),
        ("/federation/v1/ledger/inclusion", "POST"),
        ("/federation/v1/key-rotations", "POST"),  # tests/integration/test_key_rotation.py sends a stranger's
        ("/federation/v1/recovery", "POST"),  # tests/ledger/test_recovery_requests.py sends a stranger's
        ("/federation/v1/descriptor", "GET"),
    }
    assert exported.sandbox_events_after_refusal == 0
