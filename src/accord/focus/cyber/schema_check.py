"""The OASIS STIX 2.1 schemas through stix2-validator, with its validators built once: imported only when an object
is first checked (see validation.py)."""

from __future__ import annotations

import functools
from functools import cache
from pathlib import Path
from typing import Any

import stix2.v21.sdo
import stix2validator
import stix2validator.v21.musts
import stix2validator.validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from stix2.exceptions import STIXError
from stix2patterns.validator import run_validator
from stix2validator import ValidationOptions, validate_instance

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
        _validators[key] = validator
    return validator


# An indicator's pattern is parsed (ANTLR, ~0.25 ms) by the validator's MUSTs and again by stix2's parse of the same
# object; the second asks the same question of the same text, so it gets the first's answer.
@functools.lru_cache(maxsize=256)
def _pattern_answer(pattern: str, stix_version: str) -> tuple[Any, ...]:
    return tuple(run_validator(pattern, stix_version))


def _pattern_problems(pattern: Any, stix_version: str = SPEC_VERSION) -> list[Any]:
    """stix2patterns' `run_validator`, remembered for the last patterns checked."""
    if not (isinstance(pattern, str) and isinstance(stix_version, str)):
        return list(run_validator(pattern, stix_version))
    return list(_pattern_answer(pattern, stix_version))
