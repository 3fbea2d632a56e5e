"""Reading an import: FtM JSON lines and JSON arrays, CSV through FtM mapping files applied by FtM's own mapper, and
the plan that keeps every valid entity whole and refuses the others by row and reason (invalid values, missing or
refused references, schemata that cannot merge with what the case holds)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from accord.errors import PayloadTooLarge
from accord.focus.networks.imports import (
    MAX_IMPORT_BYTES,
    ImportPlan,
    UnreadableImport,
    open_source,
    plan_import,
    read_csv,
    read_ftm,
)
from accord.focus.networks.mappings import MappingError, parse_mapping

MAPPING = """
entities:
  company:
    schema: Company
    keys: [company]
    properties:
      name: {column: company}
      jurisdiction: {column: country}
  director:
    schema: Person
    keys: [director]
    properties:
      name: {column: director}
      phone: {column: phone}
      birthDate: {column: born}
  directorship:
    schema: Directorship
    key_literal: directorship
    keys: [company, director]
    properties:
      organization: {entity: company}
      director: {entity: director}
      role: {literal: director}
"""
CSV = """company,country,director,phone,born
Maple Chemicals Ltd,ca,John Smith,+1 416 555 0100,1970-01-02
Ganga Traders Pvt,in,Ravi Kumar,+91 98765 43210,not a date
Lone Holdings,ca,,,
"""


def nothing_held(ids: set[str]) -> dict[str, str]:
    return {}


def ftm_plan(text: str, held: dict[str, str] | None = None) -> ImportPlan:
    known = held or {}
    return plan_import(read_ftm(io.StringIO(text)), lambda ids: {i: known[i] for i in ids if i in known})


def lines(*entities: Any) -> str:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in entities)


def person(entity_id: str, name: str = "Arjun Mehta", **properties: list[str]) -> dict[str, Any]:
    return {"id": entity_id, "schema": "Person", "properties": {"name": [name], **properties}}


def company(entity_id: str, name: str = "Maple Chemicals Ltd") -> dict[str, Any]:
    return {"id": entity_id, "schema": "Company", "properties": {"name": [name]}}


def ownership(entity_id: str, owner: str, asset: str) -> dict[str, Any]:
    return {"id": entity_id, "schema": "Ownership", "properties": {"owner": [owner], "asset": [asset]}}


def test_json_lines_are_read_with_each_refusal_on_its_line() -> None:
    plan = ftm_plan(lines(person("p-1"), "{not json", "", {"schema": "Person"}, company("c-1")))
    assert plan.rows == 4
    assert sorted(str(p.id) for p in plan.entities) == ["c-1", "p-1"]
    assert [(e.row, e.entity_id) for e in plan.errors] == [(2, None), (4, None)]
    assert "not one JSON entity" in plan.errors[0].reason
    assert "needs an id" in plan.errors[1].reason


def test_a_json_array_is_read_with_positions_as_rows() -> None:
    plan = ftm_plan(json.dumps([person("p-1"), {"id": "x", "schema": "Persn"}]))
    assert [str(p.id) for p in plan.entities] == ["p-1"]
    assert [(e.row, e.entity_id) for e in plan.errors] == [(2, "x")]


def test_a_malformed_array_or_text_that_is_not_utf8_is_unreadable() -> None:
    with pytest.raises(UnreadableImport, match="malformed"):
        ftm_plan('[{"id": "p-1",')
    stream = io.TextIOWrapper(io.BytesIO(b'{"id": "\xff"}\n'), encoding="utf-8")
    with pytest.raises(UnreadableImport, match="not UTF-8"):
        plan_import(read_ftm(stream), nothing_held)


def test_a_relation_is_stored_only_with_both_ends_in_the_import_or_the_case() -> None:
    text = lines(ownership("o-1", "p-1", "c-1"), person("p-1"), company("c-1"), ownership("o-2", "p-1", "ghost"))
    plan = ftm_plan(text)
    assert sorted(str(p.id) for p in plan.entities) == ["c-1", "o-1", "p-1"]  # a forward reference is fine
    [error] = plan.errors
    assert (error.row, error.entity_id) == (4, "o-2")
    assert "ghost, which is neither in the import nor in the case" in error.reason
    held = ftm_plan(lines(ownership("o-2", "p-1", "ghost"), person("p-1")), held={"ghost": "Company"})
    assert held.complete
    assert held.held == set()


def test_a_refusal_cascades_to_the_relations_naming_the_refused_entity() -> None:
    text = lines(person("p-1", birthDate=["someday"]), company("c-1"), ownership("o-1", "p-1", "c-1"))
    plan = ftm_plan(text)
    assert [str(p.id) for p in plan.entities] == ["c-1"]
    assert [(e.row, e.entity_id) for e in plan.errors] == [(1, "p-1"), (3, "o-1")]
    assert "p-1, which was refused" in plan.errors[1].reason


def test_a_reference_must_name_an_entity_of_the_propertys_range() -> None:
    address = {"id": "a-1", "schema": "Address", "properties": {"full": ["1 Main St"]}}
    plan = ftm_plan(lines(address, company("c-1"), ownership("o-1", "a-1", "c-1")))
    [error] = plan.errors
    assert error.entity_id == "o-1"
    assert "a-1, a Address; it must be a LegalEntity" in error.reason


def test_entities_sharing_an_id_are_merged_and_incompatible_schemata_refused() -> None:
    text = lines(person("p-1"), person("p-1", "A. Mehta", phone=["+1 416 555 0100"]), company("p-1"))
    plan = ftm_plan(text)
    [merged] = plan.entities
    assert sorted(merged.get("name")) == ["A. Mehta", "Arjun Mehta"]
    assert merged.get("phone") == ["+14165550100"]
    [error] = plan.errors
    assert (error.row, error.entity_id) == (3, "p-1")
    assert "is a Person at row 1, not a Company" in error.reason


def test_an_entity_the_case_holds_under_an_incompatible_schema_is_refused_and_a_compatible_one_merged() -> None:
    plan = ftm_plan(lines(person("p-1"), company("c-1")), held={"p-1": "LegalEntity", "c-1": "Person"})
    assert [str(p.id) for p in plan.entities] == ["p-1"]
    assert plan.held == {"p-1"}
    [error] = plan.errors
    assert error.reason == "the case holds c-1 as a Person, not a Company"


def csv_plan(text: str = CSV, mapping: str = MAPPING) -> ImportPlan:
    return plan_import(read_csv(io.StringIO(text), parse_mapping(mapping, "rcmp")), nothing_held)


def test_a_csv_is_mapped_by_ftms_mapper_and_a_bad_value_refuses_its_entity_and_the_relations_naming_it() -> None:
    plan = csv_plan()
    assert plan.rows == 3
    names = sorted((p.schema.name, p.caption) for p in plan.entities)
    assert names == [
        ("Company", "Ganga Traders Pvt"),
        ("Company", "Lone Holdings"),
        ("Company", "Maple Chemicals Ltd"),
        ("Directorship", "director"),
        ("Person", "John Smith"),
    ]
    assert [(e.row, e.reason) for e in plan.errors] == [
        (3, "director: 'not a date' is not a valid date for birthDate"),
        (3, "directorship: names director, refused above"),
    ]
    again = csv_plan()
    assert sorted(str(p.id) for p in again.entities) == sorted(str(p.id) for p in plan.entities)  # stable keys


def test_ftms_own_mapping_format_with_a_dataset_and_queries_is_read() -> None:
    document = {"rcmp_directors": {"queries": [{"csv_url": "https://example.org/x.csv", **_yaml(MAPPING)}]}}
    mapping = parse_mapping(json.dumps(document), "ignored")
    assert mapping.dataset == "rcmp_directors"
    assert len(mapping.queries) == 1


def _yaml(text: str) -> dict[str, Any]:
    import yaml

    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def test_a_csv_row_with_an_empty_key_column_but_values_is_refused_for_want_of_an_id() -> None:
    plan = csv_plan("company,country,director,phone,born\n,ca,John Smith,,\n")
    assert [str(p.caption) for p in plan.entities] == ["John Smith"]
    assert plan.errors[0].reason == "company: no id, for the key column company is empty"


def test_a_row_with_more_fields_than_the_header_and_a_malformed_csv_are_refused_by_line() -> None:
    plan = csv_plan('company,country,director,phone,born\nA,ca,B,,,extra\n"unterminated\n')
    assert plan.errors[0].row == 2
    assert "more fields than the header" in plan.errors[0].reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entities:\n  p: [\n", "does not parse as YAML at line 3"),
        ("- just a list", "a mapping file holds a mapping"),
        ("entities: {}", "has no `entities:`"),
        ("entities:\n  p:\n    schema: Persn\n    keys: [a]", "unknown schema 'Persn'"),
        ("entities:\n  p:\n    schema: Document\n    keys: [a]", "unknown schema 'Document'"),
        ("entities:\n  p:\n    schema: Person\n    properties: {name: {column: a}}", "No keys or ID"),
        ("entities:\n  p:\n    schema: Person\n    keys: [a]\n    properties: {colour: {column: a}}", "colour"),
        (
            "entities:\n  o:\n    schema: Ownership\n    keys: [a]\n    properties: {owner: {entity: nobody}}",
            "No entity [nobody]",
        ),
        ("entities:\n  p:\n    schema: Person\n    keys: [a]\n    properties: [name]", "`properties:` maps"),
    ],
)
def test_a_mapping_file_that_cannot_be_used_is_refused_with_the_reason(text: str, expected: str) -> None:
    with pytest.raises(MappingError) as raised:
        parse_mapping(text, "m")
    assert expected in raised.value.detail


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.jsonl"
    with huge.open("wb") as f:
        f.truncate(MAX_IMPORT_BYTES + 1)  # sparse: the size is all that is looked at
    with pytest.raises(PayloadTooLarge, match="at most 268,435,456"):
        open_source(huge)
    with pytest.raises(UnreadableImport, match="cannot read"):
        open_source(tmp_path / "absent.jsonl")
    assert os.path.getsize(huge) == MAX_IMPORT_BYTES + 1
