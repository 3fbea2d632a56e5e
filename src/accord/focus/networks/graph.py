"""A case's entities as a rustworkx graph: things are nodes, relations and entity-valued properties are edges.
Built from the entity store and kept per process while the case does not change; the views an analyst asks for
(a neighbourhood, a time slice, a provenance filter) are subgraphs of it. `accord.focus.networks.analysis` runs the
link analysis on them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import rustworkx as rx
from sqlalchemy import Connection, func, select

from accord.errors import InvalidInput, NotFound
from accord.focus.networks.entities import caption_of, is_relation, links_of
from accord.focus.networks.store import case_entities, case_parties
from accord.i18n import _
from accord.store.tables import network_provenance

if TYPE_CHECKING:
    from followthemoney.proxy import EntityProxy

MAX_HOPS = 6
MAX_PATHS = 20
UNKNOWN_SCHEMA = "Unknown"


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
    dates: tuple[str, ...] = ()  # the entity's startDate, endDate and date values, sorted
    start: str | None = None  # the earliest startDate or date; None: since ever (or undated)
    end: str | None = None  # the latest endDate or date; None: still standing (or undated)
    parties: frozenset[str] = frozenset()  # whose the entity making the link is

    @property
    def dated(self) -> bool:
        return self.start is not None or self.end is not None


@dataclass(slots=True)
class CaseGraph:
    """The directed graph of a case, with the index of each entity id. Relations whose ends are not held (a share
    can carry a relation without one end) keep the missing end as a node of schema "Unknown"."""

    graph: rx.PyDiGraph = field(default_factory=lambda: rx.PyDiGraph(multigraph=True))
    index: dict[str, int] = field(default_factory=dict)
    relations: dict[str, EntityProxy] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict, repr=False)  # analyses of this graph, computed once
    _simple: rx.PyGraph | None = field(default=None, repr=False)
    _symmetric: rx.PyDiGraph | None = field(default=None, repr=False)

    def node(self, entity_id: str) -> int:
        found = self.index.get(entity_id)
        if found is None:
            raise NotFound(_("the case holds no entity {entity_id!r} in its graph").format(entity_id=entity_id))
        return found

    def data(self, index: int) -> NodeData:
        value = self.graph[index]
        assert isinstance(value, NodeData)
        return value

    def entity_id(self, index: int) -> str:
        return self.data(index).entity_id

    def undirected(self) -> rx.PyGraph:
        """The graph with its payloads, links either way, one link per pair. rustworkx builds it by looking each
        link up among its ends' links: fine for a chart, slow for a hub of thousands (use `simple()` to analyse)."""
        return self.graph.to_undirected(multigraph=False)

    def simple(self) -> rx.PyGraph:
        """The links as a simple undirected graph (no parallel links, no self-loops) with the same node indices,
        payload the index: what centrality, bridges and articulation points are defined on."""
        if self._simple is None:
            simple = rx.PyGraph()
            simple.add_nodes_from(range(self.graph.num_nodes()))
            simple.add_edges_from_no_data(_distinct_pairs(self.graph.edge_list(), self.graph.num_nodes()))
            self._simple = simple
        return self._simple

    def symmetric(self) -> rx.PyDiGraph:
        """The simple graph with each link both ways: what PageRank reads links-both-ways on."""
        if self._symmetric is None:
            self._symmetric = self.simple().to_directed()
        return self._symmetric

    def edges(self) -> Iterator[tuple[int, int, EdgeData]]:
        for source, target, data in self.graph.weighted_edge_list():
            assert isinstance(data, EdgeData)
            yield source, target, data


