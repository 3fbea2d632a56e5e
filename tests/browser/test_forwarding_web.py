"""Forwarding in real Chromium on the two-node sandbox: an H2 message refused with the caveat's words and the
remedy, a bad target refused with a form error, an H3 message forwarded once Canada's officer grants consent from
the Forwards page."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser import test_web
from tests.browser.test_web import LIVE_TIMEOUT_MS, Sandbox, signed_in
from tests.integration.nodes import draft, wait_for

# The fixtures of the other browser module: this module starts its own sandbox (module scope) with them.
sandbox = test_web.sandbox
browser = test_web.browser
screens = test_web.screens

RESTRICTION = "Not to be shared with state police"


def api(url: str, username: str) -> httpx.Client:
    token = httpx.post(url + "/api/v1/token", data={"username": username, "password": f"{username}-SAMPLE-pw"})
    token.raise_for_status()
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token.json()['access_token']}"})


def sent_to_ncb(sandbox: Sandbox, title: str, **handling: Any) -> str:
    marks = {"classification": "Protected B", "tlp": "AMBER"} | handling
    with api(sandbox.canada.url, "sample.rcmp") as rcmp:
        sent = rcmp.post("/api/v1/messages", json=draft(title=title, handling=marks, offence="06012"))
        assert sent.status_code == 201 and sent.json()["delivery"]["state"] == "queued", sent.text
    message_id: str = sent.json()["id"]
    with api(sandbox.india.url, "sample.ncb") as ncb:
        wait_for(lambda: ncb.get(f"/api/v1/messages/{message_id}").status_code == 200)
    return message_id


def forward_in_browser(page: Page, message_id: str, agency: str, reason: str, officer: str = "") -> None:
    page.goto(f"/messages/{message_id}")
    page.get_by_role("link", name="Forward").click()
    page.get_by_label("Agency").select_option(agency)
    page.get_by_label("Only this officer (optional)").fill(officer)
    page.get_by_label("Why they need it (the originator is told)").fill(reason)
    page.get_by_role("button", name="Forward").click()


def test_an_h2_message_is_refused_with_its_words_and_a_bad_target_gets_a_form_error(
    sandbox: Sandbox, browser: Browser
) -> None:
    message_id = sent_to_ncb(sandbox, "Broker in Surrey asking for 4-AP quotes", caveats=["H0", "H2"])
    context, ncb = signed_in(browser, sandbox.india, "sample.ncb")
    forward_in_browser(ncb, message_id, "CBI", "CBI runs the linked inquiry", officer="sample.nia")
    expect(ncb.get_by_role("alert")).to_contain_text("not an active officer of CBI")

    forward_in_browser(ncb, message_id, "CBI", "CBI runs the linked inquiry")
    outcome = ncb.get_by_role("status")
    expect(outcome).to_contain_text("Refused")
    expect(outcome).to_contain_text("no onward dissemination without the originator's permission")
    expect(outcome).to_contain_text("What would make it lawful")
    context.close()


def test_an_h3_message_is_forwarded_once_the_originator_grants_consent(
    sandbox: Sandbox, browser: Browser, screens: Any
) -> None:
    title = "Courier route for ephedrine through Ludhiana"
    message_id = sent_to_ncb(sandbox, title, caveats=["H3"], restrictions=RESTRICTION)
    in_context, ncb = signed_in(browser, sandbox.india, "sample.ncb")
    forward_in_browser(ncb, message_id, "CBN", "CBN is reviewing the exporter's NOC")
    expect(ncb.get_by_role("status")).to_contain_text("Waiting for the originator's consent")
    expect(ncb.get_by_role("status")).to_contain_text(RESTRICTION)

    with api(sandbox.canada.url, "sample.rcmp") as originator:
        wait_for(
            lambda: any(f["state"] == "awaiting-consent" for f in originator.get("/api/v1/forwards").json()["forwards"])
        )
    ca_context, rcmp = signed_in(browser, sandbox.canada, "sample.rcmp")
    rcmp.goto("/forwards")
    asked = rcmp.locator("form.consent", has_text="CBN is reviewing the exporter's NOC")
    expect(asked).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    asked.get_by_role("button", name="Grant consent").click()
    expect(rcmp.get_by_role("status")).to_contain_text("Consent granted")
    rcmp.screenshot(path=screens / "forwards.png", full_page=True)

    with api(sandbox.india.url, "sample.cbn") as cbn:
        wait_for(lambda: cbn.get(f"/api/v1/messages/{message_id}").status_code == 200)
    cbn_context, cbn_page = signed_in(browser, sandbox.india, "sample.cbn")
    cbn_page.goto(f"/messages/{message_id}")
    expect(cbn_page.get_by_role("heading", name=title)).to_be_visible()
    expect(cbn_page.get_by_role("link", name="Forward")).to_have_count(0)  # only the recipient agency forwards
    cbn_context.close()
    ncb.goto("/forwards")
    expect(ncb.locator("tr", has_text="CBN").locator(".state").first).to_have_text("forwarded")
    in_context.close()
    ca_context.close()
