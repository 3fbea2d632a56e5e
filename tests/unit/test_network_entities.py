"""The strict FollowTheMoney check every entity passes before a case takes it: each class of bad input refused with
a sentence naming the entity and what is wrong, and good entities kept with their values cleaned."""

from __future__ import annotations

from typing import Any

import pytest

from accord.focus.networks.entities import (
    MAX_ID_CHARS,
    MAX_VALUE_CHARS,
    MAX_VALUES_PER_PROPERTY,
    EntityError,
    check_entity,
    links_of,
    missing_references,
)

PERSON = {"id": "p-1", "schema": "Person", "properties": {"name": ["Arjun Mehta"], "phone": ["+91 98765 43210"]}}


def refusal(raw: Any) -> str:
    with pytest.raises(EntityError) as raised:
        check_entity(raw)
    return raised.value.detail


def test_a_good_entity_is_kept_with_its_values_cleaned() -> None:
    proxy = check_entity(PERSON)
    assert proxy.id == "p-1"
    assert proxy.schema.name == "Person"
    assert proxy.get("phone") == ["+919876543210"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["not", "an", "object"], "an entity is a JSON object"),
        ({"id": "p-1", "schema": "Person", "colour": "red"}, "no field 'colour'"),
        ({"schema": "Person"}, "an entity needs an id"),
        ({"id": "  ", "schema": "Person"}, "an entity needs an id"),
        ({"id": 7, "schema": "Person"}, "an entity needs an id"),
        ({"id": "x" * (MAX_ID_CHARS + 1), "schema": "Person"}, "is not usable"),
        ({"id": " p-1", "schema": "Person"}, "is not usable"),
        ({"id": "p-1"}, "an entity needs a schema"),
        ({"id": "p-1", "schema": "Persn"}, "unknown schema 'Persn'"),
        ({"id": "d-1", "schema": "Document"}, "unknown schema 'Document'"),  # FtM's, not this capability's
        ({"id": "t-1", "schema": "Thing"}, "unknown schema 'Thing'"),
        ({"id": "p-1", "schema": "Person", "properties": ["name"]}, "properties is an object"),
        ({"id": "p-1", "schema": "Person", "properties": {"colour": ["red"]}}, "a Person has no property 'colour'"),
        ({"id": "p-1", "schema": "Person", "properties": {"name": [["nested"]]}}, "not a text or a number"),
        ({"id": "p-1", "schema": "Person", "properties": {"name": [True]}}, "not a text or a number"),
        ({"id": "p-1", "schema": "Person", "properties": {"name": ["x" * (MAX_VALUE_CHARS + 1)]}}, "more than"),
        (
            {"id": "p-1", "schema": "Person", "properties": {"name": ["n"] * (MAX_VALUES_PER_PROPERTY + 1)}},
            "at most",
        ),
        ({"id": "p-1", "schema": "Person", "properties": {"birthDate": ["yesterday-ish"]}}, "is not a valid date"),
        ({"id": "p-1", "schema": "Person", "properties": {"email": ["not-an-address"]}}, "is not a valid e-mail"),
        ({"id": "p-1", "schema": "Person", "properties": {"nationality": ["Atlantis"]}}, "is not a valid"),
        ({"id": "o-1", "schema": "Ownership", "properties": {"owner": ["p-1"]}}, "both are needed"),
        ({"id": "o-1", "schema": "Ownership", "properties": {"owner": ["o-1"], "asset": ["c-1"]}}, "itself"),
        ({"id": "c-1", "schema": "Company", "properties": {}}, "a Company needs name"),
    ],
)
def test_each_kind_of_bad_entity_is_refused_with_the_reason(raw: Any, expected: str) -> None:
    assert expected in refusal(raw)


def test_a_refusal_names_the_entity() -> None:
    assert refusal({"id": "p-42", "schema": "Person", "properties": {"colour": ["red"]}}).startswith("entity p-42")


def test_a_nested_entity_counts_as_a_reference_by_its_id() -> None:
    raw = {"id": "pp-1", "schema": "Passport", "properties": {"number": ["Z123"], "holder": [{"id": "p-1"}]}}
    assert check_entity(raw).get("holder") == ["p-1"]


def test_relations_and_entity_properties_make_links_and_missing_ends_are_named() -> None:
    owner = check_entity(PERSON)
    ownership = check_entity({"id": "o-1", "schema": "Ownership", "properties": {"owner": ["p-1"], "asset": ["c-9"]}})
    assert [(link.source, link.target, link.via) for link in links_of(ownership)] == [("p-1", "c-9", "o-1")]
    assert missing_references([owner, ownership], set()) == {"o-1": ["c-9"]}
    assert missing_references([owner, ownership], {"c-9"}) == {}
