"""Bulk personal data between two real nodes: lists of persons in attachments (CSV, XLSX, JSON, PDF) or in the body
are held for a legal officer with the hit/no-hit remedy, a short list leaves, and an attachment the screen cannot
read holds the message instead of breaking the send path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DatabaseFactory
from tests.integration.nodes import PairTemplates, RunningNode, draft, running_pair, wait_for
from tests.integration.test_web_sessions import csrf_of, sign_in
from tests.person_lists import applicants, as_csv, as_json, as_lines, as_pdf, as_xlsx, encrypted_pdf

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCREEN_RECORDS = 1000  # the pair below reads at most this many rows per attachment
SCREEN_BYTES = 1024 * 1024  # and attachments of at most this size


@pytest.fixture
def databases(sqlite_databases: DatabaseFactory) -> DatabaseFactory:
    """Legal rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return sqlite_databases


@pytest.fixture
def pair(
    templates: PairTemplates, databases: DatabaseFactory, tmp_path: Path
) -> Iterator[tuple[RunningNode, RunningNode]]:
    env = {"ACCORD_SCREEN_ATTACHMENT_RECORDS": str(SCREEN_RECORDS), "ACCORD_SCREEN_ATTACHMENT_BYTES": str(SCREEN_BYTES)}
    with running_pair(templates, databases, tmp_path, env=env) as started:
        yield started


def upload(client: httpx.Client, data: bytes, media_type: str) -> str:
    uploaded = client.post("/api/v1/attachments", content=data, headers={"Content-Type": media_type})
    assert uploaded.status_code == 201, uploaded.text
    sha256: str = uploaded.json()["sha256"]
    return sha256


def send_with(client: httpx.Client, name: str, data: bytes, media_type: str, **overrides: Any) -> dict[str, Any]:
    attachment = {"sha256": upload(client, data, media_type), "name": name}
    sent = client.post("/api/v1/messages", json=draft(attachments=[attachment], **overrides))
    assert sent.status_code == 201, sent.text
    body: dict[str, Any] = sent.json()
    return body


def policy_ids(sent: dict[str, Any]) -> list[str]:
    return [p["id"] for p in sent["policy"]["policies"]]


LIST_REQUEST = {
    "focus_area": "immigration",
    "offence": "0805",
    "recipient_agency": "NCB",
    "title": "Applicants whose files the consultancy prepared",
    "body": "Could your bureau tell us which of the attached applicants are known to you?",
}


