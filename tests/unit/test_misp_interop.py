"""MISP interop through misp-stix: MISP event exports to STIX 2.1 bundles that stix2 and the validator accept, with
TLP 2.0 markings and the creator organisation as an identity; back to MISP events that keep every attribute, object
and the TLP tag; TLP 1.0 ids read as TLP 2.0 tags; bad input refused with a reason; the two CLI commands."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import stix2
from stix2validator import ValidationOptions, validate_parsed_json
from typer.testing import CliRunner

from accord.cli.cyber import cyber_app
from accord.domain.handling import Tlp
from accord.errors import InvalidInput, PayloadTooLarge
from accord.focus.cyber import misp
from accord.focus.cyber.misp import (
    MISP_TLP_TAGS,
    bundle_to_misp,
    convert_misp_event,
    convert_stix_bundle,
    misp_to_bundle,
    read_json,
)
from accord.focus.cyber.tlp import bundle_tlp, object_tlp, tlp_definitions

DATA = Path(__file__).parents[1] / "data" / "misp"
# MISP event exports, and the TLP level of each: `tlp:white` (TLP 1.0's name) is TLP 2.0 CLEAR.
EVENTS = {
    "cert-in-phishing-banks.json": Tlp.AMBER,
    "cccs-ransomware-municipalities.json": Tlp.AMBER_STRICT,
    "cert-in-scanning-advisory-tlp-white.json": Tlp.CLEAR,
}
PARTNER_BUNDLE = DATA / "partner-bundle-tlp1-ids.stix.json"  # a non-MISP bundle marked with TLP 1.0 ids
TLP1_IDS = set(tlp_definitions().tlp1)
TLP2_IDS = set(tlp_definitions().tlp2.values())
# The validator's best-practice warnings a misp-stix bundle draws, none of them an error: 103 SCO ids are the MISP
# attribute uuids (v4), not v5; 121 kill-chain phases are MISP categories ("Network activity"); 301 a network-traffic
# without both ports; 302 an external reference URL without a hash; 303 an indicator without name and description;
# 401 misp-stix's custom objects (x-misp-attribute) and x_misp_* properties, which STIX 2.1 allows but would rather
# see as extensions. They are kept: the MISP importer needs them to restore attributes and galaxies.
EXPECTED_WARNINGS = {"103", "121", "301", "302", "303", "401"}


def event_file(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


def tags(layer: dict[str, Any]) -> set[str]:
    return {tag["name"] for tag in layer.get("Tag", [])}


def by_uuid(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {record["uuid"]: record for record in records}


def tlp_bundle(level_ref: str) -> dict[str, Any]:
    """A partner's bundle: one indicator in a report marked with `level_ref`."""
    created = "2025-03-01T00:00:00.000Z"
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--1f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
        "created": created,
        "modified": created,
        "pattern": "[domain-name:value = 'c2.example.org']",
        "pattern_type": "stix",
        "valid_from": created,
    }
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--2a3b4c5d-6e7f-4081-9a2b-3c4d5e6f7a8b",
        "created": created,
        "modified": created,
        "name": "C2 domain",
        "published": created,
        "object_refs": [indicator["id"]],
        "object_marking_refs": [level_ref],
    }
    return {"type": "bundle", "id": "bundle--3b4c5d6e-7f80-4192-8b3c-4d5e6f7a8b9c", "objects": [indicator, report]}


# ---- MISP → STIX


@pytest.mark.parametrize("name", EVENTS)
def test_each_sample_event_becomes_a_bundle_stix2_parses(name: str) -> None:
    bundle = misp_to_bundle(event_file(name))
    parsed = stix2.parse(bundle, allow_custom=True)
    assert parsed.type == "bundle"
    assert len(parsed.objects) == len(bundle["objects"])


@pytest.mark.parametrize("name", EVENTS)
def test_each_sample_bundle_passes_the_validator_with_only_best_practice_warnings(name: str) -> None:
    results = validate_parsed_json(misp_to_bundle(event_file(name)), ValidationOptions(version="2.1"))
    assert results.is_valid, results.errors
    assert not results.errors
    codes = {warning.split("{", 1)[1].split("}", 1)[0] for warning in results.warnings}
    assert codes <= EXPECTED_WARNINGS, results.warnings


