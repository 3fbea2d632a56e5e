"""TAXII 2.1 against a running node over real HTTP, driven by the OASIS client (taxii2-client): discovery, the API
root, collections, POST and status, every filter and full pagination, versions, manifest, objects by id, DELETE;
everything served parses with stix2 and passes stix2-validator; and each way a request can be wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import requests
import stix2
from sqlalchemy import func, select
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from accord.bootstrap import open_node
from accord.config import load_settings
from accord.crypto.canonical import canonical_json, sha256_hex
from accord.directory.officers import Role, create_officer
from accord.domain.handling import Tlp
from accord.exchange.transport import tls_context
from accord.focus.cyber.paging import NextTokens, Position, next_token_key, selection_digest
from accord.focus.cyber.store import ObjectFilters, add_objects
from accord.ledger.events import EventType
from accord.store.tables import events, officers, refusal_counts, stix_objects
from tests.conftest import BACKENDS, databases_for
from tests.integration.nodes import PASSWORD, PairTemplates, RunningNode, running_pair, wait_for
from tests.stix_samples import TLP1_GREEN, as_json, indicator, ransomware_campaign, tlp2

ROOT = "/taxii2/accord/"
MEDIA = "application/taxii+json;version=2.1"
TO_PARTNER = "01a21452-dd4a-7473-aa54-6ca99c5e1487"
FROM_PARTNER = "01a21452-dd4b-723b-aa4a-bb8fd0a87947"
COMMUNITY = "01a21452-dd4c-72c2-8dd9-c9710110e048"
NATIONAL = "01a21452-dd4d-7ce9-91c5-b46321d43095"
MAX_CONTENT_LENGTH = 256 * 1024  # small, so the 413 test needs no huge body


@pytest.fixture(scope="module", params=BACKENDS)
def taxii_pair(
    request: pytest.FixtureRequest, templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningNode, RunningNode]]:
    root = tmp_path_factory.mktemp(f"taxii-{request.param}")
    databases = databases_for(str(request.param), root)
    env = {"ACCORD_TAXII_MAX_CONTENT_LENGTH": str(MAX_CONTENT_LENGTH)}
    with running_pair(templates, databases, root, env=env) as started:
        yield started
    databases.drop_all()


@pytest.fixture(scope="module")
def canada(taxii_pair: tuple[RunningNode, RunningNode]) -> RunningNode:
    return taxii_pair[0]


@pytest.fixture(scope="module")
def night_analyst(canada: RunningNode) -> str:
    """A second CCCS analyst: reads what ca.cccs reads, except TLP:RED objects naming only ca.cccs."""
    node = open_node(load_settings(canada.data_dir, database_url=canada.database_url))
    try:
        create_officer(node, "ca.cccs.night", PASSWORD, "CCCS night analyst", "CCCS", frozenset({Role.ANALYST}))
    finally:
        node.close()
    return "ca.cccs.night"


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def tool(node: RunningNode, collection_id: str, username: str = "ca.cccs") -> Collection:
    return Collection(f"{node.url}{ROOT}collections/{collection_id}/", user=username, password=PASSWORD)


def http(node: RunningNode, method: str, path: str, username: str | None = "ca.cccs", **kwargs: Any) -> httpx.Response:
    headers = {"Accept": MEDIA} | kwargs.pop("headers", {})
    auth = (username, PASSWORD) if username else None
    return httpx.request(
        method, node.url + path, headers=headers, auth=auth, timeout=60.0, verify=tls_context(), **kwargs
    )


def post(node: RunningNode, collection_id: str, objects: list[Any], username: str = "ca.cccs") -> dict[str, Any]:
    status = tool(node, collection_id, username).add_objects({"objects": objects})
    raw: dict[str, Any] = status._raw
    return raw


def read_all(collection: Collection, per_request: int = 0, **filters: Any) -> list[dict[str, Any]]:
    return [o for page in as_pages(collection.get_objects, per_request, **filters) for o in page.get("objects", [])]


def stored_count(node: RunningNode) -> int:
    with node.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(stix_objects)) or 0)


def logged(node: RunningNode, event: EventType) -> list[Any]:
    with node.engine.connect() as conn:
        return list(conn.execute(select(events).where(events.c.type == event.value)).all())


def assert_taxii_error(response: httpx.Response, status: int, words: str = "") -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == MEDIA
    body: dict[str, Any] = response.json()
    assert body["http_status"] == str(status) and body["title"] and body["description"]
    assert words in body["description"], body
    return body


def assert_served_stix_is_valid(objects: list[dict[str, Any]]) -> None:
    options = ValidationOptions(version="2.1", silent=True)
    for obj in objects:
        stix2.parse(obj, allow_custom=True)
        result = validate_instance(obj, options)
        assert result.is_valid, (obj["id"], [str(e) for e in result.errors])


# --- the happy path, endpoint by endpoint ---------------------------------------------------------------------------


def test_a_tool_finds_the_api_root_and_its_collections_from_discovery(canada: RunningNode) -> None:
    server = Server(canada.url + "/taxii2/", user="ca.cccs", password=PASSWORD)
    assert server.title.startswith("Accord TAXII 2.1")
    [root] = server.api_roots
    assert root.url == f"{canada.url}{ROOT}" and server.default is root
    assert root.versions == [MEDIA] and root.max_content_length == MAX_CONTENT_LENGTH
    by_alias = {c.alias: c for c in root.collections}
    assert {"cyber-to-partner", "cyber-from-partner", "cyber-from-partner-community", "cyber-national"} <= set(by_alias)
    assert by_alias["cyber-to-partner"].can_write and by_alias["cyber-to-partner"].can_read
    assert by_alias["cyber-from-partner"].can_read and not by_alias["cyber-from-partner"].can_write
    assert by_alias["cyber-national"].media_types == ["application/stix+json;version=2.1"]
    assert tool(canada, NATIONAL).title == by_alias["cyber-national"].title


def test_a_posted_bundle_completes_and_comes_back_as_posted_valid_stix(canada: RunningNode) -> None:
    bundle = ransomware_campaign()
    status = post(canada, NATIONAL, bundle)
    assert (status["status"], status["success_count"], status["failure_count"]) == ("complete", len(bundle), 0)
    assert {s["id"] for s in status["successes"]} == {o["id"] for o in bundle}
    root = ApiRoot(f"{canada.url}{ROOT}", user="ca.cccs", password=PASSWORD)
    assert root.get_status(status["id"]).success_count == len(bundle)

    served = read_all(tool(canada, NATIONAL), added_after=status["request_timestamp"])
    assert {o["id"]: o for o in served} == {o["id"]: o for o in bundle}, "served exactly as posted"
    assert_served_stix_is_valid(served)
    assert any(TLP1_GREEN in o.get("object_marking_refs", []) for o in served), "TLP 1.0 ids kept as sent"
    again = post(canada, NATIONAL, bundle)
    assert again["success_count"] == len(bundle) and len(read_all(tool(canada, NATIONAL), id=bundle[4]["id"])) == 1


def test_pages_cover_the_collection_with_no_gap_or_duplicate_in_date_added_order(canada: RunningNode) -> None:
    first = post(canada, NATIONAL, [indicator(f"page {i}", f"192.0.2.{i}", tlp2(Tlp.GREEN)) for i in range(60)])
    post(canada, NATIONAL, [indicator(f"page {i}", f"198.51.100.{i}", tlp2(Tlp.GREEN)) for i in range(60, 130)])
    since = first["request_timestamp"]
    collection = tool(canada, NATIONAL)
    pages = list(as_pages(collection.get_objects, 25, added_after=since, type="indicator"))
    ids = [o["id"] for page in pages for o in page.get("objects", [])]
    posted = [s["id"] for s in first["successes"]]
    assert len(pages) == 6 and len(ids) == 130 and len(set(ids)) == 130 and ids[:60] == posted

    manifest = [r for page in as_pages(collection.get_manifest, 40, added_after=since) for r in page["objects"]]
    assert [r["id"] for r in manifest] == ids
    dates = [r["date_added"] for r in manifest]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    assert all(r["media_type"] == "application/stix+json;version=2.1" for r in manifest)

    # The headers name the page's first and last date added; added_after=Last continues exactly where it stopped.
    path = f"{ROOT}collections/{NATIONAL}/objects/"
    page = http(canada, "GET", path, params={"added_after": since, "limit": 50, "match[type]": "indicator"})
    assert page.headers["X-TAXII-Date-Added-First"] == dates[0]
    assert page.headers["X-TAXII-Date-Added-Last"] == dates[49]
    rest = http(canada, "GET", path, params={"added_after": page.headers["X-TAXII-Date-Added-Last"], "limit": 500})
    assert [o["id"] for o in rest.json()["objects"]] == ids[50:]
    assert rest.json()["more"] is False and "next" not in rest.json()


def test_added_after_is_the_servers_date_added_never_the_objects_modified(canada: RunningNode) -> None:
    old = indicator(
        "Seen in 2001",
        "192.0.2.201",
        tlp2(Tlp.GREEN),
        created="2001-01-01T00:00:00.000Z",
        modified="2001-06-01T00:00:00.000Z",
    )
    status = post(canada, NATIONAL, [old])
    served = read_all(tool(canada, NATIONAL), added_after=status["request_timestamp"], id=old["id"])
    assert [o["modified"] for o in served] == ["2001-06-01T00:00:00.000Z"]
    later = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert read_all(tool(canada, NATIONAL), added_after=later, id=old["id"]) == []


def test_every_version_is_kept_and_match_version_chooses_among_them(canada: RunningNode) -> None:
    v1 = indicator("Versioned", "192.0.2.150", tlp2(Tlp.GREEN))
    v2 = as_json(stix2.parse(v1).new_version(confidence=85))
    post(canada, NATIONAL, [v1])
    post(canada, NATIONAL, [v2])
    collection = tool(canada, NATIONAL)
    assert collection.object_versions(v1["id"])["versions"] == [v1["modified"], v2["modified"]]
    assert [o["modified"] for o in collection.get_object(v1["id"])["objects"]] == [v2["modified"]]
    assert [o["modified"] for o in collection.get_object(v1["id"], version="first")["objects"]] == [v1["modified"]]
    assert len(collection.get_object(v1["id"], version="all")["objects"]) == 2
    assert [o["modified"] for o in collection.get_object(v1["id"], version=v1["modified"])["objects"]] == [
        v1["modified"]
    ]
    assert [o["modified"] for o in read_all(collection, id=v1["id"])] == [v2["modified"]]
    assert collection.get_object(v1["id"], spec_version="2.0") == {"more": False}
    manifest = collection.get_manifest(id=v1["id"], version="all")["objects"]
    assert [r["version"] for r in manifest] == [v1["modified"], v2["modified"]]


def test_delete_removes_the_last_version_by_default_and_all_when_asked(canada: RunningNode) -> None:
    v1 = indicator("Deleted", "192.0.2.151", tlp2(Tlp.GREEN))
    v2 = as_json(stix2.parse(v1).new_version(confidence=10))
    post(canada, NATIONAL, [v1, v2])
    collection = tool(canada, NATIONAL)
    collection.delete_object(v1["id"])
    assert collection.object_versions(v1["id"])["versions"] == [v1["modified"]]
    collection.delete_object(v1["id"], version="all")
    path = f"{ROOT}collections/{NATIONAL}/objects/{v1['id']}/"
    assert_taxii_error(http(canada, "GET", path), 404)
    assert_taxii_error(http(canada, "DELETE", path, params={"match[version]": "all"}), 404)
    assert collection.get_manifest(id=v1["id"]) == {"more": False}
    assert logged(canada, EventType.STIX_OBJECTS_DELETED)


def test_a_bearer_token_works_as_well_as_basic(canada: RunningNode) -> None:
    collection = Collection(f"{canada.url}{ROOT}collections/{NATIONAL}/", auth=Bearer(canada.token("ca.cccs")))
    status = collection.add_objects({"objects": [indicator("By token", "192.0.2.160", tlp2(Tlp.GREEN))]})
    assert status.status == "complete" and status.success_count == 1
    assert collection.get_object(status.successes[0]["id"])["objects"]
    assert_taxii_error(http(canada, "GET", ROOT, None, headers={"Authorization": "Bearer forged-0123456789"}), 401)


def test_posting_to_the_partner_collection_shares_it_with_the_partners_tools(
    taxii_pair: tuple[RunningNode, RunningNode],
) -> None:
    canada, india = taxii_pair
    shared = indicator("Shared C2", "198.51.100.99", tlp2(Tlp.GREEN))
    assert post(canada, TO_PARTNER, [shared])["success_count"] == 1
    received = tool(india, FROM_PARTNER, "in.certin")
    arrived = wait_for(lambda: received.get_manifest(id=shared["id"]).get("objects"), timeout_s=60)
    assert [r["id"] for r in arrived] == [shared["id"]]
    assert received.get_object(shared["id"])["objects"] == [shared]


# --- what is refused --------------------------------------------------------------------------------------------------


def test_missing_or_wrong_credentials_get_401_with_the_challenge_and_are_counted(canada: RunningNode) -> None:
    body = assert_taxii_error(http(canada, "GET", "/taxii2/", None), 401)
    assert body["error_code"] == "authentication-failed"
    challenge = http(canada, "GET", "/taxii2/", None).headers["WWW-Authenticate"]
    assert challenge.startswith("Basic realm=") and "Bearer" in challenge
    before = counted_sign_in_failures(canada)
    wrong = httpx.get(canada.url + "/taxii2/", headers={"Accept": MEDIA}, auth=("ca.cccs", "not-the-password"))
    assert_taxii_error(wrong, 401)
    assert counted_sign_in_failures(canada) == before + 1
    assert not logged(canada, EventType.OFFICER_SIGN_IN_FAILED), "a failed sign-in is counted, not ledgered"


def counted_sign_in_failures(node: RunningNode) -> int:
    with node.engine.connect() as conn:
        total = conn.scalar(
            select(func.coalesce(func.sum(refusal_counts.c.refusals), 0)).where(
                refusal_counts.c.endpoint == "/taxii2/", refusal_counts.c.problem == "authentication-failed"
            )
        )
    return int(total or 0)


def test_an_officer_without_access_gets_403_and_writes_nothing(canada: RunningNode) -> None:
    names = {c["alias"] for c in http(canada, "GET", f"{ROOT}collections/", "ca.rcmp").json()["collections"]}
    assert names == {"cyber-from-partner-community"}
    objects_path = f"{ROOT}collections/{TO_PARTNER}/objects/"
    before = stored_count(canada)
    assert_taxii_error(http(canada, "GET", objects_path, "ca.rcmp"), 403)
    body = json.dumps({"objects": [indicator("No", "192.0.2.9", tlp2(Tlp.GREEN))]})
    posted = http(canada, "POST", objects_path, "ca.rcmp", headers={"Content-Type": MEDIA}, content=body)
    assert_taxii_error(posted, 403)
    # Nobody's tool writes what the partner sent.
    to_inbound = http(canada, "POST", f"{ROOT}collections/{FROM_PARTNER}/objects/", headers={"Content-Type": MEDIA})
    assert_taxii_error(to_inbound, 403)
    assert stored_count(canada) == before
    assert logged(canada, EventType.ACCESS_DENIED)
    assert_taxii_error(http(canada, "GET", f"{ROOT}collections/00000000-0000-0000-0000-000000000000/"), 404)


def test_wrong_media_types_get_406_and_415_and_store_nothing(canada: RunningNode) -> None:
    path = f"{ROOT}collections/{NATIONAL}/objects/"
    for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
        assert_taxii_error(http(canada, "GET", path, headers={"Accept": accept}), 406, "application/taxii+json")
    before = stored_count(canada)
    body = json.dumps({"objects": [indicator("Wrong type", "192.0.2.10", tlp2(Tlp.GREEN))]})
    for content_type in ("application/json", "application/stix+json;version=2.1", MEDIA.replace("2.1", "2.0")):
        response = http(canada, "POST", path, headers={"Content-Type": content_type}, content=body)
        assert_taxii_error(response, 415)
    assert stored_count(canada) == before


def test_invalid_stix_is_refused_object_by_object_and_only_valid_objects_are_stored(canada: RunningNode) -> None:
    good = indicator("Good", "192.0.2.20", tlp2(Tlp.GREEN))
    broken = dict(indicator("Bad pattern", "192.0.2.21", tlp2(Tlp.GREEN)), pattern="[ipv4-addr:value = ")
    incomplete = {k: v for k, v in indicator("No pattern", "192.0.2.22", tlp2(Tlp.GREEN)).items() if k != "pattern"}
    old = dict(indicator("STIX 2.0", "192.0.2.23", tlp2(Tlp.GREEN)), spec_version="2.0")
    status = post(canada, NATIONAL, [good, broken, incomplete, old])
    assert (status["status"], status["success_count"], status["failure_count"]) == ("complete", 1, 3)
    failures = {f["id"]: f["message"] for f in status["failures"]}
    assert "Pattern failed to validate" in failures[broken["id"]]
    assert "'pattern' is a required property" in failures[incomplete["id"]]
    assert "STIX 2.1 objects only" in failures[old["id"]]
    for refused in (broken, incomplete, old):
        assert_taxii_error(http(canada, "GET", f"{ROOT}collections/{NATIONAL}/objects/{refused['id']}/"), 404)

    before = stored_count(canada)
    path = f"{ROOT}collections/{NATIONAL}/objects/"
    for body in ("{not json", json.dumps({"objects": []}), json.dumps([good]), json.dumps({"type": "bundle"})):
        response = http(canada, "POST", path, headers={"Content-Type": MEDIA}, content=body)
        assert_taxii_error(response, 400)
    assert stored_count(canada) == before


def test_a_bundle_over_max_content_length_gets_413_and_nothing_is_stored(canada: RunningNode) -> None:
    objects = [indicator(f"bulk {i}", f"10.{i // 250}.{i % 250}.1", tlp2(Tlp.GREEN)) for i in range(600)]
    body = json.dumps({"objects": objects}).encode()
    assert len(body) > MAX_CONTENT_LENGTH
    before = stored_count(canada)
    path = f"{ROOT}collections/{NATIONAL}/objects/"
    response = http(canada, "POST", path, headers={"Content-Type": MEDIA}, content=body)
    assert_taxii_error(response, 413, str(MAX_CONTENT_LENGTH))

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
        yield from (body[i : i + 65536] for i in range(0, len(body), 65536))

    assert_taxii_error(http(canada, "POST", path, headers={"Content-Type": MEDIA}, content=chunked()), 413)
    assert stored_count(canada) == before


def test_a_forged_stale_or_reused_next_token_gets_400(canada: RunningNode, night_analyst: str) -> None:
    post(canada, NATIONAL, [indicator(f"next {i}", f"192.0.2.{30 + i}", tlp2(Tlp.GREEN)) for i in range(5)])
    path = f"{ROOT}collections/{NATIONAL}/objects/"
    token = http(canada, "GET", path, params={"limit": 2}).json()["next"]
    assert http(canada, "GET", path, params={"limit": 2, "next": token}).status_code == 200

    payload, tag = token.split(".")
    forged = payload + "." + ("A" if tag[0] != "A" else "B") + tag[1:]
    assert_taxii_error(http(canada, "GET", path, params={"next": forged}), 400, "not one this server issued")
    assert_taxii_error(http(canada, "GET", path, params={"next": "garbage"}), 400, "not one this server issued")
    other_filters = {"next": token, "match[type]": "malware"}
    assert_taxii_error(http(canada, "GET", path, params=other_filters), 400, "other filters")
    assert_taxii_error(http(canada, "GET", path, night_analyst, params={"next": token}), 400, "another request")

    # A token the node did issue, an hour ago: signed with its key, past its lifetime.
    with canada.engine.connect() as conn:
        officer_id = conn.execute(select(officers.c.id).where(officers.c.username == "ca.cccs")).scalar_one()
    lifetime = timedelta(seconds=600)
    stale = NextTokens(next_token_key(canada.keys), lifetime).issue(
        Position(
            f"objects {NATIONAL}",
            officer_id,
            selection_digest(ObjectFilters().selection()),
            datetime.now(UTC) - timedelta(hours=2),
            datetime.now(UTC) - timedelta(hours=1),
        )
    )
    assert_taxii_error(http(canada, "GET", path, params={"next": stale}), 400, "continue with added_after=")


def test_an_unmarked_object_is_stored_as_sent_under_the_default_rule_which_is_logged(canada: RunningNode) -> None:
    bare = indicator("Unmarked", "192.0.2.60", None)
    post(canada, NATIONAL, [bare])
    assert tool(canada, NATIONAL).get_object(bare["id"])["objects"] == [bare]
    digest = sha256_hex(canonical_json([[bare["id"], bare["modified"]]]))
    [event] = [e for e in logged(canada, EventType.STIX_UNMARKED_DEFAULTED) if e.payload_sha256 == digest]
    assert json.loads(event.refs) == {"collection": NATIONAL, "count": 1, "tlp": "AMBER"}
    community = http(canada, "GET", f"{ROOT}collections/{COMMUNITY}/objects/", params={"match[id]": bare["id"]})
    assert community.json() == {"more": False}


def test_a_red_object_is_served_only_to_the_recipients_named_on_it(canada: RunningNode, night_analyst: str) -> None:
    red = indicator("Victim's internal host", "10.1.2.3", tlp2(Tlp.RED))
    green = indicator("Public scanner", "192.0.2.70", tlp2(Tlp.GREEN))
    with canada.engine.begin() as conn:  # as a partner's share naming ca.cccs arrives
        add_objects(conn, FROM_PARTNER, [red, green], actor="IN:CERT-In", named_readers=("ca.cccs",))
    named, unnamed = tool(canada, FROM_PARTNER), tool(canada, FROM_PARTNER, night_analyst)
    assert named.get_object(red["id"])["objects"] == [red]
    assert {o["id"] for o in read_all(named, id=f"{red['id']},{green['id']}")} == {red["id"], green["id"]}
    assert [o["id"] for o in read_all(unnamed, id=f"{red['id']},{green['id']}")] == [green["id"]]
    assert unnamed.get_manifest(id=red["id"]) == {"more": False}
    denied = len(logged(canada, EventType.ACCESS_DENIED))
    for suffix in ("", "versions/"):
        path = f"{ROOT}collections/{FROM_PARTNER}/objects/{red['id']}/{suffix}"
        assert_taxii_error(http(canada, "GET", path, night_analyst), 404)
    assert len(logged(canada, EventType.ACCESS_DENIED)) == denied + 2
