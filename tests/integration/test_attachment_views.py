"""Attachments as an officer meets them: opened in the browser where that is safe (a PDF, an image, plain text),
downloaded otherwise (never run as a page of the site), named as the message names them, under need-to-know; and a
form upload (`curl -F`) stores its file part, not the form around it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from accord.i18n import format_size
from accord.store.tables import blobs
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PairTemplates, RunningNode, draft, running_pair
from tests.integration.test_web_sessions import sign_in
from tests.person_lists import as_pdf

PAGE = b"<html><body><script>alert(document.cookie)</script></body></html>"
DRAWING = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"


@pytest.fixture(scope="module")
def canada(templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    root = tmp_path_factory.mktemp("attachments")
    with running_pair(templates, DatabaseFactory("sqlite", root), root) as (ca, _):
        yield ca


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