@pytest.mark.parametrize(("name", "level"), EVENTS.items())
def test_every_tlp_marking_is_a_tlp2_id_with_its_definition_in_the_bundle(name: str, level: Tlp) -> None:
    bundle = misp_to_bundle(event_file(name))
    refs = {ref for o in bundle["objects"] for ref in o.get("object_marking_refs", [])}
    assert refs <= TLP2_IDS
    assert tlp_definitions().tlp2[level] in refs
    assert not any(tlp1 in json.dumps(bundle) for tlp1 in TLP1_IDS)
    definitions = {o["id"]: o for o in bundle["objects"] if o["type"] == "marking-definition"}
    assert set(definitions) == refs
    for ref, definition in definitions.items():
        assert definition == tlp_definitions().marking_definition(_level(ref))


def _level(marking_id: str) -> Tlp:
    level = tlp_definitions().of_marking(marking_id)
    assert level is not None
    return level


@pytest.mark.parametrize(("name", "level"), EVENTS.items())
def test_the_event_tlp_marks_every_object_that_has_none_of_its_own(name: str, level: Tlp) -> None:
    conversion = convert_misp_event(event_file(name))
    content = [o for o in conversion.document["objects"] if o["type"] != "marking-definition"]
    assert all(object_tlp(o).marked for o in content)
    assert bundle_tlp(conversion.document["objects"]) == conversion.tlp == level


def test_an_attribute_tagged_with_its_own_tlp_keeps_it_in_an_event_of_another() -> None:
    bundle = misp_to_bundle(event_file("cert-in-phishing-banks.json"))
    link = next(o for o in bundle["objects"] if o["id"] == "observed-data--becf0d0b-17e5-4d3a-8e69-a49353cb94c7")
    assert object_tlp(link).level is Tlp.GREEN
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    assert object_tlp(report).level is Tlp.AMBER


@pytest.mark.parametrize("name", EVENTS)
def test_the_creator_organisation_is_the_identity_every_object_is_created_by(name: str) -> None:
    orgc = event_file(name)["Event"]["Orgc"]
    bundle = misp_to_bundle(event_file(name))
    identity = next(o for o in bundle["objects"] if o["type"] == "identity")
    assert identity["id"] == f"identity--{orgc['uuid']}"
    assert identity["name"] == orgc["name"]
    assert identity["identity_class"] == "organization"
    created = [o for o in bundle["objects"] if o["type"] in ("report", "indicator", "observed-data")]
    assert created and all(o["created_by_ref"] == identity["id"] for o in created)


def test_a_bare_event_converts_as_the_exported_one() -> None:
    exported = event_file("cccs-ransomware-municipalities.json")
    assert misp_to_bundle(exported["Event"]) == misp_to_bundle(exported)


def test_the_original_event_is_left_as_it_was() -> None:
    exported = event_file("cert-in-phishing-banks.json")
    before = copy.deepcopy(exported)
    misp_to_bundle(exported)
    assert exported == before


# ---- STIX → MISP: the round trip


@pytest.mark.parametrize(("name", "level"), EVENTS.items())
def test_the_round_trip_keeps_every_attribute_object_and_the_tlp_tag(name: str, level: Tlp) -> None:
    original = event_file(name)["Event"]
    back = bundle_to_misp(misp_to_bundle(event_file(name)))["Event"]

    for field in ("uuid", "info", "timestamp", "published", "publish_timestamp"):
        assert back[field] == original[field], field
    assert back["Orgc"] == {"name": original["Orgc"]["name"], "uuid": original["Orgc"]["uuid"]}
    for uuid, attribute in by_uuid(original["Attribute"]).items():
        returned = by_uuid(back["Attribute"])[uuid]
        for field in ("type", "value", "category", "to_ids"):
            assert returned[field] == attribute[field], (uuid, field)
        assert tags(returned) == tags(attribute)
    assert by_uuid(back["Attribute"]).keys() == by_uuid(original["Attribute"]).keys()
    assert by_uuid(back["Object"]).keys() == by_uuid(original["Object"]).keys()
    for uuid, misp_object in by_uuid(original["Object"]).items():
        returned = by_uuid(back["Object"])[uuid]
        for field in ("name", "meta-category", "template_uuid"):
            assert returned[field] == misp_object[field], (uuid, field)
        fields = ("object_relation", "type", "value", "to_ids")
        assert sorted(tuple(a[f] for f in fields) for a in returned["Attribute"]) == sorted(
            tuple(a[f] for f in fields) for a in misp_object["Attribute"]
        )
    tlp1_names = {"tlp:white": "tlp:clear"}
    producer = f'misp-galaxy:producer="{original["Orgc"]["name"]}"'
    assert tags(back) == {tlp1_names.get(t, t) for t in tags(original)} | {producer}
    assert MISP_TLP_TAGS[level] in tags(back)
    clusters = {(g["type"], c["value"]) for g in original["Galaxy"] for c in g["GalaxyCluster"]}
    assert {(g["type"], c["value"]) for g in back.get("Galaxy", []) for c in g["GalaxyCluster"]} == clusters


