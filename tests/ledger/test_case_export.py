"""The case export: a real Canada node with India pinned as its peer, countersigning in process; a request is sent,
checkpointed and countersigned, then exported and verified offline with pinned keys; then each way of tampering with
the export is named by the first problem the verifier reports."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from sqlalchemy import select

from accord.crypto.keys import NodeKeys
from accord.crypto.signing import sign_claims
from accord.directory.officers import Role, create_officer
from accord.domain.drafts import MessageDraft
from accord.errors import Forbidden
from accord.exchange.case_export import ExportFormat, export_case
from accord.exchange.sending import send_messages
from accord.exchange.witnessing import issue_checkpoint
from accord.ledger.bundle import Outcome, TrustedKey
from accord.ledger.case_format import SIGNATURE_TYP, case_manifest
from accord.ledger.case_verify import CaseVerdict, is_case_export, verify_case_export
from accord.ledger.events import EventType
from accord.ledger.notes import CheckpointBody, parse_note, sign_checkpoint
from accord.reports.case_report import render_case_pdf
from accord.store.tables import events
from tests.integration.nodes import PASSWORD, draft
from tests.ledger.pairs import cli, countersign_latest, fingerprint, open_pair


@dataclass(frozen=True)
class Exported:
    """Canada's export of a sent request's case, the pinned keys, and the key an insider at Canada holds."""

    path: Path
    pdf: Path
    anchors: tuple[TrustedKey, TrustedKey]
    ca_keys: NodeKeys
    message_id: str
    foreign_exports: int  # case.exported events after an officer of another agency tried


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    root = tmp_path_factory.mktemp("case")
    pair = open_pair(root, None, None)
    try:
        rcmp = create_officer(pair.ca, "ca.rcmp", PASSWORD, "Constable", "RCMP", frozenset({Role.OFFICER}))
        cbsa = create_officer(pair.ca, "ca.cbsa", PASSWORD, "Officer", "CBSA", frozenset({Role.OFFICER}))
        [queued] = send_messages(pair.ca, rcmp, [MessageDraft(**draft())])
        message_id = queued.message.id
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
        return Exported(path, pdf, anchors, pair.ca.keys, message_id, foreign)
    finally:
        pair.close()


def _exports(node: Any, message_id: str) -> int:
    with node.engine.connect() as conn:
        rows = conn.execute(select(events.c.refs).where(events.c.type == EventType.CASE_EXPORTED.value)).all()
    return sum(message_id in row.refs for row in rows)


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
