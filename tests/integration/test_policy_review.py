"""The party's pack on the send path between two real nodes: feedback before sending, refusals, holds, the legal
review queue (four eyes, escalation, conditions) and a pack change while messages wait."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from accord.domain.parties import Party
from accord.policy.pack import shipped_pack_dir
from accord.store.tables import events, messages, outbox
from tests.conftest import DatabaseFactory
from tests.integration.nodes import RunningNode, assessment, draft, wait_for

PERSON = {
    "kind": "person",
    "name": "R. Example",
    "role": "suspect",
    "identifiers": [{"scheme": "passport", "value": "Z1"}],
}


@pytest.fixture
def databases(sqlite_databases: DatabaseFactory) -> DatabaseFactory:
    """Legal rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return sqlite_databases


def send(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/messages", json=draft(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def state(client: httpx.Client, message_id: str) -> dict[str, Any]:
    delivery: dict[str, Any] = client.get(f"/api/v1/messages/{message_id}").json()["delivery"]
    return delivery


def count(node: RunningNode, table: Any) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def inbox_ids(client: httpx.Client) -> set[str]:
    return {m["id"] for m in client.get("/api/v1/messages", params={"box": "inbox"}).json()["messages"]}


def test_an_officer_sees_the_decision_and_its_law_before_sending_and_nothing_is_stored(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = pair
    before = count(ca, messages), count(ca, events)
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.operator") as operator:
        held = rcmp.post("/api/v1/messages/evaluate", json=draft(body="The courier was seen at the protest."))
        assert held.status_code == 200, held.text
        assert held.json()["verdict"] == "review"
        assert [p["id"] for p in held.json()["policies"]] == ["ca-neutrality-text"]
        assert held.json()["findings"]["sensitive_terms"] == ["protest"]

        refused = rcmp.post("/api/v1/messages/evaluate", json=draft(subjects=[PERSON], legal_basis=None))
        decision = refused.json()
        assert decision["verdict"] == "deny"
        refusing = {p["id"]: p for p in decision["policies"] if not p["review"]}
        assert list(refusing) == ["ca-privacy-legal-basis"]
        assert "Privacy Act" in refusing["ca-privacy-legal-basis"]["citation"]
        assert decision["pack"].startswith("ca-disclosure@")

        assert rcmp.post("/api/v1/messages/evaluate", json=draft()).json()["verdict"] == "allow"
        assert operator.post("/api/v1/messages/evaluate", json=draft()).status_code == 403
        assert rcmp.post("/api/v1/messages/evaluate", json={"title": "x"}).status_code == 422
    assert (count(ca, messages), count(ca, events) - before[1]) == (before[0], 2), "only the two sign-ins"


def test_an_unlawful_disclosure_is_refused_with_its_reasons_and_never_queued(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = pair
    with ca.client("ca.rcmp") as rcmp:
        sent = send(rcmp, purpose="evidence")
        assert sent["delivery"]["state"] == "refused"
        assert sent["policy"]["verdict"] == "deny"
        assert [p["id"] for p in sent["policy"]["policies"]] == ["ca-mlat-evidence"]
        shown = state(rcmp, sent["id"])
        assert shown["state"] == "refused" and "Mutual Legal Assistance" in shown["reason"]
    assert count(ca, outbox) == 0
    with ca.engine.connect() as conn:
        decided = conn.execute(select(events.c.refs).where(events.c.type == "policy.decided")).scalars().all()
    assert any('"verdict":"deny"' in refs and "ca-mlat-evidence" in refs for refs in decided)


def test_a_held_disclosure_leaves_once_a_legal_officer_approves_it_with_conditions(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = pair
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.legal") as legal, in_.client("in.ncb") as ncb:
        sent = send(rcmp, body="Funds were raised near the gurdwara.")
        assert sent["delivery"]["state"] == "held"
        queue = legal.get("/api/v1/reviews").json()["held"]
        [item] = [i for i in queue if i["message_id"] == sent["id"]]
        assert item["level"] == 1
        assert [p["id"] for p in item["decision"]["policies"]] == ["ca-neutrality-text"]
        assert sent["id"] not in inbox_ids(ncb), "a held message does not travel"

        approval = {
            "action": "approve",
            "reason": "The place is only where the money changed hands; no religious ground.",
            "conditions": {"add_caveats": ["H1"]},
        }
        decided = legal.post(f"/api/v1/reviews/{sent['id']}", json=approval)
        assert decided.status_code == 200, decided.text
        assert decided.json()["state"] == "queued"
        wait_for(lambda: state(rcmp, sent["id"])["state"] in {"delivered", "read"})
        assert state(rcmp, sent["id"])["reason"].startswith("approved by ca.legal")
        arrived = ncb.get(f"/api/v1/messages/{sent['id']}").json()
        assert "H1" in arrived["handling"]["caveats"]
        assert legal.post(f"/api/v1/reviews/{sent['id']}", json=approval).status_code == 409
    with ca.engine.connect() as conn:
        logged = conn.execute(select(events.c.refs).where(events.c.type == "review.decided")).scalars().all()
    assert any(sent["id"] in refs and "approve" in refs for refs in logged)


def test_four_eyes_roles_refusal_and_escalation_to_the_deputy_head(pair: tuple[RunningNode, RunningNode]) -> None:
    ca, in_ = pair
    terror = {
        "focus_area": "networks",
        "offence": "0906",
        "recipient_agency": "NIA",
        "subjects": [PERSON],
        "body": "Two guards died in the attack on the depot.",
    }
    with (
        ca.client("ca.rcmp.lawyer") as lawyer,
        ca.client("ca.rcmp") as rcmp,
        ca.client("ca.legal") as legal,
        ca.client("ca.deputy") as deputy,
    ):
        own = send(lawyer, body="Seen near the protest.")
        selfish = lawyer.post(f"/api/v1/reviews/{own['id']}", json={"action": "approve", "reason": "looks fine"})
        assert selfish.status_code == 403 and selfish.json()["type"] == "urn:accord:problem:four-eyes"
        assert rcmp.get("/api/v1/reviews").status_code == 403
        assert (
            rcmp.post(f"/api/v1/reviews/{own['id']}", json={"action": "refuse", "reason": "not me"}).status_code == 403
        )

        refused = legal.post(f"/api/v1/reviews/{own['id']}", json={"action": "refuse", "reason": "Protest is lawful."})
        assert refused.json()["state"] == "refused"
        assert state(lawyer, own["id"])["reason"] == "refused by ca.legal: Protest is lawful."

        risky = send(rcmp, **terror)
        assert {p["id"] for p in risky["policy"]["policies"]} == {
            "ca-acmfea-assessment-required",
            "ca-death-penalty-assurance",
        }
        up = legal.post(f"/api/v1/reviews/{risky['id']}", json={"action": "escalate", "reason": "Substantial risk."})
        assert up.json()["level"] == 1 and up.json()["state"] == "held"
        too_low = legal.post(f"/api/v1/reviews/{risky['id']}", json={"action": "approve", "reason": "fine by me"})
        assert too_low.status_code == 403
        waiting = deputy.get("/api/v1/reviews").json()["held"]
        assert [i["level"] for i in waiting if i["message_id"] == risky["id"]] == [2]
        bad_field = {"action": "approve", "reason": "with care", "conditions": {"remove_fields": ["subjects[9].role"]}}
        assert deputy.post(f"/api/v1/reviews/{risky['id']}", json=bad_field).status_code == 422
        approval = {
            "action": "approve",
            "reason": "Assurances received; identifiers not needed.",
            "conditions": {
                "remove_fields": ["subjects[0].identifiers"],
                "assurance": {
                    "kind": "no-death-penalty",
                    "reference": "Note verbale 2026/114",
                    "issued_on": "2026-10-02",
                    "issuing_authority": "Ministry of External Affairs, Government of India",
                },
            },
        }
        gated = deputy.post(f"/api/v1/reviews/{risky['id']}", json=approval)
        assert gated.status_code == 409 and "record a mistreatment-risk assessment for R. Example" in gated.text
        recorded = legal.post("/api/v1/assessments", json=assessment(risky["case_id"], [PERSON]))
        assert recorded.status_code == 201, recorded.text
        assert deputy.post(f"/api/v1/reviews/{risky['id']}", json=approval).status_code == 200
        wait_for(lambda: state(rcmp, risky["id"])["state"] in {"delivered", "read"})
    with in_.client("in.ncb") as ncb, in_.engine.connect() as conn:
        content = conn.execute(select(messages.c.content).where(messages.c.id == risky["id"])).scalar_one()
        assert '"identifiers":[]' in content and "no-death-penalty" in content
        assert risky["id"] not in inbox_ids(ncb), "addressed to NIA, not NCB"


def test_a_pack_installed_while_messages_wait_decides_them_again_and_is_logged(
    pair: tuple[RunningNode, RunningNode], tmp_path: Path
) -> None:
    ca, _ = pair
    with ca.client("ca.rcmp") as rcmp:
        held = send(rcmp, body="A rally was held outside the warehouse.")
        assert held["delivery"]["state"] == "held"
        old_pack = held["policy"]["pack"]

        relaxed = tmp_path / "relaxed"
        shutil.copytree(shipped_pack_dir(Party.CA), relaxed)
        cedar = relaxed / "policies.cedar"
        cedar.write_text(cedar.read_text().replace("when { resource.sensitive_text }", "when { false }"))
        manifest = relaxed / "manifest.yaml"
        shipped = yaml.safe_load(manifest.read_text())["version"]
        relaxed_version = f"{shipped}-relaxed"
        manifest.write_text(manifest.read_text().replace(f'version: "{shipped}"', f'version: "{relaxed_version}"'))
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")} | {
            "ACCORD_DATABASE_URL": ca.database_url
        }
        installed = ca.run_accord("policy", "install", str(relaxed), "--data", str(ca.data_dir), env=env, timeout_s=60)
        assert installed.returncode == 0, installed.stderr
        assert relaxed_version in installed.stdout and "'allow': 1" in installed.stdout
        same = ca.run_accord("policy", "install", str(relaxed), "--data", str(ca.data_dir), env=env, timeout_s=60)
        assert same.returncode == 0 and "installed already; nothing changed" in same.stdout, same.stderr
        edited = tmp_path / "edited"
        shutil.copytree(relaxed, edited)
        (edited / "policies.cedar").write_text(cedar.read_text() + "\n// edited, its version left as it was\n")
        reused = ca.run_accord("policy", "install", str(edited), "--data", str(ca.data_dir), env=env, timeout_s=60)
        assert reused.returncode == 1 and f"version {relaxed_version} was installed before" in reused.stderr
        assert "raise `version`" in reused.stderr and "Traceback" not in reused.stderr

        wait_for(lambda: state(rcmp, held["id"])["state"] in {"delivered", "read"})
        again = rcmp.post("/api/v1/messages/evaluate", json=draft(body="A rally was held outside the warehouse."))
        assert again.json()["verdict"] == "allow"
        assert again.json()["pack"] != old_pack and relaxed_version in again.json()["pack"]

        broken = tmp_path / "broken"
        shutil.copytree(relaxed, broken)
        (broken / "policies.cedar").write_text("permit (principal, action, resource")
        refused = ca.run_accord("policy", "install", str(broken), "--data", str(ca.data_dir), env=env, timeout_s=60)
        assert refused.returncode == 1 and "not valid Cedar" in refused.stderr
        assert relaxed_version in rcmp.post("/api/v1/messages/evaluate", json=draft()).json()["pack"]
    with ca.engine.connect() as conn:
        installs = conn.execute(select(events.c.refs).where(events.c.type == "policy.pack_installed")).scalars().all()
        redecided = conn.execute(select(events.c.refs).where(events.c.type == "policy.decided")).scalars().all()
    assert len(installs) == 2 and relaxed_version in installs[-1]
    assert any(held["id"] in refs and "reevaluated" in refs for refs in redecided)
