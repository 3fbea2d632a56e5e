"""RFC 8785 (JSON Canonicalization Scheme) encoding of the values we sign."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
import rfc8785

# Integers JCS can represent exactly (IEEE 754 doubles); larger ones go to rfc8785, which refuses them.
_MAX_SAFE_INTEGER = 2**53 - 1
# orjson's OPT_STRICT_INTEGER refuses integers outside ±(2**53 − 1), the same range.
_ORJSON_JCS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def _plain(value: Any) -> bool:
    """True when the value is made only of dict, list, str, int, bool and None (exactly those types, no subclass),
    with ASCII keys: then orjson's sorted compact form is the JCS form, byte for byte (JCS sorts keys by UTF-16 code
    units, orjson by code points: the same for ASCII). No recursion: the claims we sign are walked for every message."""
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is dict:
            for key in item:
                if type(key) is not str or not key.isascii():
                    return False
            push(item.values())
        elif kind is list:
            push(item)
        else:
            return False
    return True


def _standard_library_agrees(value: Any) -> bool:
    """True when json.dumps(sort_keys) gives exactly the JCS bytes: no floats (JCS uses the ECMAScript number form),
    integers in the I-JSON range, and ASCII keys (JCS sorts by UTF-16 code units, Python by code points)."""
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() and _standard_library_agrees(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_standard_library_agrees(v) for v in value)
    return False


def canonical_json(value: Any) -> bytes:
    # Fastest first: orjson (Rust) for plain values, which is what we sign almost always (4 times faster than the C
    # encoder of the standard library with its checks); then the standard library for str/int subclasses (enums);
    # rfc8785, pure Python and ~10x slower, for floats and non-ASCII keys, and to refuse what JCS cannot encode.
    if _plain(value):
        try:
            return orjson.dumps(value, option=_ORJSON_JCS)
        except orjson.JSONEncodeError:
            pass  # an integer beyond 2**53, a lone surrogate, nesting deeper than orjson goes: the paths below decide
    if _standard_library_agrees(value):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 refuse it with its own error
    return bytes(rfc8785.dumps(value))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
