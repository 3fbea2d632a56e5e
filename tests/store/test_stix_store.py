"""The STIX object store behind the TAXII collections, on both backends: dedupe by id and version with every version
kept, the server's strictly increasing date added, the unmarked default logged, TLP audiences and named readers,
keyset pages without gaps or duplicates."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stix2
from sqlalchemy import Engine, func, select

from accord.crypto.canonical import canonical_json, sha256_hex
from accord.directory.officers import Officer, Role
from accord.domain.handling import Tlp
from accord.domain.parties import Party
from accord.errors import Forbidden, NotFound
from accord.focus.cyber.collections import load_collections
from accord.focus.cyber.store import (
    ObjectFilters,
    VersionMatch,
    Visibility,
    add_objects,
    delete_object,
    object_visibility,
    query_manifest,
    query_objects,
)
from accord.ledger.events import EventType
from accord.store.engine import make_engine
from accord.store.migrate import migrate
from accord.store.tables import events, stix_objects
from tests.conftest import DatabaseFactory
from tests.ledger_checks import assert_ledger_intact
from tests.stix_samples import as_json, indicator, ransomware_campaign, tlp2

TO_PARTNER = "01a21452-dd4a-7473-aa54-6ca99c5e1487"
FROM_PARTNER = "01a21452-dd4b-723b-aa4a-bb8fd0a87947"
COMMUNITY = "01a21452-dd4c-72c2-8dd9-c9710110e048"
ANALYST = Officer("o-1", "ca.cccs", "CCCS analyst", Party.CA, "CCCS", frozenset({Role.ANALYST}))
OTHER_ANALYST = Officer("o-2", "ca.cccs.2", "CCCS analyst 2", Party.CA, "CCCS", frozenset({Role.ANALYST}))
POLICE = Officer("o-3", "ca.rcmp", "RCMP officer", Party.CA, "RCMP", frozenset({Role.OFFICER}))


@pytest.fixture
def engine(databases: DatabaseFactory) -> Iterator[Engine]:
    url = databases.new_url("stix")
    migrate(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def add(engine: Engine, collection: str, objects: list[Any], **kwargs: Any) -> Any:
    with engine.begin() as conn:
        return add_objects(conn, collection, objects, actor=kwargs.pop("actor", "o-1"), **kwargs)


def read(engine: Engine, collection: str, reader: Officer = ANALYST, **filters: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        page = query_objects(conn, collection, reader, ObjectFilters(**filters))
    return [json.loads(e.content) for e in page.entries]


def newer(obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return as_json(stix2.parse(obj).new_version(**changes))


def test_each_id_and_version_is_stored_once_and_every_version_is_kept(engine: Engine) -> None:
    bundle = ransomware_campaign()
    first = add(engine, TO_PARTNER, bundle)
    assert len(first.added) == len(bundle) and not first.failures
    again = add(engine, TO_PARTNER, bundle)
    assert again.added == () and len(again.successes) == len(bundle)
    assert {s.message for s in again.successes} == {"already held; nothing changed"}

    c2 = next(o for o in bundle if o.get("name") == "LockBit affiliate C2 server")
    revised = newer(c2, description="Address retired by the affiliate.", confidence=80)
    assert len(add(engine, TO_PARTNER, [revised]).added) == 1

    def versions_of(match: str) -> list[str]:
        served = read(engine, TO_PARTNER, ids=(c2["id"],), versions=VersionMatch.parse(match))
        return sorted(o["modified"] for o in served)

    assert versions_of("last") == [revised["modified"]]
    assert versions_of("first") == [c2["modified"]]
    assert versions_of("all") == sorted([c2["modified"], revised["modified"]])
    assert versions_of(f"{c2['modified']},last") == sorted([c2["modified"], revised["modified"]])
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(stix_objects)) == len(bundle) + 1
    assert len(read(engine, TO_PARTNER, limit=100)) == len(bundle), "by default each object once, its last version"


def test_an_older_version_arriving_late_does_not_become_the_last(engine: Engine) -> None:
    original = indicator("Scanner", "203.0.113.5", tlp2(Tlp.GREEN))
    revised = newer(original, confidence=90)
    add(engine, TO_PARTNER, [revised])
    add(engine, TO_PARTNER, [original])
    assert [o["modified"] for o in read(engine, TO_PARTNER)] == [revised["modified"]]
    assert [o["modified"] for o in read(engine, TO_PARTNER, versions=VersionMatch.parse("first"))] == [
        original["modified"]
    ]


def test_the_same_id_and_version_with_other_content_is_refused_and_the_first_kept(engine: Engine) -> None:
    original = indicator("Scanner", "203.0.113.5", tlp2(Tlp.GREEN))
    add(engine, TO_PARTNER, [original])
    tampered = dict(original, name="Something else")
    result = add(engine, TO_PARTNER, [tampered])
    assert result.added == () and len(result.failures) == 1
    assert "newer `modified`" in (result.failures[0].message or "")
    assert read(engine, TO_PARTNER)[0]["name"] == "Scanner"


def test_an_object_without_created_or_modified_is_held_once_and_its_version_is_its_date_added(engine: Engine) -> None:
    address = as_json(stix2.IPv4Address(value="192.0.2.77", object_marking_refs=[tlp2(Tlp.GREEN)]))
    first = add(engine, TO_PARTNER, [address])
    assert add(engine, TO_PARTNER, [address]).added == ()
    with engine.connect() as conn:
        [entry] = query_manifest(conn, TO_PARTNER, ANALYST, ObjectFilters()).entries
    assert entry.version == first.added[0].version == entry.manifest()["date_added"]


def test_dates_added_strictly_increase_even_when_the_clock_goes_back(engine: Engine) -> None:
    at = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    early = add(engine, TO_PARTNER, [indicator(f"n{i}", f"198.51.100.{i}", tlp2(Tlp.GREEN)) for i in range(3)], now=at)
    late = add(engine, TO_PARTNER, [indicator("n9", "198.51.100.9", tlp2(Tlp.GREEN))], now=at - timedelta(hours=1))
    stamps = [o.date_added for o in (*early.added, *late.added)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    assert stamps[0] == at and stamps[-1] == at + timedelta(microseconds=3)


def test_concurrent_writers_get_distinct_increasing_dates_added(engine: Engine) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for k in range(5):
                add(engine, TO_PARTNER, [indicator(f"w{n}-{k}", f"192.0.2.{n * 10 + k}", tlp2(Tlp.GREEN))])
        except BaseException as exc:  # collected, and asserted empty in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        stamps = conn.execute(select(stix_objects.c.date_added).order_by(stix_objects.c.row_id)).scalars().all()
    assert len(stamps) == 20 and stamps == sorted(stamps) and len(set(stamps)) == 20


def test_the_same_objects_added_by_two_writers_at_once_are_stored_once(engine: Engine) -> None:
    objects = [indicator(f"race {i}", f"192.0.2.{i}", tlp2(Tlp.GREEN)) for i in range(30)]
    start = threading.Barrier(2)
    results: list[Any] = []
    errors: list[BaseException] = []

    def writer() -> None:
        start.wait()
        try:
            results.append(add(engine, TO_PARTNER, objects))
        except BaseException as exc:  # collected, and asserted empty in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(len(r.added) for r in results) == [0, 30]
    assert all(len(r.successes) == 30 and not r.failures for r in results)


def test_an_unmarked_object_gets_the_default_tlp_and_the_choice_is_logged(engine: Engine) -> None:
    bare = indicator("Unmarked", "198.51.100.200", None)
    [stored] = add(engine, TO_PARTNER, [bare]).added
    assert (stored.tlp, stored.marked) == (Tlp.AMBER, False)
    with engine.connect() as conn:
        row = conn.execute(select(events).where(events.c.type == EventType.STIX_UNMARKED_DEFAULTED.value)).one()
    assert json.loads(row.refs) == {"collection": TO_PARTNER, "count": 1, "tlp": "AMBER"}
    assert row.payload_sha256 == sha256_hex(canonical_json([[bare["id"], bare["modified"]]]))
    assert_ledger_intact(engine)


def test_invalid_objects_fail_with_their_own_errors_and_nothing_of_them_is_stored(engine: Engine) -> None:
    good = indicator("Good", "198.51.100.1", tlp2(Tlp.GREEN))
    broken = dict(indicator("Broken", "198.51.100.2", tlp2(Tlp.GREEN)), pattern="[ipv4-addr:value = ")
    old = dict(indicator("Old", "198.51.100.3", tlp2(Tlp.GREEN)), spec_version="2.0")
    too_fine = dict(
        indicator("Picoseconds", "198.51.100.4", tlp2(Tlp.GREEN)), modified="2099-01-01T00:00:00.0123456789Z"
    )
    result = add(engine, TO_PARTNER, [good, broken, old, "not an object", too_fine])
    assert [o.id for o in result.added] == [good["id"]]
    failures = {f.id: f.message or "" for f in result.failures}
    assert "to at most nanoseconds" in failures[too_fine["id"]]
    assert "Pattern failed to validate" in failures[broken["id"]]
    assert "STIX 2.1 objects only" in failures[old["id"]]
    assert failures["object #4 (no id)"] == "not a JSON object"
    assert [o["id"] for o in read(engine, TO_PARTNER)] == [good["id"]]
    with engine.connect() as conn:
        refused = conn.execute(select(events).where(events.c.type == EventType.STIX_OBJECTS_REFUSED.value)).one()
    assert json.loads(refused.refs)["count"] == 4


def test_a_red_object_is_served_only_to_the_readers_named_on_it(engine: Engine) -> None:
    red = indicator("Victim network", "10.20.30.40", tlp2(Tlp.RED))
    green = indicator("Scanner", "203.0.113.9", tlp2(Tlp.GREEN))
    add(engine, FROM_PARTNER, [red, green], named_readers=(ANALYST.username,), actor="IN:CERT-In")
    assert {o["id"] for o in read(engine, FROM_PARTNER, ANALYST)} == {red["id"], green["id"]}
    assert {o["id"] for o in read(engine, FROM_PARTNER, OTHER_ANALYST)} == {green["id"]}
    with engine.connect() as conn:
        assert object_visibility(conn, FROM_PARTNER, OTHER_ANALYST, red["id"]) is Visibility.HIDDEN
        assert object_visibility(conn, FROM_PARTNER, ANALYST, red["id"]) is Visibility.VISIBLE
        assert object_visibility(conn, FROM_PARTNER, ANALYST, "indicator--" + "0" * 36) is Visibility.ABSENT


def test_the_community_collection_refuses_and_never_lists_anything_above_green(engine: Engine) -> None:
    community = load_collections().get(COMMUNITY)
    assert community is not None and community.tlp_ceiling is Tlp.GREEN
    amber = indicator("C2", "198.51.100.50", tlp2(Tlp.AMBER))
    unmarked = indicator("Unmarked", "198.51.100.51", None)
    clear = indicator("Public scanner", "198.51.100.52", tlp2(Tlp.CLEAR))
    result = add(engine, COMMUNITY, [amber, unmarked, clear], actor="IN:CERT-In")
    assert [o.id for o in result.added] == [clear["id"]]
    messages = {f.id: f.message or "" for f in result.failures}
    assert "is marked TLP:AMBER" in messages[amber["id"]]
    assert "carries no TLP marking, so counts as TLP:AMBER" in messages[unmarked["id"]]
    assert [o["id"] for o in read(engine, COMMUNITY, POLICE)] == [clear["id"]]


def test_readers_outside_the_collections_audience_are_refused(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(Forbidden):
        query_objects(conn, TO_PARTNER, POLICE, ObjectFilters())
    with engine.connect() as conn, pytest.raises(NotFound):
        query_objects(conn, "00000000-0000-0000-0000-000000000000", ANALYST, ObjectFilters())


def test_pages_follow_the_date_added_with_no_gaps_or_duplicates(engine: Engine) -> None:
    objects = [indicator(f"n{i}", f"198.51.100.{i}", tlp2(Tlp.GREEN)) for i in range(25)]
    for start in range(0, 25, 7):
        add(engine, TO_PARTNER, objects[start : start + 7])
    seen: list[str] = []
    resume: datetime | None = None
    pages = 0
    with engine.connect() as conn:
        while True:
            page = query_objects(conn, TO_PARTNER, ANALYST, ObjectFilters(limit=10, resume_after=resume))
            seen += [e.id for e in page.entries]
            pages += 1
            if not page.more:
                break
            resume = page.last_added
        halfway = query_objects(conn, TO_PARTNER, ANALYST, ObjectFilters(limit=100)).entries[11].date_added
        after = query_objects(conn, TO_PARTNER, ANALYST, ObjectFilters(added_after=halfway, limit=100))
    assert seen == [o["id"] for o in objects] and pages == 3
    assert [e.id for e in after.entries] == [o["id"] for o in objects[12:]]


def test_delete_removes_the_chosen_versions_and_the_rest_keep_first_and_last(engine: Engine) -> None:
    original = indicator("Scanner", "203.0.113.5", tlp2(Tlp.GREEN))
    revised = newer(original, confidence=90)
    add(engine, TO_PARTNER, [original, revised])
    with engine.begin() as conn:
        assert delete_object(conn, TO_PARTNER, original["id"], ANALYST, VersionMatch.parse(None)) == 1
    assert [o["modified"] for o in read(engine, TO_PARTNER)] == [original["modified"]]
    with engine.begin() as conn:
        assert delete_object(conn, TO_PARTNER, original["id"], ANALYST, VersionMatch.parse("all")) == 1
        with pytest.raises(NotFound):
            delete_object(conn, TO_PARTNER, original["id"], ANALYST, VersionMatch.parse("all"))
    assert read(engine, TO_PARTNER) == []
    assert_ledger_intact(engine)
