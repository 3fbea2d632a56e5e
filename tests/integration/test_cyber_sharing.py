"""STIX objects cross Canada → India as an Accord share (signed, policy-checked, logged), marked with their strictest
TLP; sightings India sends back are linked to the indicator Canada shared; bad bundles are refused, nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import stix2
from sqlalchemy import func, select
from taxii2client.v21 import Collection, as_pages

from accord.directory.officers import Role, create_officer
from accord.domain.handling import CommonLevel, Tlp
from accord.exchange.transport import tls_context
from accord.focus.cyber.tlp import tlp_definitions
from accord.store.tables import messages, stix_named_readers, stix_objects
from tests.integration.nodes import PASSWORD, RunningNode, open_local, wait_for
from tests.stix_samples import indicator, tlp2


@pytest.fixture(scope="module")
def shared_pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> tuple[RunningNode, RunningNode]:
    """A capability's rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair


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
    cross as an Accord share, and India's tools read them from 'from partner'. The share is as strict as its
    strictest object (AMBER), so the GREEN object arrives under AMBER too and stays out of the community collection."""
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
    assert not {amber["id"], green["id"]} & {o["id"] for o in community}
    share = next(s for s in shares_of(in_, "in.certin") if amber["id"] in {i["id"] for i in s["indicators"]})
    assert share["tlp"] == "AMBER" and share["direction"] == "incoming"


# --- what lands from a share never carries weaker handling than the share ----------------------------------------

MEDIA = "application/taxii+json;version=2.1"
NIGHT = "in.certin.night"  # a CERT-In analyst cleared to Secret whom no share names
TRAINEE = "in.certin.trainee"  # a CERT-In analyst cleared to Unclassified only: below the shares' Restricted


@pytest.fixture(scope="module")
def india_analysts(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    node = open_local(shared_pair[1])
    try:
        analyst = frozenset({Role.OFFICER, Role.ANALYST})
        create_officer(node, NIGHT, PASSWORD, "CERT-In night analyst", "CERT-In", analyst)
        create_officer(
            node, TRAINEE, PASSWORD, "CERT-In trainee", "CERT-In", analyst, clearance=CommonLevel.UNCLASSIFIED
        )
    finally:
        node.close()


def stix_ids(bundle: dict[str, Any]) -> set[str]:
    """The bundle's objects other than the TLP definitions (those are the same in every bundle)."""
    return {o["id"] for o in bundle["objects"] if o["type"] != "marking-definition"}


def share_from_canada(ca: RunningNode, bundle: dict[str, Any], **handling: Any) -> str:
    with ca.client("ca.cccs") as cccs:
        sent = cccs.post("/api/v1/cyber/shares", json={"bundle": bundle} | handling)
    assert sent.status_code == 201, sent.text
    assert sent.json()["state"] == "queued", sent.json()
    return str(sent.json()["id"])


def send_share(ca: RunningNode, bundle: dict[str, Any], handling: dict[str, Any], **fields: Any) -> str:
    """A share written as any message is (where caveats and a recipient officer can be given)."""
    share = {
        "kind": "share",
        "recipient_agency": "CERT-In",
        "focus_area": "cyber",
        "handling": {"classification": "Protected A"} | handling,
        "title": "Phishing infrastructure",
        "body": "Seen against two banks.",
        "stix": {"id": bundle["id"], "objects": bundle["objects"]},
    } | fields
    with ca.client("ca.cccs") as cccs:
        sent = cccs.post("/api/v1/messages", json=share)
    assert sent.status_code == 201, sent.text
    assert sent.json()["delivery"]["state"] == "queued", sent.json()
    return str(sent.json()["id"])


def taxii_get(node: RunningNode, path: str, username: str, **params: str) -> httpx.Response:
    headers = {"Accept": MEDIA}
    return httpx.get(
        node.url + path, headers=headers, auth=(username, PASSWORD), params=params, timeout=60.0, verify=tls_context()
    )