def test_object_attributes_come_back_as_misp_stix_writes_them() -> None:
    # Losses of misp-stix's, written down in convert_stix_bundle: no category is carried for the attributes of an
    # object (the template's default comes back), and an ip-port object's `ip` comes back as `ip-dst`.
    exported = event_file("cccs-ransomware-municipalities.json")
    file_object, ip_port = exported["Event"]["Object"][0], exported["Event"]["Object"][1]
    assert {a["category"] for a in file_object["Attribute"]} == {"Payload installation"}
    ip_port["Attribute"][0]["object_relation"] = "ip"
    back = by_uuid(bundle_to_misp(misp_to_bundle(exported))["Event"]["Object"])
    assert {a["category"] for a in back[file_object["uuid"]]["Attribute"]} == {"Payload delivery"}
    assert {a["object_relation"] for a in back[ip_port["uuid"]]["Attribute"]} == {"ip-dst", "dst-port"}


@pytest.mark.parametrize("level", list(Tlp))
def test_each_tlp2_marking_becomes_the_tlp2_taxonomy_tag(level: Tlp) -> None:
    conversion = convert_stix_bundle(tlp_bundle(tlp_definitions().tlp2[level]))
    assert tags(conversion.document["Event"]) & set(MISP_TLP_TAGS.values()) == {MISP_TLP_TAGS[level]}
    assert conversion.tlp is level


def test_a_partner_bundle_with_tlp1_ids_gives_tlp2_tags() -> None:
    bundle = json.loads(PARTNER_BUNDLE.read_text(encoding="utf-8"))
    assert {o["id"] for o in bundle["objects"] if o["type"] == "marking-definition"} <= TLP1_IDS
    conversion = convert_stix_bundle(bundle)
    event = conversion.document["Event"]
    assert "tlp:amber" in tags(event)
    values = {a["value"]: tags(a) for a in event["Attribute"]}
    assert values == {
        "https://kyc-check.example.com/netbanking/login": set(),  # the event's amber
        "198.51.100.61": {"tlp:clear"},  # TLP 1.0 white
        "kyc-alerts.example.net": {"tlp:green"},
    }
    assert event["Orgc"] == {"name": "CERT-In", "uuid": "0c382f90-e618-4c9e-88d7-2e8598dc0973"}
    assert "tlp:white" not in json.dumps(event)


def test_misp_stix_own_output_with_tlp1_ids_gives_tlp2_tags() -> None:
    from misp_stix_converter import MISPtoSTIX21Parser

    parser = MISPtoSTIX21Parser()
    parser.parse_misp_event(event_file("cert-in-scanning-advisory-tlp-white.json"))
    raw = json.loads(parser.bundle.serialize())
    assert "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" in json.dumps(raw)  # TLP 1.0 white
    event = bundle_to_misp(raw)["Event"]
    assert "tlp:clear" in tags(event)
    assert "tlp:white" not in json.dumps(event)


# ---- bad input


@pytest.mark.parametrize("content", [b'{"Event": {', b"\xff\xfe not utf-8", b""])
def test_a_file_that_is_not_json_is_refused(content: bytes) -> None:
    with pytest.raises(InvalidInput, match="is not JSON"):
        read_json(content, "MISP event")


