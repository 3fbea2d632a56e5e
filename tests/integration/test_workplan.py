"""The shared work plan across two real nodes: proposals travel as signed envelopes and take effect on both sides only
when the other side accepts; bad changes are refused with a clear 4xx, change nothing and are logged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from accord.store.tables import events
from tests.integration.nodes import RunningNode, wait_for
from tests.ledger_checks import assert_ledger_intact

ITEM = "sharing-channel-live"
# The module shares one running pair, so each test changes its own item of the default plan.
REJECTED_ITEM = "sharing-response-targets"
BAD_ITEM = "coordination-joint-reviews"
ROLES_ITEM = "networks-joint-picture"
CROSSING_ITEM = "cyber-threat-sharing"
STALE_ITEM = "fraud-call-centre-scams"


@pytest.fixture(scope="module")
def shared_pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> tuple[RunningNode, RunningNode]:
    """A capability's rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair


def plan_item(node: RunningNode, code: str, username: str = "ca.rcmp") -> dict[str, Any]:
    item = plan_item_if_any(node, code, username)
    assert item is not None, f"the work plan at {node.party} has no item {code!r}"
    return item


def plan_item_if_any(node: RunningNode, code: str, username: str = "ca.rcmp") -> dict[str, Any] | None:
    """The item at `node`; None while the node has no such item (a new one whose acceptance has not arrived yet)."""
    with node.client(username) as client:
        response = client.get(f"/api/v1/workplan/items/{code}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return dict(response.json())


def propose(node: RunningNode, username: str, body: dict[str, Any]) -> httpx.Response:
    with node.client(username) as client:
        return client.post("/api/v1/workplan/proposals", json=body)


def decide(node: RunningNode, username: str, proposal_id: str, action: str, reason: str = "") -> httpx.Response:
    with node.client(username) as client:
        return client.post(f"/api/v1/workplan/proposals/{proposal_id}/{action}", json={"reason": reason})


def proposal_state(node: RunningNode, proposal_id: str) -> str | None:
    item = None
    with node.client("ca.rcmp" if node.party.value == "CA" else "in.ncb") as client:
        for proposal in client.get("/api/v1/workplan/proposals").json()["proposals"]:
            if proposal["id"] == proposal_id:
                item = proposal["state"]
    return item


def refusals(node: RunningNode) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(events.c.type == "workplan.refused")).scalar_one())


def status_change(base: int = 1, status: str = "in_progress", item: str = ITEM) -> dict[str, Any]:
    return {"item": item, "base_version": base, "changes": {"status": status}, "reason": "the channel carries traffic"}


