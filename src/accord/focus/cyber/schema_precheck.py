"""The OASIS STIX 2.1 schemas checked first by jsonschema-rs (~100 times faster than jsonschema): an object it finds
valid is valid to jsonschema too, so its errors (none) are known; any other object is checked by jsonschema, whose
messages are the ones reported. It is only ever asked about plain JSON (no NaN or infinities, integers exact as
floats), and is given the same schemas and format checks as jsonschema, with each regular expression rewritten to
mean in Rust what it means to Python's `re`; a schema whose expressions cannot be rewritten exactly is left to
jsonschema alone."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

import jsonschema_rs

# Keywords whose value is a schema, a list of schemas, or a map of names to schemas (the only ones the bundled
# schemas use); the values of all others (enum, const, ...) are data and are left as they are.
_SCHEMA = frozenset({"items", "not", "additionalProperties", "propertyNames", "contains", "if", "then", "else"})
_SCHEMAS = frozenset({"allOf", "anyOf", "oneOf"})
_SCHEMA_MAP = frozenset({"properties", "$defs", "definitions", "dependentSchemas"})
_MAX_EXACT_INT = 2**53
_MAX_DEPTH = 64


class NotTranslatable(ValueError):
    """A Python regular expression this module cannot say exactly in Rust's syntax."""


@cache
def _python_digits() -> str:
    r"""What `\d` matches in a Python `str` pattern (Unicode decimals, by this Python's tables), as class ranges."""
    ranges: list[str] = []
    start = previous = -2
    for point in range(sys.maxunicode + 1):
        if chr(point).isdecimal():
            if point != previous + 1:
                if start >= 0:
                    ranges.append(_class_range(start, previous))
                start = point
            previous = point
    ranges.append(_class_range(start, previous))
    return "".join(ranges)


def _class_range(first: int, last: int) -> str:
    return f"\\x{{{first:x}}}" if first == last else f"\\x{{{first:x}}}-\\x{{{last:x}}}"


def rust_regex(pattern: str) -> str:
    r"""`pattern` (as `re.search` reads it) in the syntax of Rust's regex crate, with the same matches.

    Only what the STIX schemas use is translated: literals, escaped punctuation, `\d`, classes, groups, alternation,
    quantifiers, `^`, and `$` at the end of a top-level branch (Python's `$` also matches before a final newline).
    Anything else raises `NotTranslatable`."""
    out: list[str] = []
    depth = 0
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                raise NotTranslatable(pattern)
            escaped = pattern[i + 1]
            if escaped == "d":
                out.append(_python_digits() if in_class else f"[{_python_digits()}]")
            elif escaped.isascii() and not escaped.isalnum() and not escaped.isspace() and escaped not in "<>":
                out.append("\\" + escaped)
            else:
                raise NotTranslatable(pattern)
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
                out.append(char)
            elif char in "[&~":
                out.append("\\" + char)  # set operations and nested classes in Rust; literals to Python
            elif char == "-" and pattern.startswith("--", i):
                raise NotTranslatable(pattern)
            else:
                out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
            if pattern.startswith("^", i + 1):
                out.append("^")
                i += 1
            if pattern.startswith("]", i + 1):
                raise NotTranslatable(pattern)
        elif char == "(":
            if pattern.startswith("?", i + 1) and not pattern.startswith("?:", i + 1):
                raise NotTranslatable(pattern)
            depth += 1
            out.append(char)
        elif char == ")":
            depth -= 1
            out.append(char)
        elif char == "$":
            if not (i + 1 == len(pattern) or (depth == 0 and pattern[i + 1] == "|")):
                raise NotTranslatable(pattern)
            out.append("(?:\\n?\\z)")
        else:
            out.append(char)
        i += 1
    if in_class or depth != 0:
        raise NotTranslatable(pattern)
    return "".join(out)


def rust_schema(schema: Any) -> Any:
    """A copy of `schema` with the regular expressions of `pattern` and `patternProperties` in Rust's syntax."""
    if not isinstance(schema, Mapping):
        return schema
    copy: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "pattern" and isinstance(value, str):
            copy[key] = rust_regex(value)
        elif key == "patternProperties" and isinstance(value, Mapping):
            copy[key] = {rust_regex(name): rust_schema(sub) for name, sub in value.items()}
        elif key in _SCHEMA_MAP and isinstance(value, Mapping):
            copy[key] = {name: rust_schema(sub) for name, sub in value.items()}
        elif key in _SCHEMAS and isinstance(value, list):
            copy[key] = [rust_schema(sub) for sub in value]
        elif key in _SCHEMA:
            copy[key] = rust_schema(value)
        else:
            copy[key] = value
    return copy


def plain_json(value: Any, depth: int = 0) -> bool:
    """Whether `value` is made of what a JSON text decodes to and the two libraries read alike: dicts with string
    keys, lists, strings, booleans, None, integers of at most 53 bits and finite floats."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_MAX_EXACT_INT <= value <= _MAX_EXACT_INT)
    if kind is float:
        return math.isfinite(value)
    if depth >= _MAX_DEPTH:
        return False
    if kind is dict:
        return all(type(key) is str and plain_json(item, depth + 1) for key, item in value.items())
    if kind is list:
        return all(plain_json(item, depth + 1) for item in value)
    return False


class PrecheckedValidator:
    """A jsonschema validator whose `iter_errors` asks jsonschema-rs first and yields nothing when it finds the
    instance valid; `enabled` false (for the tests that compare both paths) leaves every instance to jsonschema."""

    enabled = True

    def __init__(self, validator: Any, fast: jsonschema_rs.Validator) -> None:
        self.validator = validator
        self.schema = validator.schema
        self._fast = fast

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        if PrecheckedValidator.enabled and plain_json(instance):
            try:
                valid = self._fast.is_valid(instance)
            except Exception:  # anything it cannot read is jsonschema's to judge
                valid = False
            if valid:
                return iter(())
        errors: Iterator[Any] = self.validator.iter_errors(instance)
        return errors

    def __getattr__(self, name: str) -> Any:
        return getattr(self.validator, name)


def prechecked(
    validator: Any, resources: list[tuple[str, Any]], conforms: Callable[[Any, str], bool], formats: frozenset[str]
) -> Any:
    """`validator` (jsonschema, over the schemas `resources` by URI) checked first by jsonschema-rs, whose format
    checks are `conforms` (jsonschema's) for each of `formats`; `validator` itself when a schema cannot be said
    exactly to jsonschema-rs."""
    try:
        registry = jsonschema_rs.Registry([(uri, rust_schema(contents)) for uri, contents in resources])
        fast = jsonschema_rs.Draft202012Validator(
            rust_schema(validator.schema),
            registry=registry,
            formats={name: _format_check(conforms, name) for name in formats},
            validate_formats=True,
            retriever=_no_retrieval,
            pattern_options=jsonschema_rs.RegexOptions(),
        )
    except Exception:  # a schema it cannot take is jsonschema's alone
        return validator
    return PrecheckedValidator(validator, fast)


def _format_check(conforms: Callable[[Any, str], bool], name: str) -> Callable[[str], bool]:
    return lambda value: conforms(value, name)


def _no_retrieval(uri: str) -> Any:
    raise ValueError(f"{uri} is not a bundled STIX schema")
