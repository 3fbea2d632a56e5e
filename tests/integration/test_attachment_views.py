"""Attachments and cases as an officer meets them: opened in the browser where that is safe (a PDF, an image, plain
text), downloaded otherwise (never run as a page of the site), named as the message names them, under need-to-know; a
form upload (`curl -F`) stores its file part, not the form around it; a case exported as JSON and PDF with its ledger
proofs and verified offline, and the ledger's events browsed by oversight."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from accord.cli.audit import audit_app
from accord.i18n import format_size
from accord.store.tables import blobs, officers
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PairTemplates, RunningNode, ask_and_answer, draft, running_pair, wait_for
from tests.integration.test_web_sessions import csrf_of, sign_in
from tests.person_lists import as_pdf

PAGE = b"<html><body><script>alert(document.cookie)</script></body></html>"
DRAWING = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"


@pytest.fixture(scope="module")
def both(
    templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningNode, RunningNode]]:
    root = tmp_path_factory.mktemp("attachments")
    with running_pair(templates, DatabaseFactory("sqlite", root), root) as pair:
        yield pair


@pytest.fixture(scope="module")
def canada(both: tuple[RunningNode, RunningNode]) -> RunningNode:
    return both[0]


def stored_blobs(node: RunningNode) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(blobs)).scalar_one())


def upload_form(client: httpx.Client, files: dict[str, tuple[str, bytes, str]]) -> httpx.Response:
    return client.post("/api/v1/attachments", files=files)


def test_a_form_upload_stores_the_file_part_with_its_name_and_media_type(canada: RunningNode) -> None:
    report = as_pdf(["Laboratory report 2026/114: 4-AP, purity 98 %"])
    with canada.client("ca.rcmp") as rcmp:
        uploaded = upload_form(rcmp, {"file": ("rapport de laboratoire.pdf", report, "application/pdf")})
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json() == {
            "sha256": hashlib.sha256(report).hexdigest(),
            "size": len(report),
            "media_type": "application/pdf",
            "name": "rapport de laboratoire.pdf",
        }
        before = stored_blobs(canada)
        two = upload_form(rcmp, {"a": ("a.txt", b"one", "text/plain"), "b": ("b.txt", b"two", "text/plain")})
        empty = upload_form(rcmp, {"file": ("empty.txt", b"", "text/plain")})
        garbled = rcmp.post(
            "/api/v1/attachments", content=b"--x\r\nnot a part", headers={"Content-Type": "multipart/form-data"}
        )
    assert two.status_code == 422 and "one file part" in two.json()["detail"]
    assert empty.status_code == 422 and garbled.status_code == 422
    assert stored_blobs(canada) == before  # nothing of a refused form is kept


def test_the_case_view_opens_safe_attachments_in_place_and_downloads_the_rest_under_need_to_know(
    canada: RunningNode,
) -> None:
    report = as_pdf(["Laboratory report 2026/114"])
    with canada.client("ca.rcmp") as rcmp:
        digests = {}
        for name, data, media_type in (
            ("लैब रिपोर्ट.pdf", report, "application/pdf"),
            ("page.html", PAGE, "text/html"),
            (
                "drawing.svg",
                b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
                "image/svg+xml",
            ),
        ):
            uploaded = rcmp.post("/api/v1/attachments", content=data, headers={"Content-Type": media_type})
            assert uploaded.status_code == 201, uploaded.text
            digests[name] = uploaded.json()["sha256"]
        attachments = [{"sha256": digest, "name": name} for name, digest in digests.items()]
        sent = rcmp.post("/api/v1/messages", json=draft(kind="share", title="Lab report", attachments=attachments))
        assert sent.status_code == 201, sent.text
    message_id = sent.json()["id"]
    browser, _ = sign_in(canada, "ca.rcmp")
    page = browser.get(f"/messages/{message_id}")
    assert f'href="/messages/{message_id}/attachments/{digests["page.html"]}"' in page.text
    assert format_size(len(report)) in page.text and format_size(len(PAGE)) in page.text  # a reader's units

    pdf = browser.get(f"/messages/{message_id}/attachments/{digests['लैब रिपोर्ट.pdf']}")
    assert pdf.status_code == 200 and pdf.content == report and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline;")
    assert "filename*=UTF-8''%E0%A4%B2" in pdf.headers["content-disposition"]  # the name as written, in Devanagari
    html = browser.get(f"/messages/{message_id}/attachments/{digests['page.html']}")
    assert (
        html.headers["content-type"].startswith("text/plain") and "sandbox" in html.headers["content-security-policy"]
    )
    svg = browser.get(f"/messages/{message_id}/attachments/{digests['drawing.svg']}")
    assert svg.headers["content-disposition"].startswith("attachment;")  # never rendered in the site's origin
    assert svg.headers["x-content-type-options"] == "nosniff"
    downloaded = browser.get(f"/messages/{message_id}/attachments/{digests['लैब रिपोर्ट.pdf']}?download=1")
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    browser.close()

    other, _ = sign_in(canada, "ca.cbsa")  # another agency: no need to know
    refused = other.get(f"/messages/{message_id}/attachments/{digests['लैब रिपोर्ट.pdf']}")
    unknown = other.get(f"/messages/{message_id}/attachments/{'0' * 64}")
    assert refused.status_code == unknown.status_code == 404 and report not in refused.content
    other.close()


# ------------------------------------------------------------------------------------------------- case export


@dataclass(frozen=True)
class ExportedCase:
    request_id: str
    reply_id: str
    files: dict[str, Path]
    pinned: list[str]  # --expect-fingerprint FP, for both nodes' keys, as an oversight body obtained them


@pytest.fixture(scope="module")
def exported_case(both: tuple[RunningNode, RunningNode], tmp_path_factory: pytest.TempPathFactory) -> ExportedCase:
    """Canada asks, India answers; Canada's officer exports the case through the API as JSON and as PDF."""
    ca, in_ = both
    folder = tmp_path_factory.mktemp("case-export")
    reply = {"handling": {"classification": "Restricted"}, "title": "Re: consignee", "body": "Licensed; see file."}
    request_id, reply_id = ask_and_answer(ca, in_, "Case export: consignee", reply)
    with ca.client("ca.rcmp") as rcmp:
        wait_for(lambda: rcmp.get(f"/api/v1/messages/{reply_id}").status_code == 200)
        files = {}
        for form in ("json", "pdf"):
            answer = rcmp.get(f"/api/v1/messages/{request_id}/export", params={"format": form})
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-disposition"] == f'attachment; filename="accord-case-{request_id}.{form}"'
            files[form] = folder / f"case.{form}"
            files[form].write_bytes(answer.content)
    pinned = [arg for node in both for arg in ("--expect-fingerprint", node.keys.public.signing_fingerprint)]
    return ExportedCase(request_id, reply_id, files, pinned)