def served_ids(node: RunningNode, collection: str, username: str, ids: Iterable[str]) -> set[str]:
    """The ids among `ids` the officer's tool is served from the collection (every version, one page)."""
    path = f"{TAXII_ROOT}collections/{collection}/objects/"
    listed = taxii_get(node, path, username, **{"match[id]": ",".join(sorted(ids)), "match[version]": "all"})
    assert listed.status_code == 200, listed.text
    return {o["id"] for o in listed.json().get("objects", [])}


def landed_in(node: RunningNode, collection: str, username: str, ids: set[str]) -> bool:
    return served_ids(node, collection, username, ids) == ids


def assert_served_none(node: RunningNode, collection: str, username: str, ids: set[str]) -> None:
    """No listing, manifest, object or versions endpoint serves the objects, nor counts them in a page or its
    headers."""
    path = f"{TAXII_ROOT}collections/{collection}/"
    match = {"match[id]": ",".join(sorted(ids)), "match[version]": "all"}
    for listing in ("objects/", "manifest/"):
        for limit in ("1", "100"):
            page = taxii_get(node, path + listing, username, limit=limit, **match)
            assert page.status_code == 200, page.text
            assert page.json() == {"more": False}, (listing, page.json())
            assert "X-TAXII-Date-Added-First" not in page.headers
    for object_id in ids:
        for suffix in ("", "versions/"):
            assert taxii_get(node, f"{path}objects/{object_id}/{suffix}", username).status_code == 404


def message_status(node: RunningNode, username: str, message_id: str) -> int:
    with node.client(username) as client:
        return client.get(f"/api/v1/messages/{message_id}").status_code


def held_rows(node: RunningNode, ids: set[str]) -> list[Any]:
    with node.engine.connect() as conn:
        return list(conn.execute(select(stix_objects).where(stix_objects.c.object_id.in_(sorted(ids)))).all())


