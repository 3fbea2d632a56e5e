"""Need-to-know on every read path: by id, list, counts, case thread and attachment URL, each a Cedar decision on the
officer's agency, clearance, focus areas and the message's markings and caveats; nothing leaks through a count."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from accord.store.tables import events
from tests.conftest import DatabaseFactory
from tests.integration.nodes import RunningNode, draft, wait_for


@pytest.fixture
def databases(sqlite_databases: DatabaseFactory) -> DatabaseFactory:
    """Legal rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return sqlite_databases


def send(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/messages", json=draft(**overrides))
    assert response.status_code == 201, response.text
    assert response.json()["delivery"]["state"] == "queued", response.json()["policy"]
    body: dict[str, Any] = response.json()
    return body


def inbox(client: httpx.Client, **params: Any) -> set[str]:
    listed = client.get("/api/v1/messages", params={"box": "inbox", **params})
    assert listed.status_code == 200, listed.text
    return {m["id"] for m in listed.json()["messages"]}


def drugs_count(client: httpx.Client) -> int:
    counts: dict[str, dict[str, int]] = client.get("/api/v1/messages/counts").json()["focus_areas"]
    return counts["drugs"].get("inbox", 0)


def test_every_read_path_answers_only_what_the_officer_needs_to_know(pair: tuple[RunningNode, RunningNode]) -> None:
    ca, in_ = pair
    with ca.client("ca.rcmp") as rcmp:
        data = b"lab report " * 100
        sha = rcmp.post("/api/v1/attachments", content=data, headers={"Content-Type": "text/plain"}).json()["sha256"]
        routine = send(rcmp, attachments=[{"sha256": sha, "name": "lab.txt"}])
        secret = send(rcmp, handling={"classification": "Secret", "tlp": "AMBER", "caveats": ["H0"]})
        red = send(
            rcmp,
            recipient_officer="in.ncb.duty",
            handling={"classification": "Protected B", "tlp": "RED", "named_recipients": ["in.ncb.duty"]},
        )
        for sent in (routine, secret, red):
            wait_for(lambda s=sent: rcmp.get(f"/api/v1/messages/{s['id']}").json()["delivery"]["state"] == "delivered")
    everything = {routine["id"], secret["id"], red["id"]}

    with (
        in_.client("in.ncb") as ncb,
        in_.client("in.ncb.duty") as duty,
        in_.client("in.ncb.low") as low,
        in_.client("in.ncb.cyber") as cyber,
        in_.client("in.cbi") as cbi,
    ):
        assert inbox(duty) == everything
        assert inbox(ncb) == everything - {red["id"]}, "TLP:RED is for its named reader only"
        assert inbox(low) == {routine["id"]}, "a Restricted clearance does not read Secret"
        assert inbox(cyber) == set() and inbox(cyber, focus_area="drugs") == set()
        assert inbox(cbi) == set()

        assert (drugs_count(duty), drugs_count(ncb), drugs_count(low), drugs_count(cyber)) == (3, 2, 1, 0)

        assert ncb.get(f"/api/v1/messages/{red['id']}").status_code == 403
        assert low.get(f"/api/v1/messages/{secret['id']}").status_code == 403
        assert cyber.get(f"/api/v1/messages/{routine['id']}").status_code == 403
        assert cbi.get(f"/api/v1/messages/{routine['id']}").status_code == 403
        assert duty.get(f"/api/v1/messages/{red['id']}").status_code == 200

        case = routine["case_id"]
        assert cyber.get(f"/api/v1/cases/{case}").status_code == 404
        assert low.get(f"/api/v1/cases/{case}").status_code == 200

        assert hashlib.sha256(ncb.get(f"/api/v1/attachments/{sha}").content).hexdigest() == sha
        # An attachment nobody may read answers as one that does not exist: no oracle that the file was exchanged.
        unknown = cyber.get(f"/api/v1/attachments/{'0' * 64}")
        for reader in (cyber, cbi):
            refused = reader.get(f"/api/v1/attachments/{sha}")
            assert refused.status_code == unknown.status_code == 404
            assert refused.json()["title"] == unknown.json()["title"]

        refused_reply = cyber.post(
            f"/api/v1/messages/{routine['id']}/reply",
            json={"handling": {"classification": "Restricted"}, "title": "Re", "body": "An answer."},
        )
        assert refused_reply.status_code == 403

    with in_.engine.connect() as conn:
        denied = conn.execute(select(events.c.actor).where(events.c.type == "access.denied")).scalars().all()
    assert len(denied) >= 4, "each refused read is in the ledger"