def test_a_case_exported_through_the_api_as_json_and_pdf_verifies_offline_with_the_pinned_keys(
    exported_case: ExportedCase,
) -> None:
    document = json.loads(exported_case.files["json"].read_text())
    messages = {m["id"]: m for m in document["case"]["messages"]}
    types = {leaf["type"] for leaf in document["leaves"]}

    for form in ("json", "pdf"):
        verified = CliRunner().invoke(audit_app, ["verify", str(exported_case.files[form]), *exported_case.pinned])
        assert verified.exit_code == 0, verified.output
        assert f"VERIFIED: the case export of message {exported_case.request_id}" in verified.stdout
    assert set(messages) == {exported_case.request_id, exported_case.reply_id}
    assert messages[exported_case.request_id]["receipt"] and messages[exported_case.reply_id]["receipt"]
    assert {"message.created", "policy.decided", "envelope.received"} <= types
    assert all(leaf["proof"] is not None for leaf in document["leaves"])  # the export's checkpoint round covered all
    assert exported_case.files["pdf"].read_bytes().startswith(b"%PDF-")


def test_an_officer_who_may_not_read_the_case_cannot_export_it(
    canada: RunningNode, exported_case: ExportedCase
) -> None:
    with canada.client("ca.cbsa") as cbsa, canada.client("ca.rcmp") as rcmp:
        refused = cbsa.get(f"/api/v1/messages/{exported_case.request_id}/export")
        bad_format = rcmp.get(f"/api/v1/messages/{exported_case.request_id}/export", params={"format": "docx"})

    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert bad_format.status_code == 422


