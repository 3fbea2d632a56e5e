"""Prints a case export as a PDF for a file or a court: the thread, its times, the decisions with their legal basis,
the receipts and the ledger's proof digests, with the export's JSON embedded as a PDF attachment so that
`accord audit verify case.pdf` checks the printed case offline."""

from __future__ import annotations

from typing import Any

from accord.crypto.canonical import sha256_hex
from accord.exchange.case_export import CaseExport
from accord.i18n import current_language
from accord.ledger.case_format import ATTACHMENT_NAME
from accord.ledger.notes import parse_note
from accord.reports.render import render_page


def render_case_html(export: CaseExport) -> str:
    return render_page("case.html.j2", **_view(export.document))


def render_case_pdf(export: CaseExport) -> bytes:
    """The printed case with its JSON form embedded (ISO 32000-2 §7.11.4: an embedded file stream)."""
    from weasyprint import HTML, Attachment  # imported here: loading it takes a second and only PDFs need it

    embedded = Attachment(
        string=export.json_bytes(),
        name=ATTACHMENT_NAME,
        description="accord-case-export/1",
        relationship="Source",
    )
    pdf: bytes = HTML(string=render_case_html(export)).write_pdf(attachments=[embedded])
    return pdf


def _view(document: dict[str, Any]) -> dict[str, Any]:
    """What the page shows beside the document itself: whose message is the one exported, the checkpoint's parts,
    the digests a reader compares."""
    case = document["case"]
    checkpoint = document.get("checkpoint")
    body = parse_note(checkpoint["note"])[0] if checkpoint else None
    exported = next((m for m in case["messages"] if m["id"] == case["message_id"]), case["messages"][0])
    return {
        "language": current_language().value,
        "document": document,
        "case": case,
        "exported": exported,
        "checkpoint": checkpoint,
        "checkpoint_size": body.size if body else None,
        "checkpoint_root": body.root.hex() if body else None,
        "signature_sha256": sha256_hex(document["signature"].encode()),
        "receipt_sha256": {m["id"]: sha256_hex(m["receipt"].encode()) for m in case["messages"] if m.get("receipt")},
        "reviews": {m["id"]: [r for r in case["reviews"] if r["message_id"] == m["id"]] for m in case["messages"]},
        "attachment_name": ATTACHMENT_NAME,
    }
