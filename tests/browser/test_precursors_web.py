"""The precursors screens in real headless Chromium against the real two-node sandbox: Canada's authority notifies a
flagged shipment and raises an alert on it, India's authority sees the notification, and the incidents show on the
map (Leaflet over world-atlas outlines, no tiles) and the timeline, narrowed by the search; the refusals (an alert on
an unflagged notification, a bad date in the search) show as messages on the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from accord.sandbox import SandboxNode
from tests.browser import test_web
from tests.browser.test_web import LIVE_TIMEOUT_MS, Sandbox, signed_in
from tests.integration.test_precursor_notifications import pen

# The fixtures of the other browser module: this module starts its own sandbox (module scope) with them.
sandbox = test_web.sandbox
browser = test_web.browser
screens = test_web.screens

FLAGGED = "PEN: ANPP through Jebel Ali, importer without licence"
CLEAN = "PEN: ANPP, second shipment to the same licensed importer"
IMPORTER = {"name": "Deccan Pharma Intermediates Pvt Ltd", "address": "Plot 7, MIDC, Pune", "country": "IN"}
SEIZURE_ON = (datetime.now(UTC) - timedelta(days=45)).date()
STOPPED_ON = (datetime.now(UTC) - timedelta(days=5)).date()


def api_token(node: SandboxNode, username: str) -> str:
    issued = httpx.post(node.url + "/api/v1/token", data={"username": username, "password": f"{username}-SAMPLE-pw"})
    assert issued.status_code == 200, issued.text
    return str(issued.json()["access_token"])


def send(node: SandboxNode, token: str, body: dict[str, Any]) -> dict[str, Any]:
    sent = httpx.post(
        node.url + "/api/v1/messages", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert sent.status_code == 201, sent.text
    return dict(sent.json())


def flagged_notification() -> dict[str, Any]:
    """Routed through a watch-list port to an importer that gives no licence: the risk rules flag it."""
    return pen(importer=IMPORTER, route=["AE"]) | {"title": FLAGGED}


def clean_notification() -> dict[str, Any]:
    """The same importer and substance again, licensed, the right HS code and a direct route: nothing to flag."""
    items = [{"substance": "ANPP", "quantity_kg": 35, "purity_percent": 99.0, "hs_code": "2933.36"}]
    body = pen(importer=IMPORTER | {"licence": "CBN/NOC/2026/118"}, route=[], items=items)
    return body | {"title": CLEAN}


def incident(kind: str, occurred_on: str, place: dict[str, Any], substance: str, kg: float, how: str) -> dict[str, Any]:
    return {
        "kind": "incident",
        "recipient_agency": "NCB",
        "focus_area": "drugs",
        "priority": "urgent",
        "handling": {"classification": "Protected A", "tlp": "AMBER", "caveats": ["H0"]},
        "legal_basis": "1988 Convention Art. 12; Precursor Control Regulations",
        "title": f"Incident: {kind.replace('_', ' ')} at {place['name']}",
        "body": "Details of the incident as recorded by the authority.",
        "incident": {
            "kind": kind,
            "occurred_on": occurred_on,
            "place": place,
            "items": [{"substance": substance, "quantity_kg": kg}],
            "modus_operandi": how,
            "companies": [{"name": "Harbour Trading FZE", "country": "AE", "role": "consignee"}],
        },
    }


SEIZURE = incident(
    "seizure",
    SEIZURE_ON.isoformat(),
    {"name": "Nhava Sheva container terminal", "country": "IN", "latitude": 18.95, "longitude": 72.95},
    "npp",
    25,
    "Declared as an industrial solvent under a false HS code",
)
STOPPED = incident(
    "stopped_shipment",
    STOPPED_ON.isoformat(),
    {"name": "Port of Vancouver", "country": "CA", "latitude": 49.29, "longitude": -123.11},
    "4-AP",
    5,
    "Export permit copied from an earlier shipment",
)


@pytest.fixture(scope="module")
def sent(sandbox: Sandbox) -> dict[str, str]:
    """What Canada's authority sends through the API before the screens are opened: ids by name."""
    token = api_token(sandbox.canada, "sample.ocs")
    return {
        "flagged": send(sandbox.canada, token, flagged_notification())["id"],
        "clean": send(sandbox.canada, token, clean_notification())["id"],
        "seizure": send(sandbox.canada, token, SEIZURE)["id"],
        "stopped": send(sandbox.canada, token, STOPPED)["id"],
    }


