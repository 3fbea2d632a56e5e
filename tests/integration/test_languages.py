"""The language of each answer: an officer's saved choice, the web switch (on the sign-in page and every page), the
API's Accept-Language, the node's default; a bad choice changes nothing. And each officer's time zone, on the same
node."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from accord.store.tables import officers
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PairTemplates, RunningNode, draft, running_pair
from tests.integration.test_sign_in_throttle import accord_cli
from tests.integration.test_web_sessions import csrf_of, sign_in


@pytest.fixture(scope="module")
def canada(templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    root = tmp_path_factory.mktemp("languages")
    with running_pair(templates, DatabaseFactory("sqlite", root), root) as (ca, _):
        yield ca


def saved_language(node: RunningNode, username: str) -> str | None:
    with node.engine.connect() as conn:
        value: str | None = conn.execute(select(officers.c.language).where(officers.c.username == username)).scalar()
    return value


def html_lang(page: httpx.Response) -> str:
    found = re.search(r'<html lang="([a-z]+)">', page.text)
    assert found is not None, (page.status_code, page.text[:2000])
    return found[1]


def test_the_api_answers_in_the_language_asked_for_and_problems_are_written_in_it(canada: RunningNode) -> None:
    with httpx.Client(base_url=canada.url, timeout=30.0) as client:
        english = client.get("/api/v1/me")
        french = client.get("/api/v1/me", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
        hindi = client.get("/api/v1/me", headers={"Accept-Language": "hi-IN"})
        unknown = client.get("/api/v1/me", headers={"Accept-Language": "de-DE"})
        nowhere = client.get("/api/v1/nowhere", headers={"Accept-Language": "fr"})
    assert english.headers["content-language"] == "en" and english.json()["title"] == "Authentication failed"
    assert french.headers["content-language"] == "fr" and "Accept-Language" in french.headers["vary"]
    assert french.json()["title"] not in ("", "Authentication failed")
    assert hindi.headers["content-language"] == "hi"
    assert re.search("[\u0900-\u097f]", hindi.json()["title"])  # written in Devanagari
    assert unknown.headers["content-language"] == "en"  # the node's default
    assert nowhere.status_code == 404 and nowhere.json()["title"] == "Introuvable"  # the framework's phrases too


def test_an_officer_s_saved_language_holds_for_the_api_until_a_request_asks_for_another(canada: RunningNode) -> None:
    with canada.client("ca.ircc") as client:
        chosen = client.put("/api/v1/me/language", json={"language": "fr"})
        assert chosen.status_code == 200 and chosen.json()["language"] == "fr"
        assert client.get("/api/v1/me").headers["content-language"] == "fr"
        asked = client.get("/api/v1/me", headers={"Accept-Language": "hi"})
        assert asked.headers["content-language"] == "hi"
        refused = client.put("/api/v1/me/language", json={"language": "de"})
        assert refused.status_code == 422
        assert saved_language(canada, "ca.ircc") == "fr"  # the refused choice changed nothing
        assert client.put("/api/v1/me/language", json={"language": None}).json()["language"] is None
    assert saved_language(canada, "ca.ircc") is None


def test_the_sign_in_page_switches_language_for_the_browser_alone(canada: RunningNode) -> None:
    with httpx.Client(base_url=canada.url, timeout=30.0, follow_redirects=False) as browser:
        assert html_lang(browser.get("/signin")) == "en"
        switched = browser.post("/language", data={"language": "fr", "next": "/signin"})
        assert switched.status_code == 303 and switched.headers["location"] == "/signin"
        assert "accord_language=fr" in switched.headers["set-cookie"] and "HttpOnly" in switched.headers["set-cookie"]
        page = browser.get("/signin")
        assert html_lang(page) == "fr" and page.headers["content-language"] == "fr"
        assert browser.post("/language", data={"language": "xx", "next": "/signin"}).status_code == 422
        assert html_lang(browser.get("/signin")) == "fr"  # the bad choice changed nothing
        away = browser.post("/language", data={"language": "hi", "next": "https://elsewhere.example/"})
        assert away.headers["location"] == "/inbox"  # never an open redirect


def test_a_signed_in_officer_s_switch_is_saved_and_follows_them_to_another_browser(canada: RunningNode) -> None:
    client, _ = sign_in(canada, "ca.cbsa")
    page = client.get("/inbox")
    assert html_lang(page) == "en"
    forged = client.post("/language", data={"language": "hi", "next": "/inbox", "csrf": "0" * 64})
    assert forged.status_code == 403
    assert saved_language(canada, "ca.cbsa") is None
    switched = client.post("/language", data={"language": "fr", "next": "/inbox", "csrf": csrf_of(page)})
    assert switched.status_code == 303
    assert html_lang(client.get("/inbox")) == "fr"
    client.close()
    assert saved_language(canada, "ca.cbsa") == "fr"
    other, response = sign_in(canada, "ca.cbsa")  # a new browser, no language cookie yet
    assert "accord_language=fr" in response.headers.get("set-cookie", "")
    assert html_lang(other.get("/inbox")) == "fr"
    other.close()


# ---- time zones: each officer reads times in their own zone (default: the node's, Ottawa's for Canada), with the
# zone named; a deadline also shows the other party's time.


def saved_zone(node: RunningNode, username: str) -> str | None:
    with node.engine.connect() as conn:
        value: str | None = conn.execute(select(officers.c.time_zone).where(officers.c.username == username)).scalar()
    return value


def shown_deadline(page: str) -> str:
    found = re.search(r"<dt>Deadline</dt><dd[^>]*>(\d{4}-\d\d-\d\d \d\d:\d\d [A-Z+:0-9]+)", page)
    assert found is not None, page[:3000]
    return found[1]


def test_times_are_shown_in_the_officer_s_zone_and_deadlines_in_both_parties_times(canada: RunningNode) -> None:
    with canada.client("ca.cbsa") as api:
        assert api.put("/api/v1/me/language", json={"language": "en"}).status_code == 200  # the pages read below
        sent = api.post("/api/v1/messages", json=draft(priority="urgent"))
        assert sent.status_code == 201, sent.text
        message_id, deadline = sent.json()["id"], datetime.fromisoformat(sent.json()["deadline"])

        ottawa = deadline.astimezone(ZoneInfo("America/Toronto"))
        delhi = deadline.astimezone(ZoneInfo("Asia/Kolkata"))
        browser, _ = sign_in(canada, "ca.cbsa")
        try:
            page = browser.get(f"/messages/{message_id}").text
            assert shown_deadline(page) == f"{ottawa:%Y-%m-%d %H:%M} {ottawa.tzname()}"  # the node's zone: Ottawa's
            assert f"{delhi:%Y-%m-%d %H:%M} IST in India" in page

            # Posted to New Delhi: the officer reads India's time, and the deadline needs no second line.
            chosen = api.put("/api/v1/me/time-zone", json={"time_zone": "Asia/Kolkata"})
            assert chosen.status_code == 200, chosen.text
            assert chosen.json()["time_zone"] == "Asia/Kolkata"
            page = browser.get(f"/messages/{message_id}").text
            assert shown_deadline(page) == f"{delhi:%Y-%m-%d %H:%M} IST"
            assert "in India" not in page

            for bad in ("Mars/Olympus", "../../etc/passwd", "x" * 65):
                refused = api.put("/api/v1/me/time-zone", json={"time_zone": bad})
                assert refused.status_code == 422, refused.text
                assert refused.headers["content-type"] == "application/problem+json"
            assert saved_zone(canada, "ca.cbsa") == "Asia/Kolkata"

            # The account page sets it too (with the session's CSRF token), and "the node's" clears it.
            account = browser.get("/account")
            assert 'value="Asia/Kolkata" selected' in account.text
            saved = browser.post(
                "/account/time-zone", data={"time_zone": "America/Vancouver", "csrf": csrf_of(account)}
            )
            assert saved.status_code == 303
            assert saved_zone(canada, "ca.cbsa") == "America/Vancouver"
            vancouver = deadline.astimezone(ZoneInfo("America/Vancouver"))
            assert shown_deadline(browser.get(f"/messages/{message_id}").text).endswith(str(vancouver.tzname()))
            forged = browser.post("/account/time-zone", data={"time_zone": "UTC"})  # no CSRF token
            assert forged.status_code == 403
            assert saved_zone(canada, "ca.cbsa") == "America/Vancouver"
            browser.post("/account/time-zone", data={"time_zone": "", "csrf": csrf_of(account)})
            assert saved_zone(canada, "ca.cbsa") is None
        finally:
            browser.close()


def test_an_operator_sets_an_officer_s_zone_from_the_command_line(canada: RunningNode) -> None:
    done = accord_cli(canada, "officer", "zone", "ca.rcmp", "Asia/Kolkata")
    assert done.exit_code == 0, done.output
    assert "Asia/Kolkata" in done.output
    assert saved_zone(canada, "ca.rcmp") == "Asia/Kolkata"
    refused = accord_cli(canada, "officer", "zone", "ca.rcmp", "Mars/Olympus")
    assert refused.exit_code == 2
    assert "IANA name" in refused.output
    assert saved_zone(canada, "ca.rcmp") == "Asia/Kolkata"
    assert accord_cli(canada, "officer", "zone", "ca.rcmp", "default").exit_code == 0
    assert saved_zone(canada, "ca.rcmp") is None
