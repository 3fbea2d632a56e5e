"""The OASIS STIX 2.1 schemas through stix2-validator, with its validators built once: imported only when an object
is first checked (see validation.py)."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dateutil.parser  # type: ignore[import-untyped]
import stix2.v21.sdo
import stix2patterns.v21.validator
import stix2validator
import stix2validator.v21.musts
import stix2validator.validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from stix2.exceptions import STIXError
from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser
from stix2patterns.v21.pattern import Pattern
from stix2patterns.validator import run_validator
from stix2validator import ValidationOptions, validate_instance

from accord.focus.cyber.schema_precheck import PrecheckedValidator, prechecked
from accord.focus.cyber.validation import SPEC_VERSION

# The validator raises these on malformed input rather than reporting it.
_LIBRARY_ERRORS = (stix2validator.ValidationError, STIXError, ValueError, TypeError, KeyError, AttributeError)


def schema_errors(stix: dict[str, Any]) -> list[str]:
    """The validator's MUST failures for one object (its SHOULDs stay warnings)."""
    try:
        result = validate_instance(stix, _options())
    except _LIBRARY_ERRORS as exc:
        return [f"stix2-validator could not read it: {exc}"]
    prefix = f"{stix['id']}: "
    return [str(e.message).removeprefix(prefix) for e in result.errors]


@cache
def _options() -> ValidationOptions:
    # Built once: the constructor sets the validator's module-wide output level. SHOULDs stay warnings.
    stix2validator.validator.load_validator = _load_validator
    stix2validator.v21.musts.pattern_validator = _pattern_problems
    stix2validator.v21.musts.Pattern = _parsed_pattern
    stix2validator.v21.musts.parser = SimpleNamespace(parse=_parse_timestamp)
    stix2patterns.v21.validator.STIXPatternParser = _TreeKeepingParser
    stix2.v21.sdo.run_validator = _pattern_problems
    return ValidationOptions(version=SPEC_VERSION, silent=True, strict=False)


# stix2-validator builds a fresh jsonschema validator, over a fresh reference registry it crawls again, for every object
# (~3 ms each). The schema files never change, so each file's validator is built once, over a registry that already
# holds (crawled) every bundled STIX 2.1 schema, loaded and patched by the validator's own loader: the same schemas
# check the same things, several times faster.
_BUNDLED_SCHEMAS = Path(stix2validator.validator.__file__).parent / f"schemas-{SPEC_VERSION}" / "schemas"
_build_validator = stix2validator.validator.load_validator
_validators: dict[tuple[str, str], Any] = {}


@cache
def _bundled_registry() -> Registry[Any]:
    schema_dir = str(_BUNDLED_SCHEMAS)
    retrieve = stix2validator.validator.retrieve_from_filesystem
    resources = [
        (path.as_uri(), retrieve(path.as_uri(), schema_dir))
        for path in sorted(_BUNDLED_SCHEMAS.rglob("*.json"))
        if "examples" not in path.parts
    ]
    registry: Registry[Any] = Registry(retrieve=functools.partial(retrieve, schema_dir=schema_dir))  # type: ignore[call-arg]
    return registry.with_resources(resources).crawl()


def _load_validator(schema_path: str, schema: Any, schema_dir: str) -> Any:
    """stix2validator's `load_validator`, built once per schema file."""
    key = (schema_path, schema_dir)
    validator = _validators.get(key)
    if validator is None:
        validator = _build_validator(schema_path, schema, schema_dir)
        if Path(schema_dir).resolve() == _BUNDLED_SCHEMAS.resolve():
            resource = DRAFT202012.create_resource(validator.schema)
            registry = _bundled_registry().with_resource(schema_path, resource).crawl()
            validator = stix2validator.validator.STIXValidator(
                validator.schema, registry=registry, format_checker=validator.format_checker
            )
            validator = prechecked(validator, _bundled_resources(), _FORMATS.conforms, _formats_used())
        _validators[key] = validator
    return validator


_FORMATS = stix2validator.validator.Draft202012Validator.FORMAT_CHECKER


@cache
def _bundled_resources() -> list[tuple[str, Any]]:
    registry = _bundled_registry()
    return [(uri, registry[uri].contents) for uri in registry]


