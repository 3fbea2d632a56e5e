"""TLP:RED is for its named recipients only, and they must be officers who can read it there: checked at compose
against the peer's published roster (a signed `roster` envelope), and again by the receiver against its own
directory; a cyber share names its readers and only they read it."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select

from accord.directory.officers import Role, create_officer
from accord.domain.handling import Tlp
from accord.focus.cyber.tlp import tlp_definitions
from accord.store.tables import messages, peer_roster
from tests.integration.nodes import PASSWORD, RunningNode, draft, open_local, wait_for
from tests.stix_samples import indicator, tlp2


@pytest.fixture(scope="module")
def shared_pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> tuple[RunningNode, RunningNode]:
    """Legal rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair


def red(*named: str, **fields: Any) -> dict[str, Any]:
    handling = {"classification": "Protected B", "tlp": "RED", "named_recipients": list(named)}
    return draft(handling=handling, **fields)


def state_of(client: httpx.Client, message_id: str) -> dict[str, Any]:
    delivery: dict[str, Any] = client.get(f"/api/v1/messages/{message_id}").json()["delivery"]
    return delivery


def stored(node: RunningNode) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())


def roster_held(node: RunningNode) -> dict[str, str]:
    with node.engine.connect() as conn:
        return {r.username: r.agency for r in conn.execute(select(peer_roster))}


def test_red_recipients_are_checked_by_the_receiver_and_at_compose_once_the_roster_is_known(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    with ca.client("ca.rcmp") as rcmp:
        # No roster from India yet: the receiver, which knows its officers, refuses what nobody could read there.
        unreadable = rcmp.post("/api/v1/messages", json=red("in.cbi"))
        assert unreadable.status_code == 201 and unreadable.json()["delivery"]["state"] == "queued"
        failed = wait_for(lambda: (s := state_of(rcmp, unreadable.json()["id"]))["state"] == "failed" and s)
        assert "in.cbi" in failed["reason"] and "NCB" in failed["reason"]

        with in_.client("in.operator") as operator:
            published = operator.post("/api/v1/roster")
            assert published.status_code == 201, published.text
            with in_.client("in.ncb") as ncb:
                assert ncb.post("/api/v1/roster").status_code == 403, "publishing is the operator's"
        wait_for(lambda: roster_held(ca).get("in.ncb.duty") == "NCB")

        before = stored(ca)
        wrong_agency = rcmp.post("/api/v1/messages", json=red("in.cbi"))
        assert wrong_agency.status_code == 422
        assert "officer of CBI, not of NCB" in wrong_agency.json()["detail"]
        unknown = rcmp.post("/api/v1/messages", json=red("in.nobody"))
        assert unknown.status_code == 422 and "in.nobody" in unknown.json()["detail"]
        addressed = rcmp.post("/api/v1/messages", json=red(recipient_officer="in.cbi"))
        assert addressed.status_code == 422, "the addressed officer of a RED message is a named reader too"
        assert stored(ca) == before, "a refused draft stores nothing"

        named = rcmp.post("/api/v1/messages", json=red("in.ncb.duty"))
        assert named.status_code == 201 and named.json()["delivery"]["state"] == "queued", named.text
        wait_for(lambda: state_of(rcmp, named.json()["id"])["state"] == "delivered")
    with in_.client("in.ncb.duty") as duty, in_.client("in.ncb") as ncb:
        assert duty.get(f"/api/v1/messages/{named.json()['id']}").status_code == 200
        assert ncb.get(f"/api/v1/messages/{named.json()['id']}").status_code == 403


def red_bundle() -> dict[str, Any]:
    """A TLP:RED indicator: the C2 host of a phishing kit aimed at a bank's customers."""
    marked = indicator("Phishing kit C2 for a bank's customers", "203.0.113.66", tlp2(Tlp.RED))
    objects = [tlp_definitions().marking_definition(Tlp.RED), marked]
    return {"type": "bundle", "id": f"bundle--{uuid4()}", "objects": objects}


def test_a_red_cyber_share_goes_to_its_named_analysts_and_only_they_read_it(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    node = open_local(in_)
    try:
        create_officer(node, "in.certin.red", PASSWORD, "CERT-In duty analyst", "CERT-In", frozenset({Role.ANALYST}))
        create_officer(node, "in.certin.other", PASSWORD, "CERT-In analyst", "CERT-In", frozenset({Role.ANALYST}))
    finally:
        node.close()
    with in_.client("in.operator") as operator:  # new officers are published to the peer, as `officer add` does
        assert operator.post("/api/v1/roster").status_code == 201
    wait_for(lambda: roster_held(ca).get("in.certin.red") == "CERT-In")
    with ca.client("ca.cccs") as cccs:
        shared = cccs.post(
            "/api/v1/cyber/shares", json={"bundle": red_bundle(), "named_recipients": ["in.certin", "in.certin.red"]}
        )
        assert shared.status_code == 201, shared.text
        assert (shared.json()["tlp"], shared.json()["state"]) == ("RED", "queued"), "a lawful RED share leaves"
        share_id = shared.json()["id"]
        wait_for(lambda: state_of(cccs, share_id)["state"] == "delivered")
    for reader, status in (("in.certin", 200), ("in.certin.red", 200), ("in.certin.other", 403), ("in.ncb", 403)):
        with in_.client(reader) as client:
            assert client.get(f"/api/v1/messages/{share_id}").status_code == status, reader


def test_a_red_share_to_one_agency_naming_another_agencys_officer_is_refused_at_compose(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    with in_.client("in.operator") as operator:
        assert operator.post("/api/v1/roster").status_code == 201
    wait_for(lambda: "in.certin" in roster_held(ca))
    before = stored(ca)
    with ca.client("ca.cccs") as cccs:
        refused = cccs.post("/api/v1/cyber/shares", json={"bundle": red_bundle(), "named_recipients": ["in.ncb"]})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "in.ncb" in refused.json()["detail"] and "CERT-In" in refused.json()["detail"]
    assert stored(ca) == before
