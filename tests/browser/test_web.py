"""The web UI in real headless Chromium (Debian's, driven by Playwright) against the real two-node sandbox: sign-in,
a request answered across the two nodes with live updates, a held disclosure approved by a reviewer, the work plan,
directory and audit screens, and the refusals (wrong password, CSRF-less post, another agency's message)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from typer.testing import CliRunner

from accord.cli.audit import audit_app
from accord.crypto.keys import NodeKeys
from accord.domain.parties import Party
from accord.node import KEY_DIR
from accord.sandbox import (
    MailCatcher,
    SandboxNode,
    caught_mail,
    plain_text,
    prepare_sandbox,
    read_caught,
    sandbox_mail_dir,
)
from accord.sandbox.nodes import node_environment
from accord.sandbox.processes import NODE_LOG
from tests.integration.launcher import LaunchedProcess, NodeLauncher, stop_launched, wait_answering
from tests.integration.nodes import free_port, wait_for
from tests.person_lists import as_pdf

CHROMIUM = os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium")
# Flags for a closed network: no background fetches Chromium would make at start (they are refused here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIVE_TIMEOUT_MS = 20_000


@dataclass
class Sandbox:
    canada: SandboxNode
    india: SandboxNode
    mail: Path  # the Maildir the nodes' notifications land in


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, launcher: NodeLauncher) -> Iterator[Sandbox]:
    """`make run`'s sandbox: its two nodes made as `accord up` makes them, each started as `accord node serve` in the
    sandbox's environment (by the tests' launcher: tests/integration/test_sandbox.py starts `accord up` itself), mailing
    through a mail catcher."""
    var = tmp_path_factory.mktemp("sandbox")
    nodes = {n.party: n for n in prepare_sandbox(var, {Party.IN: free_port(), Party.CA: free_port()})}
    catcher = MailCatcher(sandbox_mail_dir(var), free_port())
    catcher.start()
    running: list[LaunchedProcess] = []
    try:
        for node in nodes.values():  # both at once: each finds the other when it comes up
            argv = ["node", "serve", "--data", str(node.data_dir)]
            running.append(launcher.launch(argv, node_environment(node, catcher.port), node.data_dir / NODE_LOG))
        for node, process in zip(nodes.values(), running, strict=True):
            wait_answering(node.url, process, node.data_dir / NODE_LOG, node.node_id, timeout_s=60)
        yield Sandbox(nodes[Party.CA], nodes[Party.IN], sandbox_mail_dir(var))
    finally:
        stop_launched(running, timeout_s=30)
        catcher.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not at {CHROMIUM}; `make browser` installs Debian's package")
    with sync_playwright() as playwright:
        yield launch(playwright)


def launch(playwright: Playwright, attempts: int = 3) -> Browser:
    """Debian's Chromium, seen alive with a blank page first: on a loaded machine it has died as it started, and then
    every test of the module failed on a closed browser, so a start that fails is tried again."""
    for attempt in range(1, attempts + 1):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            browser.new_page().close()
            return browser
        except PlaywrightError:
            if browser.is_connected():
                browser.close()
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


@pytest.fixture
def screens(tmp_path: Path) -> Path:
    """Screenshots go to docs/screens when ACCORD_SCREENSHOTS names it, to a temporary folder otherwise."""
    folder = Path(os.environ.get("ACCORD_SCREENSHOTS", str(tmp_path)))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def signed_in(browser: Browser, node: SandboxNode, username: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=node.url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/signin\?next=/inbox"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-SAMPLE-pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    return context, page


def compose(page: Page, title: str, body: str, agency: str = "NCB") -> None:
    page.goto("/compose")
    page.get_by_label("To agency").select_option(agency)
    page.get_by_label("Focus area").select_option("drugs")
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_label("Legal basis").fill("Privacy Act s.8(2)(f); Canada–India arrangement")
    page.get_by_label("Offence").fill("06012")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Body").fill(body)
    page.locator("select[name=subject_kind_0]").select_option("organisation")
    page.locator("input[name=subject_name_0]").fill("Example Chem Pvt Ltd")
    page.locator("input[name=subject_id_scheme_0]").fill("iec")
    page.locator("input[name=subject_id_value_0]").fill("0512345678")


def test_a_wrong_password_is_refused_and_signing_out_ends_the_session(
    sandbox: Sandbox, browser: Browser, screens: Path
) -> None:
    context = browser.new_context(base_url=sandbox.canada.url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto("/signin")
    page.get_by_label("Username").fill("sample.rcmp")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    page.screenshot(path=screens / "signin.png")
    # Keyboard only: the username field has focus, Tab moves on, Enter submits.
    page.goto("/signin")
    # Autofocus lands after the load event; typing before it would drop keystrokes.
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("sample.rcmp")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("sample.rcmp-SAMPLE-pw")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.goto("/outbox")
    expect(page).to_have_url(re.compile(r"/signin\?next=/outbox"))
    context.close()


def test_a_request_is_answered_across_the_two_nodes_with_live_updates(
    sandbox: Sandbox, browser: Browser, screens: Path
) -> None:
    ca_context, canada = signed_in(browser, sandbox.canada, "sample.rcmp")
    in_context, india = signed_in(browser, sandbox.india, "sample.ncb")
    title = "Consignee of a 4-AP shipment via Nhava Sheva"
    compose(canada, title, "Please confirm the consignee and the licence of the shipment described.")
    canada.get_by_role("button", name="Check policy").click()
    expect(canada.locator("#decision")).to_contain_text("Allowed")
    canada.screenshot(path=screens / "compose.png", full_page=True)
    canada.get_by_role("button", name="Send").click()
    expect(canada.get_by_role("status").first).to_contain_text("Your message is")

    # India's inbox was open before the message was sent: it appears without a reload.
    row = india.locator("tr", has_text=title)
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(row).to_have_class(re.compile("unread"))
    india.screenshot(path=screens / "inbox.png", full_page=True)
    row.get_by_role("link", name=title).click()
    expect(india.get_by_role("heading", name=title)).to_be_visible()

    # Canada's outbox shows it read, again without a reload.
    canada.goto("/outbox")
    expect(canada.locator("tr", has_text=title).locator(".state").first).to_have_text("read", timeout=LIVE_TIMEOUT_MS)

    india.get_by_label("Answer").fill("The consignee holds licence NDPS/2026/114; the shipment is cleared.")
    india.get_by_role("button", name="Send answer").click()
    expect(india.get_by_role("status").first).to_contain_text("Your message is")

    canada.locator("tr", has_text=title).get_by_role("link", name=title).click()
    expect(canada.locator("table.thread tr", has_text=f"Re: {title}")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    canada.screenshot(path=screens / "case.png", full_page=True)
    ca_context.close()
    in_context.close()


def test_a_reviewer_approves_a_held_disclosure(sandbox: Sandbox, browser: Browser, screens: Path) -> None:
    officer_context, officer = signed_in(browser, sandbox.canada, "sample.rcmp")
    title = "Funds raised near a gurdwara for a precursor buyer"
    compose(officer, title, "Funds were raised near the gurdwara; the buyer paid the broker in cash.")
    officer.get_by_role("button", name="Check policy").click()
    expect(officer.locator("#decision")).to_contain_text("Needs legal review")
    officer.get_by_role("button", name="Send").click()
    expect(officer.get_by_role("status").first).to_contain_text("held")

    legal_context, legal = signed_in(browser, sandbox.canada, "sample.legal.ca")
    legal.get_by_role("link", name="Review queue").click()
    item = legal.locator("section.review", has_text=title)
    expect(item).to_contain_text("The text touches protected matters: religion (“gurdwara”, en, fr and pa).")
    legal.screenshot(path=screens / "reviews.png", full_page=True)
    item.get_by_label("Reason").fill("The place of worship is incidental; the request concerns the payment.")
    item.get_by_role("button", name="Approve").click()
    expect(legal.get_by_role("status")).to_contain_text("Decision recorded: approve")
    expect(legal.locator("section.review", has_text=title)).to_have_count(0)

    officer.goto("/outbox")
    state = officer.locator("tr", has_text=title).locator(".state").first
    expect(state).to_have_text(re.compile("delivered|read"), timeout=LIVE_TIMEOUT_MS)
    officer_context.close()
    legal_context.close()


def test_refusals_csrf_less_posts_and_another_agencys_message(sandbox: Sandbox, browser: Browser) -> None:
    rcmp_context, rcmp = signed_in(browser, sandbox.canada, "sample.rcmp")
    compose(rcmp, "RCMP-only lead on a broker", "A broker in Surrey asked for 4-AP quotes.")
    rcmp.get_by_role("button", name="Send").click()
    message_url = rcmp.url.split("?")[0]

    # The session cookie alone does not let a form post through: the CSRF token must come with it.
    forged = rcmp.request.post("/compose", form={"title": "forged", "body": "x", "recipient_agency": "NCB"})
    assert forged.status == 403
    assert "security token" in forged.text()
    signout = rcmp.request.post("/signout", form={})
    assert signout.status == 403

    cbsa_context, cbsa = signed_in(browser, sandbox.canada, "sample.cbsa")
    response = cbsa.goto(message_url)
    assert response is not None and response.status == 403
    expect(cbsa.get_by_role("alert")).to_contain_text("no need to know")
    missing = cbsa.goto("/messages/01a20000-0000-7000-8000-000000000000")
    assert missing is not None and missing.status == 404
    # An officer without the role does not see the review queue and cannot open it.
    expect(cbsa.get_by_role("link", name="Review queue")).to_have_count(0)
    assert cbsa.goto("/reviews") is not None and cbsa.locator("h1").inner_text() != "Review queue"
    rcmp_context.close()
    cbsa_context.close()


def test_pages_reflow_at_200_percent_zoom_without_sideways_scrolling(sandbox: Sandbox, browser: Browser) -> None:
    context, page = signed_in(browser, sandbox.canada, "sample.coord.ca")
    page.set_viewport_size({"width": 683, "height": 450})  # a 1366-pixel laptop screen at 200 % zoom
    for path in ("/inbox", "/outbox", "/compose", "/workplan", "/directory"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow} px at 200 % zoom"
    context.close()


def test_the_work_plan_directory_and_audit_screens(sandbox: Sandbox, browser: Browser, screens: Path) -> None:
    ca_context, ca_coord = signed_in(browser, sandbox.canada, "sample.coord.ca")
    in_context, in_coord = signed_in(browser, sandbox.india, "sample.coord.in")
    ca_coord.goto("/workplan")
    action = ca_coord.locator("tr[data-action=sharing-channel-live]")
    action.get_by_label("New status for sharing-channel-live").select_option("in_progress")
    action.get_by_label("Reason for sharing-channel-live").fill("Both nodes exchange traffic")
    action.get_by_role("button", name="Propose").click()
    expect(ca_coord.get_by_role("status")).to_contain_text("Proposal proposed")
    expect(ca_coord.locator("tr[data-proposal]")).to_contain_text("waiting for the other side")

    proposal = in_coord.locator("tr[data-proposal]", has_text="sharing-channel-live")
    for _ in range(40):
        in_coord.goto("/workplan")
        if proposal.count():
            break
        in_coord.wait_for_timeout(500)
    in_coord.screenshot(path=screens / "workplan.png", full_page=True)
    proposal.get_by_role("button", name="Accept").click()
    expect(in_coord.locator("tr[data-action=sharing-channel-live] .status")).to_have_text("in progress")

    for _ in range(40):
        ca_coord.goto("/workplan")
        if ca_coord.locator("tr[data-action=sharing-channel-live] .status").inner_text() == "in progress":
            break
        ca_coord.wait_for_timeout(500)
    expect(ca_coord.locator("tr[data-action=sharing-channel-live] .status")).to_have_text("in progress")
    with ca_coord.expect_download() as download:
        ca_coord.get_by_role("link", name=re.compile(r"Report .* \(PDF\)")).click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    ca_coord.get_by_role("link", name="Directory").click()
    expect(ca_coord.get_by_role("cell", name=re.compile("RCMP National Operations Centre"))).to_be_visible()
    expect(ca_coord.get_by_text("CERT-In incident response desk")).to_be_visible()
    ca_coord.screenshot(path=screens / "directory.png", full_page=True)
    ca_context.close()
    in_context.close()

    oversight_context, oversight = signed_in(browser, sandbox.canada, "sample.oversight.ca")
    # Checkpoints come every minute; the operator asks for one now, countersigned by India, before the check.
    token = httpx.post(
        sandbox.canada.url + "/api/v1/token",
        data={"username": "sample.operator.ca", "password": "sample.operator.ca-SAMPLE-pw"},
    ).json()["access_token"]
    made = httpx.post(
        sandbox.canada.url + "/api/v1/audit/checkpoints", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert made.status_code == 200 and made.json()["checkpoints"][0]["countersigned"], made.text
    oversight.get_by_role("link", name="Audit").click()
    oversight.get_by_role("button", name="Verify the ledger").click()
    expect(oversight.get_by_role("status")).to_contain_text("VERIFIED", timeout=LIVE_TIMEOUT_MS)
    oversight.screenshot(path=screens / "audit.png", full_page=True)
    oversight_context.close()


def test_the_importing_authority_objects_to_a_pre_export_notification_in_the_browser(
    sandbox: Sandbox, browser: Browser
) -> None:
    from tests.integration.test_precursor_notifications import pen

    token = httpx.post(
        sandbox.canada.url + "/api/v1/token", data={"username": "sample.ocs", "password": "sample.ocs-SAMPLE-pw"}
    ).json()["access_token"]
    sent = httpx.post(
        sandbox.canada.url + "/api/v1/messages", json=pen(), headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert sent.status_code == 201, sent.text
    context, cbn = signed_in(browser, sandbox.india, "sample.cbn")
    row = cbn.locator("tr", has_text="PEN: ANPP")
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    row.get_by_role("link").click()
    cbn.get_by_label("Decision on the notification").select_option("objected")
    cbn.get_by_label("Grounds (for an objection or a request for information)").fill("The NOC does not cover ANPP.")
    cbn.get_by_label("Answer", exact=True).fill("Objection: see grounds.")
    cbn.get_by_role("button", name="Send answer").click()
    expect(cbn.get_by_role("status").first).to_contain_text("Your message is")

    def status() -> str | None:
        listed = httpx.get(
            sandbox.canada.url + "/api/v1/precursors/notifications", headers={"Authorization": f"Bearer {token}"}
        ).json()["notifications"]
        return next((n["status"] for n in listed if n["id"] == sent.json()["id"]), None)

    for _ in range(40):
        if status() == "objected":
            break
        cbn.wait_for_timeout(500)
    assert status() == "objected"
    context.close()


def test_an_officer_finds_french_and_hindi_mail_by_its_words(sandbox: Sandbox, browser: Browser, screens: Path) -> None:
    ca_context, canada = signed_in(browser, sandbox.canada, "sample.rcmp")
    title = "Saisie d’anhydride acétique à Montréal"
    compose(canada, title, "L’anhydride acétique, précurseur de l’héroïne, était caché dans des fûts.")
    canada.get_by_role("button", name="Send").click()
    expect(canada.get_by_role("status").first).to_contain_text("Your message is")
    token = httpx.post(
        sandbox.india.url + "/api/v1/token", data={"username": "sample.ncb", "password": "sample.ncb-SAMPLE-pw"}
    ).json()["access_token"]
    hindi_request = {
        "kind": "request",
        "recipient_agency": "RCMP",
        "focus_area": "drugs",
        "priority": "urgent",
        "handling": {"classification": "Restricted", "tlp": "AMBER"},
        "legal_basis": "NDPS Act 1985 s.9A; Canada–India arrangement",
        "title": "एसिटिक एनहाइड्राइड की खेप",
        "body": "पंजाब सीमा पर एसिटिक एनहाइड्राइड की खेप रोकी गई।",
    }
    sent = httpx.post(
        sandbox.india.url + "/api/v1/messages", json=hindi_request, headers={"Authorization": f"Bearer {token}"}
    )
    assert sent.status_code == 201 and sent.json()["delivery"]["state"] == "queued", sent.text
    in_context, india = signed_in(browser, sandbox.india, "sample.ncb")

    # India searches without its accents; the rows keep the search as they refresh, so the message shows on arrival.
    india.goto("/inbox")
    india.get_by_role("searchbox").fill("ANHYDRIDE precurseur")
    india.get_by_role("button", name="Apply").click()
    row = india.locator("#rows tr", has_text="Montréal")
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(row.locator("mark")).to_have_text("anhydride")
    expect(row).to_contain_text("found in: title, body")
    expect(india.get_by_role("status")).to_contain_text("1 message has these words.")
    india.screenshot(path=screens / "inbox-search.png", full_page=True)

    canada.goto("/inbox?q=" + "एसिटिक")
    hindi = canada.locator("#rows tr", has_text="खेप")
    expect(hindi).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(hindi.locator("mark")).to_have_text("एसिटिक")
    canada.get_by_role("link", name="Clear").click()
    expect(canada.get_by_role("searchbox")).to_have_value("")
    ca_context.close()
    in_context.close()


def api_token(node: SandboxNode, username: str) -> dict[str, str]:
    answer = httpx.post(node.url + "/api/v1/token", data={"username": username, "password": f"{username}-SAMPLE-pw"})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_cbsa_officer_s_day_mail_search_a_pdf_an_answer_an_export_verified_offline_and_oversight(
    sandbox: Sandbox, browser: Browser, screens: Path, tmp_path: Path
) -> None:
    # Earlier, CBSA asked India about a consignment, in French.
    cbsa_api = api_token(sandbox.canada, "sample.cbsa")
    french = {
        "kind": "request",
        "recipient_agency": "NCB",
        "focus_area": "drugs",
        "priority": "routine",
        "handling": {"classification": "Protected A", "tlp": "AMBER"},
        "legal_basis": "Loi sur la protection des renseignements personnels, al. 8(2)f)",
        "title": "Fûts déclarés « solvant » à Vancouver",
        "body": "Les fûts contenaient de l'anhydride acétique, précurseur de l'héroïne ; qui en est l'expéditeur ?",
    }
    assert httpx.post(sandbox.canada.url + "/api/v1/messages", json=french, headers=cbsa_api).status_code == 201

    # India's NCB raises an immediate alert to CBSA, in Hindi, with the seizure report attached as a PDF.
    ncb_api = api_token(sandbox.india, "sample.ncb")
    report = as_pdf(["Seizure report NCB/AMR/2026/311", "Acetic anhydride, 40 drums, Attari ICP"])
    uploaded = httpx.post(
        sandbox.india.url + "/api/v1/attachments",
        content=report,
        headers=ncb_api | {"Content-Type": "application/pdf"},
    )
    assert uploaded.status_code == 201, uploaded.text
    title = "Diverted consignment bound for Vancouver"
    alert = {
        "kind": "alert",
        "recipient_agency": "CBSA",
        "focus_area": "drugs",
        "priority": "immediate",
        "handling": {"classification": "Restricted", "tlp": "AMBER", "caveats": ["H0"]},
        "legal_basis": "NDPS Act 1985 s.9A; Canada–India arrangement",
        "title": title,
        "body": "अटारी में एसिटिक एनहाइड्राइड के 40 ड्रम रोके गए; खेप वैंकूवर के लिए थी।",
        "attachments": [{"sha256": uploaded.json()["sha256"], "name": "seizure-report.pdf"}],
    }
    sent = httpx.post(sandbox.india.url + "/api/v1/messages", json=alert, headers=ncb_api)
    assert sent.status_code == 201, sent.text
    alert_id = sent.json()["id"]

    # CBSA's duty officer is told by mail within seconds: what waits and a link, not the Restricted content.
    def mail_for_cbsa() -> str | None:
        for caught in caught_mail(sandbox.mail):
            text = plain_text(read_caught(sandbox.mail, caught)) or ""
            if "sample.cbsa@" in caught.to and alert_id in text:
                return caught.subject + "\n" + text
        return None

    mail = wait_for(mail_for_cbsa, timeout_s=LIVE_TIMEOUT_MS / 1000)
    assert f"{sandbox.canada.url}/messages/{alert_id}" in mail
    assert title not in mail and "एसिटिक" not in mail

    # The officer finds the French request by a word of its body and the Hindi alert by its Hindi words.
    context, cbsa = signed_in(browser, sandbox.canada, "sample.cbsa")
    cbsa.goto("/outbox?q=anhydride")
    expect(cbsa.locator("#rows tr", has_text="Vancouver")).to_be_visible()
    expect(cbsa.locator("#rows tr", has_text="Vancouver")).to_contain_text("found in: body")
    cbsa.goto("/inbox?q=" + "एसिटिक")
    found = cbsa.locator("#rows tr", has_text=title)
    expect(found).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    found.get_by_role("link", name=title).click()
    expect(cbsa.get_by_role("heading", name=title)).to_be_visible()
    # Deadlines read in both parties' times.
    expect(cbsa.locator(".facts .elsewhere")).to_contain_text("IST in India")

    # The PDF opens in the browser, inline (not as a page of the site).
    with context.expect_page() as opened:
        cbsa.get_by_role("link", name="seizure-report.pdf").click()
    pdf_tab = opened.value
    pdf_tab.wait_for_load_state()
    assert pdf_tab.url.endswith(uploaded.json()["sha256"])
    shown = cbsa.request.get(pdf_tab.url)
    assert shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline")
    assert shown.body() == report
    pdf_tab.close()

    # The answer starts from the alert's title and handling (Restricted is Protected A or B here; H0 kept).
    expect(cbsa.get_by_label("Title")).to_have_value(f"Re: {title}")
    expect(cbsa.get_by_label("Classification")).to_have_value("Protected A")
    expect(cbsa.get_by_label("TLP")).to_have_value("AMBER")
    cbsa.get_by_label("Answer", exact=True).fill("Received; the consignee in Vancouver is known to us.")
    cbsa.get_by_role("button", name="Send answer").click()
    expect(cbsa.get_by_role("status").first).to_contain_text("Your message is")
    answer_id = cbsa.url.split("/messages/")[1].split("?")[0]
    answered = httpx.get(f"{sandbox.canada.url}/api/v1/messages/{answer_id}", headers=cbsa_api).json()
    assert answered["title"] == f"Re: {title}"
    assert (answered["handling"]["level"], answered["handling"]["caveats"]) == ("restricted", ["H0"])
    cbsa.screenshot(path=screens / "answer.png", full_page=True)

    # The case is exported as a PDF and verified offline under the keys an oversight body pinned.
    cbsa.goto(f"/messages/{alert_id}")
    with cbsa.expect_download() as downloaded:
        cbsa.get_by_role("button", name="Export the case").click()
    exported = tmp_path / "case.pdf"
    downloaded.value.save_as(exported)
    pinned = [
        argument
        for node in (sandbox.canada, sandbox.india)
        for argument in ("--expect-fingerprint", NodeKeys.load(node.data_dir / KEY_DIR).public.signing_fingerprint)
    ]
    verified = CliRunner().invoke(audit_app, ["verify", str(exported), *pinned])
    assert verified.exit_code == 0, verified.output
    context.close()

    # Oversight browses who decided held disclosures this week (the reviewer's approval above).
    oversight_context, oversight = signed_in(browser, sandbox.canada, "sample.oversight.ca")
    oversight.goto("/audit/events")
    oversight.get_by_label("Event type").select_option("review.decided")
    oversight.get_by_label("From (day)").fill((datetime.now(UTC) - timedelta(days=7)).date().isoformat())
    oversight.get_by_role("button", name="Filter").click()
    expect(oversight.locator("table.events tbody tr").first).to_contain_text("review.decided")
    oversight.screenshot(path=screens / "audit-events.png", full_page=True)
    oversight.locator("table.events tbody tr").first.get_by_role("link", name="open proof").click()
    expect(oversight).to_have_url(re.compile(r"/proof$"))
    oversight_context.close()
