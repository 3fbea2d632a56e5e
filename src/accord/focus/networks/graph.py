"""A case's entities as a rustworkx graph: things are nodes, relations and entity-valued properties are edges.
Built per query from the entity store (cheap next to the reads it answers); `accord.focus.networks.analysis` runs
the link analysis on it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import rustworkx as rx
from followthemoney.proxy import EntityProxy
from followthemoney.types import registry

from accord.errors import InvalidInput, NotFound
from accord.focus.networks.entities import Link, caption_of, is_relation, links_of


@dataclass(frozen=True, slots=True)
class NodeData:
    entity_id: str
    schema: str
    caption: str
    parties: frozenset[str]  # whose the entity is: "CA", "IN" or both


@dataclass(frozen=True, slots=True)
class EdgeData:
    label: str
    via: str | None  # the relation entity, or None for a property link
    dates: tuple[str, ...] = ()  # the relation's dates (start, end, date), for time-sliced views


@dataclass(slots=True)
class CaseGraph:
    """The directed graph of a case, with the index of each entity id. Relations whose ends are not held (a share
    can carry a relation without one end) keep the missing end as a node of schema "Unknown"."""

    graph: rx.PyDiGraph = field(default_factory=lambda: rx.PyDiGraph(multigraph=True))
    index: dict[str, int] = field(default_factory=dict)
    relations: dict[str, EntityProxy] = field(default_factory=dict)
    _simple: rx.PyGraph | None = field(default=None, repr=False)

    def node(self, entity_id: str) -> int:
        found = self.index.get(entity_id)
        if found is None:
            raise NotFound(f"the case holds no entity {entity_id!r} in its graph")
        return found

    def data(self, index: int) -> NodeData:
        value = self.graph[index]
        assert isinstance(value, NodeData)
        return value

    def entity_id(self, index: int) -> str:
        return self.data(index).entity_id

    def undirected(self) -> rx.PyGraph:
        return self.graph.to_undirected(multigraph=False)

    def simple(self) -> rx.PyGraph:
        """The links as a simple undirected graph (no parallel links, no self-loops) with the same node indices,
        payload the index: what centrality, bridges and articulation points are defined on."""
        if self._simple is None:
            simple = rx.PyGraph(multigraph=False)
            simple.add_nodes_from(range(self.graph.num_nodes()))
            simple.add_edges_from_no_data([(a, b) for a, b in self.graph.edge_list() if a != b])
            self._simple = simple
        return self._simple


def build_graph(proxies: Iterable[EntityProxy], parties: Mapping[str, Iterable[str]] | None = None) -> CaseGraph:
    """The graph of the entities; `parties` gives, per entity id, the parties it came from (its provenance)."""
    owners = {k: frozenset(v) for k, v in (parties or {}).items()}
    built = CaseGraph()
    things: list[EntityProxy] = []
    links: list[tuple[Link, tuple[str, ...]]] = []
    for proxy in proxies:
        if is_relation(proxy):
            built.relations[proxy.id or ""] = proxy
            dates = tuple(sorted(str(v) for v in proxy.get_type_values(registry.date)))
            links += [(link, dates) for link in links_of(proxy)]
        else:
            things.append(proxy)
            links += [(link, ()) for link in links_of(proxy)]
    for proxy in things:
        entity_id = proxy.id or ""
        built.index[entity_id] = built.graph.add_node(
            NodeData(entity_id, proxy.schema.name, caption_of(proxy), owners.get(entity_id, frozenset()))
        )
    for link, dates in links:
        ends = []
        for end in (link.source, link.target):
            if end not in built.index:
                built.index[end] = built.graph.add_node(NodeData(end, "Unknown", end, frozenset()))
            ends.append(built.index[end])
        built.graph.add_edge(ends[0], ends[1], EdgeData(link.label, link.via, dates))
    return built


def neighbourhood(
    built: CaseGraph,
    entity_id: str,
    hops: int,
    *,
    schemata: frozenset[str] | None = None,
    parties: frozenset[str] | None = None,
) -> set[int]:
    """The nodes within `hops` links of the entity (either direction), through nodes that pass the filters; the
    entity itself always included."""
    if not 0 <= hops <= 6:
        raise InvalidInput("hops is between 0 and 6")
    start = built.node(entity_id)
    seen = {start}
    frontier = [start]
    for _ in range(hops):
        following: list[int] = []
        for index in frontier:
            for other in set(built.graph.successor_indices(index)) | set(built.graph.predecessor_indices(index)):
                if other in seen or not _passes(built.data(other), schemata, parties):
                    continue
                seen.add(other)
                following.append(other)
        frontier = following
    return seen


def _passes(data: NodeData, schemata: frozenset[str] | None, parties: frozenset[str] | None) -> bool:
    if schemata is not None and data.schema not in schemata:
        return False
    return parties is None or bool(data.parties & parties)


def shortest_path(built: CaseGraph, source_id: str, target_id: str) -> list[str]:
    """The entity ids on a shortest path between the two (links followed either way); raise NotFound with a
    sentence if they are not connected."""
    source, target = built.node(source_id), built.node(target_id)
    if source == target:
        return [source_id]
    paths = rx.graph_dijkstra_shortest_paths(built.undirected(), source, target=target)  # type: ignore[arg-type]
    if target not in paths:
        raise NotFound(f"{source_id} and {target_id} are not connected in this case's graph")
    return [built.entity_id(i) for i in paths[target]]
