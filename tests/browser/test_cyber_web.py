"""The cyber screen in a real browser against the two-node sandbox: a Canadian analyst uploads a STIX bundle, it
crosses marked TLP:AMBER and India's analyst sees it arrive; a file that is neither STIX nor MISP is refused."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Browser, expect

from accord.domain.handling import Tlp
from tests.browser import test_web
from tests.browser.test_web import LIVE_TIMEOUT_MS, Sandbox, signed_in
from tests.integration.test_cyber_sharing import campaign_bundle

# The fixtures of the other browser module: this module starts its own sandbox (module scope) with them.
sandbox = test_web.sandbox
browser = test_web.browser
screens = test_web.screens


def test_an_analyst_shares_a_bundle_and_the_partner_sees_it(
    sandbox: Sandbox, browser: Browser, screens: Path, tmp_path: Path
) -> None:
    bundle_file = tmp_path / "campaign.json"
    bundle_file.write_text(json.dumps(campaign_bundle(Tlp.AMBER)))
    not_stix = tmp_path / "notes.json"
    not_stix.write_text(json.dumps({"notes": "not a bundle"}))

    context, page = signed_in(browser, sandbox.canada, "sample.cccs")
    page.get_by_role("link", name="Cyber", exact=True).click()
    expect(page.get_by_role("heading", name="Cyber threat sharing")).to_be_visible()
    page.get_by_text("Share a STIX bundle or a MISP event").click()
    page.get_by_label("File (STIX 2.1 bundle or MISP event, JSON)").set_input_files(str(not_stix))
    page.get_by_role("button", name="Share").click()
    expect(page.get_by_role("alert")).to_contain_text("neither a STIX 2.1 bundle nor a MISP event")

    page.get_by_label("File (STIX 2.1 bundle or MISP event, JSON)").set_input_files(str(bundle_file))
    page.get_by_label("Note").fill("Phishing campaign against two banks")
    page.get_by_role("button", name="Share").click()
    expect(page.get_by_role("status")).to_contain_text("Shared")
    row = page.locator("tr[data-share]").first
    expect(row).to_contain_text("TLP:AMBER")
    expect(row).to_contain_text("to CERT-In")
    expect(row).to_contain_text("[ipv4-addr:value = '198.51.100.7']")
    # A MISP event as MISP exports it: converted through misp-stix, its tlp:amber+strict tag kept.
    misp_event = Path(__file__).parent.parent / "data" / "misp" / "cccs-ransomware-municipalities.json"
    page.get_by_text("Share a STIX bundle or a MISP event").click()
    page.get_by_label("File (STIX 2.1 bundle or MISP event, JSON)").set_input_files(str(misp_event))
    page.get_by_role("button", name="Share").click()
    expect(page.get_by_role("status")).to_contain_text("Shared")
    expect(page.locator("tr[data-share]").first).to_contain_text("TLP:AMBER+STRICT")
    page.screenshot(path=screens / "cyber.png", full_page=True)
    context.close()

    context, page = signed_in(browser, sandbox.india, "sample.certin")
    page.goto("/cyber")
    received = page.locator("tr[data-share]", has_text="from CCCS")
    for _ in range(20):
        if received.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(received.first).to_contain_text("TLP:AMBER", timeout=LIVE_TIMEOUT_MS)
    context.close()