def test_five_hundred_applicants_are_held_in_every_format_and_three_leave(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = pair
    people = applicants(500)
    files = {
        "applicants.csv": (as_csv(people), "text/csv"),
        "applicants.xlsx": (as_xlsx(people), XLSX),
        "applicants.json": (as_json(people), "application/json"),
        "applicants.pdf": (as_pdf(as_lines(people).splitlines()), "application/pdf"),
        "आवेदक.csv": (as_csv(applicants(500, script="devanagari"), ("नाम", "जन्म तिथि", "पासपोर्ट")), "text/csv"),
        "ਬਿਨੈਕਾਰ.txt": (as_lines(applicants(500, script="gurmukhi")).encode(), "text/plain"),
    }
    held = []
    with ca.client("ca.rcmp") as rcmp:
        for name, (data, media_type) in files.items():
            sent = send_with(rcmp, name, data, media_type, **LIST_REQUEST)
            assert sent["delivery"]["state"] == "held", (name, sent["policy"])
            assert policy_ids(sent) == ["ca-minimisation-bulk-persons"], name
            [hold] = sent["policy"]["policies"]
            assert "hit/no-hit" in hold["remedy"] and "Privacy Act" in hold["citation"]
            assert sent["policy"]["findings"]["bulk_personal_data"]["attachments"] == {name: 500}
            held.append(sent["id"])

        in_body = rcmp.post(
            "/api/v1/messages", json=draft(**(LIST_REQUEST | {"body": as_lines(applicants(200))}))
        ).json()
        assert in_body["delivery"]["state"] == "held"
        assert in_body["policy"]["findings"]["bulk_personal_data"]["title_and_body"] == 200

        # Asking first gives the same decision as sending: one service decides both.
        attachment = {"sha256": upload(rcmp, as_csv(people), "text/csv"), "name": "applicants.csv"}
        evaluated = rcmp.post("/api/v1/messages/evaluate", json=draft(attachments=[attachment], **LIST_REQUEST))
        assert evaluated.json()["verdict"] == "review"
        assert [p["id"] for p in evaluated.json()["policies"]] == ["ca-minimisation-bulk-persons"]

        three = send_with(rcmp, "three.csv", as_csv(applicants(3)), "text/csv", **LIST_REQUEST)
        assert three["delivery"]["state"] == "queued", three["policy"]
        wait_for(lambda: rcmp.get(f"/api/v1/messages/{three['id']}").json()["delivery"]["state"] == "delivered")

    with in_.client("in.ncb") as ncb:
        received = {m["id"] for m in ncb.get("/api/v1/messages", params={"box": "inbox"}).json()["messages"]}
    assert three["id"] in received
    assert not received & {*held, in_body["id"]}, "nothing held has left"

    # The web form's "Check policy" reads the attached file as the send will.
    web, _ = sign_in(ca, "ca.rcmp")
    try:
        token = csrf_of(web.get("/compose"))
        form = {
            "recipient_agency": "NCB",
            "focus_area": "immigration",
            "offence": "0805",
            "classification": "Protected B",
            "legal_basis": "Privacy Act s.8(2)(f); Canada–India arrangement",
            "title": "Applicants",
            "body": "Attached.",
        }
        listing = {"attachment": ("applicants.csv", as_csv(people), "text/csv")}
        checked = web.post("/compose/check", data=form, files=listing, headers={"X-CSRF-Token": token})
        short = {"attachment": ("three.csv", as_csv(applicants(3)), "text/csv")}
        allowed = web.post("/compose/check", data=form, files=short, headers={"X-CSRF-Token": token})
    finally:
        web.close()
    assert checked.status_code == 200 and "Needs legal review" in checked.text, checked.text
    assert "ca-minimisation-bulk-persons" in checked.text
    assert "Allowed" in allowed.text, allowed.text


def test_an_attachment_the_screen_cannot_read_holds_the_message_and_says_why(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = pair
    unreadable = {
        "statement.pdf": (encrypted_pdf(), "application/pdf", "encrypted"),
        "list.xlsx": (as_xlsx(applicants(50))[:4000], XLSX, "workbook cannot be opened"),
        "long.csv": (as_csv(applicants(SCREEN_RECORDS + 500)), "text/csv", "more records than the screen reads"),
        "huge.txt": (b"Nothing to see here.\n" * (SCREEN_BYTES // 20), "text/plain", f"reads at most {SCREEN_BYTES}"),
        "register.jpg": (b"\xff\xd8\xff\xe0" + b"\x00" * 256, "image/jpeg", "does not read image/jpeg"),
        "export.json": (b'{"applicants": [{"name": "Rajesh Kumar", ', "application/json", "not well-formed JSON"),
    }
    with ca.client("ca.rcmp") as rcmp:
        for name, (data, media_type, why) in unreadable.items():
            sent = send_with(rcmp, name, data, media_type)
            assert sent["delivery"]["state"] == "held", (name, sent["policy"])
            assert policy_ids(sent) == ["ca-minimisation-unscreened-attachment"], name
            [finding] = sent["policy"]["findings"]["attachments_not_screened"]
            assert finding["name"] == name and why in finding["why"], finding
            assert sent["policy"]["policies"][0]["remedy"]
        # The node is still well: an ordinary message leaves.
        fine = rcmp.post("/api/v1/messages", json=draft())
        assert fine.status_code == 201 and fine.json()["delivery"]["state"] == "queued"