def test_oversight_browses_the_ledgers_events_by_case_type_and_actor_a_page_at_a_time(
    canada: RunningNode, exported_case: ExportedCase
) -> None:
    with canada.client("ca.operator") as operator, canada.client("ca.rcmp") as rcmp:
        case = operator.get("/api/v1/audit/events", params={"case": exported_case.reply_id}).json()
        exports = operator.get(
            "/api/v1/audit/events", params={"type": "case.exported", "case": exported_case.request_id}
        ).json()
        first = operator.get("/api/v1/audit/events", params={"case": exported_case.request_id, "limit": 2}).json()
        second = operator.get(
            "/api/v1/audit/events",
            params={"case": exported_case.request_id, "limit": 2, "after": first["next_after"]},
        ).json()
        later = operator.get("/api/v1/audit/events", params={"since": "2999-01-01T00:00:00Z"}).json()
        bad = [
            operator.get("/api/v1/audit/events", params=params)
            for params in (
                {"type": "no.such-event"},
                {"case": "not-a-case"},
                {"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
                {"since": "yesterday"},
                {"limit": 0},
            )
        ]
        not_oversight = rcmp.get("/api/v1/audit/events")

    named = {e["message"] for e in case["events"]}
    assert {exported_case.request_id, exported_case.reply_id} <= named  # the case by either of its messages
    assert [e["refs"]["format"] for e in exports["events"]] == ["json", "pdf"]
    assert {e["actor"] for e in exports["events"]} == {_officer_id(canada, "ca.rcmp")}
    assert len(first["events"]) == 2 and second["events"][0]["index"] > first["events"][1]["index"]
    assert [e["index"] for e in first["events"] + second["events"]] == [e["index"] for e in case["events"][:4]]
    assert later == {"events": [], "next_after": None}
    for answer in bad:
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert not_oversight.status_code == 403


def test_the_web_exports_the_case_from_the_message_page_and_oversight_opens_proofs_from_the_event_list(
    canada: RunningNode, exported_case: ExportedCase
) -> None:
    officer, _ = sign_in(canada, "ca.rcmp")
    auditor, _ = sign_in(canada, "ca.operator")
    try:
        message_page = officer.get(f"/messages/{exported_case.request_id}")
        token = csrf_of(message_page)
        pdf = officer.post(f"/messages/{exported_case.request_id}/export", data={"csrf": token, "format": "pdf"})
        forged = officer.post(f"/messages/{exported_case.request_id}/export", data={"format": "pdf"})
        events = auditor.get("/audit/events", params={"case": exported_case.request_id})
        wrong = auditor.get("/audit/events", params={"since": "last week"})

    finally:
        officer.close()
        auditor.close()

    assert f'action="/messages/{exported_case.request_id}/export"' in message_page.text
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert forged.status_code == 403
    assert events.status_code == 200
    assert f'href="/audit/messages/{exported_case.request_id}/proof"' in events.text
    assert wrong.status_code == 422 and "is not a date" in wrong.text


def _officer_id(node: RunningNode, username: str) -> str:
    with node.engine.connect() as conn:
        return str(conn.execute(select(officers.c.id).where(officers.c.username == username)).scalar_one())