def _distinct_pairs(edges: Any, nodes: int) -> list[tuple[int, int]]:
    """The distinct unordered pairs of linked nodes, without self-loops. Found with numpy: rustworkx's own
    `to_undirected(multigraph=False)` looks each link up among its ends' links, quadratic in a hub's degree."""
    # numpy loads in ~0.2 s: imported by the one function here that needs it, when a graph is built.
    import numpy as np

    ends = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    low, high = ends.min(axis=1), ends.max(axis=1)
    keys = np.unique((low * nodes + high)[low != high])
    return list(zip((keys // nodes).tolist(), (keys % nodes).tolist(), strict=True))


# ------------------------------------------------------------------------------------------------ views


@dataclass(frozen=True, slots=True)
class Window:
    """A time window (ISO dates, either end open). A dated link stands in it if its span meets the window;
    undated links stand in every window unless `dated_only`."""

    start: str | None = None
    end: str | None = None
    dated_only: bool = False

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise InvalidInput(
                _("the window starts ({start}) after it ends ({end})").format(start=self.start, end=self.end)
            )

    def admits(self, edge: EdgeData) -> bool:
        if not edge.dated:
            return not self.dated_only
        # FtM dates are ISO prefixes of any precision ("2021", "2021-03", "2021-03-04T10:00"): compare at the
        # precision both sides have, so "2021" meets a window from 2021-06-01.
        if edge.end is not None and self.start is not None and _before(edge.end, self.start):
            return False
        return not (edge.start is not None and self.end is not None and _before(self.end, edge.start))


def _before(earlier: str, later: str) -> bool:
    common = min(len(earlier), len(later))
    return earlier[:common] < later[:common]


@dataclass(frozen=True, slots=True)
class Filters:
    """Which entities and links a view keeps: by schema, by provenance party, by time window."""

    schemata: frozenset[str] | None = None
    parties: frozenset[str] | None = None
    window: Window | None = None

    def admits_node(self, data: NodeData) -> bool:
        if self.schemata is not None and data.schema not in self.schemata:
            return False
        return self.parties is None or bool(data.parties & self.parties)

    def admits_edge(self, data: EdgeData) -> bool:
        if self.parties is not None and not data.parties & self.parties:
            return False
        return self.window is None or self.window.admits(data)

    @property
    def filters_edges(self) -> bool:
        return self.parties is not None or self.window is not None


def build_graph(proxies: Iterable[EntityProxy], parties: Mapping[str, Iterable[str]] | None = None) -> CaseGraph:
    """The graph of the entities; `parties` gives, per entity id, the parties it came from (its provenance)."""
    owners = {k: frozenset(v) for k, v in (parties or {}).items()}
    built = CaseGraph()
    things: list[EntityProxy] = []
    links: list[tuple[str, str, EdgeData]] = []
    for proxy in proxies:
        entity_id = proxy.id or ""
        if is_relation(proxy):
            built.relations[entity_id] = proxy
        else:
            things.append(proxy)
        dates = _dates(proxy)
        for link in links_of(proxy):
            edge = EdgeData(
                link.label, link.via, dates["all"], dates["start"], dates["end"], owners.get(entity_id, _NONE)
            )
            links.append((link.source, link.target, edge))
    for proxy in things:
        entity_id = proxy.id or ""
        built.index[entity_id] = built.graph.add_node(
            NodeData(entity_id, proxy.schema.name, caption_of(proxy), owners.get(entity_id, _NONE))
        )
    edges = []
    for source, target, edge in links:
        for end in (source, target):
            if end not in built.index:
                built.index[end] = built.graph.add_node(NodeData(end, UNKNOWN_SCHEMA, end, _NONE))
        edges.append((built.index[source], built.index[target], edge))
    built.graph.add_edges_from(edges)
    return built


_NONE: frozenset[str] = frozenset()


def _dates(proxy: EntityProxy) -> dict[str, Any]:
    """An interval's dates (FtM's Interval: startDate, endDate, date); other date properties (modifiedAt…) say
    nothing about when a link stood."""
    schema = proxy.schema
    starts = [*_get(proxy, schema, "startDate"), *_get(proxy, schema, "date")]
    ends = [*_get(proxy, schema, "endDate"), *_get(proxy, schema, "date")]
    return {
        "all": tuple(sorted({*starts, *ends})),
        "start": min(starts) if starts else None,
        "end": max(ends) if ends else None,
    }


def _get(proxy: EntityProxy, schema: Any, name: str) -> list[str]:
    return [str(v) for v in proxy.get(name)] if schema.get(name) is not None else []


def subgraph(built: CaseGraph, nodes: Iterable[int], filters: Filters | None = None) -> CaseGraph:
    """The view holding `nodes` and the links between them that pass the filters (node indices renumbered)."""
    chosen = sorted(set(nodes))
    view = CaseGraph()
    renumbered = {}
    for old in chosen:
        data = built.data(old)
        renumbered[old] = view.graph.add_node(data)
        view.index[data.entity_id] = renumbered[old]
    keep_all = filters is None or not filters.filters_edges
    edges = []
    for old in chosen:
        for source, target, data in built.graph.out_edges(old):
            if target in renumbered and (keep_all or (filters is not None and filters.admits_edge(data))):
                edges.append((renumbered[source], renumbered[target], data))
                if data.via is not None and data.via in built.relations:
                    view.relations[data.via] = built.relations[data.via]
    view.graph.add_edges_from(edges)
    return view


def time_slice(built: CaseGraph, window: Window) -> CaseGraph:
    """The case as it stood in the window: every entity, and the links that stood then."""
    return subgraph(built, range(built.graph.num_nodes()), Filters(window=window))


def select_nodes(built: CaseGraph, filters: Filters) -> set[int]:
    """Every node that passes the filters (the whole case's view)."""
    return {i for i in built.graph.node_indices() if filters.admits_node(built.data(i))}


def neighbourhood(
    built: CaseGraph,
    entity_id: str,
    hops: int,
    *,
    schemata: frozenset[str] | None = None,
    parties: frozenset[str] | None = None,
    window: Window | None = None,
) -> set[int]:
    """The nodes within `hops` links of the entity (either direction), through nodes and links that pass the
    filters; the entity itself always included."""
    if not 0 <= hops <= MAX_HOPS:
        raise InvalidInput(_("hops is between 0 and {MAX_HOPS}").format(MAX_HOPS=MAX_HOPS))
    filters = Filters(schemata, parties, window)
    start = built.node(entity_id)
    if filters == Filters():
        return _within(built.simple(), start, hops)
    seen = {start}
    frontier = [start]
    for _hop in range(hops):
        following: list[int] = []
        for index in frontier:
            for other in _adjacent(built, index, filters):
                if other in seen or not filters.admits_node(built.data(other)):
                    continue
                seen.add(other)
                following.append(other)
        frontier = following
    return seen


def _within(simple: rx.PyGraph, start: int, hops: int) -> set[int]:
    seen = {start}
    frontier = {start}
    for _hop in range(hops):
        reached: set[int] = set()
        for index in frontier:
            reached.update(simple.neighbors(index))
        frontier = reached - seen
        seen |= frontier
    return seen


def _adjacent(built: CaseGraph, index: int, filters: Filters) -> Iterable[int]:
    if not filters.filters_edges:
        return built.graph.neighbors_undirected(index)
    found = set()
    for source, target, data in built.graph.incident_edge_index_map(index, all_edges=True).values():
        if filters.admits_edge(data):
            found.add(target if source == index else source)
    return found


# ------------------------------------------------------------------------------------------------ paths


def shortest_path(built: CaseGraph, source_id: str, target_id: str) -> list[str]:
    """The entity ids on a shortest path between the two (links followed either way); raise NotFound with a
    sentence if they are not connected."""
    source, target = built.node(source_id), built.node(target_id)
    path = _bidirectional_search(built.simple(), source, target)
    if path is None:
        raise NotFound(
            _("{source_id} and {target_id} are not connected in this case's graph").format(
                source_id=source_id, target_id=target_id
            )
        )
    return [built.entity_id(i) for i in path]


def _bidirectional_search(simple: rx.PyGraph, source: int, target: int) -> list[int] | None:
    """A shortest path by breadth-first search from both ends, growing the smaller frontier: it visits about the
    square root of what a search from one end does (rustworkx's Dijkstra has no bidirectional form)."""
    if source == target:
        return [source]
    parents: dict[int, int] = {source: source}
    children: dict[int, int] = {target: target}
    forward, backward = [source], [target]
    while forward and backward:
        grow_forward = len(forward) <= len(backward)
        frontier, mine, theirs = (forward, parents, children) if grow_forward else (backward, children, parents)
        following: list[int] = []
        for index in frontier:
            for other in simple.neighbors(index):
                if other in mine:
                    continue
                mine[other] = index
                if other in theirs:
                    return _joined(other, parents, children)
                following.append(other)
        if grow_forward:
            forward = following
        else:
            backward = following
    return None


def _joined(meeting: int, parents: dict[int, int], children: dict[int, int]) -> list[int]:
    path = [meeting]
    while parents[path[0]] != path[0]:
        path.insert(0, parents[path[0]])
    while children[path[-1]] != path[-1]:
        path.append(children[path[-1]])
    return path


def shortest_paths(built: CaseGraph, source_id: str, target_id: str, *, limit: int = MAX_PATHS) -> list[list[str]]:
    """Up to `limit` shortest paths between the two entities (entity ids, links followed either way), in a
    stable order; NotFound naming both if they are not connected."""
    if limit <= 1:
        return [shortest_path(built, source_id, target_id)]
    source, target = built.node(source_id), built.node(target_id)
    if source == target:
        return [[source_id]]
    simple = built.simple()
    from_source = rx.dijkstra_shortest_path_lengths(simple, source, _unit)
    if target not in from_source:
        raise NotFound(
            _("{source_id} and {target_id} are not connected in this case's graph").format(
                source_id=source_id, target_id=target_id
            )
        )
    length = round(from_source[target])
    to_target = rx.dijkstra_shortest_path_lengths(simple, target, _unit)
    found: list[list[int]] = []
    # Depth-first along the links that keep to a shortest path (distance from the source + to the target equals the
    # length), stopping at `limit`: the number of shortest paths can grow exponentially with the length.
    stack: list[list[int]] = [[source]]
    while stack and len(found) < limit:
        path = stack.pop()
        last = path[-1]
        if last == target:
            found.append(path)
            continue
        step = len(path)
        nexts = [
            n
            for n in simple.neighbors(last)
            if n != source and _hops(from_source, n) == step and (n == target or _hops(to_target, n) == length - step)
        ]
        stack.extend([*path, n] for n in sorted(nexts, key=built.entity_id, reverse=True))
    return [[built.entity_id(i) for i in path] for path in found]


def _hops(lengths: Any, index: int) -> int:
    """The length to `index` in a rustworkx PathLengthMapping (which has no `get`), -1 if unreached."""
    return round(lengths[index]) if index in lengths else -1


def _unit(_: object) -> float:
    return 1.0


def path_edges(built: CaseGraph, path: list[str]) -> list[tuple[str, str, EdgeData]]:
    """Every link between consecutive entities of a path (either direction), as (source id, target id, data)."""
    found = []
    for left, right in pairwise(path):
        a, b = built.node(left), built.node(right)
        for source, target, data in built.graph.incident_edge_index_map(a, all_edges=True).values():
            if {source, target} == {a, b}:
                found.append((built.entity_id(source), built.entity_id(target), data))
    return found


# ------------------------------------------------------------------------------------------------ the store


@dataclass(frozen=True, slots=True)
class _Cached:
    version: tuple[int, int]
    built: CaseGraph


class GraphCache:
    """Case graphs kept per process, keyed on the case's version: every change to a case's entities adds a
    provenance row, so (count, highest row id) of its provenance names what the graph was built from."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._graphs: OrderedDict[tuple[str, str], _Cached] = OrderedDict()
        self._lock = threading.Lock()

    def case_graph(self, conn: Connection, case_id: str) -> CaseGraph:
        version = case_version(conn, case_id)
        key = (conn.engine.url.render_as_string(hide_password=True), case_id)
        with self._lock:
            cached = self._graphs.get(key)
            if cached is not None and cached.version == version:
                self._graphs.move_to_end(key)
                return cached.built
        built = build_graph(case_entities(conn, case_id), case_parties(conn, case_id))
        with self._lock:
            self._graphs[key] = _Cached(version, built)
            self._graphs.move_to_end(key)
            while len(self._graphs) > self.size:
                self._graphs.popitem(last=False)
        return built


def case_version(conn: Connection, case_id: str) -> tuple[int, int]:
    row = conn.execute(
        select(func.count(), func.coalesce(func.max(network_provenance.c.row_id), 0)).where(
            network_provenance.c.case_id == case_id
        )
    ).one()
    return int(row[0]), int(row[1])


CASE_GRAPHS = GraphCache()