def test_both_nodes_start_from_the_agreements_default_plan(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, in_ = shared_pair
    with ca.client("ca.rcmp") as client:
        ca_plan = client.get("/api/v1/workplan").json()
    with in_.client("in.ncb") as client:
        in_plan = client.get("/api/v1/workplan").json()
    assert ca_plan == in_plan
    titles = [o["title"] for o in ca_plan["objectives"]]
    assert any("liaison officers" in t for t in titles)
    assert any("fentanyl precursors" in t for t in titles)
    assert any("cyber-security policy cooperation" in t for t in titles)
    assert len(titles) == 8
    for objective in ca_plan["objectives"]:
        for action in objective["actions"]:
            assert set(action["leads"]) == {"CA", "IN"} and action["version"] == 1


def test_a_change_takes_effect_on_both_sides_only_when_the_other_side_accepts(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    response = propose(ca, "ca.coord", status_change())
    assert response.status_code == 201, response.text
    proposal = response.json()
    assert proposal["state"] == "pending" and proposal["party"] == "CA"
    # Pending on both sides; the item is unchanged on both until India accepts.
    wait_for(lambda: proposal_state(in_, proposal["id"]) == "pending")
    for node in shared_pair:
        item = plan_item(node, ITEM, "ca.rcmp" if node is ca else "in.ncb")
        assert item["version"] == 1 and item["doc"]["status"] == "planned"
        assert [p["state"] for p in item["proposals"]] == ["pending"]
    accepted = decide(in_, "in.coord", proposal["id"], "accept", "agreed at the operational review")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted" and accepted.json()["version"] == 2
    assert plan_item(in_, ITEM, "in.ncb")["doc"]["status"] == "in_progress"
    wait_for(lambda: plan_item(ca, ITEM)["version"] == 2)
    ca_item, in_item = plan_item(ca, ITEM), plan_item(in_, ITEM, "in.ncb")
    assert ca_item["doc"] == in_item["doc"] and ca_item["doc"]["status"] == "in_progress"
    assert [h["version"] for h in ca_item["history"]] == [1, 2]
    assert ca_item["history"][1]["proposal"] == proposal["id"]
    assert ca_item["proposals"][0]["state"] == "accepted"
    assert ca_item["proposals"][0]["decided_by"] == "IN:in.coord"
    for node in shared_pair:
        with node.engine.connect() as conn:
            types = set(conn.scalars(select(events.c.type).where(events.c.type.like("workplan.%"))))
        assert {"workplan.proposed", "workplan.accepted", "workplan.changed"} <= types
        assert_ledger_intact(node.engine)
    # Accepting it a second time changes nothing and says why.
    again = decide(in_, "in.coord", proposal["id"], "accept")
    assert again.status_code == 409 and again.json()["type"].endswith(":proposal-decided")
    assert plan_item(in_, ITEM, "in.ncb")["version"] == 2


def test_a_rejected_proposal_is_kept_with_its_reason_and_changes_nothing(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    proposal = propose(in_, "in.coord", status_change(status="cancelled", item=REJECTED_ITEM)).json()
    wait_for(lambda: proposal_state(ca, proposal["id"]) == "pending")
    no_reason = decide(ca, "ca.coord", proposal["id"], "reject", "  ")
    assert no_reason.status_code == 422
    rejected = decide(ca, "ca.coord", proposal["id"], "reject", "the channel is needed for the liaison postings")
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    wait_for(lambda: proposal_state(in_, proposal["id"]) == "rejected")
    item = plan_item(in_, REJECTED_ITEM, "in.ncb")
    assert item["version"] == 1 and item["doc"]["status"] == "planned"
    assert item["proposals"][0]["state_reason"] == "the channel is needed for the liaison postings"


BAD_CHANGES: dict[str, tuple[dict[str, Any], int, str]] = {
    "unknown focus area": (
        {
            "item": "piracy",
            "kind": "objective",
            "base_version": 0,
            "reason": "new area",
            "changes": {"title": "Counter piracy", "focus_area": "piracy"},
        },
        422,
        "workplan-rule",
    ),
    "unknown agency": (
        {"item": BAD_ITEM, "base_version": 1, "reason": "lead", "changes": {"leads": {"CA": "PS", "IN": "NOPE"}}},
        422,
        "workplan-rule",
    ),
    "due before the start": (
        {"item": BAD_ITEM, "base_version": 1, "reason": "earlier", "changes": {"due": "2024-01-31"}},
        422,
        "workplan-rule",
    ),
    "status jump": (status_change(status="done", item=BAD_ITEM), 422, "forbidden-transition"),
    "stale version": (status_change(base=3, item=BAD_ITEM), 409, "stale-proposal"),
    "unknown field": (
        {"item": BAD_ITEM, "base_version": 1, "reason": "typo", "changes": {"colour": "red"}},
        422,
        "workplan-rule",
    ),
    "unknown item": (
        {"item": "no-such-item", "base_version": 2, "reason": "x", "changes": {"title": "y"}},
        404,
        "unknown-workplan-item",
    ),
    "no change": (
        {"item": BAD_ITEM, "base_version": 1, "reason": "same", "changes": {"status": "planned"}},
        422,
        "invalid-input",
    ),
}


def test_a_bad_change_is_refused_changes_nothing_and_is_logged(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = shared_pair
    for case, (body, status, problem) in BAD_CHANGES.items():
        before = refusals(ca)
        response = propose(ca, "ca.coord", body)
        assert response.status_code == status, (case, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), case
        assert response.json()["type"] == f"urn:accord:problem:{problem}", case
        assert response.json()["detail"], case
        assert refusals(ca) == before + 1, case
    with ca.client("ca.coord") as client:
        proposals = client.get("/api/v1/workplan/proposals").json()["proposals"]
    assert [p for p in proposals if p["item"] == BAD_ITEM] == []
    assert plan_item(ca, BAD_ITEM)["version"] == 1


def test_only_the_other_side_decides_and_only_coordinators_change_the_plan(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    proposal = propose(ca, "ca.coord", status_change(item=ROLES_ITEM)).json()
    own = decide(ca, "ca.coord", proposal["id"], "accept")
    assert own.status_code == 403
    assert propose(ca, "ca.rcmp", status_change(item=ROLES_ITEM)).status_code == 403
    wait_for(lambda: proposal_state(in_, proposal["id"]) == "pending")
    assert decide(in_, "in.ncb", proposal["id"], "accept").status_code == 403
    assert decide(in_, "in.coord", "01a20000-0000-7000-8000-000000000000", "accept").status_code == 404
    assert proposal_state(in_, proposal["id"]) == "pending"


def test_crossing_proposals_cannot_both_be_accepted_and_the_plans_stay_identical(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    from_ca = propose(ca, "ca.coord", status_change(item=CROSSING_ITEM)).json()
    from_in = propose(in_, "in.coord", status_change(status="cancelled", item=CROSSING_ITEM)).json()
    wait_for(lambda: proposal_state(ca, from_in["id"]) == "pending" and proposal_state(in_, from_ca["id"]) == "pending")
    crossing = decide(in_, "in.coord", from_ca["id"], "accept")
    assert crossing.status_code == 409 and crossing.json()["type"].endswith(":crossing-proposals")
    # India withdraws its own by having Canada reject it; then India can accept Canada's.
    assert decide(ca, "ca.coord", from_in["id"], "reject", "we prefer to start the channel").status_code == 200
    wait_for(lambda: proposal_state(in_, from_in["id"]) == "rejected")
    assert decide(in_, "in.coord", from_ca["id"], "accept").status_code == 200
    wait_for(lambda: plan_item(ca, CROSSING_ITEM)["version"] == 2)
    assert plan_item(ca, CROSSING_ITEM)["doc"] == plan_item(in_, CROSSING_ITEM, "in.ncb")["doc"]


def test_a_proposal_made_on_an_older_version_is_kept_as_conflicted(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    first = propose(ca, "ca.coord", status_change(item=STALE_ITEM)).json()
    second = propose(ca, "ca.coord", status_change(status="cancelled", item=STALE_ITEM)).json()
    wait_for(lambda: proposal_state(in_, second["id"]) == "pending")
    assert decide(in_, "in.coord", first["id"], "accept").status_code == 200
    assert proposal_state(in_, second["id"]) == "conflicted"
    stale = decide(in_, "in.coord", second["id"], "accept")
    assert stale.status_code == 409
    wait_for(lambda: proposal_state(ca, second["id"]) == "conflicted")
    item = plan_item(ca, STALE_ITEM)
    assert item["version"] == 2 and item["doc"]["status"] == "in_progress"
    reasons = {p["id"]: p["state_reason"] for p in item["proposals"]}
    assert "version 2" in reasons[second["id"]]


def test_a_new_action_and_a_comment_reach_the_other_side(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, in_ = shared_pair
    new_action = {
        "item": "drugs-joint-operation-2027",
        "kind": "action",
        "base_version": 0,
        "reason": "agreed at the NSA meeting",
        "changes": {
            "objective": "drug-flows",
            "title": "Joint operation against a 4-AP diversion route",
            "leads": {"CA": "CBSA", "IN": "NCB"},
            "due": "2027-03-31",
            "milestones": [{"title": "Targets agreed", "due": "2027-01-15"}],
        },
    }
    proposal = propose(ca, "ca.coord", new_action)
    assert proposal.status_code == 201, proposal.text
    wait_for(lambda: proposal_state(in_, proposal.json()["id"]) == "pending")
    assert decide(in_, "in.coord", proposal.json()["id"], "accept").status_code == 200
    wait_for(lambda: (plan_item_if_any(ca, "drugs-joint-operation-2027") or {}).get("version") == 1)
    with in_.client("in.coord") as client:
        posted = client.post("/api/v1/workplan/items/drugs-joint-operation-2027/comments", json={"body": "Team named."})
        assert posted.status_code == 201, posted.text
        assert client.post("/api/v1/workplan/items/nothing-here/comments", json={"body": "x"}).status_code == 404
    wait_for(lambda: plan_item(ca, "drugs-joint-operation-2027")["comments"])
    comment = plan_item(ca, "drugs-joint-operation-2027")["comments"][0]
    assert comment["party"] == "IN" and comment["body"] == "Team named."
    with ca.client("ca.rcmp") as client:
        objectives = client.get("/api/v1/workplan").json()["objectives"]
    drugs = next(o for o in objectives if o["code"] == "drug-flows")
    assert "drugs-joint-operation-2027" in [a["code"] for a in drugs["actions"]]
