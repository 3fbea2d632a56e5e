"""Each officer reads times in their own zone (default: the node's, Ottawa's for Canada), with the zone named; a
deadline also shows the other party's time."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from accord.store.tables import officers
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PairTemplates, RunningNode, draft, running_pair
from tests.integration.test_sign_in_throttle import accord_cli
from tests.integration.test_web_sessions import csrf_of, sign_in


@pytest.fixture(scope="module")
def canada(templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    root = tmp_path_factory.mktemp("zones")
    with running_pair(templates, DatabaseFactory("sqlite", root), root) as (ca, _):
        yield ca


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
