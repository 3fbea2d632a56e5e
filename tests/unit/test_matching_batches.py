"""A batch of records to query, checked before anything is encoded: every bad row named by its line, values that
are not text refused, columns the record type does not have left out of what is kept, identifiers normalised."""

from __future__ import annotations

import pytest

from accord.errors import InvalidInput
from accord.matching.hitnohit import BatchRefused, check_rows, parse_query
from accord.matching.holdings import RecordType


def test_a_batch_keeps_only_the_fields_a_person_record_has() -> None:
    [row] = check_rows(RecordType.PERSON, [(2, {"id": "A-1", "name": "ਗੁਰਪ੍ਰੀਤ ਕੌਰ", "notes": "x", "date_of_birth": ""})])
    assert row.label == "A-1" and dict(row.fields) == {"name": "ਗੁਰਪ੍ਰੀਤ ਕੌਰ"}


def test_hostile_rows_are_each_named_and_nothing_passes() -> None:
    rows = [
        (2, {"id": "A-1", "name": ["Gurpreet"]}),
        (3, {"id": "A" * 129, "name": "Gurpreet Kaur"}),
        (4, {"id": "A-3", "name": "Gurpreet Kaur", "date_of_birth": "1990-13-45"}),
        (5, {"id": "A-4", "name": {"first": "G"}}),
        (6, {"id": "A-5", "name": "Gu‍rpreet", "sex": True}),
    ]
    with pytest.raises(BatchRefused) as refused:
        check_rows(RecordType.PERSON, rows)
    assert [line for line, _ in refused.value.errors] == [2, 3, 4, 5, 6]
    assert refused.value.extensions()["refused"] == 5


def test_an_identifier_is_queried_by_its_value_and_must_be_usable() -> None:
    [phone] = check_rows(RecordType.PHONE, [(2, {"id": "T-1", "value": "+91 98140 12345"})])
    assert dict(phone.fields) == {"number": "+91 98140 12345"}
    with pytest.raises(BatchRefused, match="not a usable phone"):
        check_rows(RecordType.PHONE, [(2, {"id": "T-2", "number": "12"})])


def test_a_query_envelope_with_a_row_not_of_its_key_or_not_an_encoding_is_refused() -> None:
    base = {
        "query_id": "01a20000-0000-7000-8000-000000000000",
        "querying_agency": "IRCC",
        "queried_agency": "BOI",
        "focus_area": "immigration",
        "key_id": "k-1",
        "sent_at": "2026-11-29T00:00:00Z",
    }
    for rows in (
        [{"row": 1, "type": "person", "encoding": {"v": 2, "key_id": "k-2", "words": []}}],
        [{"row": 1, "type": "person", "encoding": {"v": 2, "key_id": "k-1", "words": [["x", "y"]]}}],
        [{"row": 1, "type": "phone", "scheme": "phone"}],
        [{"row": 1, "type": "person", "encoding": "Gurpreet"}],
        [],
    ):
        with pytest.raises(InvalidInput):
            parse_query({**base, "rows": rows})