def test_a_document_larger_than_the_limit_is_refused_before_it_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(misp, "MAX_DOCUMENT_BYTES", 10)
    with pytest.raises(PayloadTooLarge, match="at most 10 are converted"):
        read_json(b'{"Event": {"info": "x"}}', "MISP event")


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"name": "not an event"}, "not a MISP event"),
        ({"Event": "1287"}, "not a MISP event"),
        ([{"Event": {"info": "one"}}, {"Event": {"info": "two"}}], "one event at a time"),
        ({"response": [{"Event": {"info": "one"}}]}, "one event at a time"),
        ({"type": "bundle", "objects": []}, "this is a STIX bundle"),
        ({"Event": {"info": "empty", "Attribute": [], "Object": []}}, "no Attribute and no Object"),
        ({"Event": {"info": "no records"}}, "no Attribute and no Object"),
        ({"Event": {"info": "odd", "Attribute": "198.51.100.23"}}, '"Attribute" is not a list'),
    ],
)
def test_json_that_is_not_a_misp_event_with_content_is_refused(document: Any, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        convert_misp_event(document)


def test_an_event_without_its_organisation_is_refused() -> None:
    exported = event_file("cccs-ransomware-municipalities.json")
    del exported["Event"]["Orgc"]
    with pytest.raises(InvalidInput, match="no Orgc"):
        misp_to_bundle(exported)


def test_an_attribute_misp_refuses_fails_the_conversion_and_is_named() -> None:
    exported = event_file("cccs-ransomware-municipalities.json")
    exported["Event"]["Attribute"][3]["value"] = "not-a-sha256"
    with pytest.raises(InvalidInput, match="left out the sha256 attribute 2abb21ec") as refused:
        misp_to_bundle(exported)
    assert "Traceback" not in refused.value.detail


def test_an_attribute_of_no_misp_type_fails_the_conversion_without_a_traceback() -> None:
    exported = event_file("cccs-ransomware-municipalities.json")
    exported["Event"]["Attribute"][0]["type"] = "no-such-type"
    with pytest.raises(InvalidInput, match="could not convert all of the MISP event") as refused:
        misp_to_bundle(exported)
    assert "Traceback" not in refused.value.detail and 'File "' not in refused.value.detail
    assert len(refused.value.detail) < 500


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (["bundle"], "not a STIX bundle"),
        ({"type": "report", "objects": []}, 'no "type": "bundle"'),
        ({"type": "bundle", "id": "bundle--3b4c5d6e-7f80-4192-8b3c-4d5e6f7a8b9c", "objects": []}, "no objects"),
        ({"type": "bundle", "objects": [{"type": "indicator"}]}, "object 0 of the STIX bundle has no type or no id"),
        ({"type": "bundle", "spec_version": "2.0", "objects": [{"type": "x", "id": "x--1"}]}, "STIX 2.0 bundle"),
        ({"Event": {"info": "a MISP event"}}, "this is a MISP event"),
    ],
)
def test_json_that_is_not_a_stix_bundle_is_refused(document: Any, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        convert_stix_bundle(document)


# ---- the CLI


def test_cli_converts_an_event_to_a_bundle_and_back(tmp_path: Path) -> None:
    runner = CliRunner()
    bundle_file, event_out = tmp_path / "bundle.json", tmp_path / "event.json"
    exported = DATA / "cccs-ransomware-municipalities.json"

    to_stix = runner.invoke(cyber_app, ["misp-to-stix", str(exported), "--out", str(bundle_file)])
    assert to_stix.exit_code == 0, to_stix.output
    assert "7 attributes and 3 MISP objects" in to_stix.stdout
    assert "TLP:AMBER+STRICT" in to_stix.stdout
    assert json.loads(bundle_file.read_text(encoding="utf-8"))["type"] == "bundle"

    to_misp = runner.invoke(cyber_app, ["stix-to-misp", str(bundle_file), "--out", str(event_out)])
    assert to_misp.exit_code == 0, to_misp.output
    assert "a MISP event with 7 attributes and 3 objects" in to_misp.stdout
    event = json.loads(event_out.read_text(encoding="utf-8"))["Event"]
    assert "tlp:amber+strict" in tags(event)


@pytest.mark.parametrize(
    ("command", "content", "reason"),
    [
        ("misp-to-stix", "not json at all", "is not JSON"),
        ("misp-to-stix", '{"Event": {"info": "empty", "Attribute": [], "Object": []}}', "nothing to convert"),
        ("stix-to-misp", '{"type": "bundle", "objects": []}', "nothing to convert"),
    ],
)
def test_cli_exits_1_with_the_reason_and_writes_nothing_on_bad_input(
    tmp_path: Path, command: str, content: str, reason: str
) -> None:
    source, out = tmp_path / "input.json", tmp_path / "out.json"
    source.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cyber_app, [command, str(source), "--out", str(out)])
    assert result.exit_code == 1
    assert reason in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_exits_1_when_the_file_or_the_folder_is_missing(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cyber_app, ["misp-to-stix", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 1 and "cannot read" in missing.stderr
    exported = str(DATA / "cert-in-phishing-banks.json")
    no_folder = runner.invoke(cyber_app, ["misp-to-stix", exported, "--out", str(tmp_path / "no" / "b.json")])
    assert no_folder.exit_code == 1 and "does not exist" in no_folder.stderr
