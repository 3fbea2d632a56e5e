"""The legal review queue between two real nodes: the most pressing hold first, four eyes on everyone who drafted or
edited a disclosure, redactions (a field, a subject, an attachment) with a preview of exactly what leaves, a gate
that approval cannot lift, and a deployment that lowers the channel's ceiling, whose refusals cite the law (the
reviewers' notifications are in test_notifications)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from accord.directory.officers import officer_by_username
from accord.domain.drafts import MessageDraft
from accord.errors import ConfigurationError
from accord.exchange.sending import evaluate_draft
from accord.policy.findings import describe_findings
from accord.policy.pack import PackError
from accord.store.tables import messages
from tests.conftest import DatabaseFactory
from tests.integration.nodes import (
    PASSWORD,
    PairTemplates,
    RunningNode,
    assessment,
    draft,
    open_local,
    running_pair,
    wait_for,
)
from tests.integration.test_web_sessions import csrf_of, sign_in

PROTEST = "The courier was seen at the protest."  # held by the neutrality screen (ca-neutrality-text)
SUSPECT = {
    "kind": "person",
    "name": "R. Example",
    "role": "suspect",
    "nationality": "IND",
    "date_of_birth": "1990-02-01",
}
VICTIM = {
    "kind": "person",
    "name": "V. Victim",
    "role": "victim",
    "identifiers": [{"scheme": "phone", "value": "+1 555"}],
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


def held(client: httpx.Client, **overrides: Any) -> str:
    sent = send(client, **({"body": PROTEST} | overrides))
    assert sent["delivery"]["state"] == "held", sent["policy"]
    message_id: str = sent["id"]
    return message_id


def held_and_assessed(
    client: httpx.Client, legal: httpx.Client, persons: list[dict[str, Any]], **overrides: Any
) -> str:
    """A held disclosure naming `persons`, with the mistreatment-risk assessment Canada requires for each person a
    disclosure names recorded by a legal officer, so what remains to decide is the review itself."""
    sent = send(client, **({"body": PROTEST, "subjects": persons} | overrides))
    assert sent["delivery"]["state"] == "held", sent["policy"]
    recorded = legal.post("/api/v1/assessments", json=assessment(sent["case_id"], persons))
    assert recorded.status_code == 201, recorded.text
    message_id: str = sent["id"]
    return message_id


def add_officer(node: RunningNode, username: str, roles: list[str]) -> None:
    args = ["officer", "add", "--data", str(node.data_dir), "--username", username, "--agency", "PS"]
    args += ["--name", username.replace(".", " ").title(), "--password-stdin"]
    args += [a for role in roles for a in ("--role", role)]
    added = node.run_accord(*args, input=PASSWORD + "\n", timeout_s=60)
    assert added.returncode == 0, added.stderr


def approve(reason: str = "Lawful as it stands.", **conditions: Any) -> dict[str, Any]:
    return {"action": "approve", "reason": reason, "conditions": conditions}


def test_urgent_reviews_come_first_then_the_earliest_deadline_then_the_longest_wait(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = pair
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.legal") as legal:
        share = held(rcmp, kind="share", title="routine share, no deadline")
        routine = held(rcmp, title="routine request")
        urgent = held(rcmp, priority="urgent", title="urgent request")
        immediate = held(rcmp, priority="immediate", title="immediate alert", kind="alert")
        later_routine = held(rcmp, title="a later routine request")
        queue = legal.get("/api/v1/reviews").json()
        order = [item["message_id"] for item in queue["held"]]
        assert order == [immediate, urgent, routine, later_routine, share]
        assert queue["pressing"] == 2
        assert queue["held"][0]["deadline"] is not None and queue["held"][-1]["deadline"] is None
        assert queue["held"][0]["findings"] == [
            "The text touches protected matters: protest (“protest”, en).",
            "The declared offence is 06012 Unlawful trafficking, cultivation or production of controlled drugs or "
            "precursors not for personal consumption, within the focus area's scope.",
        ]


def test_four_eyes_binds_the_drafter_and_every_editor_not_only_the_sender(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = pair
    add_officer(ca, "ca.legal.two", ["legal"])
    with (
        ca.client("ca.rcmp") as rcmp,
        ca.client("ca.cbsa") as cbsa,
        ca.client("ca.legal") as legal,
        ca.client("ca.legal.two") as second,
        ca.client("ca.deputy") as deputy,
        ca.client("ca.rcmp.lawyer") as lawyer,
    ):
        # A legal officer who revised a held disclosure edited it: another must decide it.
        message_id = held_and_assessed(rcmp, legal, [SUSPECT, VICTIM], legal_basis="Privacy Act s.8(2)(f)")
        revision = {
            "reason": "The victim's telephone is not needed.",
            "conditions": {"remove_fields": ["subjects[1].identifiers"]},
        }
        revised = legal.post(f"/api/v1/reviews/{message_id}/revisions", json=revision)
        assert revised.status_code == 200, revised.text
        assert revised.json()["state"] == "held"
        [item] = [i for i in legal.get("/api/v1/reviews").json()["held"] if i["message_id"] == message_id]
        assert item["editors"] == ["ca.rcmp", "ca.legal"]
        assert [step["action"] for step in item["history"]] == ["revise"]
        refused = legal.post(f"/api/v1/reviews/{message_id}", json=approve())
        assert refused.status_code == 403 and refused.json()["type"] == "urn:accord:problem:four-eyes"
        assert "edited" in refused.json()["detail"]
        assert second.post(f"/api/v1/reviews/{message_id}", json=approve()).status_code == 200

        # The drafter's agency may revise; another agency may not. A reviewer who edited a message may not approve
        # its correction either: the correction carries what they wrote.
        drafted = held(rcmp)
        colleague = {"reason": "Add the handling code.", "conditions": {"add_caveats": ["H1"]}}
        other_agency = cbsa.post(f"/api/v1/reviews/{drafted}/revisions", json=colleague)
        assert other_agency.status_code == 404, "another agency's held message is not theirs to change"
        assert legal.post(f"/api/v1/reviews/{drafted}/revisions", json=colleague).status_code == 200
        correction = rcmp.post(
            f"/api/v1/messages/{drafted}/amendments",
            json={
                "kind": "correction",
                "reason": "The place was wrong.",
                "body": "Seen at the protest, not the rally.",
            },
        )
        assert correction.status_code == 201, correction.text
        assert correction.json()["delivery"]["state"] == "held"
        correction_id = correction.json()["id"]
        [fix] = [i for i in deputy.get("/api/v1/reviews").json()["held"] if i["message_id"] == correction_id]
        assert fix["editors"] == ["ca.rcmp", "ca.legal"]
        blocked = legal.post(f"/api/v1/reviews/{correction_id}", json=approve())
        assert blocked.status_code == 403 and blocked.json()["type"] == "urn:accord:problem:four-eyes"
        assert state_of(ca, correction_id) == "held", "a refused attempt changes nothing"
        own = lawyer.post(f"/api/v1/reviews/{held(lawyer)}", json=approve())
        assert own.status_code == 403 and "drafted" in own.json()["detail"]
        empty = rcmp.post(f"/api/v1/reviews/{drafted}/revisions", json={"reason": "nothing", "conditions": {}})
        assert empty.status_code == 422


def state(client: httpx.Client, message_id: str) -> str:
    return str(client.get(f"/api/v1/messages/{message_id}").json()["delivery"]["state"])


def state_of(node: RunningNode, message_id: str) -> str:
    with node.engine.connect() as conn:
        return str(conn.execute(select(messages.c.state).where(messages.c.id == message_id)).scalar_one())


def test_a_reviewer_sees_exactly_what_will_leave_and_the_peer_receives_only_that(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = pair
    data = os.urandom(2048)
    digest = hashlib.sha256(data).hexdigest()
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.legal") as legal, in_.client("in.ncb") as ncb:
        assert rcmp.post("/api/v1/attachments", content=data, headers={"Content-Type": "text/csv"}).status_code == 201
        message_id = held_and_assessed(
            rcmp, legal, [SUSPECT, VICTIM], attachments=[{"sha256": digest, "name": "applicants.csv"}]
        )
        conditions = {
            "remove_subjects": [1],
            "remove_fields": ["subjects[0].date_of_birth"],
            "remove_attachments": [digest],
            "add_caveats": ["H1"],
        }
        shown = legal.post(f"/api/v1/reviews/{message_id}/preview", json=conditions)
        assert shown.status_code == 200, shown.text
        preview = shown.json()
        assert [s["name"] for s in preview["message"]["subjects"]] == ["R. Example"]
        assert preview["message"]["subjects"][0]["date_of_birth"] is None
        assert preview["message"]["attachments"] == []
        assert "H1" in preview["message"]["handling"]["caveats"]
        assert preview["removed"] == [
            "the whole of V. Victim (person, victim)",
            "the date of birth of R. Example (person, suspect)",
            "attachment applicants.csv",
        ]
        assert preview["decision"]["verdict"] == "review" and preview["approvable"] is True
        with ca.engine.connect() as conn:
            content = conn.execute(select(messages.c.content).where(messages.c.id == message_id)).scalar_one()
        assert "V. Victim" in content, "a preview stores nothing"

        bad = legal.post(f"/api/v1/reviews/{message_id}/preview", json={"remove_subjects": [7]})
        assert bad.status_code == 422 and "2 subjects" in bad.json()["detail"]
        unknown = legal.post(f"/api/v1/reviews/{message_id}/preview", json={"remove_attachments": ["0" * 64]})
        assert unknown.status_code == 422
        assert rcmp.post(f"/api/v1/reviews/{message_id}/preview", json=conditions).status_code == 403

        assert legal.post(f"/api/v1/reviews/{message_id}", json=approve(**conditions)).status_code == 200
        wait_for(lambda: ncb.get(f"/api/v1/messages/{message_id}").status_code == 200)
        arrived = ncb.get(f"/api/v1/messages/{message_id}").json()
        assert [s["name"] for s in arrived["subjects"]] == ["R. Example"]
        assert arrived["attachments"] == [] and arrived["subjects"][0]["date_of_birth"] is None
        assert ncb.get(f"/api/v1/attachments/{digest}").status_code == 404, "the redacted attachment never left"


@pytest.fixture
def deployed(
    templates: PairTemplates, databases: DatabaseFactory, tmp_path: Path
) -> Iterator[tuple[RunningNode, RunningNode]]:
    """A pair whose Canadian deployment carries at most Confidential."""
    with running_pair(templates, databases, tmp_path, env={"ACCORD_CHANNEL_CEILING": "confidential"}) as started:
        yield started


def test_a_deployment_lowers_the_channel_ceiling_and_the_refusal_cites_the_law(
    deployed: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = deployed
    with ca.client("ca.rcmp") as rcmp:
        before = rcmp.get("/api/v1/messages", params={"box": "outbox"}).json()["messages"]
        refused = rcmp.post("/api/v1/messages", json=draft(handling={"classification": "Secret", "tlp": "AMBER"}))
        assert refused.status_code == 422
        problem = refused.json()
        assert problem["type"] == "urn:accord:problem:above-channel-ceiling"
        assert "at most confidential" in problem["detail"]
        assert problem["citation"].startswith("Policy on Government Security")
        assert problem["citation"] in problem["detail"]
        assert rcmp.get("/api/v1/messages", params={"box": "outbox"}).json()["messages"] == before
        checked = rcmp.post("/api/v1/messages/evaluate", json=draft(handling={"classification": "Secret"}))
        assert checked.status_code == 422 and checked.json()["citation"] == problem["citation"]
        assert send(rcmp, handling={"classification": "Confidential", "tlp": "AMBER"})["delivery"]["state"] == "queued"


def test_every_validation_stage_refusal_names_its_law(pair: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = pair
    cases = {
        "above-channel-ceiling": {"handling": {"classification": "Top Secret"}},
        "unknown-classification": {"handling": {"classification": "Cosmic"}},
        "tlp-red-unnamed": {"handling": {"classification": "Protected B", "tlp": "RED"}},
        "h3-restriction-unstated": {"handling": {"classification": "Protected B", "caveats": ["H3"]}},
        "unknown-focus-area": {"focus_area": "weather"},
        "unknown-agency": {"recipient_agency": "NOPE"},
        "invalid-input": {"kind": "response"},  # any other check: the arrangement every disclosure is made under
    }
    with ca.client("ca.rcmp") as rcmp:
        for slug, overrides in cases.items():
            answer = rcmp.post("/api/v1/messages", json=draft(**overrides))
            assert answer.status_code == 422, (slug, answer.text)
            problem = answer.json()
            assert problem["type"] == f"urn:accord:problem:{slug}"
            assert problem.get("citation"), f"{slug} names no law"
            assert problem["citation"] in problem["detail"]
    assert "Privacy Act s.8(2)(f)" in problem["citation"]


def test_the_web_form_shows_what_refuses_what_holds_and_that_approval_waits_for_the_assurance(
    pair: tuple[RunningNode, RunningNode], tmp_path: Path
) -> None:
    ca, in_ = pair
    murder = {
        "focus_area": "networks",
        "offence": "0101",
        "recipient_agency": "CBI",
        "title": "Whereabouts of a murder suspect",
        "subjects": [SUSPECT],
    }
    with ca.client("ca.rcmp") as rcmp:
        sent = send(rcmp, **murder)
    message_id = sent["id"]
    with ca.client("ca.legal") as legal:  # the ACMFEA assessment first: only the death-penalty gate remains
        recorded = legal.post("/api/v1/assessments", json=assessment(sent["case_id"], [SUSPECT]))
        assert recorded.status_code == 201, recorded.text
    client, _ = sign_in(ca, "ca.legal")
    try:
        queue = client.get("/reviews")
        assert queue.status_code == 200
        card = queue.text[queue.text.index(f'data-message="{message_id}"') :]
        assert "Approval is blocked until</strong> record a no-death-penalty assurance" in card
        assert "Death is a possible sentence in the receiving state under" in card
        assert "Approve (blocked)" in card
        assert "The courier" not in card and "Please confirm the consignee" in card, "the card shows the body"
        token = csrf_of(queue)

        approval = {"csrf": token, "action": "approve", "reason": "Approved as it stands."}
        blocked = client.post(f"/reviews/{message_id}", data=approval)
        assert blocked.status_code == 409
        assert "cannot be approved as it stands" in blocked.text and "ca-death-penalty-assurance" in blocked.text
        assert state_of(ca, message_id) == "held"

        half = client.post(f"/reviews/{message_id}/preview", data={"csrf": token, "assurance_kind": "no-death-penalty"})
        assert "the conditions are not valid" in half.text, "a half-recorded assurance is an error, not ignored"

        assurance = {
            "assurance_kind": "no-death-penalty",
            "assurance_reference": "Note verbale 2026/114",
            "assurance_issued_on": "2026-10-02",
            "assurance_authority": "Ministry of External Affairs, Government of India",
            "remove_fields": "subjects[0].date_of_birth",
        }
        preview = client.post(f"/reviews/{message_id}/preview", data={"csrf": token} | assurance)
        assert preview.status_code == 200
        assert "Approve (blocked)" not in preview.text and "Note verbale 2026/114" in preview.text
        assert "Left out: the date of birth of R. Example (person, suspect)." in preview.text
        approved = client.post(f"/reviews/{message_id}", data=approval | assurance)
        assert approved.status_code == 303, approved.text
    finally:
        client.close()
    with ca.client("ca.rcmp") as rcmp:
        wait_for(
            lambda: rcmp.get(f"/api/v1/messages/{message_id}").json()["delivery"]["state"] in {"delivered", "read"}
        )
    with in_.engine.connect() as conn:
        content = conn.execute(select(messages.c.content).where(messages.c.id == message_id)).scalar_one()
    assert "Note verbale 2026/114" in content and "1990-02-01" not in content


def test_a_deployment_file_is_validated_when_the_node_opens_and_its_thresholds_decide(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = pair
    settings = ca.data_dir / "deployment.yaml"
    settings.write_text("channel: {ceiling: top_secret}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="above the agreement's secret"):
        open_local(ca)
    refused = ca.run_accord("officer", "unlock", "nobody", "--data", str(ca.data_dir), timeout_s=60)
    assert refused.returncode != 0 and "may only lower it" in refused.stderr.replace("\n", " ")

    settings.write_text("screens: {minimisation: {max_persons: many}}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"screens\.minimisation\.max_persons"):
        open_local(ca)
    settings.write_text("screens: {weather: {threshold: 1}}\n", encoding="utf-8")
    with pytest.raises(PackError, match=r"sets screens\.weather; the pack's screens are"):
        open_local(ca)

    settings.unlink()
    records = "\n".join(
        f"{name}, born 198{i}-0{i + 1}-1{i}" for i, name in enumerate(["Ravi Kumar", "Anil Mehta", "Sunil Rao"])
    )
    three_listed = MessageDraft.model_validate(draft(body=f"Please confirm the consignees' travel:\n{records}\n"))
    opened = open_local(ca)
    try:
        with opened.engine.connect() as conn:
            rcmp = officer_by_username(conn, "ca.rcmp")
        assert rcmp is not None
        assert evaluate_draft(opened, rcmp, three_listed).verdict.value == "allow", "3 persons: within the pack's 10"
    finally:
        opened.close()
    settings.write_text(
        "authority: Departmental security officer, accreditation 2026-11\nscreens: {minimisation: {max_persons: 2}}\n",
        encoding="utf-8",
    )
    opened = open_local(ca)
    try:
        decided = evaluate_draft(opened, rcmp, three_listed)
    finally:
        opened.close()
    assert decided.verdict.value == "review" and [p.id for p in decided.policies] == ["ca-minimisation-bulk-persons"]
    assert "+deployment#" in decided.pack
    assert describe_findings(decided.findings)[-1].startswith(
        "It describes 3 persons, more than the 2 one disclosure may carry (3 in title and body)"
    )


def test_a_reviewer_works_the_queue_from_the_command_line(pair: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = pair
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.legal") as legal:
        routine = held(rcmp, title="routine request")
        urgent = held_and_assessed(rcmp, legal, [SUSPECT, VICTIM], priority="urgent", title="urgent request")
    data = ["--data", str(ca.data_dir), "--officer", "ca.legal"]
    listed = ca.run_accord("review", "queue", *data, timeout_s=60)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.index(urgent) < listed.stdout.index(routine)

    shown = ca.run_accord(
        "review", "preview", urgent, *data, "--remove-subject", "1", "--add-caveat", "H1", timeout_s=60
    )
    assert shown.returncode == 0, shown.stderr
    assert "left out: the whole of V. Victim (person, victim)" in shown.stdout
    assert "holds: ca-neutrality-text" in shown.stdout and "approvable" in shown.stdout

    half = ca.run_accord(
        "review",
        "decide",
        urgent,
        *data,
        "--action",
        "approve",
        "--reason",
        "ok fine",
        "--assurance-kind",
        "no-death-penalty",
        timeout_s=60,
    )
    assert half.returncode == 2 and "the conditions are not valid" in half.stderr.replace("\n", " ")
    own = ca.run_accord(
        "review",
        "decide",
        urgent,
        "--data",
        str(ca.data_dir),
        "--officer",
        "ca.rcmp",
        "--action",
        "approve",
        "--reason",
        "mine",
        timeout_s=60,
    )
    assert own.returncode == 2 and "legal officers" in own.stderr.replace("\n", " ")
    approved = ca.run_accord(
        "review",
        "decide",
        urgent,
        *data,
        "--action",
        "approve",
        "--reason",
        "Lawful.",
        "--remove-subject",
        "1",
        timeout_s=60,
    )
    assert approved.returncode == 0, approved.stderr
    assert "approve at level 1: queued" in approved.stdout
    with ca.engine.connect() as conn:
        content = conn.execute(select(messages.c.content).where(messages.c.id == urgent)).scalar_one()
    assert "V. Victim" not in content
