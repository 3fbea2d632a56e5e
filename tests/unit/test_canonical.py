"""RFC 8785 canonical JSON: the exact bytes every signature in Accord is made over."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.crypto.canonical import canonical_json, sha256_hex

SAFE_INTEGER = 2**53 - 1  # I-JSON (RFC 7493): the integers every JSON parser represents exactly

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE_INTEGER, max_value=SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=8)


def reordered(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys inserted in a shuffled order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: reordered(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [reordered(item, rng) for item in value]
    return value


@settings(max_examples=100)
@given(json_objects)
def test_canonical_json_is_deterministic(value: dict[str, Any]) -> None:
    assert canonical_json(value) == canonical_json(json.loads(json.dumps(value)))


@settings(max_examples=100)
@given(json_objects, st.integers(min_value=0, max_value=2**32))
def test_canonical_json_does_not_depend_on_key_order(value: dict[str, Any], seed: int) -> None:
    assert canonical_json(reordered(value, random.Random(seed))) == canonical_json(value)


@settings(max_examples=100)
@given(json_objects)
def test_canonical_json_parses_back_to_the_same_value_and_is_its_own_canonical_form(value: dict[str, Any]) -> None:
    encoded = canonical_json(value)
    # I-JSON numbers are IEEE doubles: 2.0**53 is written "9007199254740992", which only a double parser round-trips
    parsed = json.loads(encoded, parse_int=float)
    assert parsed == value
    assert canonical_json(parsed) == encoded


def test_canonical_json_matches_the_rfc_8785_example() -> None:
    # RFC 8785 section 3.2.2: "numbers", "string" and "literals"
    value = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        '"literals": [null, true, false]}'
    )
    assert (
        canonical_json(value)
        == (
            '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
            '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
        ).encode()
    )


def test_canonical_json_sorts_keys_by_utf16_code_units_not_code_points() -> None:
    # RFC 8785 section 3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33, unlike code-point order
    value = {"\u20ac": 0, "\r": 1, "\ufb33": 2, "1": 3, "\U0001f600": 4, "\u0080": 5, "\u00f6": 6}
    assert list(json.loads(canonical_json(value))) == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), 2**53, -(2**53), "\ud800", {"k": [1, "\udfff"]}],
    ids=["nan", "infinity", "2^53", "-2^53", "lone-surrogate", "nested-lone-surrogate"],
)
def test_values_outside_i_json_cannot_be_canonicalised(value: Any) -> None:
    with pytest.raises(ValueError):
        canonical_json(value)


def test_sha256_hex_is_the_lowercase_hex_digest() -> None:
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_hex(b"") == hashlib.sha256(b"").hexdigest()


@given(json_objects)
@settings(max_examples=400, deadline=None)
def test_the_fast_path_gives_exactly_the_rfc8785_bytes(value: dict[str, Any]) -> None:
    import rfc8785

    try:
        expected = bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, ValueError):
        with pytest.raises((rfc8785.CanonicalizationError, UnicodeEncodeError, ValueError)):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


_ESCAPE_SAMPLES = [*range(0x800), 0x2028, 0x2029, 0xFEFF, 0xFFFD, 0xFFFF, 0x1F600, 0x10FFFF]


@pytest.mark.parametrize("block", range(0, len(_ESCAPE_SAMPLES), 256))
def test_every_character_is_escaped_or_written_as_rfc8785_does(block: int) -> None:
    import rfc8785

    for code_point in _ESCAPE_SAMPLES[block : block + 256]:
        text = chr(code_point)
        value = {"k": f"{text}a{text}", "l": [text]}
        assert canonical_json(value) == bytes(rfc8785.dumps(value)), hex(code_point)


def test_enums_and_other_subclasses_are_encoded_as_their_values() -> None:
    from enum import IntEnum, StrEnum

    class Level(StrEnum):
        SECRET = "Secret"

    class Rank(IntEnum):
        HIGH = 3

    assert canonical_json({"level": Level.SECRET, "rank": Rank.HIGH, "t": ("x",)}) == (
        b'{"level":"Secret","rank":3,"t":["x"]}'
    )


def test_nesting_deeper_than_the_fast_encoder_goes_is_still_encoded() -> None:
    deep: list[Any] = []
    for _ in range(300):
        deep = [deep]
    assert canonical_json({"d": deep}) == b'{"d":' + b"[" * 301 + b"]" * 301 + b"}"
