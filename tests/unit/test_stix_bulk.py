"""The streaming STIX reader behind `accord cyber import`: bundles and JSON Lines read object by object, whatever the
buffer boundaries, with broken JSON named by object and line; and the cached validators check what the library's own
do."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import stix2validator.validator
from stix2validator import validate_instance

from accord.focus.cyber import schema_check
from accord.focus.cyber.bulk import UnreadableStixFile, read_stix_objects
from accord.focus.cyber.schema_check import _options
from accord.focus.cyber.validation import check_objects
from tests.stix_samples import ransomware_campaign

TRICKY = [
    {"type": "note", "id": "note--1", "content": 'brackets ] [ and braces } { and "quotes" and \\ a backslash'},
    {"type": "note", "id": "note--2", "content": "ends with a brace }", "n": 1234567890123, "x": [1.5e3, None, True]},
    {"type": "note", "id": "note--3", "content": "unicode: Привет, नमस्ते, 🛡️"},
]


def read(text: str, chunk_chars: int = 7) -> list[Any]:
    return [o.stix for o in read_stix_objects(io.BytesIO(text.encode()), chunk_chars)]


def failure(text: str, chunk_chars: int = 7) -> str:
    with pytest.raises(UnreadableStixFile) as raised:
        read(text, chunk_chars)
    return raised.value.detail


@pytest.mark.parametrize("chunk_chars", [1, 2, 3, 7, 64, 65536])
def test_a_bundle_is_read_object_by_object_whatever_the_buffer_boundaries(chunk_chars: int) -> None:
    objects = ransomware_campaign() + TRICKY
    for text in (
        json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}),
        json.dumps({"objects": objects, "type": "bundle", "id": "bundle--1"}, indent=4, ensure_ascii=False),
    ):
        assert read(text, chunk_chars) == objects


@pytest.mark.parametrize("chunk_chars", [1, 5, 64, 65536])
def test_json_lines_are_read_object_by_object_with_their_lines(chunk_chars: int) -> None:
    objects = ransomware_campaign() + TRICKY
    text = "\ufeff" + "\n".join(json.dumps(o, ensure_ascii=False) for o in objects) + "\n\n"
    read_back = list(read_stix_objects(io.BytesIO(text.encode()), chunk_chars))
    assert [o.stix for o in read_back] == objects
    assert [o.position for o in read_back] == list(range(len(objects)))
    assert [o.line for o in read_back] == list(range(1, len(objects) + 1))


def test_an_empty_bundle_and_an_empty_envelope_have_no_objects() -> None:
    assert read('{"type": "bundle", "id": "bundle--1", "objects": []}') == []
    assert read('  {"objects" : [ ]}  \n') == []


def test_a_number_split_across_buffers_is_read_whole() -> None:
    assert read('{"objects": [12345678, {"a": 9876543210}]}', chunk_chars=3) == [12345678, {"a": 9876543210}]


def test_broken_json_mid_file_names_the_object_and_its_line() -> None:
    bundle = '{"type": "bundle", "objects": [\n{"id": "a--1"},\n{"id": "a--2",, "x": 1},\n{"id": "a--3"}]}'
    assert failure(bundle) == (
        "object 2 (line 3) is not valid JSON: Expecting property name enclosed in double quotes on line 3"
    )
    lines = '{"id": "a--1"}\n{"id": "a--2"}\n{"id": "a--3", "x": "unterminated}\n{"id": "a--4"}\n'
    assert failure(lines) == "object 3 (line 3) is not valid JSON: Invalid control character on line 3"


def test_the_objects_before_broken_json_are_read() -> None:
    stream = io.BytesIO(b'{"objects": [{"id": "a--1"}, {"id": "a--2"} {"id": "a--3"}]}')
    reader = read_stix_objects(stream, 4)
    assert next(reader).stix == {"id": "a--1"}
    assert next(reader).stix == {"id": "a--2"}
    with pytest.raises(UnreadableStixFile, match="expected a ',' or ']' after object 2"):
        next(reader)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "line 1: expected a STIX bundle or JSON Lines of STIX objects"),
        ("[{}]", "line 1: expected a STIX bundle or JSON Lines of STIX objects"),
        ("not json", "line 1: expected a STIX bundle or JSON Lines of STIX objects"),
        ('{"objects": [{"a": 1}]}\n{"b": 2}', "line 2: unexpected content after the bundle"),
        ('{"objects": [{"a": 1}', "line 1: expected a ',' or ']' after object 1; the file ends"),
        ('{"type": "bundle"', "line 1: the file ends inside the first object"),
    ],
)
def test_a_file_that_is_not_a_bundle_or_json_lines_is_refused_with_where(text: str, reason: str) -> None:
    assert failure(text).startswith(reason)


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(UnreadableStixFile, match="not UTF-8"):
        list(read_stix_objects(io.BytesIO('{"objects": [{"a": "café"}]}'.encode("latin-1"))))


def test_the_cached_validators_report_what_the_validators_built_per_object_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects: list[dict[str, Any]] = ransomware_campaign()
    broken = [
        {**objects[4], "pattern": "[ipv4-addr:value = "},
        {**objects[4], "valid_from": "yesterday"},
        {**objects[7], "value": 12},
        {**objects[10], "number_observed": 0},
        {**objects[13], "sighting_of_ref": "nothing"},
        {"type": "x-custom", "id": "x-custom--6f3f3e41-6c7a-4b1c-9d5e-0c7d0a2b9f10", "spec_version": "2.1"},
    ]
    check_objects(objects)  # installs the cached validators
    cached = [sorted(str(e.message) for e in validate_instance(o, _options()).errors) for o in objects + broken]
    assert any(cached[len(objects) :]) and not any(cached[: len(objects)])
    monkeypatch.setattr(stix2validator.validator, "load_validator", schema_check._build_validator)
    rebuilt = [sorted(str(e.message) for e in validate_instance(o, _options()).errors) for o in objects + broken]
    assert cached == rebuilt