@pytest.fixture
def page_faults() -> Iterator[list[str]]:
    """Script errors, and whatever the browser refused under the Content-Security-Policy (the pages need no
    exception to it): none may happen."""
    found: list[str] = []
    yield found
    assert not found, found


def watch(page: Page, found: list[str]) -> None:
    def seen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", seen)
    page.on("pageerror", lambda error: found.append(f"{page.url}: {error}"))


def reload_until(page: Page, path: str, locator_text: str) -> None:
    """The other node's copy arrives through the outbox: reload until it is there."""
    for _ in range(40):
        page.goto(path)
        if page.locator("tr", has_text=locator_text).count():
            return
        page.wait_for_timeout(500)


def test_a_flagged_notification_is_listed_alerted_on_and_seen_by_the_importing_authority(
    sandbox: Sandbox, browser: Browser, sent: dict[str, str], page_faults: list[str], screens: Path
) -> None:
    context, ocs = signed_in(browser, sandbox.canada, "sample.ocs")
    watch(ocs, page_faults)
    ocs.get_by_role("navigation", name="Main").get_by_role("link", name="Precursors").click()
    expect(ocs.get_by_role("heading", name="Pre-export notifications")).to_be_visible()
    row = ocs.locator(f"tr[data-notification='{sent['flagged']}']")
    expect(row).to_contain_text("sent to IN CBN")
    expect(row).to_contain_text("pending")
    expect(row).to_contain_text("waiting")
    expect(row.locator(".deadline")).to_contain_text(re.compile(r"\d+ d left"))
    expect(row).to_contain_text("ANPP 40 kg")
    expect(row.get_by_role("link", name=re.compile(r"\d+ flags"))).to_be_visible()
    expect(ocs.locator(f"tr[data-notification='{sent['clean']}'] .badge")).to_have_count(0)
    ocs.screenshot(path=screens / "precursors.png", full_page=True)

    # Flagged only: the clean notification drops out of the list.
    ocs.get_by_label("Flagged only").check()
    ocs.get_by_role("button", name="Apply").click()
    expect(ocs).to_have_url(re.compile(r"flagged=1"))
    expect(ocs.locator(f"tr[data-notification='{sent['clean']}']")).to_have_count(0)
    expect(row).to_be_visible()
    row.get_by_role("link", name=FLAGGED).click()
    expect(ocs.get_by_role("heading", name=FLAGGED)).to_be_visible()

    ocs.goto("/precursors")
    ocs.get_by_role("navigation", name="Precursors").get_by_role("link", name="Alerts to review").click()
    card = ocs.locator(f"section[data-notification='{sent['flagged']}']")
    expect(card.locator("ul.flags")).to_contain_text("watch-list-transit")
    expect(card.locator("ul.flags")).to_contain_text("gives no licence number")
    expect(ocs.locator(f"section[data-notification='{sent['clean']}']")).to_have_count(0)
    expect(card.get_by_role("button", name="Send reminder")).to_have_count(0)  # not overdue

    card.get_by_label("Classification").select_option("Protected A")
    card.get_by_label("Note to the other side").fill("Hold the container at Jebel Ali until the licence is shown.")
    card.get_by_role("button", name="Raise alert").click()
    expect(ocs.get_by_role("status")).to_contain_text("Risk alert sent")
    ocs.screenshot(path=screens / "precursors-alerts.png", full_page=True)
    follow_ups = ocs.locator(f"section[data-notification='{sent['flagged']}'] ul.follow-ups")
    expect(follow_ups).to_contain_text(f"Risk alert on pre-export notification {sent['flagged'][:8]}")
    ocs.get_by_role("link", name="Outbox").click()
    expect(ocs.locator("tr", has_text="Risk alert on pre-export notification").first).to_be_visible()

    # A form for an unflagged notification (stale, or altered) is refused with the reason, on the page.
    ocs.goto("/precursors/alerts")
    form = ocs.locator(f"section[data-notification='{sent['flagged']}'] form.follow-up")
    form.evaluate("(f, id) => { f.action = '/precursors/notifications/' + id + '/alert'; }", sent["clean"])
    form.get_by_label("Classification").select_option("Protected A")
    with ocs.expect_response(re.compile(r"/alert$")) as refused:
        form.get_by_role("button", name="Raise alert").click()
    assert refused.value.status == 422
    expect(ocs.get_by_role("alert")).to_contain_text("no risk rule flags this notification")
    expect(ocs.get_by_role("heading", name="Alerts to review")).to_be_visible()
    context.close()

    in_context, cbn = signed_in(browser, sandbox.india, "sample.cbn")
    watch(cbn, page_faults)
    reload_until(cbn, "/precursors", FLAGGED)
    arrived = cbn.locator(f"tr[data-notification='{sent['flagged']}']")
    expect(arrived).to_contain_text("from CA HC-OCS")
    expect(arrived).to_contain_text("pending")
    expect(arrived.locator(".deadline")).to_contain_text("left")
    in_context.close()


