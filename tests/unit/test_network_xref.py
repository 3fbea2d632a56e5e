"""Cross-referencing: names across scripts and spellings, identifiers normalised, scores with their evidence; and
the share's check that every person travels as a subject."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from accord.domain.handling import CommonLevel, Handling
from accord.domain.messages import Address, Message, MessageKind, Priority, SubjectRole
from accord.domain.networks import SharedEntities
from accord.domain.parties import Party
from accord.errors import InvalidInput
from accord.focus.networks.entities import check_entity
from accord.focus.networks.judgements import Resolver, merge_entities
from accord.focus.networks.sharing import PersonsUnscreened, check_bundle, subject_of
from accord.focus.networks.xref import (
    compare,
    features_of,
    identifier_keys,
    match,
    name_similarity,
    name_tokens,
    phone_keys,
    wallet_key,
)


def _person(entity_id: str, **properties: Any) -> dict[str, Any]:
    return {"id": entity_id, "schema": "Person", "properties": properties}


def _features(case_id: str, raw: dict[str, Any]) -> Any:
    found = features_of(case_id, check_entity(raw))
    assert found is not None
    return found


def _sim(a: str, b: str) -> float:
    return name_similarity(name_tokens(a), name_tokens(b))


@pytest.mark.parametrize(
    ("latin", "indic"),
    [
        ("Harpreet Singh Sandhu", "हरप्रीत सिंह संधू"),
        ("Harpreet Singh Sandhu", "ਹਰਪ੍ਰੀਤ ਸਿੰਘ ਸੰਧੂ"),
        ("Rajesh Kumar Sharma", "राजेश कुमार शर्मा"),
        ("Gurpreet Kaur", "ਗੁਰਪ੍ਰੀਤ ਕੌਰ"),
    ],
)
def test_names_match_across_scripts(latin: str, indic: str) -> None:
    assert _sim(latin, indic) >= 0.85


def test_spellings_and_initials() -> None:
    assert _sim("Harpreet Sandhu", "Harprit Sandhoo") >= 0.85
    assert _sim("R. K. Sharma", "Rajesh Kumar Sharma") >= 0.9
    assert _sim("R. K. Verma", "Rajesh Kumar Sharma") < 0.8
    assert _sim("Rajesh Sharma", "Anil Mehta") < 0.6


def test_singh_and_kaur_say_little_alone() -> None:
    # The common Sikh names do not make two different people alike, nor keep the same person apart.
    assert _sim("Harpreet Singh", "Jaswinder Singh") < 0.8
    assert _sim("Harpreet Singh Sandhu", "Harpreet Sandhu") >= 0.95
    assert _sim("Harpreet Singh", "Harpreet Kaur") < _sim("Harpreet Singh", "Harpreet Singh")


def test_phones_in_different_formats() -> None:
    assert phone_keys("+1 (416) 555-0199") == {"+14165550199"}
    assert "+14165550199" in phone_keys("416-555-0199")
    assert "+919876543210" in phone_keys("098765 43210")
    assert phone_keys("+91 98765-43210") == {"+919876543210"}
    assert phone_keys("not a phone") == set()


def test_accounts_passports_and_wallets() -> None:
    assert identifier_keys("account", "GB82 WEST 1234 5698 7654 32") == {"GB82WEST12345698765432"}
    assert identifier_keys("passport", "z 123-4567") == {"Z1234567"}
    assert wallet_key("0xAbC123dEf") == wallet_key("0xabc123def")
    assert wallet_key("BC1QXY2KGDYGJRSQTZQ2N0YRF2493P83KKFJHX0WLH") == "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
    assert wallet_key("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2") != wallet_key("1bvbmseystwetqtfn5au4m4gfg7xjanvn2")


def test_a_score_with_its_evidence() -> None:
    theirs = _features("c1", _person("p1", name=["ਹਰਪ੍ਰੀਤ ਸਿੰਘ ਸੰਧੂ"], birthDate=["1984-03-02"], phone=["+1 416 555 0199"]))
    ours = _features("c2", _person("q1", name=["Harpreet Singh Sandhu"], birthDate=["1984"], phone=["+14165550199"]))
    found = compare(theirs, ours)
    assert found is not None and found.score > 0.95
    fields = {e["field"] for e in found.evidence()["agreed"]}
    assert fields == {"name", "phone", "birthDate"}
    other = _features("c2", _person("q2", name=["Harpreet Singh Sandhu"], birthDate=["1990-01-01"]))
    weaker = compare(theirs, other)
    assert weaker is None or weaker.score < found.score
    assert weaker is None or weaker.evidence()["differed"][0]["field"] == "birthDate"


def test_different_account_numbers_are_different_accounts() -> None:
    theirs = _features(
        "c1", {"id": "a1", "schema": "BankAccount", "properties": {"iban": ["GB82 WEST 1234 5698 7654 32"]}}
    )
    same = _features("c2", {"id": "b1", "schema": "BankAccount", "properties": {"iban": ["GB82WEST12345698765432"]}})
    found = compare(theirs, same)
    assert found is not None and found.score >= 0.9


def test_blocking_compares_only_what_shares_a_key() -> None:
    theirs = [_features("c1", _person("p1", name=["Rajesh Kumar Sharma"]))]
    ours = [_features("c2", _person(f"o{i}", name=[f"Person Number{i}"])) for i in range(50)]
    ours.append(_features("c2", _person("hit", name=["राजेश कुमार शर्मा"])))
    found = match(theirs, ours)
    assert [c.ours.entity_id for c in found] == ["hit"]


def test_merged_view_keeps_originals_and_rewrites_references() -> None:
    a = check_entity(_person("a", name=["Harpreet Sandhu"]))
    b = check_entity(_person("b", name=["Harprit Sandhu"], phone=["+14165550199"]))
    firm = check_entity({"id": "f", "schema": "Company", "properties": {"name": ["Maple Exports"]}})
    link = check_entity({"id": "d", "schema": "Directorship", "properties": {"director": ["b"], "organization": ["f"]}})
    solved = Resolver()
    solved.union("case/a", "case/b")
    merged, shown = merge_entities("case", [a, b, firm, link], solved)
    assert shown["b"] == "a"
    by_id = {p.id: p for p in merged}
    assert set(by_id) == {"a", "f", "d"}
    assert by_id["d"].get("director") == ["a"]
    assert "+14165550199" in by_id["a"].get("phone")
    assert b.get("phone") == ["+14165550199"] and a.get("phone") == []


def _message(entities: list[dict[str, Any]], subjects: tuple[Any, ...]) -> Message:
    now = datetime.now(UTC)
    return Message(
        id="m1",
        kind=MessageKind.SHARE,
        case_id="case-1",
        sender=Address(party=Party.CA, agency="RCMP", officer="a"),
        recipient=Address(party=Party.IN, agency="NCB", officer=None),
        focus_area="networks",
        priority=Priority.ROUTINE,
        created_at=now,
        deadline=None,
        handling=Handling(classification="Protected A", level=CommonLevel.RESTRICTED),
        title="t",
        body="b",
        subjects=subjects,
        network=SharedEntities(entities=tuple(entities)),
    )


def test_every_person_travels_as_a_subject() -> None:
    person = _person("p1", name=["Harpreet Sandhu"], alias=["Happy"], birthDate=["1984-03-02"], nationality=["ca"])
    firm = {"id": "f1", "schema": "Company", "properties": {"name": ["Maple Exports"]}}
    subject = subject_of(check_entity(person), SubjectRole.SUSPECT)
    assert subject is not None and subject.name == "Harpreet Sandhu" and subject.aliases == ("Happy",)
    assert subject.date_of_birth == "1984-03-02" and subject.nationality == "CA"
    unroled = subject_of(check_entity(person), None)
    assert unroled is not None and unroled.role is None  # "cannot be excluded" for the death-penalty screen
    assert len(check_bundle(_message([person, firm], (subject,)))) == 2
    with pytest.raises(PersonsUnscreened, match="p1"):
        check_bundle(_message([person, firm], ()))


def test_relations_point_inside_the_bundle() -> None:
    person = _person("p1", name=["Harpreet Sandhu"])
    subject = subject_of(check_entity(person), None)
    link = {"id": "d", "schema": "Directorship", "properties": {"director": ["p1"], "organization": ["elsewhere"]}}
    with pytest.raises(InvalidInput, match="elsewhere"):
        check_bundle(_message([person, link], (subject,)))
