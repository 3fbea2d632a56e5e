"""Composing a disclosure the death-penalty gate applies to, in real headless Chromium against the real sandbox:
the officer records a suspect's role, date of birth, nationality and identifiers, picks the offence from the ICCS
list and records the no-death-penalty assurance, and sees the decision (and what would make it lawful) change."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser import test_web
from tests.browser.test_web import Sandbox, signed_in

# The fixtures of the other browser module: this module starts its own sandbox (module scope) with them.
sandbox = test_web.sandbox
browser = test_web.browser
screens = test_web.screens

TITLE = "Whereabouts of a man charged in a fatal stabbing"


def fill_request(page: Page) -> None:
    page.goto("/compose")
    page.get_by_label("To agency").select_option("CBI")
    page.get_by_label("Focus area").select_option("networks")
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_label("Legal basis").fill("Privacy Act s.8(2)(f); Canada–India arrangement")
    # The offence list holds the ICCS taxonomy as "code label"; the officer picks one.
    expect(page.locator("#offence-list option[value='0101 Intentional homicide']")).to_have_count(1)
    expect(page.locator("#offence-list option[value='020221 Kidnapping']")).to_have_count(1)
    page.get_by_label("Offence (ICCS)").fill("0101 Intentional homicide")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Body").fill(
        "The accused left for Punjab after the taxi driver he stabbed died. Please locate him."
    )
    subject = page.locator("fieldset.subject").first
    subject.get_by_label("Kind").select_option("person")
    subject.get_by_label("Name").fill("H. Example")
    subject.get_by_label("Role").select_option("suspect")
    subject.get_by_label("Date of birth").fill("1991-04-12")
    subject.get_by_label("Nationality").fill("IND")
    page.locator("input[name=subject_id_scheme_0]").fill("passport")
    page.locator("input[name=subject_id_value_0]").fill("Z1234567")
    page.locator("input[name=subject_id_scheme_0_1]").fill("phone")
    page.locator("input[name=subject_id_value_0_1]").fill("+91 98000 00000")


def test_a_suspect_in_a_murder_case_needs_the_assurance_recorded_in_the_form(
    sandbox: Sandbox, browser: Browser, screens: Path
) -> None:
    context, page = signed_in(browser, sandbox.canada, "sample.rcmp")
    fill_request(page)
    page.get_by_role("button", name="Check policy").click()
    decision = page.locator("#decision")
    expect(decision).to_contain_text("Needs legal review")
    expect(decision).to_contain_text("ca-death-penalty-assurance")
    expect(decision).to_contain_text("What would make it lawful")
    expect(decision).to_contain_text("no-death-penalty assurance")

    page.get_by_label("Assurance kind").first.select_option("no-death-penalty")
    page.get_by_label("Assurance reference").first.fill("Note verbale No. T-413/2026")
    page.get_by_label("Issued on").first.fill("2026-11-02")
    page.get_by_label("Issuing authority").first.fill("Ministry of External Affairs, Government of India")
    page.get_by_role("button", name="Check policy").click()
    expect(decision).not_to_contain_text("ca-death-penalty-assurance")
    # The reviewer still weighs mistreatment risk: H. Example has no assessment recorded in this new case.
    expect(decision).to_contain_text("ca-acmfea-assessment-required")
    page.screenshot(path=screens / "compose-assurance.png", full_page=True)

    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status").first).to_contain_text("held")
    expect(page.locator("body")).to_contain_text("Note verbale No. T-413/2026")
    context.close()


def test_an_offence_that_is_not_in_the_list_or_missing_is_refused_on_the_form(
    sandbox: Sandbox, browser: Browser
) -> None:
    context, page = signed_in(browser, sandbox.canada, "sample.rcmp")
    fill_request(page)
    page.get_by_label("Offence (ICCS)").fill("murder most foul")
    page.get_by_role("button", name="Check policy").click()
    expect(page.locator("#decision")).to_contain_text("Not valid")
    expect(page.locator("#decision")).to_contain_text("not in the offence list")

    page.get_by_label("Offence (ICCS)").fill("")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("must name the offence")
    expect(page.get_by_role("alert")).to_contain_text("Privacy Act")
    expect(page.get_by_label("Title")).to_have_value(TITLE)
    context.close()
