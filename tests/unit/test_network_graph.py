"""Link analysis of a case's graph on rustworkx, with networkx as the oracle: hypothesis draws graphs (parallel
links and self-loops included) made of real FollowTheMoney entities, and every measure must agree with networkx's;
communities are checked on planted partitions; the views (neighbourhood filters, time slices) and the per-case cache
on a real SQLite store."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

import networkx as nx
import pytest
from followthemoney import model
from followthemoney.proxy import EntityProxy
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from accord.domain.parties import Party
from accord.errors import InvalidInput, NotFound
from accord.focus.networks import analysis
from accord.focus.networks.graph import (
    CaseGraph,
    GraphCache,
    Window,
    build_graph,
    neighbourhood,
    path_edges,
    shortest_path,
    shortest_paths,
    subgraph,
    time_slice,
)
from accord.focus.networks.store import add_entities, ensure_case
from accord.store.engine import make_engine
from accord.store.migrate import migrate


def person(entity_id: str) -> EntityProxy:
    return model.get_proxy({"id": entity_id, "schema": "Person", "properties": {"name": [f"Person {entity_id}"]}})


def link(link_id: str, a: str, b: str, **dates: str) -> EntityProxy:
    props = {"subject": [a], "object": [b], **{k: [v] for k, v in dates.items()}}
    return model.get_proxy({"id": link_id, "schema": "UnknownLink", "properties": props})


def case_of(nodes: int, edges: list[tuple[int, int]]) -> tuple[CaseGraph, nx.Graph]:
    """The same graph twice: as a case (people and UnknownLinks) and as the networkx oracle (simple, undirected)."""
    proxies = [person(f"n{i}") for i in range(nodes)]
    proxies += [link(f"r{k}", f"n{a}", f"n{b}") for k, (a, b) in enumerate(edges)]
    oracle = nx.Graph()
    oracle.add_nodes_from(f"n{i}" for i in range(nodes))
    oracle.add_edges_from((f"n{a}", f"n{b}") for a, b in edges if a != b)
    return build_graph(proxies), oracle


@st.composite
def graphs(draw: st.DrawFn, max_nodes: int = 24) -> tuple[int, list[tuple[int, int]]]:
    nodes = draw(st.integers(min_value=1, max_value=max_nodes))
    pair = st.tuples(st.integers(0, nodes - 1), st.integers(0, nodes - 1))
    return nodes, draw(st.lists(pair, max_size=nodes * 3))


def close(ours: dict[str, float], theirs: dict[str, float], tolerance: float = 1e-6) -> bool:
    return ours.keys() == theirs.keys() and all(abs(ours[k] - theirs[k]) <= tolerance for k in ours)


# ------------------------------------------------------------------------------------------------ networkx oracle


@given(graphs())
def test_pagerank_is_networkx_pagerank_with_links_both_ways(drawn: tuple[int, list[tuple[int, int]]]) -> None:
    built, oracle = case_of(*drawn)
    expected = nx.pagerank(oracle, alpha=analysis.PAGERANK_DAMPING, tol=1e-12, max_iter=10_000)
    assert close(analysis.pagerank(built, tolerance=1e-12), expected, 1e-9)
    assert close(analysis.pagerank(built), expected, 1e-7)
    assert abs(sum(analysis.pagerank(built).values()) - 1.0) < 1e-9


@given(graphs())
def test_betweenness_is_networkx_betweenness(drawn: tuple[int, list[tuple[int, int]]]) -> None:
    built, oracle = case_of(*drawn)
    exact = analysis.betweenness(built)
    assert exact.exact
    assert close(exact.scores, nx.betweenness_centrality(oracle, normalized=True))
    # The sampled pass from every source is the exact value.
    assert close(analysis.sampled_betweenness(built, list(range(drawn[0]))), exact.scores)


@given(graphs(), st.randoms(use_true_random=False))
def test_sampled_betweenness_counts_the_paths_from_the_sampled_sources(
    drawn: tuple[int, list[tuple[int, int]]], rng: random.Random
) -> None:
    nodes, _ = drawn
    built, oracle = case_of(*drawn)
    sources = rng.sample(range(nodes), rng.randint(1, nodes))
    ours = analysis.sampled_betweenness(built, sources)
    subset = nx.betweenness_centrality_subset(
        oracle, [built.entity_id(s) for s in sources], list(oracle.nodes), normalized=False
    )
    # networkx halves an undirected graph's counts; ours scales by nodes / sources and networkx's normalisation.
    scale = (nodes / len(sources)) / ((nodes - 1) * (nodes - 2)) if nodes > 2 else 0.0
    assert close(ours, {k: 2 * v * scale for k, v in subset.items()})


@given(graphs())
def test_components_articulation_points_and_bridges_are_networkx_s(drawn: tuple[int, list[tuple[int, int]]]) -> None:
    built, oracle = case_of(*drawn)
    assert {frozenset(c) for c in analysis.components(built)} == {frozenset(c) for c in nx.connected_components(oracle)}
    sizes = [len(c) for c in analysis.components(built)]
    assert sizes == sorted(sizes, reverse=True)
    assert set(analysis.articulation_points(built)) == set(nx.articulation_points(oracle))
    assert set(analysis.bridges(built)) == {(min(a, b), max(a, b)) for a, b in nx.bridges(oracle)}


@given(graphs(), st.data())
def test_shortest_paths_are_networkx_s(drawn: tuple[int, list[tuple[int, int]]], data: st.DataObject) -> None:
    nodes, _ = drawn
    built, oracle = case_of(*drawn)
    source, target = (f"n{data.draw(st.integers(0, nodes - 1))}" for _ in range(2))
    if not nx.has_path(oracle, source, target):
        with pytest.raises(NotFound, match=f"{source} and {target} are not connected"):
            shortest_path(built, source, target)
        return
    expected = {tuple(p) for p in nx.all_shortest_paths(oracle, source, target)}
    found = shortest_paths(built, source, target, limit=10_000)
    assert {tuple(p) for p in found} == expected
    assert len(found) == len(expected)
    assert tuple(shortest_path(built, source, target)) in expected
    assert len(shortest_paths(built, source, target, limit=1)) == 1


@given(graphs(), st.integers(0, 4), st.data())
def test_a_neighbourhood_is_networkx_s_ego_graph(
    drawn: tuple[int, list[tuple[int, int]]], hops: int, data: st.DataObject
) -> None:
    built, oracle = case_of(*drawn)
    centre = f"n{data.draw(st.integers(0, drawn[0] - 1))}"
    found = {built.entity_id(i) for i in neighbourhood(built, centre, hops)}
    assert found == set(nx.ego_graph(oracle, centre, radius=hops))


@given(graphs(), st.integers(0, 2**32 - 1))
def test_label_propagation_ends_with_every_node_in_a_most_frequent_community_of_its_neighbours(
    drawn: tuple[int, list[tuple[int, int]]], seed: int
) -> None:
    built, oracle = case_of(*drawn)
    found = analysis.communities(built, seed=seed)
    assert sorted(e for c in found for e in c) == sorted(oracle.nodes)  # a partition
    community_of = {e: i for i, c in enumerate(found) for e in c}
    for node in oracle.nodes:
        counts = [community_of[n] for n in oracle.neighbors(node)]
        if counts:
            assert counts.count(community_of[node]) == max(counts.count(c) for c in counts)
    assert analysis.communities(built, seed=seed) == found  # seeded: the same answer each time


# ------------------------------------------------------------------------------------------------ communities


def rand_index(left: list[set[str]], right: list[set[str]], nodes: list[str]) -> float:
    """The share of pairs of nodes both partitions agree on (together in both, or apart in both)."""
    a = {n: i for i, c in enumerate(left) for n in c}
    b = {n: i for i, c in enumerate(right) for n in c}
    pairs = list(combinations(nodes, 2))
    return sum((a[x] == a[y]) == (b[x] == b[y]) for x, y in pairs) / len(pairs)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_communities_find_a_planted_partition_as_networkx_does(seed: int) -> None:
    planted = nx.planted_partition_graph(5, 16, 0.7, 0.01, seed=seed)
    edges = list(planted.edges)
    built, oracle = case_of(planted.number_of_nodes(), edges)
    truth = [{f"n{i}" for i in block} for block in planted.graph["partition"]]
    ours = [set(c) for c in analysis.communities(built, seed=seed)]
    louvain = [set(c) for c in nx.community.louvain_communities(oracle, seed=seed)]
    lpa = [set(c) for c in nx.community.asyn_lpa_communities(oracle, seed=seed)]
    nodes = list(oracle.nodes)
    assert rand_index(louvain, truth, nodes) > 0.95  # the planted blocks are there to be found
    assert rand_index(ours, truth, nodes) > 0.95
    assert rand_index(ours, louvain, nodes) > 0.95
    assert rand_index(ours, lpa, nodes) > 0.9


def test_cliques_joined_by_single_links_are_the_communities_and_the_links_the_bridges() -> None:
    cliques = [range(0, 6), range(6, 12), range(12, 18)]
    edges = [pair for clique in cliques for pair in combinations(clique, 2)] + [(5, 6), (11, 12)]
    built, _ = case_of(18, edges)
    assert {frozenset(c) for c in analysis.communities(built)} == {frozenset(f"n{i}" for i in c) for c in cliques}
    assert analysis.bridges(built) == [("n11", "n12"), ("n5", "n6")]
    assert analysis.articulation_points(built) == ["n11", "n12", "n5", "n6"]
    assert analysis.top(analysis.betweenness(built).scores, 2)[0][0] in {"n11", "n12", "n5", "n6"}


# ------------------------------------------------------------------------------------------------ views


def network() -> CaseGraph:
    """A small network with dates and provenance: a Canadian company, its director, an Indian supplier."""
    entities = [
        {"id": "co", "schema": "Company", "properties": {"name": ["Maple Chem"]}},
        {"id": "dir", "schema": "Person", "properties": {"name": ["A. Director"]}},
        {"id": "sup", "schema": "Company", "properties": {"name": ["Supplier Pvt"]}},
        {"id": "acct", "schema": "BankAccount", "properties": {"iban": ["GB33BUKB20201555555555"]}},
        {"id": "loner", "schema": "Person", "properties": {"name": ["Loner"]}},
        {
            "id": "d1",
            "schema": "Directorship",
            "properties": {"director": ["dir"], "organization": ["co"], "startDate": ["2019"]},
        },
        {
            "id": "p1",
            "schema": "Payment",
            "properties": {"payer": ["co"], "beneficiary": ["sup"], "date": ["2021-03-04"]},
        },
        {"id": "o1", "schema": "Ownership", "properties": {"owner": ["sup"], "asset": ["acct"]}},
    ]
    parties = {"co": {"CA"}, "dir": {"CA"}, "d1": {"CA"}, "p1": {"CA", "IN"}, "sup": {"IN"}, "o1": {"IN"}}
    parties |= {"acct": {"IN"}, "loner": {"CA"}}
    return build_graph([model.get_proxy(e) for e in entities], parties)


def ids(built: CaseGraph, nodes: set[int]) -> set[str]:
    return {built.entity_id(i) for i in nodes}


def test_a_neighbourhood_keeps_to_the_schemata_and_parties_asked_for() -> None:
    built = network()
    assert ids(built, neighbourhood(built, "dir", 3)) == {"dir", "co", "sup", "acct"}
    assert ids(built, neighbourhood(built, "dir", 3, schemata=frozenset({"Company"}))) == {"dir", "co", "sup"}
    assert ids(built, neighbourhood(built, "dir", 3, parties=frozenset({"CA"}))) == {"dir", "co"}
    assert ids(built, neighbourhood(built, "sup", 3, parties=frozenset({"IN"}))) == {"sup", "acct"}
    assert ids(built, neighbourhood(built, "sup", 3, parties=frozenset({"IN", "CA"}))) == {"sup", "co", "dir", "acct"}


def test_a_window_keeps_the_links_that_stood_in_it_and_undated_ones_unless_asked() -> None:
    built = network()
    before = Window(end="2018-12-31")
    assert ids(built, neighbourhood(built, "dir", 3, window=before)) == {"dir"}
    assert ids(built, neighbourhood(built, "co", 3, window=Window(start="2022-01-01"))) == {"co", "dir"}
    assert ids(built, neighbourhood(built, "co", 3, window=Window(start="2021-03-01", end="2021-03-31"))) == {
        "co",
        "dir",
        "sup",
        "acct",
    }
    dated = Window(start="2021-01-01", end="2021-12-31", dated_only=True)
    assert ids(built, neighbourhood(built, "co", 3, window=dated)) == {"co", "dir", "sup"}
    # a date of coarser precision meets the window it overlaps: "2019" stands on 2019-06-01
    assert ids(built, neighbourhood(built, "dir", 1, window=Window(start="2019-06-01", end="2019-06-01"))) == {
        "dir",
        "co",
    }


def test_a_time_slice_keeps_every_entity_and_the_links_of_the_window() -> None:
    built = network()
    sliced = time_slice(built, Window(start="2020-01-01", end="2020-12-31", dated_only=True))
    assert sliced.graph.num_nodes() == built.graph.num_nodes()
    assert sorted(data.via or "" for _, _, data in sliced.edges()) == ["d1"]
    assert analysis.components(sliced)[0] == ["co", "dir"]
    with pytest.raises(InvalidInput, match="starts"):
        Window(start="2021-02-01", end="2021-01-01")


def test_a_subgraph_keeps_the_links_between_its_nodes_with_their_relations() -> None:
    built = network()
    view = subgraph(built, neighbourhood(built, "co", 1))
    assert set(view.index) == {"co", "dir", "sup"}
    assert sorted(data.via or "" for _, _, data in view.edges()) == ["d1", "p1"]
    assert set(view.relations) == {"d1", "p1"}


def test_paths_name_their_links_and_unknown_or_unconnected_entities_are_not_found() -> None:
    built = network()
    assert shortest_path(built, "dir", "acct") == ["dir", "co", "sup", "acct"]
    assert [(s, t, d.via) for s, t, d in path_edges(built, ["dir", "co", "sup"])] == [
        ("dir", "co", "d1"),
        ("co", "sup", "p1"),
    ]
    with pytest.raises(NotFound, match="dir and loner are not connected"):
        shortest_path(built, "dir", "loner")
    with pytest.raises(NotFound, match="'ghost'"):
        shortest_path(built, "ghost", "dir")
    with pytest.raises(InvalidInput, match="hops"):
        neighbourhood(built, "dir", 7)


def test_a_relation_to_an_entity_not_held_keeps_the_missing_end_as_unknown() -> None:
    built = build_graph([person("a"), link("r", "a", "elsewhere")])
    assert built.data(built.node("elsewhere")).schema == "Unknown"
    assert analysis.pagerank(built).keys() == {"a", "elsewhere"}
    assert analysis.pagerank(build_graph([])) == {}


# ------------------------------------------------------------------------------------------------ the store


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'networks.sqlite3'}"
    migrate(url)
    made = make_engine(url)
    yield made
    made.dispose()


def test_the_cache_serves_a_case_graph_until_the_case_changes(engine: Engine) -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    cache = GraphCache(size=1)
    with engine.begin() as conn:
        ensure_case(conn, case_id="c-1", title="c", owner_agency="RCMP", origin_party=Party.CA, created_by="a", now=now)
        add_entities(conn, "c-1", [person("a"), person("b")], party=Party.CA, source="api", added_by="a", now=now)
    with engine.connect() as conn:
        first = cache.case_graph(conn, "c-1")
        assert cache.case_graph(conn, "c-1") is first
        assert first.data(first.node("a")).parties == frozenset({"CA"})
    with engine.begin() as conn:
        proxies = [link("r", "a", "b"), person("b")]
        add_entities(conn, "c-1", proxies, party=Party.IN, source="share", added_by="x", now=now)
    with engine.connect() as conn:
        second = cache.case_graph(conn, "c-1")
        assert second is not first
        assert shortest_path(second, "a", "b") == ["a", "b"]
        assert second.data(second.node("b")).parties == frozenset({"CA", "IN"})
        empty = cache.case_graph(conn, "c-2")  # a case with no entities: an empty graph, evicting the other
        assert empty.graph.num_nodes() == 0
        assert cache.case_graph(conn, "c-1") is not second
