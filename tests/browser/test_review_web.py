"""The review form in real headless Chromium against the real two-node sandbox: a legal officer opens an urgent
death-penalty-eligible disclosure (the badge says it waits), reads why it is held in sentences, records the receiving
state's assurance and a redaction, watches the preview of what will leave change as they edit, and approves; India
receives exactly what the preview showed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, expect

from tests.browser import test_web
from tests.browser.test_precursors_web import api_token, send
from tests.browser.test_web import LIVE_TIMEOUT_MS, Sandbox, signed_in
from tests.integration.nodes import assessment, wait_for

# The fixtures of the other browser module: this module starts its own sandbox (module scope) with them.
sandbox = test_web.sandbox
browser = test_web.browser
screens = test_web.screens

TITLE = "Locate a suspect in the Surrey shooting"
SUSPECT = {"kind": "person", "name": "Harjit Example", "role": "suspect", "date_of_birth": "1988-04-12"}
VICTIM = {
    "kind": "person",
    "name": "Vikram Victim",
    "role": "victim",
    "identifiers": [{"scheme": "phone", "value": "+1"}],
}


def held_share(sandbox: Sandbox) -> str:
    token = api_token(sandbox.canada, "sample.rcmp")
    sent = send(
        sandbox.canada,
        token,
        {
            "kind": "request",
            "recipient_agency": "NIA",
            "focus_area": "networks",
            "priority": "urgent",
            "offence": "0101",  # ICCS: intentional homicide
            "handling": {"classification": "Protected B", "tlp": "AMBER", "caveats": ["H2"]},
            "legal_basis": "Privacy Act s.8(2)(f); Canada–India arrangement",
            "title": TITLE,
            "body": "Please locate the suspect, believed to have travelled to Ludhiana after the shooting.",
            "subjects": [SUSPECT, VICTIM],
        },
    )
    assert sent["delivery"]["state"] == "held", sent["policy"]
    # Canada's pack holds every disclosure naming a person until a mistreatment-risk assessment is recorded (a gate
    # approval cannot lift): a legal officer records it first, so the death-penalty assurance is what remains.
    legal = api_token(sandbox.canada, "sample.legal.ca")
    recorded = httpx.post(
        sandbox.canada.url + "/api/v1/assessments",
        json=assessment(sent["case_id"], [SUSPECT, VICTIM]),
        headers={"Authorization": f"Bearer {legal}"},
        timeout=30,
    )
    assert recorded.status_code == 201, recorded.text
    return str(sent["id"])


def test_a_legal_officer_records_an_assurance_and_a_redaction_sees_the_preview_and_approves(
    sandbox: Sandbox, browser: Browser, screens: Path
) -> None:
    message_id = held_share(sandbox)
    context, legal = signed_in(browser, sandbox.canada, "sample.legal.ca")
    queue_link = legal.get_by_role("link", name=re.compile("Review queue"))
    expect(queue_link.locator(".badge")).to_have_text(re.compile(r"[1-9]"))
    queue_link.click()
    card = legal.locator(f"section.review[data-message='{message_id}']")
    expect(card).to_contain_text("Please locate the suspect")  # the card shows the body
    expect(card.locator(".findings").first).to_contain_text(
        "Death is a possible sentence in the receiving state under Bharatiya Nyaya Sanhita, 2023 s.103(1) (Murder)"
    )
    expect(card.locator(".findings").first).to_contain_text(
        "sample.legal.ca assessed on " + datetime.now(UTC).date().isoformat() + ": no substantial risk of mistreatment"
    )
    expect(card.locator(".reasons.holding")).to_contain_text("ca-death-penalty-assurance")
    preview = card.locator(".preview")
    expect(preview).to_contain_text("Vikram Victim")

    card.get_by_label("Kind").select_option("no-death-penalty")
    card.get_by_label("Reference").fill("Note verbale 2026/114")
    card.get_by_label("Issued on").fill("2026-10-02")
    card.get_by_label("Issuing authority").fill("Ministry of External Affairs, Government of India")
    card.get_by_label("Remove Vikram Victim (victim) entirely").check()
    expect(preview.locator(".leaving")).not_to_contain_text("Vikram Victim", timeout=LIVE_TIMEOUT_MS)
    expect(preview).to_contain_text("Left out: the whole of Vikram Victim (person, victim).")
    expect(preview).to_contain_text("Note verbale 2026/114")
    expect(preview).not_to_contain_text("ca-death-penalty-assurance")
    legal.screenshot(path=screens / "review-form.png", full_page=True)

    card.get_by_label("Reason").fill("Assurance received by note verbale; the victim's details are not needed.")
    card.get_by_role("button", name="Approve").click()
    expect(legal.get_by_role("status").first).to_contain_text("Decision recorded: approve")
    expect(legal.locator(f"section.review[data-message='{message_id}']")).to_have_count(0)
    context.close()

    token = api_token(sandbox.india, "sample.nia")

    def arrived() -> dict[str, Any] | None:
        answer = httpx.get(
            f"{sandbox.india.url}/api/v1/messages/{message_id}", headers={"Authorization": f"Bearer {token}"}
        )
        return dict(answer.json()) if answer.status_code == 200 else None

    received = wait_for(arrived, timeout_s=LIVE_TIMEOUT_MS / 1000)
    assert [s["name"] for s in received["subjects"]] == ["Harjit Example"]
    assert received["subjects"][0]["date_of_birth"] == "1988-04-12"
