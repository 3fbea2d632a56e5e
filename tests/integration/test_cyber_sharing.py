"""STIX objects cross Canada → India as an Accord share (signed, policy-checked, logged), marked with their strictest
TLP; sightings India sends back are linked to the indicator Canada shared; bad bundles are refused, nothing stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import stix2
from sqlalchemy import func, select
from taxii2client.v21 import Collection

from accord.domain.handling import Tlp
from accord.focus.cyber.tlp import tlp_definitions
from accord.store.tables import messages
from tests.integration.nodes import PASSWORD, RunningNode, wait_for
from tests.stix_samples import indicator, tlp2


def _marking(level: Tlp) -> str:
    return tlp_definitions().tlp2[level]


def _serialised(*objects: Any) -> list[dict[str, Any]]:
    return [json.loads(o.serialize()) for o in objects]


def campaign_bundle(level: Tlp = Tlp.AMBER) -> dict[str, Any]:
    """A phishing campaign against banks in both countries, as the Canadian Centre for Cyber Security would share it."""
    marking = [_marking(level)]
    centre = stix2.Identity(
        name="Canadian Centre for Cyber Security", identity_class="organization", object_marking_refs=marking
    )
    indicator = stix2.Indicator(
        name="Phishing kit landing host",
        pattern="[ipv4-addr:value = '198.51.100.7']",
        pattern_type="stix",
        valid_from=datetime(2026, 11, 20, tzinfo=UTC),
        created_by_ref=centre.id,
        object_marking_refs=marking,
    )
    malware = stix2.Malware(name="Example credential stealer", is_family=True, object_marking_refs=marking)
    uses = stix2.Relationship(indicator, "indicates", malware, object_marking_refs=marking)
    objects = _serialised(centre, indicator, malware, uses)
    objects.append(tlp_definitions().marking_definition(level))
    return {"type": "bundle", "id": f"bundle--{uuid4()}", "objects": objects}


def shares_of(node: RunningNode, username: str) -> list[dict[str, Any]]:
    with node.client(username) as client:
        listed = client.get("/api/v1/cyber/shares")
    assert listed.status_code == 200, listed.text
    return list(listed.json()["shares"])


def stored(node: RunningNode) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())


def test_a_bundle_crosses_and_a_sighting_comes_back_linked(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, in_ = shared_pair
    bundle = campaign_bundle(Tlp.AMBER)
    indicator_id = next(o["id"] for o in bundle["objects"] if o["type"] == "indicator")
    with ca.client("ca.cccs") as cccs:
        sent = cccs.post("/api/v1/cyber/shares", json={"bundle": bundle, "note": "Campaign seen against two banks."})
    assert sent.status_code == 201, sent.text
    assert sent.json()["tlp"] == "AMBER" and sent.json()["state"] == "queued"

    arrived = wait_for(lambda: [s for s in shares_of(in_, "in.certin") if s["id"] == sent.json()["id"]])[0]
    assert arrived["direction"] == "incoming" and arrived["types"]["indicator"] == 1
    assert arrived["indicators"][0]["id"] == indicator_id

    sighting = stix2.Sighting(
        sighting_of_ref=indicator_id,
        count=14,
        first_seen=datetime(2026, 11, 21, tzinfo=UTC),
        last_seen=datetime(2026, 11, 23, tzinfo=UTC),
        object_marking_refs=[_marking(Tlp.AMBER)],
        allow_custom=True,
    )
    back = {"type": "bundle", "id": f"bundle--{uuid4()}", "objects": _serialised(sighting)}
    with in_.client("in.certin") as certin:
        returned = certin.post("/api/v1/cyber/shares", json={"bundle": back})
    assert returned.status_code == 201, returned.text

    def linked() -> dict[str, Any] | None:
        share = next(s for s in shares_of(ca, "ca.cccs") if s["id"] == sent.json()["id"])
        return share if share["sightings_back"] else None

    share = wait_for(linked)
    [seen] = share["indicators"][0]["sightings"]
    assert seen["count"] == 14 and seen["message_id"] == returned.json()["id"]


def test_tlp_is_enforced_and_bad_bundles_are_refused(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = shared_pair
    red = campaign_bundle(Tlp.RED)
    invalid = campaign_bundle()
    invalid["objects"][1] = invalid["objects"][1] | {"pattern": "[ipv4-addr:value = "}
    old = campaign_bundle()
    old["objects"][2] = old["objects"][2] | {"spec_version": "2.0"}
    cases = {
        "weaker TLP than the objects": {"bundle": campaign_bundle(Tlp.AMBER), "tlp": "GREEN"},
        "TLP:RED without named recipients": {"bundle": red},
        "an invalid pattern": {"bundle": invalid},
        "STIX 2.0": {"bundle": old},
        "outside cyber and fraud": {"bundle": campaign_bundle(), "focus_area": "drugs"},
        "no objects": {"bundle": {"type": "bundle", "id": f"bundle--{uuid4()}", "objects": []}},
        "not a bundle": {"bundle": {"type": "report", "id": f"bundle--{uuid4()}", "objects": [{}]}},
    }
    before = stored(ca)
    with ca.client("ca.cccs") as cccs:
        for name, body in cases.items():
            refused = cccs.post("/api/v1/cyber/shares", json=body)
            assert refused.status_code == 422, (name, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json"), name
        assert "pattern" in cccs.post("/api/v1/cyber/shares", json={"bundle": invalid}).json()["detail"].lower()
        request = {
            "kind": "request",
            "recipient_agency": "CERT-In",
            "focus_area": "cyber",
            "handling": {"classification": "Protected A"},
            "title": "x",
            "body": "x",
            "stix": {"id": f"bundle--{uuid4()}", "objects": campaign_bundle()["objects"]},
        }
        assert cccs.post("/api/v1/messages", json=request).status_code == 422
    assert stored(ca) == before
    with ca.client("ca.cccs") as cccs:
        named = cccs.post("/api/v1/cyber/shares", json={"bundle": red, "named_recipients": ["in.certin"]})
    assert named.status_code == 201, named.text
    assert named.json()["tlp"] == "RED"


MISP = Path(__file__).parent.parent / "data" / "misp"


def _attributes(event: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(a["type"], a["value"], a["category"]) for a in event["Event"].get("Attribute", [])}


def _objects(event: dict[str, Any]) -> set[tuple[str, frozenset[tuple[str, str]]]]:
    return {
        (o["name"], frozenset((a["object_relation"], a["value"]) for a in o.get("Attribute", [])))
        for o in event["Event"].get("Object", [])
    }


def test_a_misp_event_round_trips_through_the_partner(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    """MISP (CERT-In) → Accord India → Accord Canada → MISP: attributes, objects and the TLP tag survive."""
    ca, in_ = shared_pair
    event = json.loads((MISP / "cert-in-phishing-banks.json").read_text())
    with in_.client("in.certin") as certin:
        sent = certin.post("/api/v1/cyber/shares/misp", json={"event": event})
    assert sent.status_code == 201, sent.text
    assert sent.json()["tlp"] == "AMBER"
    wait_for(lambda: [s for s in shares_of(ca, "ca.cccs") if s["id"] == sent.json()["id"]])
    with ca.client("ca.cccs") as cccs:
        exported = cccs.get(f"/api/v1/cyber/shares/{sent.json()['id']}/misp")
        bundle = cccs.get(f"/api/v1/cyber/shares/{sent.json()['id']}/stix").json()
    assert exported.status_code == 200, exported.text
    back = exported.json()
    assert _attributes(back) == _attributes(event)
    assert _objects(back) == _objects(event)
    assert "tlp:amber" in {t["name"] for t in back["Event"].get("Tag", [])}
    assert all(stix2.parse(o, allow_custom=True) for o in bundle["objects"])
    with in_.client("in.certin") as certin:
        refused = certin.post("/api/v1/cyber/shares/misp", json={"event": {"Event": {"info": "no content"}}})
    assert refused.status_code == 422, refused.text


TAXII_ROOT = "/taxii2/accord/"
TO_PARTNER = "01a21452-dd4a-7473-aa54-6ca99c5e1487"
FROM_PARTNER = "01a21452-dd4b-723b-aa4a-bb8fd0a87947"
FROM_PARTNER_COMMUNITY = "01a21452-dd4c-72c2-8dd9-c9710110e048"


def taxii(node: RunningNode, collection: str, username: str) -> Collection:
    return Collection(f"{node.url}{TAXII_ROOT}collections/{collection}/", user=username, password=PASSWORD)


def test_a_tool_posts_through_taxii_and_the_partners_tools_read_it(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    """TAXII is each country's face to its own tools: Canada's tool posts to the 'to partner' collection, the objects
    cross as an Accord share, and India's tools read them from 'from partner' — the community collection only what
    is GREEN or CLEAR."""
    ca, in_ = shared_pair
    amber = indicator("C2 beacon", "203.0.113.45", tlp2(Tlp.AMBER))
    green = indicator("Scanner", "198.51.100.99", tlp2(Tlp.GREEN))
    status = taxii(ca, TO_PARTNER, "ca.cccs").add_objects(
        {"type": "bundle", "id": f"bundle--{uuid4()}", "objects": [amber, green]}
    )
    assert status.status == "complete" and status.success_count == 2

    def landed() -> set[str]:
        return {o["id"] for o in taxii(in_, FROM_PARTNER, "in.certin").get_objects().get("objects", [])}

    wait_for(lambda: {amber["id"], green["id"]} <= landed())
    community = taxii(in_, FROM_PARTNER_COMMUNITY, "in.certin").get_objects().get("objects", [])
    assert green["id"] in {o["id"] for o in community} and amber["id"] not in {o["id"] for o in community}
    share = next(s for s in shares_of(in_, "in.certin") if amber["id"] in {i["id"] for i in s["indicators"]})
    assert share["tlp"] == "AMBER" and share["direction"] == "incoming"
