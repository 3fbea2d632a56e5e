"""A case for other tools: FtM JSON lines that import back unchanged, and the case graph as GEXF and GraphML that
networkx (Gephi's and yEd's formats, read by an independent reader) loads with labels, schemata, parties and edge
labels."""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx  # type: ignore[import-untyped]
import rustworkx as rx
from followthemoney.proxy import EntityProxy

from accord.focus.networks.entities import check_entity
from accord.focus.networks.exports import ExportFormat, ftm_lines, gexf, graphml
from accord.focus.networks.graph import build_graph
from accord.focus.networks.imports import plan_import, read_ftm

ENTITIES = [
    {"id": "p-1", "schema": "Person", "properties": {"name": ["Arjun Mehta & Sons <Pvt>"]}},
    {"id": "c-1", "schema": "Company", "properties": {"name": ["Maple Chemicals Ltd"], "jurisdiction": ["ca"]}},
    {"id": "c-2", "schema": "Company", "properties": {"name": ["Ganga Traders"]}},
    {
        "id": "o-1",
        "schema": "Ownership",
        "properties": {"owner": ["p-1"], "asset": ["c-1"], "startDate": ["2024-03-01"]},
    },
    {"id": "o-2", "schema": "Ownership", "properties": {"owner": ["p-1"], "asset": ["c-1"]}},
    {"id": "y-1", "schema": "Payment", "properties": {"payer": ["c-1"], "beneficiary": ["c-2"], "amount": ["1000"]}},
]
PARTIES = {"p-1": {"CA"}, "c-1": {"CA", "IN"}, "c-2": {"IN"}}


def proxies() -> list[EntityProxy]:
    return [check_entity(raw) for raw in ENTITIES]


def test_ftm_lines_import_back_to_the_same_entities() -> None:
    document = ftm_lines(proxies()).decode()
    assert len(document.splitlines()) == len(ENTITIES)
    plan = plan_import(read_ftm(io.StringIO(document)), lambda ids: {})
    assert plan.complete
    assert [p.to_dict() for p in plan.entities] == [p.to_dict() for p in proxies()]
    assert json.loads(document.splitlines()[0])["properties"]["name"] == ["Arjun Mehta & Sons <Pvt>"]


def test_gexf_loads_in_networkx_with_labels_schemata_parties_and_labelled_parallel_edges() -> None:
    document = gexf(build_graph(proxies(), PARTIES))
    graph = nx.read_gexf(io.BytesIO(document))
    assert graph.is_directed() and graph.is_multigraph()
    assert graph.nodes["p-1"]["label"] == "Arjun Mehta & Sons <Pvt>"
    assert graph.nodes["c-1"]["schema"] == "Company"
    assert graph.nodes["c-1"]["parties"] == "CA;IN"
    assert graph.number_of_edges("p-1", "c-1") == 2  # two ownerships, two edges
    edges = {data["via"]: data for _, _, data in graph.edges(data=True)}
    assert (edges["o-1"]["label"], edges["y-1"]["label"]) == ("owns", "paid")  # FtM's edge labels
    assert edges["o-1"]["dates"] == "2024-03-01"
    assert {(u, v) for u, v, _ in graph.edges(data=True)} == {("p-1", "c-1"), ("c-1", "c-2")}


def test_graphml_loads_in_networkx_and_rustworkx_with_the_same_nodes_and_edges(tmp_path: Path) -> None:
    built = build_graph(proxies(), PARTIES)
    document = graphml(built)
    graph = nx.read_graphml(io.BytesIO(document))
    by_entity = {data["entity_id"]: data for _, data in graph.nodes(data=True)}
    assert by_entity["p-1"]["label"] == "Arjun Mehta & Sons <Pvt>"
    assert by_entity["c-2"]["parties"] == "IN"
    assert graph.number_of_edges() == built.graph.num_edges() == 3
    assert sorted(data["label"] for _, _, data in graph.edges(data=True)) == sorted(
        e.label for e in built.graph.edges()
    )
    path = tmp_path / "case.graphml"
    path.write_bytes(document)
    [read_back] = rx.read_graphml(str(path))
    assert (read_back.num_nodes(), read_back.num_edges()) == (built.graph.num_nodes(), built.graph.num_edges())


def test_each_format_names_its_media_type() -> None:
    assert {f.value: f.media_type for f in ExportFormat} == {
        "ftm": "application/x-ndjson",
        "gexf": "application/gexf+xml",
        "graphml": "application/graphml+xml",
    }
