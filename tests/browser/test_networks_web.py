"""The link chart in real headless Chromium against the two-node sandbox and its SAMPLE network: an RCMP analyst opens
Canada's case from a company's neighbourhood, expands a director (more entities appear), finds the path from the
Canadian importer to the Indian supplier (highlighted) and is told plainly when two entities are not connected, then
exports the chart as PNG, SVG and FtM JSON lines. The page runs under the strict CSP without an unexpected console
error."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.browser import test_web
from tests.browser.test_web import Sandbox, signed_in

# The fixtures of the other browser module: this module starts its own sandbox (module scope) with them.
sandbox = test_web.sandbox
browser = test_web.browser
screens = test_web.screens

CASE = "SAMPLE-CA-NET-0001"
IMPORTER = "sample-ca-c-fvac"
SUPPLIER = "sample-ca-c-vayu"


def test_an_analyst_expands_the_chart_finds_a_path_and_exports_it(
    sandbox: Sandbox, browser: Browser, screens: Path, tmp_path: Path
) -> None:
    context, page = signed_in(browser, sandbox.canada, "sample.rcmp")
    errors: list[str] = []
    page.on("console", lambda message: _keep_errors(errors, message))
    page.get_by_role("link", name="Networks", exact=True).click()
    row = page.locator(f"tr[data-case='{CASE}']")
    expect(row).to_contain_text("RCMP")
    row.get_by_role("link").click()
    page.get_by_label("Start from").select_option(IMPORTER)
    page.get_by_role("button", name="Open").click()

    shown = page.locator("#chart-entities li")
    expect(page.get_by_role("status")).to_contain_text("entities and")
    expect(shown.first).to_be_visible()
    before = shown.count()
    expect(page.locator("#chart-entities li[data-entity='sample-ca-c-northline']")).to_have_count(0)
    page.get_by_role("button", name="Expand Gurpreet Singh").click()
    expect(page.locator("#chart-entities li[data-entity='sample-ca-c-northline']")).to_have_count(1)
    assert shown.count() > before

    page.get_by_label("Path from").select_option(IMPORTER)
    page.get_by_label("to", exact=True).select_option(SUPPLIER)
    page.get_by_role("button", name="Find path").click()
    expect(page.get_by_role("status")).to_contain_text("Path (2 links): Fraser Valley Agri-Chem Ltd. →")
    expect(page.locator("#chart-entities li.on-path")).to_have_count(3)
    page.screenshot(path=screens / "networks-chart.png", full_page=True)

    page.get_by_label("to", exact=True).select_option("sample-ca-p-lead")
    page.get_by_role("button", name="Find path").click()
    expect(page.get_by_role("alert")).to_contain_text("Fraser Valley Agri-Chem Ltd. and Devon Price are not connected")

    saved = {}
    for button in ("Export PNG", "Export SVG", "Export FtM"):
        with page.expect_download() as arrived:
            page.get_by_role("button", name=button).click()
        target = tmp_path / arrived.value.suggested_filename
        arrived.value.save_as(target)
        saved[button] = target.read_bytes()
    assert saved["Export PNG"].startswith(b"\x89PNG")
    assert b"<svg" in saved["Export SVG"][:400]
    exported = [json.loads(line) for line in saved["Export FtM"].decode().splitlines()]
    ids = {entity["id"] for entity in exported}
    assert {IMPORTER, SUPPLIER, "sample-ca-c-northline", "sample-ca-dir-gurpreet"} <= ids
    assert "sample-ca-p-lead" not in ids  # not on the chart, so not exported
    assert errors == [], "\n".join(errors)

    missing = page.goto("/networks/NO-SUCH-CASE")
    assert missing is not None and missing.status == 404
    context.close()


# Expected on the console: the 404 that answers "not connected", and canvas2svg's note while it writes labels.
_EXPECTED = ("/path?source=sample-ca-c-fvac&target=sample-ca-p-lead", "Attempted to apply path command to node text")


def _keep_errors(errors: list[str], message: ConsoleMessage) -> None:
    text = f"{message.text} at {message.location}"
    if message.type == "error" and not any(known in text for known in _EXPECTED):
        errors.append(text)
