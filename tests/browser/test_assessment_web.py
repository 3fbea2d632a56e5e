"""A legal officer records a mistreatment-risk assessment in Chromium: from the held disclosure in the review queue
to the form, every factor rated, and the disclosure leaves once every person named is assessed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.sync_api import Browser, expect

from tests.browser.test_web import LIVE_TIMEOUT_MS, Sandbox, browser, sandbox, screens, signed_in

__all__ = ["browser", "sandbox", "screens"]  # the fixtures this module uses, from the main browser module

SUSPECT = {"kind": "person", "name": "Harpreet Singh", "role": "suspect", "date_of_birth": "1987-05-14"}


def test_a_legal_officer_assesses_the_named_suspect_and_the_disclosure_leaves(
    sandbox: Sandbox, browser: Browser, screens: Path
) -> None:
    node = sandbox.canada
    token = httpx.post(
        node.url + "/api/v1/token", data={"username": "sample.rcmp", "password": "sample.rcmp-SAMPLE-pw"}
    ).json()["access_token"]
    title = "Whereabouts of a named drug suspect"
    draft = {
        "kind": "request",
        "recipient_agency": "NCB",
        "focus_area": "drugs",
        "handling": {"classification": "Protected B", "tlp": "AMBER", "caveats": ["H0", "H2"]},
        "legal_basis": "Privacy Act s.8(2)(f); Canada–India arrangement",
        "title": title,
        "body": "Can your office confirm where Mr Singh now lives?",
        "subjects": [SUSPECT],
        "offence": "06012",
    }
    sent = httpx.post(node.url + "/api/v1/messages", json=draft, headers={"Authorization": f"Bearer {token}"})
    assert sent.status_code == 201 and sent.json()["delivery"]["state"] == "held", sent.text

    context, legal = signed_in(browser, node, "sample.legal.ca")
    legal.get_by_role("link", name="Review queue").click()
    item = legal.locator("section.review", has_text=title)
    item.get_by_role("link", name=re.compile("Mistreatment-risk assessment")).click()
    expect(legal.locator("ul.persons")).to_contain_text("Harpreet Singh")
    expect(legal.locator("ul.persons")).to_contain_text("needs an assessment")
    for select in legal.locator("form.assessment select").all():
        select.select_option("moderate")
    legal.get_by_label("no substantial risk of mistreatment").check()
    legal.get_by_label("Basis for the conclusion").fill("Location only; the unit's record is adequate.")
    legal.get_by_label("Assessed on").fill(datetime.now(UTC).date().isoformat())
    legal.screenshot(path=screens / "assessment.png", full_page=True)
    legal.get_by_role("button", name="Record the assessment").click()
    expect(legal.get_by_role("status")).to_contain_text("1 now leave")
    expect(legal.locator("ul.persons")).to_contain_text("assessed")

    legal.goto("/reviews")
    expect(legal.locator("section.review", has_text=title)).to_have_count(0)
    context.close()
    officer_context, officer = signed_in(browser, node, "sample.rcmp")
    officer.goto("/outbox")
    state = officer.locator("tr", has_text=title).locator(".state").first
    expect(state).to_have_text(re.compile("queued|sent|delivered|read"), timeout=LIVE_TIMEOUT_MS)
    officer_context.close()
