"""TAXII next tokens, the timestamps they and the filters carry, and the collections file's checks."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from accord.crypto.keys import NodeKeys
from accord.directory.officers import Officer, Role
from accord.domain.parties import Party
from accord.focus.cyber.collections import Catalogue, agreement_violations, load_collections
from accord.focus.cyber.errors import InvalidNextToken, StaleNextToken
from accord.focus.cyber.paging import NextTokens, Position, next_token_key, selection_digest
from accord.focus.cyber.store import ObjectFilters, VersionMatch, format_timestamp
from accord.focus.cyber.validation import parse_timestamp, timestamp_key

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
AFTER = datetime(2026, 11, 25, 11, 59, 58, 123456, tzinfo=UTC)
COLLECTIONS_FILE = ("data", "cyber", "collections.yaml")
SELECTION = selection_digest(ObjectFilters(types=("indicator",)).selection())


@pytest.fixture(scope="module")
def tokens() -> NextTokens:
    return NextTokens(next_token_key(NodeKeys.generate()), timedelta(minutes=10))


def issued(tokens: NextTokens, **changes: Any) -> str:
    fields: dict[str, Any] = {
        "request": "objects c1",
        "reader": "officer-1",
        "selection": SELECTION,
        "after": AFTER,
        "issued_at": NOW,
    }
    fields.update(changes)
    return tokens.issue(Position(**fields))


def opened(tokens: NextTokens, token: str, **changes: Any) -> datetime:
    fields: dict[str, Any] = {"request": "objects c1", "reader": "officer-1", "selection": SELECTION, "now": NOW}
    fields.update(changes)
    return tokens.open(token, **fields)


def test_a_token_gives_back_the_position_it_was_issued_for(tokens: NextTokens) -> None:
    assert opened(tokens, issued(tokens), now=NOW + timedelta(minutes=9)) == AFTER


def test_a_token_from_another_key_or_altered_or_garbage_is_refused_as_forged(tokens: NextTokens) -> None:
    other = NextTokens(next_token_key(NodeKeys.generate()), timedelta(minutes=10))
    payload, tag = issued(tokens).split(".")
    moved = base64.urlsafe_b64decode(payload + "==").replace(b'"r":"officer-1"', b'"r":"officer-2"')
    altered = base64.urlsafe_b64encode(moved).rstrip(b"=").decode() + "." + tag
    for token in (issued(other), altered, "not-a-token", "", "..", payload, "é.é"):
        with pytest.raises(InvalidNextToken, match="not one this server issued"):
            opened(tokens, token)


def test_a_token_past_its_lifetime_is_refused_with_where_to_resume(tokens: NextTokens) -> None:
    with pytest.raises(StaleNextToken) as refused:
        opened(tokens, issued(tokens), now=NOW + timedelta(minutes=10, seconds=1))
    assert "added_after=2026-11-25T11:59:58.123456Z" in refused.value.detail


def test_a_token_is_good_only_for_its_request_reader_and_filters(tokens: NextTokens) -> None:
    token = issued(tokens)
    other_filters = selection_digest(ObjectFilters(types=("malware",)).selection())
    with pytest.raises(InvalidNextToken, match="another request"):
        opened(tokens, token, request="manifest c1")
    with pytest.raises(InvalidNextToken, match="another request"):
        opened(tokens, token, reader="officer-2")
    with pytest.raises(InvalidNextToken, match="other filters"):
        opened(tokens, token, selection=other_filters)


def test_the_page_size_and_position_are_not_part_of_the_selection() -> None:
    base = ObjectFilters(types=("indicator",), versions=VersionMatch.parse("last,first"))
    same = ObjectFilters(types=("indicator",), versions=VersionMatch.parse("first,last"), limit=7, resume_after=NOW)
    assert selection_digest(base.selection()) == selection_digest(same.selection())


instants = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))


@given(instants)
def test_a_date_added_reads_back_as_the_same_instant(at: datetime) -> None:
    assert parse_timestamp(format_timestamp(at)) == at


@given(instants, instants)
def test_timestamp_keys_order_like_the_instants_they_name(a: datetime, b: datetime) -> None:
    ka, kb = timestamp_key(format_timestamp(a)), timestamp_key(format_timestamp(b))
    assert (ka < kb) == (a < b) and (ka == kb) == (a == b)


def test_timestamps_of_any_precision_name_the_same_instant() -> None:
    assert timestamp_key("2026-01-01T00:00:00Z") == timestamp_key("2026-01-01T00:00:00.000000000Z")
    assert timestamp_key("2026-01-01T00:00:00.1Z") == "2026-01-01T00:00:00.100000000Z"
    assert parse_timestamp("2026-01-01T00:00:00.1234567Z") == datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
    for bad in ("2026-01-01", "2026-01-01T00:00:00+01:00", "2026-13-01T00:00:00Z", "last"):
        with pytest.raises(ValueError):
            parse_timestamp(bad)


def test_match_version_reads_keywords_and_timestamps_and_refuses_anything_else() -> None:
    assert VersionMatch.parse(None) == VersionMatch(last=True)
    match = VersionMatch.parse("first, 2026-01-01T00:00:00.5Z")
    assert match.first and not match.last and match.keys == ("2026-01-01T00:00:00.500000000Z",)
    with pytest.raises(ValueError):
        VersionMatch.parse("latest")


def test_the_shipped_collections_cover_cyber_and_fraud_in_each_direction() -> None:
    catalogue = load_collections()
    kinds = {(c.focus_area, c.direction.value) for c in catalogue.collections}
    assert {("cyber", "to_partner"), ("cyber", "from_partner"), ("cyber", "national")} <= kinds
    assert {("fraud", "to_partner"), ("fraud", "from_partner")} <= kinds
    analyst = Officer("o", "ca.cccs", "analyst", Party.CA, "CCCS", frozenset({Role.ANALYST}))
    police = Officer("p", "ca.rcmp", "police", Party.CA, "RCMP", frozenset({Role.OFFICER}))
    cyber_only = Officer("c", "ca.cafc", "fraud", Party.CA, "CAFC", frozenset({Role.ANALYST}), focus_areas=("cyber",))
    assert {c.alias for c in catalogue.visible_to(analyst)} >= {"cyber-to-partner", "cyber-from-partner"}
    assert {c.alias for c in catalogue.visible_to(police)} == {"cyber-from-partner-community"}
    assert "fraud-to-partner" not in {c.alias for c in catalogue.visible_to(cyber_only)}
    assert all(not c.may_write(analyst) for c in catalogue.receiving("cyber"))


def raw_catalogue() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(resources.files("accord").joinpath(*COLLECTIONS_FILE).read_text())
    return loaded


def test_a_collections_file_that_breaks_the_rules_is_refused() -> None:
    writable_inbound = raw_catalogue()
    writable_inbound["collections"][1]["write"] = writable_inbound["collections"][0]["write"]
    repeated = raw_catalogue()
    repeated["collections"][1]["id"] = repeated["collections"][0]["id"]
    onward = raw_catalogue()
    community = next(c for c in onward["collections"] if c["alias"] == "cyber-from-partner-community")
    community["caveats"] = ["H2"]
    for raw, message in (
        (writable_inbound, "written by the node only"),
        (repeated, "ids must be unique"),
        (onward, "cannot hold H2"),
    ):
        with pytest.raises(ValidationError, match=message):
            Catalogue.model_validate(raw)
    unknown = raw_catalogue()
    unknown["collections"][0]["read"]["IN"]["agencies"] = ["NSA"]
    unknown["collections"][0]["focus_area"] = "piracy"
    problems = agreement_violations(Catalogue.model_validate(unknown))
    assert any("NSA" in p for p in problems) and any("piracy" in p for p in problems)
