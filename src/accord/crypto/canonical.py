"""RFC 8785 (JSON Canonicalization Scheme) encoding of the values we sign."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

# Integers JCS can represent exactly (IEEE 754 doubles); larger ones go to rfc8785, which refuses them.
_MAX_SAFE_INTEGER = 2**53 - 1


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
    # rfc8785 is pure Python and ~10x slower than the C encoder; the claims we sign almost always take the fast path.
    if _standard_library_agrees(value):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 refuse it with its own error
    return bytes(rfc8785.dumps(value))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