@cache
def _formats_used() -> frozenset[str]:
    """Every `format` the bundled schemas name (for jsonschema-rs to check as jsonschema does)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                found.add(node["format"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for _uri, contents in _bundled_resources():
        walk(contents)
    return frozenset(found)


# An indicator's pattern is parsed (ANTLR, ~0.25 ms) by the validator's MUSTs and again by stix2's parse of the same
# object; the second asks the same question of the same text, so it gets the first's answer. The MUSTs then inspect
# a pattern without errors through a `Pattern`, which would parse it a third time: it gets the parse tree of the first
# instead. A parse that reported no syntax error never recovered from one, so its tree is the one `Pattern`'s
# bail-on-first-error parse builds.
_last_tree = threading.local()


class _TreeKeepingParser(STIXPatternParser):  # type: ignore[misc]
    """The v2.1 pattern parser stix2patterns' `run_validator` uses, keeping the last tree it built (per thread)."""

    def pattern(self) -> Any:
        tree = super().pattern()
        _last_tree.tree = tree
        return tree


@functools.lru_cache(maxsize=256)
def _pattern_answer(pattern: str, stix_version: str) -> tuple[tuple[Any, ...], Any]:
    """stix2patterns' `run_validator`, and the v2.1 parse tree of a pattern it found no error in (else None)."""
    shape = _pattern_shape(pattern) if stix_version == "2.1" and PrecheckedValidator.enabled else None
    if shape is not None:
        answer = _exact_pattern_answer(shape, stix_version)
        if not answer[0]:
            return answer
    return _exact_pattern_answer(pattern, stix_version)


@functools.lru_cache(maxsize=64)
def _exact_pattern_answer(pattern: str, stix_version: str) -> tuple[tuple[Any, ...], Any]:
    _last_tree.tree = None
    errors = tuple(run_validator(pattern, stix_version))
    tree = _last_tree.tree if stix_version == "2.1" and not errors else None
    _last_tree.tree = None
    return errors, tree


# Most indicators test one property for equality with a string: `[ipv4-addr:value = '198.51.100.1']`. Whatever the
# string holds (short of a quote or a backslash) it lexes as one StringLiteral token, so the parse is the same; and of
# what is checked after the parse, only a hash's value is read (`verify_object`), the MUSTs' inspection reading types
# and property names. Such a pattern therefore has the answer of its shape, the same pattern with a placeholder
# string; that answer is used only when it finds nothing wrong (error messages quote the text).
_SIMPLE_PATTERN = re.compile(
    r"\[([a-z][a-z0-9-]*:[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*) = '[\x20-\x26\x28-\x5b\x5d-\x7e]*'\]"
)


def _pattern_shape(pattern: str) -> str | None:
    match = _SIMPLE_PATTERN.fullmatch(pattern)
    if match is None or "hashes" in match[1]:
        return None
    return f"[{match[1]} = 'x']"


def _pattern_problems(pattern: Any, stix_version: str = SPEC_VERSION) -> list[Any]:
    """stix2patterns' `run_validator`, remembered for the last patterns checked."""
    if not (isinstance(pattern, str) and isinstance(stix_version, str)):
        return list(run_validator(pattern, stix_version))
    return list(_pattern_answer(pattern, stix_version)[0])


def _parsed_pattern(pattern: Any) -> Any:
    """`Pattern(pattern)` (v2.1), from the tree `run_validator` built when it found the pattern without error."""
    if isinstance(pattern, str) and PrecheckedValidator.enabled:
        _errors, tree = _pattern_answer(pattern, "2.1")
        if tree is not None:
            parsed = Pattern.__new__(Pattern)
            parsed._Pattern__parse_tree = tree
            return parsed
    return Pattern(pattern)


# The MUSTs parse each timestamp (created, modified, valid_from...) with dateutil only to see whether it raises; one
# object often carries the same instant three times.
_dateutil_parse = dateutil.parser.parse


@functools.lru_cache(maxsize=64)
def _parsed_timestamp(text: str) -> Any:
    return _dateutil_parse(text)


def _parse_timestamp(text: Any) -> Any:
    if isinstance(text, str) and PrecheckedValidator.enabled:
        return _parsed_timestamp(text)
    return _dateutil_parse(text)


@contextmanager
def reference_checks() -> Iterator[None]:
    """Within it, every object is checked without the shortcuts above and jsonschema-rs (for the tests that compare
    the two paths)."""
    PrecheckedValidator.enabled = False
    _pattern_answer.cache_clear()
    try:
        yield
    finally:
        PrecheckedValidator.enabled = True
        _pattern_answer.cache_clear()
