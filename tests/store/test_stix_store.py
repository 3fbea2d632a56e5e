"""The STIX object store behind the TAXII collections, on both backends: dedupe by id and version with every version
kept, the server's strictly increasing date added, the unmarked default logged, TLP audiences and named readers,
keyset pages without gaps or duplicates."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
import stix2
from alembic import command
from sqlalchemy import Connection, Engine, func, insert, select
from uuid6 import uuid7

from accord.crypto.canonical import canonical_json, sha256_hex
from accord.directory.officers import Officer, Role
from accord.domain.cyber import SharedBundle
from accord.domain.handling import Caveat, CommonLevel, Handling, Tlp
from accord.domain.messages import Address, Direction, Message, MessageKind, Priority
from accord.domain.parties import Party
from accord.errors import Forbidden, NotFound
from accord.exchange.sending import message_row
from accord.focus.cyber.checking import ObjectChecker
from accord.focus.cyber.collections import load_collections
from accord.focus.cyber.store import (
    ObjectFilters,
    ShareHandling,
    VersionMatch,
    Visibility,
    add_objects,
    delete_object,
    held_unchanged,
    object_visibility,
    query_manifest,
    query_objects,
)
from accord.focus.cyber.validation import check_object, first_check, timestamp_key
from accord.ledger.events import EventType
from accord.store.engine import make_engine
from accord.store.migrate import alembic_config, migrate
from accord.store.tables import events, messages, stix_named_readers, stix_objects
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


def share(message_id: str, tlp: Tlp, *caveats: Caveat, named: tuple[str, ...] = ()) -> ShareHandling:
    return ShareHandling(message_id, tlp, CommonLevel.RESTRICTED, caveats, named)


def reads_only(*message_ids: str) -> Any:
    """A need-to-know decision that lets the reader read these shares and no other."""

    def decide(conn: Connection, asked: frozenset[str]) -> frozenset[str]:
        return asked & frozenset(message_ids)

    return decide


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


def test_objects_held_as_they_are_skip_the_validator_and_are_still_answered_already_held(engine: Engine) -> None:
    held = [indicator(f"Scanner {n}", f"203.0.113.{n}", tlp2(Tlp.GREEN), confidence=60) for n in range(1, 4)]
    add(engine, TO_PARTNER, held)
    reordered = dict(reversed(held[1].items()))  # the same JSON, members in another order
    tampered = dict(held[2], name="Something else")  # same id and version, other content
    loosely_equal = dict(held[0], confidence=60.0)  # == to what is held, but not the same JSON
    fresh = indicator("New", "203.0.113.9", tlp2(Tlp.GREEN))
    posted: list[Any] = [held[0], reordered, tampered, loosely_equal, fresh, "not an object"]
    firsts = [first_check(position, stix) for position, stix in enumerate(posted)]
    with engine.connect() as conn:
        known = held_unchanged(conn, TO_PARTNER, firsts)
    assert known == {0, 1}

    with ObjectChecker(workers=1) as checker:
        checked = checker.submit_checked(firsts, known_valid=known).result()
    assert [item.errors for item in checked.items] == [check_object(n, o).errors for n, o in enumerate(posted)]
    result = add(engine, TO_PARTNER, checked)
    assert [o.id for o in result.added] == [fresh["id"]]
    assert [(o.id, o.message) for o in result.successes[:2]] == [
        (held[0]["id"], "already held; nothing changed"),
        (held[1]["id"], "already held; nothing changed"),
    ]
    refused = {f.id: f.message or "" for f in result.failures}
    assert "newer `modified`" in refused[held[2]["id"]]


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


# --- objects landed from a share ----------------------------------------------------------------------------------


def test_a_landed_object_is_held_under_the_stricter_of_its_marking_and_the_shares_tlp(engine: Engine) -> None:
    green = indicator("Scanner", "203.0.113.30", tlp2(Tlp.GREEN))
    red = indicator("Victim host", "10.9.8.7", tlp2(Tlp.RED))
    [stored] = add(engine, FROM_PARTNER, [green], share=share("m-strict", Tlp.AMBER_STRICT), actor="IN:CERT-In").added
    assert stored.tlp is Tlp.AMBER_STRICT
    [kept] = add(engine, FROM_PARTNER, [red], share=share("m-red", Tlp.RED, named=("ca.cccs",))).added
    assert kept.tlp is Tlp.RED, "a share never lowers an object's own marking"
    with engine.connect() as conn:
        row = conn.execute(select(stix_objects).where(stix_objects.c.object_id == green["id"])).one()
    assert (row.tlp, row.share_id, row.share_level, row.share_caveats) == ("AMBER+STRICT", "m-strict", "restricted", "")
    assert json.loads(row.content) == green, "the object itself is kept as the partner sent it"

    refused = add(engine, COMMUNITY, [green], share=share("m-strict", Tlp.AMBER_STRICT), actor="IN:CERT-In")
    assert refused.added == ()
    [failure] = refused.failures
    assert "TLP:GREEN" in (failure.message or "") and "TLP:AMBER+STRICT share" in (failure.message or "")


def test_a_collection_holds_a_shares_objects_only_under_the_caveats_it_admits(engine: Engine) -> None:
    green = indicator("Scanner", "203.0.113.31", tlp2(Tlp.GREEN))
    no_onward = share("m-h2", Tlp.GREEN, Caveat.H2)
    refused = add(engine, COMMUNITY, [green], share=no_onward, actor="IN:CERT-In")
    assert refused.added == () and "H2" in (refused.failures[0].message or "")
    [stored] = add(engine, FROM_PARTNER, [green], share=no_onward, actor="IN:CERT-In").added
    with engine.connect() as conn:
        assert conn.scalar(select(stix_objects.c.share_caveats).where(stix_objects.c.object_id == stored.id)) == "H2"
    community, inbound = load_collections().get(COMMUNITY), load_collections().get(FROM_PARTNER)
    assert community is not None and inbound is not None
    assert community.admits(Tlp.GREEN) and not community.admits(Tlp.GREEN, (Caveat.H2,))
    assert inbound.admits(Tlp.RED, tuple(Caveat))


def test_landed_objects_are_served_only_to_readers_who_may_read_their_share(engine: Engine) -> None:
    own = indicator("Own", "198.51.100.80", tlp2(Tlp.GREEN))
    hidden = [indicator(f"hidden {i}", f"198.51.100.{81 + i}", tlp2(Tlp.GREEN)) for i in range(3)]
    seen = indicator("Seen", "198.51.100.90", tlp2(Tlp.GREEN))
    add(engine, FROM_PARTNER, [own])  # as a test fixture adds it: no share
    add(engine, FROM_PARTNER, hidden, share=share("m-hidden", Tlp.AMBER), actor="IN:CERT-In")
    add(engine, FROM_PARTNER, [seen], share=share("m-seen", Tlp.AMBER), actor="IN:CERT-In")
    decide = reads_only("m-seen")

    pages: list[list[str]] = []
    resume: datetime | None = None
    with engine.connect() as conn:
        while True:
            page = query_objects(
                conn, FROM_PARTNER, ANALYST, ObjectFilters(limit=1, resume_after=resume), shares=decide
            )
            pages.append([e.id for e in page.entries])
            if not page.more:
                break
            resume = page.last_added
        manifest = query_manifest(conn, FROM_PARTNER, ANALYST, ObjectFilters(), shares=decide)
        assert object_visibility(conn, FROM_PARTNER, ANALYST, hidden[0]["id"], shares=decide) is Visibility.HIDDEN
        assert object_visibility(conn, FROM_PARTNER, ANALYST, seen["id"], shares=decide) is Visibility.VISIBLE
        # Without a decision, no share's objects are served: only what the party added itself.
        assert [e.id for e in query_objects(conn, FROM_PARTNER, ANALYST, ObjectFilters()).entries] == [own["id"]]
        assert object_visibility(conn, FROM_PARTNER, ANALYST, seen["id"]) is Visibility.HIDDEN
    assert pages == [[own["id"]], [seen["id"]]], "hidden objects neither fill a page nor leave `more` set"
    assert [e.id for e in manifest.entries] == [own["id"], seen["id"]]


def test_a_red_shares_objects_go_to_its_named_readers_whatever_their_own_marking(engine: Engine) -> None:
    green = indicator("Scanner", "203.0.113.40", tlp2(Tlp.GREEN))
    add(engine, FROM_PARTNER, [green], share=share("m-red", Tlp.RED, named=(ANALYST.username,)), actor="IN:CERT-In")
    decide = reads_only("m-red")  # even if the pack let both read the share, TLP:RED goes to the named only
    with engine.connect() as conn:
        named = query_objects(conn, FROM_PARTNER, ANALYST, ObjectFilters(), shares=decide)
        other = query_objects(conn, FROM_PARTNER, OTHER_ANALYST, ObjectFilters(), shares=decide)
    assert [e.id for e in named.entries] == [green["id"]] and other.entries == ()


def received_share(tlp: Tlp, objects: list[dict[str, Any]], named: tuple[str, ...] = ()) -> Message:
    """A share CERT-In sent to the Canadian Cyber Centre, as the Canadian node holds it."""
    return Message(
        id=str(uuid7()),
        kind=MessageKind.SHARE,
        case_id=str(uuid7()),
        sender=Address(party=Party.IN, agency="CERT-In"),
        recipient=Address(party=Party.CA, agency="CCCS"),
        focus_area="cyber",
        priority=Priority.ROUTINE,
        created_at=datetime.now(UTC),
        deadline=None,
        handling=Handling(classification="Restricted", level=CommonLevel.RESTRICTED, tlp=tlp, named_recipients=named),
        title="STIX",
        body="shared",
        stix=SharedBundle(id=f"bundle--{uuid4()}", objects=tuple(objects)),
    )


def test_objects_landed_before_the_share_handling_revision_are_held_under_their_shares_handling(
    databases: DatabaseFactory,
) -> None:
    """A node upgraded with objects that landed under their own, weaker marking: the migration finds the share each
    came from and records its handling, so they are served as if they had landed now."""
    url = databases.new_url("landed")
    command.upgrade(alembic_config(url), "0005")
    strict_green = indicator("Landed GREEN, shared AMBER+STRICT", "203.0.113.60", tlp2(Tlp.GREEN))
    red_green = indicator("Landed GREEN, shared RED", "203.0.113.61", tlp2(Tlp.GREEN))
    own = indicator("Added here", "203.0.113.62", tlp2(Tlp.GREEN))
    strict = received_share(Tlp.AMBER_STRICT, [strict_green])
    red = received_share(Tlp.RED, [red_green], named=(ANALYST.username,))
    landed = [(FROM_PARTNER, strict_green), (COMMUNITY, strict_green), (FROM_PARTNER, red_green)]
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(messages),
                [
                    message_row(m, Direction.INCOMING)
                    | {
                        "content": canonical_json(m.model_dump(mode="json")).decode(),
                        "state": "received",
                        "attempts": 0,
                    }
                    | {"received_at": datetime.now(UTC)}
                    for m in (strict, red)
                ],
            )
            at = datetime.now(UTC)
            rows = [(c, o, "IN:CERT-In") for c, o in landed] + [(FROM_PARTNER, own, "o-1")]
            conn.execute(
                insert(stix_objects),
                [
                    {
                        "collection_id": collection,
                        "object_id": o["id"],
                        "type": o["type"],
                        "spec_version": "2.1",
                        "version": o["modified"],
                        "version_key": timestamp_key(o["modified"]),
                        "date_added": at + timedelta(microseconds=n),
                        "is_first": True,
                        "is_last": True,
                        "tlp": "GREEN",
                        "marked": True,
                        "added_by": added_by,
                        "content": json.dumps(o),
                    }
                    for n, (collection, o, added_by) in enumerate(rows)
                ],
            )
        migrate(url)
        with engine.connect() as conn:
            held = {
                (r.collection_id, r.object_id): (r.tlp, r.share_id, r.share_level, r.share_caveats)
                for r in conn.execute(select(stix_objects))
            }
            named = set(conn.execute(select(stix_named_readers.c.username)).scalars())
            every_share = reads_only(strict.id, red.id)
            community = query_objects(conn, COMMUNITY, ANALYST, ObjectFilters(), shares=every_share)
            other = query_objects(conn, FROM_PARTNER, OTHER_ANALYST, ObjectFilters(), shares=every_share)
    finally:
        engine.dispose()
    assert held[(FROM_PARTNER, strict_green["id"])] == ("AMBER+STRICT", strict.id, "restricted", "")
    assert held[(COMMUNITY, strict_green["id"])] == ("AMBER+STRICT", strict.id, "restricted", "")
    assert held[(FROM_PARTNER, red_green["id"])] == ("RED", red.id, "restricted", "")
    assert held[(FROM_PARTNER, own["id"])] == ("GREEN", None, None, None)
    assert named == {ANALYST.username}
    assert community.entries == (), "the community collection no longer serves what came AMBER+STRICT"
    assert [e.id for e in other.entries] == [strict_green["id"], own["id"]], "the RED share's only to whom it names"
