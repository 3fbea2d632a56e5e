"""The matching engine: records checked on the way in, names across scripts, dates with day/month ambiguity, keyed
encodings, the model's scores the same through Splink and in Python."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import InvalidInput
from accord.matching.encode import EncodedPerson, KeyMismatch, MatchingKey, blind_index, encode_person
from accord.matching.link import find_duplicates, link_people, match_encoded, score_in_python
from accord.matching.model import Mode, name_similarity_of, raw_features, shipped_model
from accord.matching.normalise import name_similarity, name_tokens, read_birth_date
from accord.matching.records import PersonRecord, person_from_row, read_people_csv
from accord.matching.splink_scoring import score_with_splink

KEY = MatchingKey("2026-12", bytes(range(32)))
LEFT = [
    PersonRecord("l1", "Gurpreet Kaur Sandhu", "03/04/1990", "F", "IND", "Z1234567", "98765 43210"),
    PersonRecord("l2", "Rajesh Kumar Sharma", "1985-06-01", "M"),
    PersonRecord("l3", "Harjeet Singh Dhillon", "1970-02-11", "M"),
    PersonRecord("l4", "Manpreet Singh Grewal", "1962-09-30", "M"),
]
RIGHT = [
    PersonRecord("r1", "ਗੁਰਪ੍ਰੀਤ ਕੌਰ ਸੰਧੂ", "1990-04-03", "female", "India", "", "+91 98765 43210"),
    PersonRecord("r2", "राजेश शर्मा", "01/06/1985", "M"),
    PersonRecord("r3", "Harjit Singh Dhilon", "11 Feb 1970"),
    PersonRecord("r4", "Manpreet Singh Grewal", "1988-05-17", "M"),  # the same name, another person
]


def test_a_name_in_gurmukhi_devanagari_and_latin_is_one_name() -> None:
    latin = name_tokens("Gurpreet Kaur Sandhu")
    assert name_tokens("ਗੁਰਪ੍ਰੀਤ ਕੌਰ ਸੰਧੂ").strong == latin.strong
    assert name_tokens("गुरप्रीत कौर संधू").strong == latin.strong
    assert name_similarity(latin, name_tokens("Smt G. K. Sandhu")) > 0.8


def test_a_date_whose_day_and_month_could_be_either_gives_both_readings() -> None:
    birth = read_birth_date("03/04/1990")
    assert birth is not None and set(birth.dates) == {"1990-04-03", "1990-03-04"}
    year_only = read_birth_date("1990")
    assert year_only is not None and year_only.year == 1990 and not year_only.exact


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "123"),
        ("name", "Gurपreet Sandhu"),
        ("date_of_birth", "31/02/1990"),
        ("date_of_birth", "1990-13-45"),
        ("date_of_birth", "2999"),
        ("date_of_birth", "1850"),
    ],
)
def test_an_unusable_row_is_refused_with_its_field_and_value(field: str, value: str) -> None:
    row = {"id": "x1", "name": "Harjit Singh", field: value}
    with pytest.raises(InvalidInput, match=field.replace("_", " ") if field != "name" else "name"):
        person_from_row(row)


def test_a_csv_with_errors_and_a_repeated_id_names_each_line(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "people.csv"
    path.write_text("id,name,date_of_birth\na,Harjit Singh,1970\nb,,1970\na,Ravi Kumar,31/02/1990\nc,Ravi Kumar,\n")
    with pytest.raises(InvalidInput) as raised:
        read_people_csv(path)
    assert "line 3" in raised.value.detail and "line 4" in raised.value.detail
    path.write_text("name,date_of_birth\nHarjit,1970\n")
    with pytest.raises(InvalidInput, match="no id"):
        read_people_csv(path)


def test_links_across_scripts_keep_the_same_name_other_person_apart_in_both_modes() -> None:
    for key in (None, KEY):
        pairs = {(p.left_id, p.right_id) for p in link_people(LEFT, RIGHT, key=key)}
        assert {("l1", "r1"), ("l2", "r2"), ("l3", "r3")} <= pairs
        assert ("l4", "r4") not in pairs


def test_each_pair_is_explained_field_by_field() -> None:
    pair = next(p for p in link_people(LEFT, RIGHT) if p.left_id == "l1")
    fields = {a.field: a for a in pair.agreements}
    assert fields["date_of_birth"].level == "same date" and fields["phone"].weight > 0


def test_splink_and_python_give_the_same_scores() -> None:
    model = shipped_model()
    left, right = [raw_features(r) for r in LEFT], [raw_features(r) for r in RIGHT]
    in_python = {(p.left, p.right): p.weight for p in score_in_python(left, right, Mode.RAW, model)}
    in_splink = {(p.left, p.right): p.weight for p in score_with_splink(left, right, Mode.RAW, model)}
    assert in_python.keys() == in_splink.keys() and in_python
    assert all(abs(in_python[k] - in_splink[k]) < 1e-9 for k in in_python)


def test_an_encoding_is_compact_reveals_no_name_and_round_trips() -> None:
    encoded = encode_person(LEFT[0], KEY)
    text = json.dumps(encoded.as_json())
    assert "sandhu" not in text.casefold() and "1990" not in text and "98765" not in text
    assert EncodedPerson.from_json(json.loads(text)) == encoded
    assert len(json.dumps([encode_person(LEFT[0], KEY).as_json() for _ in range(1000)])) < 1_000_000
    assert "secret" not in repr(KEY) and str(bytes(range(32))) not in repr(KEY)


@pytest.mark.parametrize("hostile", [None, [], {"v": 1}, {"v": 1, "key_id": "k", "words": [["x", "y"]]}, {"v": 2}])
def test_a_malformed_encoding_is_refused(hostile: object) -> None:
    with pytest.raises(InvalidInput):
        EncodedPerson.from_json(hostile)


def test_an_encoding_made_with_another_key_is_detected() -> None:
    other = MatchingKey("2027-01", bytes(range(1, 33)))
    with pytest.raises(KeyMismatch, match="2027-01"):
        match_encoded([encode_person(LEFT[0], other)], [encode_person(r, KEY) for r in RIGHT])


def test_a_query_hits_its_holding_with_a_band() -> None:
    found = match_encoded([encode_person(r, KEY) for r in LEFT], [encode_person(r, KEY) for r in RIGHT])
    assert (0, 0) in {(c.query_index, c.holding_index) for c in found}
    assert all(c.score >= shipped_model().hit for c in found)


def test_blind_indexes_fold_what_officers_vary_and_differ_by_key_and_scheme() -> None:
    assert blind_index(KEY, "phone", "+91 98765-43210") == blind_index(KEY, "phone", "098765 43210")
    assert blind_index(KEY, "account", "gb82 west 1234") == blind_index(KEY, "account", "GB82WEST1234")
    assert blind_index(KEY, "document", "z 123") != blind_index(KEY, "licence", "z 123")
    assert blind_index(KEY, "document", "--") is None
    with pytest.raises(InvalidInput):
        blind_index(KEY, "horoscope", "x")


def test_duplicates_within_one_holding_are_found() -> None:
    pairs = find_duplicates([*LEFT, PersonRecord("l9", "गुरप्रीत कौर संधू", "1990-03-04", phone="+919876543210")])
    assert ("l1", "l9") in {(p.left_id, p.right_id) for p in pairs}


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(InvalidInput, match="32 bytes"):
        MatchingKey("k", b"short")


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=3, max_size=30).filter(lambda s: s.strip()))
def test_name_similarity_is_symmetric_and_one_with_itself(name: str) -> None:
    a, b = raw_features(PersonRecord("a", name)).name, raw_features(PersonRecord("b", name[::-1])).name
    assert 0.0 <= name_similarity_of(a, a, False) <= 1.0
    assert name_similarity_of(a, b, False) == name_similarity_of(b, a, False)