def test_green_objects_shared_amber_strict_are_held_amber_strict_and_never_reach_the_community(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    """The reported case: a share marked AMBER+STRICT whose objects carry GREEN markings; CBI, which gets 403 on the
    message, must not read its objects through the community collection (nor anyone else there)."""
    ca, in_ = shared_pair
    bundle = campaign_bundle(Tlp.GREEN)
    ids = stix_ids(bundle)
    message_id = share_from_canada(ca, bundle, tlp="AMBER+STRICT")
    wait_for(lambda: landed_in(in_, FROM_PARTNER, "in.certin", ids))

    rows = held_rows(in_, ids)
    assert {r.collection_id for r in rows} == {FROM_PARTNER}
    assert {(r.tlp, r.share_id, r.share_level, r.share_caveats) for r in rows} == {
        ("AMBER+STRICT", message_id, "restricted", "")
    }
    assert (message_status(in_, "in.certin", message_id), message_status(in_, "in.cbi", message_id)) == (200, 403)
    for reader in ("in.cbi", "in.certin"):
        assert_served_none(in_, FROM_PARTNER_COMMUNITY, reader, ids)
    assert taxii_get(in_, f"{TAXII_ROOT}collections/{FROM_PARTNER}/objects/", "in.cbi").status_code == 403


def test_a_caveated_share_lands_only_in_the_collections_that_admit_its_caveat(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    """H2 (no onward dissemination beyond the recipient agency) keeps a GREEN share out of the community collection,
    which other agencies read; the same objects without the caveat do reach it."""
    ca, in_ = shared_pair
    caveated, plain = campaign_bundle(Tlp.GREEN), campaign_bundle(Tlp.GREEN)
    send_share(ca, caveated, {"tlp": "GREEN", "caveats": ["H2"]})
    plain_id = share_from_canada(ca, plain)
    wait_for(lambda: landed_in(in_, FROM_PARTNER_COMMUNITY, "in.certin", stix_ids(plain)))
    wait_for(lambda: landed_in(in_, FROM_PARTNER, "in.certin", stix_ids(caveated)))

    assert {(r.collection_id, r.tlp, r.share_caveats) for r in held_rows(in_, stix_ids(caveated))} == {
        (FROM_PARTNER, "GREEN", "H2")
    }
    assert_served_none(in_, FROM_PARTNER_COMMUNITY, "in.certin", stix_ids(caveated))
    # The uncaveated share reaches the community collection, but still only readers of the share itself see it there.
    assert message_status(in_, "in.cbi", plain_id) == 403
    assert_served_none(in_, FROM_PARTNER_COMMUNITY, "in.cbi", stix_ids(plain))


def test_a_red_share_is_served_only_to_the_recipients_it_names(
    shared_pair: tuple[RunningNode, RunningNode], india_analysts: None
) -> None:
    """GREEN objects in a TLP:RED share naming in.certin: held as RED, never in the community collection, and served
    to no other analyst of the same agency (who gets 403 on the message too)."""
    ca, in_ = shared_pair
    bundle = campaign_bundle(Tlp.GREEN)
    ids = stix_ids(bundle)
    # The pack sends TLP:RED only to a named recipient officer, which a share written as a message can give.
    message_id = send_share(
        ca, bundle, {"tlp": "RED", "named_recipients": ["in.certin"]}, recipient_officer="in.certin"
    )
    wait_for(lambda: landed_in(in_, FROM_PARTNER, "in.certin", ids))

    rows = held_rows(in_, ids)
    assert {(r.collection_id, r.tlp) for r in rows} == {(FROM_PARTNER, "RED")}
    with in_.engine.connect() as conn:
        named = conn.execute(
            select(stix_named_readers.c.username).where(stix_named_readers.c.object_row.in_([r.row_id for r in rows]))
        ).scalars()
        assert set(named) == {"in.certin"}
    assert (message_status(in_, "in.certin", message_id), message_status(in_, NIGHT, message_id)) == (200, 403)
    assert_served_none(in_, FROM_PARTNER, NIGHT, ids)
    assert_served_none(in_, FROM_PARTNER_COMMUNITY, "in.certin", ids)


def test_a_reader_without_the_clearance_is_served_nothing_of_the_share_in_any_page(
    shared_pair: tuple[RunningNode, RunningNode], india_analysts: None
) -> None:
    """The same need-to-know decision as the API: the trainee (cleared to Unclassified) reads an Unclassified share
    and gets 403 on a Protected A (Restricted) one; over TAXII, paging one object at a time, they are served exactly
    the Unclassified share's objects, and the hidden ones between them cut no page short and leave no `more`."""
    ca, in_ = shared_pair
    first, restricted, last = (campaign_bundle(Tlp.GREEN) for _ in range(3))
    first_id = share_from_canada(ca, first, classification="Unclassified")
    restricted_id = share_from_canada(ca, restricted)
    last_id = share_from_canada(ca, last, classification="Unclassified")
    everything = stix_ids(first) | stix_ids(restricted) | stix_ids(last)
    wait_for(lambda: landed_in(in_, FROM_PARTNER, "in.certin", everything))
    readable = stix_ids(first) | stix_ids(last)

    assert [message_status(in_, TRAINEE, m) for m in (first_id, restricted_id, last_id)] == [200, 403, 200]
    assert_served_none(in_, FROM_PARTNER, TRAINEE, stix_ids(restricted))
    trainee = taxii(in_, FROM_PARTNER, TRAINEE)
    match = ",".join(sorted(everything))
    pages = [page.get("objects", []) for page in as_pages(trainee.get_objects, 1, id=match)]
    assert len(pages) == len(readable) and {o["id"] for page in pages for o in page} == readable
    manifest = [r["id"] for page in as_pages(trainee.get_manifest, 2, id=match) for r in page.get("objects", [])]
    assert set(manifest) == readable and len(manifest) == len(readable)
    for object_id in readable:
        assert trainee.get_object(object_id)["objects"][0]["id"] == object_id
        assert trainee.object_versions(object_id)["versions"]
    assert served_ids(in_, FROM_PARTNER, "in.certin", everything) == everything
