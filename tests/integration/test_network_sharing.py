"""A network subgraph crosses Canada → India as an ordinary share: persons in it travel as subjects through the
policy pack, India's case gains the entities with provenance, India's cross-references against its holdings (only
the cases the analyst may read), two judgements, and the indicators count them. A forged share carrying persons
without subjects is refused at arrival; an officer without need to know is refused the case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from accord.directory.officers import officer_by_username
from accord.domain.handling import CommonLevel
from accord.domain.messages import MessageKind
from accord.domain.networks import SharedEntities
from accord.focus.networks.entities import check_entity
from accord.focus.networks.judgements import merged_case
from accord.focus.networks.store import CaseHandling, add_entities, case_provenance, ensure_case
from accord.store.tables import network_entities
from accord.workplan.indicators import INDICATORS, IndicatorContext, load_exchange
from accord.workplan.periods import Period
from tests.integration.forgery import batch, claims_for, message, post_batch, seal
from tests.integration.nodes import RunningNode, assessment, open_local, wait_for

CASE = "op-maple-precursors"


def _person(entity_id: str, name: str, **properties: Any) -> dict[str, Any]:
    return {"id": entity_id, "schema": "Person", "properties": {"name": [name], **properties}}


CA_ENTITIES = [
    _person("ca-p1", "Harpreet Singh Sandhu", birthDate=["1984-03-02"], phone=["+1 416 555 0199"], nationality=["ca"]),
    _person("ca-p2", "Rajesh Kumar Sharma", phone=["+91 98765 43210"], notes=["Arranges the freight."]),
    {"id": "ca-c1", "schema": "Company", "properties": {"name": ["Maple Chem Exports Inc."], "jurisdiction": ["ca"]}},
    {"id": "ca-c2", "schema": "Company", "properties": {"name": ["Shakti Intermediates Pvt Ltd"]}},
    {"id": "ca-d1", "schema": "Directorship", "properties": {"director": ["ca-p1"], "organization": ["ca-c1"]}},
    {"id": "ca-d2", "schema": "Directorship", "properties": {"director": ["ca-p2"], "organization": ["ca-c2"]}},
    {"id": "ca-pay", "schema": "Payment", "properties": {"payer": ["ca-c1"], "beneficiary": ["ca-c2"]}},
    {"id": "ca-x", "schema": "Company", "properties": {"name": ["Unrelated Holdings Ltd"]}},
]
IN_NCB = [
    _person("in-p1", "हरप्रीत सिंह संधू", birthDate=["1984-03-02"], nationality=["in"]),
    _person("in-p2", "R. K. Sharma", nationality=["in"], phone=["+91-98765-43210"]),
    {"id": "in-c2", "schema": "Company", "properties": {"name": ["Shakti Intermediates Private Limited"]}},
]
IN_CBI = [_person("in-cbi-p1", "Rajesh Kumar Sharma", phone=["+919876543210"])]


def _seed(node: RunningNode, case_id: str, agency: str, raw: list[dict[str, Any]], handling: CaseHandling) -> None:
    opened = open_local(node)
    try:
        now = datetime.now(UTC)
        with opened.engine.begin() as conn:
            ensure_case(
                conn,
                case_id=case_id,
                title=case_id,
                owner_agency=agency,
                origin_party=node.party,
                created_by="seed",
                now=now,
                handling=handling,
            )
            proxies = [check_entity(e) for e in raw]
            add_entities(conn, case_id, proxies, party=node.party, source="test", added_by="seed", now=now)
    finally:
        opened.close()


@pytest.fixture(scope="module")
def shared(
    shared_sqlite_pair: tuple[RunningNode, RunningNode],
) -> Iterator[tuple[RunningNode, RunningNode, dict[str, Any]]]:
    ca, in_ = shared_sqlite_pair
    handling = CaseHandling(CommonLevel.CONFIDENTIAL)
    _seed(ca, CASE, "RCMP", CA_ENTITIES, handling)
    _seed(in_, "ncb-holdings", "NCB", IN_NCB, handling)
    _seed(in_, "cbi-holdings", "CBI", IN_CBI, handling)
    with ca.client("ca.rcmp") as rcmp:
        sent = rcmp.post(
            f"/api/v1/networks/cases/{CASE}/share",
            json={
                "entity_ids": ["ca-p1", "ca-p2", "ca-c1", "ca-c2"],
                "recipient_agency": "NCB",
                "title": "Precursor network: directors and a payment",
                "body": "Two companies, their directors and a payment between them.",
                "handling": {"classification": "Protected B", "tlp": "AMBER"},
                "legal_basis": "Privacy Act s.8(2)(f); Canada–India arrangement",
                "offence": "06012",  # ICCS: trafficking in controlled drugs or precursors
                "roles": {"ca-p1": "other", "ca-p2": "other"},
            },
        )
    assert sent.status_code == 201, sent.text
    # Persons disclosed to India: the pack holds the share until a legal officer has weighed the mistreatment risk.
    assert sent.json()["delivery"]["state"] == "held", sent.json()["policy"]
    with ca.client("ca.rcmp") as rcmp:
        subjects = rcmp.get(f"/api/v1/messages/{sent.json()['id']}").json()["subjects"]
    with ca.client("ca.legal") as legal:
        persons = [s for s in subjects if s["kind"] == "person"]
        recorded = legal.post("/api/v1/assessments", json=assessment(CASE, persons))
        assert recorded.status_code == 201, recorded.text
    # The assessment was the only thing the share waited for: the pack decides again and the share goes.
    with ca.client("ca.rcmp") as rcmp:
        state = rcmp.get(f"/api/v1/messages/{sent.json()['id']}").json()["delivery"]["state"]
    assert state in {"queued", "sent", "delivered", "read"}, state
    yield ca, in_, sent.json()


def test_the_share_goes_through_policy_with_its_persons_as_subjects(shared: Any) -> None:
    ca, _, sent = shared
    assert sent["entities"] == 7  # the four chosen, the two directorships and the payment among them; not ca-x
    assert sent["subjects"] == 4 and sent["case_id"] == CASE
    held_by = {p["id"] for p in sent["policy"]["policies"]}
    assert "ca-acmfea-assessment-required" in held_by  # the persons reached the mistreatment screen
    with ca.client("ca.rcmp") as rcmp:
        message = rcmp.get(f"/api/v1/messages/{sent['id']}").json()
    persons = [s for s in message["subjects"] if s["kind"] == "person"]
    assert {p["name"] for p in persons} == {"Harpreet Singh Sandhu", "Rajesh Kumar Sharma"}
    assert {p["role"] for p in persons} == {"other"}


def test_the_partner_case_gains_the_entities_with_provenance(shared: Any) -> None:
    _, in_, sent = shared
    opened = open_local(in_)

    def landed() -> list[Any]:
        with opened.engine.connect() as conn:  # a new connection each time: a transaction would keep its snapshot
            return list(conn.execute(select(network_entities.c.entity_id).where(network_entities.c.case_id == CASE)))

    try:
        wait_for(landed)
        with opened.engine.connect() as conn:
            provenance = case_provenance(conn, CASE)
    finally:
        opened.close()
    assert set(provenance) == {"ca-p1", "ca-p2", "ca-c1", "ca-c2", "ca-d1", "ca-d2", "ca-pay"}
    arrival = provenance["ca-p1"][0]
    assert arrival["party"] == "CA" and arrival["message_id"] == sent["id"]


def test_cross_references_judgements_and_indicators(shared: Any) -> None:
    _, in_, _ = shared
    with in_.client("in.ncb") as ncb:
        listed = wait_for(lambda: ncb.get(f"/api/v1/networks/cases/{CASE}/cross-references").json()["candidates"])
        pairs = {(c["theirs"]["entity_id"], c["ours"]["entity_id"]): c for c in listed}
        assert ("ca-p1", "in-p1") in pairs and ("ca-p2", "in-p2") in pairs and ("ca-c2", "in-c2") in pairs
        assert all(c["ours"]["case_id"] == "ncb-holdings" for c in listed)  # nothing from the CBI's case
        assert listed == sorted(listed, key=lambda c: -c["score"])
        phone = pairs["ca-p2", "in-p2"]["evidence"]["agreed"]
        assert {"field": "phone", "value": "+919876543210", "weight": 0.8} in phone
        for theirs, ours in (("ca-p1", "in-p1"), ("ca-c2", "in-c2")):
            judged = ncb.post(
                "/api/v1/networks/judgements",
                json={"left": f"{CASE}/{theirs}", "right": f"ncb-holdings/{ours}", "judgement": "same"},
            )
            assert judged.status_code == 201, judged.text
        refreshed = ncb.get(f"/api/v1/networks/cases/{CASE}/cross-references").json()["candidates"]
        assert sum(1 for c in refreshed if c["judgement"] and c["judgement"]["judgement"] == "same") == 2
        page = ncb.get(f"/networks/{CASE}/cross-references")
    opened = open_local(in_)
    try:
        now = datetime.now(UTC)
        period = Period("test", datetime(now.year, 1, 1, tzinfo=UTC), datetime(now.year + 1, 1, 1, tzinfo=UTC))
        with opened.engine.connect() as conn:
            context = IndicatorContext(conn, opened.agreement, period, now, load_exchange(conn, period, now))
            values = {i.code: i.compute(context) for i in opened.registry.all(INDICATORS) if i.module == "networks"}
            ncb_analyst = officer_by_username(conn, "in.ncb")
            assert ncb_analyst is not None
            merged = merged_case(opened, conn, ncb_analyst, CASE)
    finally:
        opened.close()
    # The chart's view: Canada's person judged the same as India's is one entity, both parties'; the stored
    # entities are untouched.
    assert merged.parties["ca-p1"] == {"CA", "IN"} and merged.parties["ca-p2"] == {"CA"}
    assert sorted(merged.same_as["ca-p1"]) == sorted([f"{CASE}/ca-p1", "ncb-holdings/in-p1"])
    assert values["network-entities-shared"].value == 7
    assert values["network-cross-references-confirmed"].value == 2
    assert values["networks-spanning-both"].value == 1
    assert page.status_code in (200, 401, 303)  # the web page answers (a session is needed to render it)


def test_no_need_to_know_no_case(shared: Any) -> None:
    _, in_, _ = shared
    with in_.client("in.ncb.cyber") as narrow:
        assert narrow.get(f"/api/v1/networks/cases/{CASE}/cross-references").status_code == 403
        judged = narrow.post(
            "/api/v1/networks/judgements",
            json={"left": f"{CASE}/ca-p1", "right": "ncb-holdings/in-p1", "judgement": "not_same"},
        )
        assert judged.status_code == 403
    with in_.client("in.cbi") as cbi:
        assert cbi.get(f"/api/v1/networks/cases/{CASE}/cross-references").status_code == 403


def test_persons_without_subjects_are_refused_at_both_ends(shared: Any) -> None:
    ca, in_, _ = shared
    with ca.client("ca.rcmp") as rcmp:
        refused = rcmp.post(
            "/api/v1/messages",
            json={
                "kind": "share",
                "recipient_agency": "NCB",
                "focus_area": "networks",
                "handling": {"classification": "Protected B", "tlp": "AMBER"},
                "title": "Persons smuggled past the screens",
                "body": "See the entities.",
                "network": {"entities": [CA_ENTITIES[0]]},
            },
        )
    assert refused.status_code == 422 and "subject" in refused.json()["detail"]
    # A forged peer's share with a person and no subject: refused before anything is stored.
    forged = message(
        kind=MessageKind.SHARE,
        focus_area="networks",
        deadline=None,
        network=SharedEntities(entities=(CA_ENTITIES[0],)),
    )
    token = seal(claims_for(forged), ca.keys, in_.keys.public)
    [result] = post_batch(in_.url, batch(token, refs=[forged.id]), ca.keys.signing).json()["results"]
    assert result["outcome"] == "refused"
    assert result["problem"]["type"].endswith("network-persons-unscreened")
