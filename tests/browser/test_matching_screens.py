"""The hit/no-hit screens in real headless Chromium against the two-node sandbox (both nodes hold the sandbox's
matching key; Bureau of Immigration holds its SAMPLE persons): an IRCC officer queries one person from the query
screen, the result page (polling while the query is sent) shows the hit without a reload, and the officer requests
the hit's record."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.browser import test_web
from tests.browser.test_web import LIVE_TIMEOUT_MS, Sandbox, signed_in

# The fixtures of the other browser module: this module starts its own sandbox (module scope) with them.
sandbox = test_web.sandbox
browser = test_web.browser
screens = test_web.screens


def test_an_officer_queries_one_person_and_sees_the_answer(sandbox: Sandbox, browser: Browser, screens: Path) -> None:
    context, page = signed_in(browser, sandbox.canada, "sample.ircc")
    page.get_by_role("link", name="Matching", exact=True).click()
    expect(page.get_by_role("heading", name="Hit/no-hit queries")).to_be_visible()
    page.get_by_label("Queried agency").first.select_option("BOI")
    page.get_by_label("Focus area").first.select_option("immigration")
    page.get_by_label("Your reference").fill("APP-1")
    # BOI-P-0001 of the SAMPLE holdings, romanised without the middle name and with the day first.
    page.get_by_label("Name").fill("Gurpreet Bajwa")
    page.get_by_label("Date of birth").fill("18/01/1982")
    page.get_by_label("Sex").select_option("F")
    page.get_by_label("Nationality").fill("IND")
    page.get_by_role("button", name="Query", exact=True).click()

    expect(page).to_have_url(re.compile(r"/matching/queries/[0-9a-f-]{36}$"))
    expect(page.locator(".query-state")).to_contain_text("answered", timeout=LIVE_TIMEOUT_MS)
    row = page.locator("tr[data-record='APP-1']")
    expect(row.locator(".answer")).to_have_text("hit")
    expect(row.locator(".badge")).to_have_text(re.compile("high|medium|low"))
    page.screenshot(path=screens / "matching-result.png", full_page=True)

    row.locator("summary", has_text="Request the record").click()
    row.get_by_label("Legal basis").fill("IRPA s.8; Privacy Act s.8(2)(f); Canada–India arrangement")
    row.get_by_label("Reason").fill("A study-permit applicant matched your holdings; we ask for the record.")
    row.get_by_label("Offence code").fill("07023")
    row.get_by_label("Role").select_option("other")
    row.get_by_role("button", name="Request the record").click()
    expect(page.locator(".alert.ok")).to_contain_text("The request for record 1 is made")
    state = page.locator("tr[data-record='APP-1'] .state")
    expect(state).to_have_text(re.compile("queued|sent|delivered|read|held for a legal officer"))

    page.get_by_role("link", name="Hit/no-hit queries").click()
    expect(page.locator("table.match-queries tbody tr").first).to_contain_text("answered")
    context.close()
