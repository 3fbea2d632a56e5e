"""RFC 8785 (JSON Canonicalization Scheme) encoding of the values we sign."""

from __future__ import annotations

import hashlib
import json
from enum import IntEnum
from typing import Any

import orjson
import rfc8785

# Integers JCS can represent exactly (IEEE 754 doubles); larger ones go to rfc8785, which refuses them.
_MAX_SAFE_INTEGER = 2**53 - 1


class _Encoder(IntEnum):
    """Which encoder gives a value's JCS bytes, fastest first (a value takes the last its parts need)."""

    ORJSON = 0  # Rust: dict, list, str, int, bool and None exactly, with ASCII keys
    STANDARD_LIBRARY = 1  # the C encoder: their subclasses too (enums); ~4 times slower
    RFC8785 = 2  # pure Python, ~10 times slower still: floats, non-ASCII keys; it refuses what JCS cannot encode


def _encoder_for(value: Any) -> _Encoder:
    """Where orjson's or the standard library's sorted compact form is exactly the JCS form: no floats (JCS writes
    numbers as ECMAScript does), integers in the I-JSON range, ASCII keys (JCS sorts keys by UTF-16 code units, the
    others by code points: the same for ASCII). A loop, not a recursion: every message's claims are walked."""
    found = _Encoder.ORJSON
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is not int and kind is not dict and kind is not list:
            if isinstance(item, float) or not isinstance(item, (str, int, dict, list)):
                return _Encoder.RFC8785  # a float, a tuple, anything else
            found = _Encoder.STANDARD_LIBRARY  # a subclass: an enum's member, say
        if isinstance(item, dict):
            for key in item:
                if type(key) is not str:
                    if not isinstance(key, str):
                        return _Encoder.RFC8785
                    found = _Encoder.STANDARD_LIBRARY
                if not key.isascii():
                    return _Encoder.RFC8785
            push(item.values())
        elif isinstance(item, list):
            push(item)
        elif not -_MAX_SAFE_INTEGER <= item <= _MAX_SAFE_INTEGER:  # an integer
            return _Encoder.RFC8785
    return found


def canonical_json(value: Any) -> bytes:
    encoder = _encoder_for(value)
    if encoder is _Encoder.ORJSON:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            encoder = _Encoder.STANDARD_LIBRARY  # a lone surrogate, or nesting deeper than orjson goes
    if encoder is _Encoder.STANDARD_LIBRARY:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 refuse it with its own error
    return bytes(rfc8785.dumps(value))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
