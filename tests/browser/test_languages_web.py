"""The main flows in French and in Hindi, in real Chromium against the two-node sandbox: a CBSA officer switches to
French and sends a request that an NCB officer, working in Hindi, answers; a legal officer reviews a held disclosure
in French; the Canadian coordinator prints the Q4 report in English and French. Every label the test looks for is
the catalogue's own translation, so a page left in English fails it; screenshots go to docs/screens."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pypdfium2
from playwright.sync_api import Browser, BrowserContext, Page, expect

from accord.i18n import Language, _, language_scope
from accord.sandbox import SandboxNode
from tests.browser.test_web import LIVE_TIMEOUT_MS, Sandbox, browser, sandbox, screens

__all__ = ["browser", "sandbox", "screens"]  # the fixtures this module shares with test_web

DEVANAGARI = re.compile("[\u0900-\u097f]")


def fr(message: str) -> str:
    with language_scope(Language.FR):
        translated = _(message)
    assert translated != message, f"no French for {message!r}"
    return translated


def hi(message: str) -> str:
    with language_scope(Language.HI):
        translated = _(message)
    assert DEVANAGARI.search(translated), f"no Hindi for {message!r}"
    return translated


def signed_in_as(browser: Browser, node: SandboxNode, username: str, language: Language) -> tuple[BrowserContext, Page]:
    """Signed in after choosing `language` on the sign-in page, as someone who reads no English would."""
    context = browser.new_context(base_url=node.url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto("/signin")
    in_language = fr if language is Language.FR else hi
    page.get_by_role("button", name={Language.FR: "Français", Language.HI: "हिन्दी"}[language]).click()
    expect(page.locator("html")).to_have_attribute("lang", language.value)
    expect(page.get_by_role("heading", name=in_language("Sign in"))).to_be_visible()
    page.get_by_label(in_language("Username")).fill(username)
    page.get_by_label(in_language("Password")).fill(f"{username}-SAMPLE-pw")
    page.get_by_role("button", name=in_language("Sign in")).click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    return context, page


def compose_request(page: Page, title: str, body: str) -> None:
    page.goto("/compose")
    page.locator("select[name=recipient_agency]").select_option("NCB")
    page.locator("select[name=focus_area]").select_option("drugs")
    page.locator("select[name=priority]").select_option("urgent")
    page.locator("input[name=legal_basis]").fill("Privacy Act s.8(2)(f); Canada–India arrangement")
    page.locator("input[name=offence]").fill("06012")
    page.locator("input[name=title]").fill(title)
    page.locator("textarea[name=body]").fill(body)
    page.locator("select[name=subject_kind_0]").select_option("organisation")
    page.locator("input[name=subject_name_0]").fill("Example Chem Pvt Ltd")


def test_a_cbsa_officer_in_french_and_an_ncb_officer_in_hindi_complete_a_request_and_its_answer(
    sandbox: Sandbox, browser: Browser, screens: Path
) -> None:
    ca_context, cbsa = signed_in_as(browser, sandbox.canada, "sample.cbsa", Language.FR)
    in_context, ncb = signed_in_as(browser, sandbox.india, "sample.ncb", Language.HI)
    ncb.screenshot(path=screens / "inbox-hi.png", full_page=True)
    expect(cbsa.get_by_role("link", name=fr("Compose"))).to_be_visible()

    title = "Destinataire d'une expédition de 4-AP via Nhava Sheva"
    compose_request(cbsa, title, "Veuillez confirmer le destinataire et la licence de l'expédition décrite.")
    cbsa.get_by_role("button", name=fr("Check policy")).click()
    expect(cbsa.locator("#decision")).to_contain_text(fr("Allowed"))
    cbsa.screenshot(path=screens / "compose-fr.png", full_page=True)
    cbsa.get_by_role("button", name=fr("Send"), exact=True).click()
    expect(cbsa.get_by_role("status").first).to_be_visible()
    expect(cbsa.locator("html")).to_have_attribute("lang", "fr")

    row = ncb.locator("tr", has_text=title)
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    row.get_by_role("link", name=title).click()
    ncb.get_by_label(hi("Answer"), exact=True).fill("परेषिती के पास लाइसेंस NDPS/2026/114 है; खेप को मंज़ूरी दी गई है।")
    ncb.get_by_role("button", name=hi("Send answer")).click()
    expect(ncb.get_by_role("status").first).to_be_visible()
    ncb.screenshot(path=screens / "case-hi.png", full_page=True)

    cbsa.goto("/outbox")
    cbsa.locator("tr", has_text=title).get_by_role("link", name=title).click()
    expect(cbsa.locator("table.thread tr", has_text=f"Re: {title}")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(cbsa.get_by_role("link", name=fr("Outbox"))).to_be_visible()
    cbsa.screenshot(path=screens / "case-fr.png", full_page=True)
    ca_context.close()
    in_context.close()


def test_a_legal_officer_reviews_a_held_disclosure_in_french(sandbox: Sandbox, browser: Browser, screens: Path) -> None:
    officer_context, officer = signed_in_as(browser, sandbox.canada, "sample.rcmp", Language.FR)
    title = "Fonds recueillis près d'un gurdwara pour un acheteur"
    compose_request(
        officer, title, "Des fonds ont été recueillis près du gurdwara; l'acheteur a payé le courtier en espèces."
    )
    officer.get_by_role("button", name=fr("Check policy")).click()
    expect(officer.locator("#decision")).to_contain_text(fr("Needs legal review"))
    officer.get_by_role("button", name=fr("Send"), exact=True).click()
    expect(officer.get_by_role("status").first).to_be_visible()

    legal_context, legal = signed_in_as(browser, sandbox.canada, "sample.legal.ca", Language.FR)
    legal.get_by_role("link", name=fr("Review queue")).click()
    item = legal.locator("section.review", has_text=title)
    expect(item).to_be_visible()
    legal.screenshot(path=screens / "reviews-fr.png", full_page=True)
    item.get_by_label(fr("Reason")).fill("Le lieu de culte est accessoire; la demande porte sur le paiement.")
    item.get_by_role("button", name=fr("Approve"), exact=True).click()
    expect(legal.locator("section.review", has_text=title)).to_have_count(0)
    officer_context.close()
    legal_context.close()


def test_the_canadian_coordinator_prints_the_q4_report_in_english_and_french(
    sandbox: Sandbox, browser: Browser, screens: Path
) -> None:
    context, coordinator = signed_in_as(browser, sandbox.canada, "sample.coord.ca", Language.FR)
    coordinator.get_by_role("link", name=fr("Work plan")).click()
    coordinator.screenshot(path=screens / "workplan-fr.png", full_page=True)
    report = coordinator.locator("form.report")
    quarter = report.locator("select[name=period] option", has_text="Q4").first.get_attribute("value")
    assert quarter is not None
    report.locator("select[name=period]").select_option(quarter)
    report.locator("select[name=language]").select_option("en+fr")
    # A bilingual PDF with its charts takes tens of seconds on a loaded machine: the download is waited for that long.
    with coordinator.expect_download(timeout=120_000) as download:
        report.locator("button[type=submit]").click(timeout=120_000)
    pdf = pypdfium2.PdfDocument(BytesIO(Path(download.value.path()).read_bytes()))
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    with language_scope(Language.EN):
        english = _("Joint progress report")
    assert english in text and fr("Joint progress report") in text
    context.close()
