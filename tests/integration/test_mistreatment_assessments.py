"""Mistreatment-risk assessments between two real nodes (ACMFEA s.3 and the Directions under it): a disclosure naming
a person waits for one, recording it decides the case's held disclosures again, "not mitigable" refuses, "mitigable"
waits for the deputy head with its measures applied, an expired one does not count, and bad ones change nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from accord.store.tables import events, messages, mistreatment_assessments
from tests.integration.nodes import RunningNode, assessment, draft, wait_for

SUSPECT = {
    "kind": "person",
    "name": "Harpreet Singh",
    "role": "suspect",
    "date_of_birth": "1987-05-14",
    "identifiers": [{"scheme": "passport", "value": "P4410982"}],
}
COURIER = {"kind": "person", "name": "Manpreet Kaur Gill", "date_of_birth": "1992-11-02"}


@pytest.fixture(scope="module")
def shared_pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> tuple[RunningNode, RunningNode]:
    """Legal rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair


def send(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/messages", json=draft(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def state_of(client: httpx.Client, message_id: str) -> str:
    return str(client.get(f"/api/v1/messages/{message_id}").json()["delivery"]["state"])


def count(node: RunningNode, table: Any) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_named_drug_suspect_waits_for_an_assessment_then_leaves_and_the_case_reuses_it(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.legal") as legal:
        held = send(rcmp, subjects=[SUSPECT], offence="06012", title="Whereabouts of H. Singh")
        assert held["delivery"]["state"] == "held", "the old formula let a named drug suspect through"
        [gate] = held["policy"]["policies"]
        assert gate["id"] == "ca-acmfea-assessment-required" and gate["gate"]
        assert "Avoiding Complicity in Mistreatment" in gate["citation"]
        assert f"for Harpreet Singh in case {held['case_id']}" in gate["remedy"]

        approval = {"action": "approve", "reason": "Routine location request."}
        blocked = legal.post(f"/api/v1/reviews/{held['id']}", json=approval)
        assert blocked.status_code == 409 and "record a mistreatment-risk assessment" in blocked.json()["detail"]

        by_officer = rcmp.post("/api/v1/assessments", json=assessment(held["case_id"], [SUSPECT]))
        assert by_officer.status_code == 403, "an officer does not assess their own disclosure"

        written = {**SUSPECT, "name": "SINGH, Harpreet"}  # as the assessor writes it
        recorded = legal.post("/api/v1/assessments", json=assessment(held["case_id"], [written]))
        assert recorded.status_code == 201, recorded.text
        body = recorded.json()
        assert body["redecided"] == {"allow": 1, "deny": 0, "review": 0}
        assert body["assessment"]["assessor"] == "ca.legal"
        assert body["assessment"]["valid_until"] == (datetime.now(UTC).date() + timedelta(days=180)).isoformat()
        wait_for(lambda: state_of(rcmp, held["id"]) in {"delivered", "read"})

        again = send(rcmp, subjects=[SUSPECT], offence="06012", case_id=held["case_id"], title="Follow-up")
        assert again["delivery"]["state"] == "queued", "an assessment is reused within its case and period"
        other = send(rcmp, subjects=[SUSPECT], offence="06012", title="A new case")
        assert other["delivery"]["state"] == "held", "it does not cover another case"

        listed = legal.get("/api/v1/assessments", params={"case_id": held["case_id"]}).json()["assessments"]
        assert [a["id"] for a in listed] == [body["assessment"]["id"]]
        assert rcmp.get("/api/v1/assessments").status_code == 403
    with ca.engine.connect() as conn:
        logged = conn.execute(select(events.c.refs).where(events.c.type == "assessment.recorded")).scalars().all()
    assert any(body["assessment"]["id"] in refs and held["case_id"] in refs for refs in logged)


def test_bad_assessments_are_refused_as_problems_and_nothing_is_stored(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.legal") as legal:
        case = send(rcmp, subjects=[COURIER])["case_id"]
        good = assessment(case, [COURIER])
        today = datetime.now(UTC).date()
        bad = {
            "unknown case": (assessment("01a20000-0000-7000-8000-000000000000", [COURIER]), 404, "no case"),
            "a factor missing": ({**good, "factors": good["factors"][1:]}, 422, "missing: country_record"),
            "an unknown factor": (
                {**good, "factors": [*good["factors"], {"factor": "horoscope", "rating": "low"}]},
                422,
                "unknown factor horoscope",
            ),
            "a rating off the scale": (
                {**good, "factors": [{"factor": "country_record", "rating": "severe"}, *good["factors"][1:]]},
                422,
                "rating",
            ),
            "a future date": ({**good, "assessed_on": (today + timedelta(days=3)).isoformat()}, 422, "future"),
            "already expired": ({**good, "assessed_on": (today - timedelta(days=200)).isoformat()}, 422, "expired"),
            "mitigable without measures": ({**good, "conclusion": "substantial_risk_mitigable"}, 422, "mitigation"),
            "no conclusion": ({k: v for k, v in good.items() if k != "conclusion"}, 422, "conclusion"),
            "a person with nothing to know them by": ({**good, "persons": [{"date_of_birth": "1990"}]}, 422, "name"),
        }
        before = count(ca, mistreatment_assessments), count(ca, events)
        for name, (body, status, says) in bad.items():
            refused = legal.post("/api/v1/assessments", json=body)
            assert refused.status_code == status, (name, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json"), name
            assert says in refused.text, (name, refused.text)
        assert (count(ca, mistreatment_assessments), count(ca, events)) == before


def test_not_mitigable_refuses_and_mitigable_waits_for_the_deputy_head_with_its_measures(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.legal") as legal, ca.client("ca.deputy") as deputy:
        doomed = send(rcmp, subjects=[COURIER], title="Courier's contacts")
        refused = legal.post(
            "/api/v1/assessments",
            json=assessment(doomed["case_id"], [COURIER], conclusion="substantial_risk_not_mitigable"),
        )
        assert refused.json()["redecided"] == {"allow": 0, "deny": 1, "review": 0}
        shown = rcmp.get(f"/api/v1/messages/{doomed['id']}").json()["delivery"]
        assert shown["state"] == "refused" and "ca-acmfea-not-mitigable" in shown["reason"]

        risky = send(rcmp, subjects=[SUSPECT], offence="06012", title="Suspect's travel")
        mitigable = assessment(
            risky["case_id"],
            [SUSPECT],
            conclusion="substantial_risk_mitigable",
            mitigation={"caveats": ["H1"], "measures": "Use limited to locating him; no detention on our information."},
        )
        recorded = legal.post("/api/v1/assessments", json=mitigable)
        assert recorded.json()["redecided"] == {"allow": 0, "deny": 0, "review": 1}
        assert risky["id"] not in {i["message_id"] for i in legal.get("/api/v1/reviews").json()["held"]}
        [waiting] = [i for i in deputy.get("/api/v1/reviews").json()["held"] if i["message_id"] == risky["id"]]
        assert waiting["level"] == 2
        assert {p["id"] for p in waiting["decision"]["policies"]} == {
            "ca-acmfea-deputy-head",
            "ca-acmfea-measures-applied",
        }
        approve = {"action": "approve", "reason": "Risk mitigated by caveat and use limitation."}
        assert legal.post(f"/api/v1/reviews/{risky['id']}", json=approve).status_code == 403
        unmitigated = deputy.post(f"/api/v1/reviews/{risky['id']}", json=approve)
        assert unmitigated.status_code == 409 and "caveat H1" in unmitigated.json()["detail"]
        with_caveat = deputy.post(
            f"/api/v1/reviews/{risky['id']}", json={**approve, "conditions": {"add_caveats": ["H1"]}}
        )
        assert with_caveat.status_code == 200, with_caveat.text
        wait_for(lambda: state_of(rcmp, risky["id"]) in {"delivered", "read"})
    with in_.engine.connect() as conn:
        content = conn.execute(select(messages.c.content).where(messages.c.id == risky["id"])).scalar_one()
    assert "H1" in json.loads(content)["handling"]["caveats"]


def test_an_expired_assessment_does_not_count(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = shared_pair
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.legal") as legal:
        first = send(rcmp, subjects=[COURIER], title="First request")
        made = legal.post("/api/v1/assessments", json=assessment(first["case_id"], [COURIER])).json()["assessment"]
        wait_for(lambda: state_of(rcmp, first["id"]) in {"delivered", "read"})
        _age(ca, made["id"], days=181)  # six months pass
        later = send(rcmp, subjects=[COURIER], case_id=first["case_id"], title="Six months on")
        assert later["delivery"]["state"] == "held"
        finding = later["policy"]["findings"]["mistreatment_assessment"]
        assert finding["expired"] == [made["id"]] and finding["without_assessment"] == ["Manpreet Kaur Gill"]


def test_the_cli_records_and_lists_assessments(shared_pair: tuple[RunningNode, RunningNode], tmp_path: Path) -> None:
    ca, _ = shared_pair
    with ca.client("ca.rcmp") as rcmp:
        held = send(rcmp, subjects=[COURIER], title="Asked through the CLI")
    file = tmp_path / "assessment.json"
    file.write_text(json.dumps(assessment(held["case_id"], [COURIER])), encoding="utf-8")
    base = ("--data", str(ca.data_dir))
    done = ca.run_accord("assessment", "record", str(file), *base, "--officer", "ca.legal")
    assert done.returncode == 0, done.stderr
    assert f"for case {held['case_id']}: no substantial risk" in done.stdout and "1 leave" in done.stdout
    listed = ca.run_accord("assessment", "list", *base, "--officer", "ca.deputy", "--case", held["case_id"])
    assert listed.returncode == 0 and "Manpreet Kaur Gill" in listed.stdout and "1 assessments" in listed.stdout
    denied = ca.run_accord("assessment", "record", str(file), *base, "--officer", "ca.rcmp")
    assert denied.returncode == 1 and "legal officer or the deputy head" in denied.stderr
    file.write_text(json.dumps({**assessment(held["case_id"], [COURIER]), "factors": []}), encoding="utf-8")
    invalid = ca.run_accord("assessment", "record", str(file), *base, "--officer", "ca.legal")
    assert invalid.returncode == 1 and "factors" in invalid.stderr


def _age(node: RunningNode, assessment_id: str, days: int) -> None:
    """Time passes for one assessment: it was made `days` ago, and its period ran out accordingly."""
    with node.engine.begin() as conn:
        content = json.loads(
            conn.execute(
                select(mistreatment_assessments.c.content).where(mistreatment_assessments.c.id == assessment_id)
            ).scalar_one()
        )
        made = datetime.now(UTC).date() - timedelta(days=days)
        content["assessed_on"] = made.isoformat()
        content["valid_until"] = (made + timedelta(days=180)).isoformat()
        conn.execute(
            update(mistreatment_assessments)
            .where(mistreatment_assessments.c.id == assessment_id)
            .values(content=json.dumps(content), assessed_on=made, valid_until=made + timedelta(days=180))
        )


def test_a_legal_officer_records_an_assessment_from_the_web_form_of_a_held_message(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    from tests.integration.test_web_sessions import csrf_of, sign_in

    ca, _ = shared_pair
    with ca.client("ca.rcmp") as rcmp:
        held = send(rcmp, subjects=[SUSPECT, COURIER], offence="06012", title="Two persons, one case")
    assert held["delivery"]["state"] == "held"
    web, _ = sign_in(ca, "ca.legal")
    queue = web.get("/reviews")
    assert f'href="/messages/{held["id"]}/assessment"' in queue.text
    assert "Harpreet Singh, Manpreet Kaur Gill still need one" in queue.text
    lawyer, _ = sign_in(ca, "ca.rcmp.lawyer")  # a legal officer of the sending agency sees it on the message too
    assert f'href="/messages/{held["id"]}/assessment"' in lawyer.get(f"/messages/{held['id']}").text
    sender, _ = sign_in(ca, "ca.rcmp")
    # the officer reads the gate's remedy (which names the API) on the message, but has no link to the form
    seen = sender.get(f"/messages/{held['id']}").text
    assert "record a mistreatment-risk assessment for" in seen
    assert not re.search(r'href="[^"]*/assessment"', seen)
    assert sender.get(f"/messages/{held['id']}/assessment").status_code == 403

    form = web.get(f"/messages/{held['id']}/assessment")
    assert form.status_code == 200 and form.text.count("needs an assessment") == 2
    token = csrf_of(form)
    ratings = {f"rating-{f}": "moderate" for f in ("country_record", "entity_record", "individual_profile")}
    ratings |= {f"rating-{f}": "low" for f in ("information_nature", "assurance_reliability", "prior_experience")}
    filled = {
        "csrf": token,
        "person": ["0"],
        "conclusion": "no_substantial_risk",
        "rationale": "Location only; no custody expected.",
        "assessed_on": datetime.now(UTC).date().isoformat(),
        **ratings,
    }
    before = count(ca, mistreatment_assessments)
    incomplete = web.post(f"/messages/{held['id']}/assessment", data={**filled, "rating-prior_experience": ""})
    assert incomplete.status_code == 422 and "missing: prior_experience" in incomplete.text
    future = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    assert web.post(f"/messages/{held['id']}/assessment", data={**filled, "assessed_on": future}).status_code == 422
    assert count(ca, mistreatment_assessments) == before, "a form error stores nothing"

    first = web.post(f"/messages/{held['id']}/assessment", data=filled)
    assert first.status_code == 303 and "released=0" in first.headers["location"]
    after_one = web.get(first.headers["location"])
    assert after_one.text.count("needs an assessment") == 1 and "Manpreet Kaur Gill" in after_one.text
    second = web.post(f"/messages/{held['id']}/assessment", data={**filled, "person": ["1"]})
    assert second.status_code == 303 and "released=1" in second.headers["location"]
    with ca.client("ca.rcmp") as rcmp:
        wait_for(lambda: state_of(rcmp, held["id"]) in {"queued", "sent", "delivered", "read"})
