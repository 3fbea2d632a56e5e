"""A case's entities for other tools: FtM JSON lines (Aleph, `ftm` and this node's own import read them back), and
the case graph as GEXF 1.3 (Gephi) or GraphML (yEd, i2 Analyst's Notebook's importers): things as nodes labelled with
their caption, their schema and the parties they came from as attributes; relations and entity properties as
labelled edges."""

from __future__ import annotations

import json
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import rustworkx as rx
from rustworkx.rustworkx import GraphMLDomain, GraphMLKey, GraphMLType

from accord.focus.networks.graph import CaseGraph

if TYPE_CHECKING:
    from followthemoney.proxy import EntityProxy

GEXF_NAMESPACE = "http://gexf.net/1.3"


class ExportFormat(StrEnum):
    FTM = "ftm"
    GEXF = "gexf"
    GRAPHML = "graphml"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def suffix(self) -> str:
        return {ExportFormat.FTM: "ftm.json", ExportFormat.GEXF: "gexf", ExportFormat.GRAPHML: "graphml"}[self]


_MEDIA_TYPES = {
    ExportFormat.FTM: "application/x-ndjson",
    ExportFormat.GEXF: "application/gexf+xml",
    ExportFormat.GRAPHML: "application/graphml+xml",
}

# The attributes of nodes and edges, as both graph formats declare them: (name, for).
_NODE_ATTRIBUTES = ("entity_id", "schema", "parties")
_EDGE_ATTRIBUTES = ("label", "via", "dates")


def ftm_lines(proxies: Iterable[EntityProxy]) -> bytes:
    """One FtM entity (`{id, schema, properties}`) per line."""
    lines = (json.dumps(p.to_dict(), ensure_ascii=False, sort_keys=True) for p in proxies)
    return "".join(line + "\n" for line in lines).encode()


def _parties(parties: frozenset[str]) -> str:
    return ";".join(sorted(parties))


def gexf(built: CaseGraph) -> bytes:
    """The graph as a GEXF 1.3 document (gexf.net/schema): a directed multigraph with static attributes."""
    ET.register_namespace("", GEXF_NAMESPACE)
    ns = f"{{{GEXF_NAMESPACE}}}"
    root = ET.Element(f"{ns}gexf", {"version": "1.3"})
    ET.SubElement(ET.SubElement(root, f"{ns}meta"), f"{ns}creator").text = "Accord"
    graph = ET.SubElement(root, f"{ns}graph", {"defaultedgetype": "directed", "mode": "static"})
    for kind, names in (("node", _NODE_ATTRIBUTES), ("edge", _EDGE_ATTRIBUTES)):
        declared = ET.SubElement(graph, f"{ns}attributes", {"class": kind})
        for name in names:
            ET.SubElement(declared, f"{ns}attribute", {"id": name, "title": name, "type": "string"})
    nodes = ET.SubElement(graph, f"{ns}nodes")
    for index in built.graph.node_indices():
        data = built.data(index)
        node = ET.SubElement(nodes, f"{ns}node", {"id": data.entity_id, "label": data.caption})
        values = ET.SubElement(node, f"{ns}attvalues")
        for name, value in (
            ("entity_id", data.entity_id),
            ("schema", data.schema),
            ("parties", _parties(data.parties)),
        ):
            ET.SubElement(values, f"{ns}attvalue", {"for": name, "value": value})
    edges = ET.SubElement(graph, f"{ns}edges")
    for number, (source, target, edge) in enumerate(built.graph.weighted_edge_list()):
        element = ET.SubElement(
            edges,
            f"{ns}edge",
            {
                "id": str(number),
                "source": built.entity_id(source),
                "target": built.entity_id(target),
                "label": edge.label,
            },
        )
        values = ET.SubElement(element, f"{ns}attvalues")
        for name, value in (("label", edge.label), ("via", edge.via or ""), ("dates", ";".join(edge.dates))):
            ET.SubElement(values, f"{ns}attvalue", {"for": name, "value": value})
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _key(key_id: str, domain: GraphMLDomain, name: str) -> GraphMLKey:
    # rustworkx's stubs leave out GraphMLKey's constructor (id, domain, name, type, default).
    return GraphMLKey(key_id, domain, name, GraphMLType.String, None)  # type: ignore[call-arg]


def graphml(built: CaseGraph) -> bytes:
    """The graph as GraphML, written by rustworkx: each node's caption as `label`, with its id, schema and parties;
    each edge's label, the relation it stands for and its dates."""
    keys = [_key(f"n_{name}", GraphMLDomain.Node, name) for name in ("label", *_NODE_ATTRIBUTES)]
    keys += [_key(f"e_{name}", GraphMLDomain.Edge, name) for name in _EDGE_ATTRIBUTES]
    written = rx.PyDiGraph(multigraph=True)
    for index in built.graph.node_indices():
        data = built.data(index)
        written.add_node(
            {
                "label": data.caption,
                "entity_id": data.entity_id,
                "schema": data.schema,
                "parties": _parties(data.parties),
            }
        )
    positions = {index: n for n, index in enumerate(built.graph.node_indices())}
    for source, target, edge in built.graph.weighted_edge_list():
        written.add_edge(
            positions[source],
            positions[target],
            {"label": edge.label, "via": edge.via or "", "dates": ";".join(edge.dates)},
        )
    # rustworkx writes GraphML to a path only.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.graphml"
        rx.write_graphml(written, str(path), keys=keys)
        return path.read_bytes()