def test_the_incidents_map_timeline_and_search(
    sandbox: Sandbox, browser: Browser, sent: dict[str, str], page_faults: list[str], screens: Path
) -> None:
    context, ocs = signed_in(browser, sandbox.canada, "sample.ocs")
    watch(ocs, page_faults)
    ocs.goto("/precursors")
    ocs.get_by_role("navigation", name="Precursors").get_by_role("link", name="Incidents").click()
    expect(ocs.get_by_role("heading", name="Incidents", exact=True)).to_be_visible()
    the_map = ocs.locator("#incident-map")
    expect(the_map).to_have_attribute("data-outlines-state", "loaded", timeout=LIVE_TIMEOUT_MS)
    assert the_map.locator("path").count() > 100  # the countries of world-atlas
    expect(the_map.locator(".leaflet-marker-icon")).to_have_count(2)
    expect(the_map.locator(".leaflet-marker-icon.kind-seizure")).to_have_count(1)
    timeline = ocs.locator("img.timeline")
    expect(timeline).to_be_visible()
    assert (timeline.get_attribute("src") or "").startswith("data:image/svg+xml;base64,")
    rows = ocs.locator("table.incidents tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(SEIZURE_ON.isoformat())  # in the order they happened
    expect(rows.nth(1)).to_contain_text("stopped shipment")
    expect(rows.nth(0)).to_contain_text("N-phenethyl-4-piperidone 25 kg")

    # Keyboard: Tab reaches a marker, Enter opens its popup, which links to the case.
    seizure = the_map.locator(f".leaflet-marker-icon[data-incident='{sent['seizure']}']")
    seizure.focus()
    expect(seizure).to_be_focused()
    ocs.keyboard.press("Enter")
    popup = the_map.locator(".leaflet-popup")
    expect(popup).to_contain_text("Nhava Sheva container terminal, IN")
    expect(popup.get_by_role("link")).to_have_attribute("href", f"/messages/{sent['seizure']}")
    expect(popup).to_have_css("opacity", "1")  # faded in
    ocs.screenshot(path=screens / "precursors-incidents.png", full_page=True)

    # The search narrows the map, the timeline and the table together.
    ocs.get_by_label("Kind").select_option("seizure")
    ocs.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Nhava Sheva")
    expect(the_map.locator(".leaflet-marker-icon")).to_have_count(1)
    ocs.get_by_role("link", name="Clear").click()
    ocs.get_by_label("Substance").fill("4-AP")
    ocs.get_by_label("Country (two letters)").fill("ca")
    ocs.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Port of Vancouver")
    ocs.get_by_label("Words").fill("nothing like this anywhere")
    ocs.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("No incidents match the search")
    expect(the_map.locator(".leaflet-marker-icon")).to_have_count(0)

    # A bad date is a message on the page, not a crash.
    response = ocs.goto("/precursors/incidents?since=2026-02-30")
    assert response is not None and response.status == 422
    expect(ocs.get_by_role("alert")).to_contain_text("since '2026-02-30' is not a date")
    expect(ocs.get_by_label("Since")).to_be_visible()
    context.close()


def test_the_precursors_screens_reflow_at_200_percent_zoom(
    sandbox: Sandbox, browser: Browser, sent: dict[str, str]
) -> None:
    context, page = signed_in(browser, sandbox.canada, "sample.ocs")
    page.set_viewport_size({"width": 683, "height": 450})
    for path in ("/precursors", "/precursors/alerts", "/precursors/incidents"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow} px at 200 % zoom"
    context.close()
