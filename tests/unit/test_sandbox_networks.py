"""The SAMPLE network: the same seed gives the same entities, every one valid FtM and marked SAMPLE, each side's case
holds its own part, and the overlaps the cross-referencing should find are written each side's way. The example CSV
an RCMP analyst imports maps through its FtM mapping to valid entities that meet India's holdings."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml
from followthemoney import model
from followthemoney.proxy import EntityProxy
from followthemoney.types import registry

from accord.domain.parties import Party
from accord.focus.networks.entities import check_entity, missing_references
from accord.focus.networks.graph import build_graph, shortest_path
from accord.sandbox.networks import sample_network

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples" / "networks"


def _dicts(proxies: tuple[EntityProxy, ...]) -> list[dict[str, Any]]:
    return [proxy.to_dict() for proxy in proxies]


def _by_id(proxies: tuple[EntityProxy, ...]) -> dict[str, EntityProxy]:
    return {proxy.id or "": proxy for proxy in proxies}


def test_the_same_seed_gives_the_same_network_and_another_seed_another() -> None:
    first, again, other = sample_network(7), sample_network(7), sample_network(8)
    for party in Party:
        assert _dicts(first[party].entities) == _dicts(again[party].entities)
    assert _dicts(first[Party.IN].entities) != _dicts(other[Party.IN].entities)


def test_every_entity_is_valid_ftm_marked_sample_and_names_only_what_its_case_holds() -> None:
    for case in sample_network().values():
        ids = [proxy.id for proxy in case.entities]
        assert len(ids) == len(set(ids))
        for proxy in case.entities:
            assert check_entity(proxy.to_dict()).id == proxy.id
            marks = proxy.get("notes", quiet=True) + proxy.get("description", quiet=True)
            assert any("SAMPLE" in mark for mark in marks), proxy.id
        assert missing_references(case.entities, set()) == {}
        assert "[SAMPLE]" in case.title


def test_each_country_holds_its_part_and_the_network_spans_both() -> None:
    network = sample_network()
    assert network[Party.CA].owner_agency == "RCMP" and network[Party.IN].owner_agency == "NCB"
    for party, case in network.items():
        assert {proxy.id for proxy in case.entities} <= {
            p.id for p in case.entities if p.id and p.id.startswith(f"sample-{party.value.lower()}-")
        }
        countries = {c for proxy in case.entities for c in proxy.get_type_values(registry.country)}
        assert {"ca", "in"} <= countries
    shipments = {p: [e for e in network[p].entities if e.schema.name == "Event"] for p in Party}
    assert 0 < len(shipments[Party.CA]) < len(shipments[Party.IN])  # Canada sees the imports, India every export


def test_the_overlaps_are_written_each_sides_way() -> None:
    network = sample_network()
    ca, india = _by_id(network[Party.CA].entities), _by_id(network[Party.IN].entities)
    gurpreet_ca, gurpreet_in = ca["sample-ca-p-gurpreet"], india["sample-in-p-gurpreet"]
    assert gurpreet_ca.get("name") == ["Gurpreet Singh"]
    assert gurpreet_in.get("name") == ["ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ"] and "गुरप्रीत सिंह" in gurpreet_in.get("alias")
    assert set(gurpreet_ca.get("birthDate")) == set(gurpreet_in.get("birthDate"))
    assert set(gurpreet_ca.get("phone")) & set(gurpreet_in.get("phone")) == {"+919814012345"}
    assert ca["sample-ca-pp-gurpreet"].get("number") == india["sample-in-pp-gurpreet"].get("number")
    iban_ca, iban_in = ca["sample-ca-a-qamar"].first("iban"), india["sample-in-a-qamar"].first("iban")
    assert iban_ca != iban_in and iban_ca is not None and iban_ca.replace(" ", "") == iban_in
    supplier_ca, supplier_in = ca["sample-ca-c-vayu"], india["sample-in-c-vayu"]
    assert supplier_ca.get("name") != supplier_in.get("name")
    assert supplier_ca.get("taxNumber") == supplier_in.get("taxNumber")
    assert ca["sample-ca-w-gurpreet"].get("publicKey") == india["sample-in-w-gurpreet"].get("publicKey")
    bills = {p: {b for e in network[p].entities for b in e.get("recordId", quiet=True)} for p in Party}
    assert bills[Party.CA] and bills[Party.CA] <= bills[Party.IN]


def test_canadas_case_joins_the_importer_to_the_supplier_and_leaves_the_lead_unlinked() -> None:
    built = build_graph(sample_network()[Party.CA].entities)
    path = shortest_path(built, "sample-ca-c-fvac", "sample-ca-c-vayu")
    assert path[0] == "sample-ca-c-fvac" and path[-1] == "sample-ca-c-vayu" and len(path) == 3
    lead = built.node("sample-ca-p-lead")
    assert built.graph.in_degree(lead) + built.graph.out_degree(lead) == 0


def test_the_example_csv_maps_to_valid_entities_that_meet_indias_supplier() -> None:
    mapping_file = yaml.safe_load((EXAMPLES / "rcmp-precursor-network.yaml").read_text())
    query = mapping_file["rcmp_precursor_network"]["queries"][0]
    assert (EXAMPLES / query["csv_url"]).exists()
    mapping = model.make_mapping(query, key_prefix="rcmp")
    entities: dict[str, EntityProxy] = {}
    with (EXAMPLES / query["csv_url"]).open(newline="", encoding="utf-8") as rows:
        for record in csv.DictReader(rows):
            for proxy in mapping.map(record).values():
                checked = check_entity(proxy.to_dict())
                if checked.id in entities:
                    entities[checked.id].merge(checked)
                else:
                    entities[checked.id or ""] = checked
    schemata = sorted(proxy.schema.name for proxy in entities.values())
    assert schemata.count("Company") == 2 and schemata.count("Person") == 2 and schemata.count("Directorship") == 2
    assert schemata.count("Event") == 4 and schemata.count("Payment") == 4
    supplier = next(p for p in entities.values() if p.schema.name == "Company" and p.get("taxNumber"))
    india = _by_id(sample_network()[Party.IN].entities)["sample-in-c-vayu"]
    assert supplier.get("taxNumber") == india.get("taxNumber")
    assert not set(supplier.get("name")) & set(india.get("name"))  # another spelling
    phones = {phone for p in entities.values() for phone in p.get("phone", quiet=True)}
    assert "+16045550143" in phones
    built = build_graph(entities.values())
    importer = next(p.id for p in entities.values() if p.get("registrationNumber"))
    assert importer is not None and supplier.id is not None
    assert shortest_path(built, importer, supplier.id) == [importer, supplier.id]  # paid directly
