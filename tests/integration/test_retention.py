"""Retention: personal data past the pack's retention time is removed; metadata and ledger leaves stay; each purge
is logged, and the ledger still verifies."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from accord.store.tables import events, messages
from tests.integration.nodes import RunningNode, assessment, draft, wait_for
from tests.ledger_checks import assert_ledger_intact

PERSON = {"kind": "person", "name": "W. Example", "role": "other"}


def purge(node: RunningNode, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")} | {
        "ACCORD_DATABASE_URL": node.database_url
    }
    return node.run_accord("node", "purge", "--data", str(node.data_dir), *args, env=env, timeout_s=60)


def test_expired_personal_data_is_purged_and_logged_and_the_rest_is_kept(pair: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = pair
    with ca.client("ca.rcmp") as rcmp:
        old = rcmp.post("/api/v1/messages", json=draft(subjects=[PERSON], title="About W. Example")).json()
        with ca.client("ca.legal") as legal:  # ACMFEA: a person named leaves once assessed
            recorded = legal.post("/api/v1/assessments", json=assessment(old["case_id"], [PERSON]))
            assert recorded.status_code == 201, recorded.text
        fresh = rcmp.post("/api/v1/messages", json=draft(subjects=[PERSON], case_id=old["case_id"])).json()
        wait_for(lambda: rcmp.get(f"/api/v1/messages/{old['id']}").json()["delivery"]["state"] == "delivered")
        with ca.engine.begin() as conn:
            six_years_ago = datetime.now(UTC) - timedelta(days=6 * 365)
            conn.execute(update(messages).where(messages.c.id == old["id"]).values(created_at=six_years_ago))

        done = purge(ca)
        assert done.returncode == 0, done.stderr
        assert "purged personal data from 1 messages (retention 1825 days" in done.stdout

        shown = rcmp.get(f"/api/v1/messages/{old['id']}").json()
        assert shown["subjects"] == [] and shown["body"] == "" and "W. Example" not in str(shown)
        assert shown["purged_at"] is not None and shown["delivery"]["state"] == "delivered"
        kept = rcmp.get(f"/api/v1/messages/{fresh['id']}").json()
        assert kept["subjects"][0]["name"] == "W. Example" and kept["purged_at"] is None

        assert purge(ca).stdout.startswith("purged personal data from 0 messages"), "a purge is done once"
        later = purge(ca, "--as-of", (datetime.now(UTC) + timedelta(days=2000)).isoformat())
        assert "from 1 messages" in later.stdout, "the fresh one expires in its turn"
        bad = purge(ca, "--as-of", "next tuesday")
        assert bad.returncode == 1 and "not an ISO 8601 time" in bad.stderr

    with ca.engine.connect() as conn:
        purged = conn.execute(select(events.c.refs).where(events.c.type == "data.purged")).scalars().all()
    assert len(purged) == 2 and old["id"] in purged[0]
    assert_ledger_intact(ca.engine)
