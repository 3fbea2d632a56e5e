"""Link analysis benchmark: Accord's rustworkx path against networkx on the same generated graph, in the same run.

Usage: .venv/bin/python bench/graph.py [--nodes N] [--edges M] [--seed S] [--skip-networkx] [--skip-api] [--quick]

1. A graph of N nodes (default 200,000) and M distinct links (default 1,000,000): one end of each link drawn
   uniformly, the other from a heavy-tailed (Zipf-like) law, so that there are hubs, leaves, bridges and key players.
2. Each operation timed on both libraries (the best of a few runs for the quick ones): loading the edge list; a 2-hop
   neighbourhood of the node with the most links; shortest paths between seeded pairs; PageRank; connected
   components; articulation points. Accord's side is its own code (`accord.focus.networks`): the case graph as the
   node builds it (entity payloads on every node and link), then the functions the API calls. The answers of both
   sides are compared, and each ratio is networkx's time over Accord's.
3. Through the API: a real node (SQLite, in a temporary directory) holding a case whose hub has 1,000 neighbours,
   queried in process through its ASGI application for the hub's 2-hop neighbourhood: the first query (the graph
   built from the store) and the median and 95th percentile of the next ones (the graph cached per case version).

One JSON line goes to stdout; progress to stderr. A step that fails is reported under "errors" and the others still
run, so a partial run still says what it measured; the line then has an `error` too and the exit status is 1.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
import numpy as np
import rustworkx as rx

from accord.errors import NotFound
from accord.focus.networks import analysis
from accord.focus.networks.graph import CaseGraph, EdgeData, NodeData, neighbourhood, shortest_path
from progress import log  # bench/progress.py, beside this script
from result_line import add_run_options, fill_defaults, result_line

T = TypeVar("T")
FAST_STEP_REPEATS = 5
PATH_PAIRS = 20
API_NEIGHBOURS = 1_000
API_SECOND_RING = 3  # links from each neighbour to entities further out
API_BACKGROUND = 20_000  # other entities of the case, so the case is not only the hub's neighbourhood
API_QUERIES = 30
FULL: dict[str, Any] = {"nodes": 200_000, "edges": 1_000_000}
QUICK: dict[str, Any] = {"nodes": 2_000, "edges": 10_000}
QUICK_API = (20, 200, 3)  # hub neighbours, background entities, queries
PASSWORD = "bench-password-not-secret"
CASE = "bench-case"


def timed(fn: Callable[[], T], repeats: int = 1) -> tuple[float, T]:
    """The best time of `repeats` runs (a bound: other processes' noise is not the library's) and the last answer."""
    best = float("inf")
    answer: Any = None
    for _ in range(repeats):
        started = time.perf_counter()
        answer = fn()
        best = min(best, time.perf_counter() - started)
    return best, answer


# ---------------------------------------------------------------------------------------------------- the graph


def generate(nodes: int, edges: int, seed: int) -> list[tuple[int, int]]:
    """`edges` distinct links without self-loops between `nodes` nodes, one end heavy-tailed."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, nodes + 1) ** 0.9
    weights /= weights.sum()
    found = np.empty((0, 2), dtype=np.int64)
    while len(found) < edges:
        wanted = int((edges - len(found)) * 1.2) + 10
        a = rng.integers(0, nodes, wanted)
        b = rng.choice(nodes, size=wanted, p=weights)
        pairs = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        found = np.unique(np.concatenate([found, pairs]), axis=0)
    chosen = found[rng.permutation(len(found))[:edges]]
    return [(int(a), int(b)) for a, b in chosen]


def case_graph(nodes: int, edges: list[tuple[int, int]]) -> CaseGraph:
    """The graph as Accord holds a case: a multigraph with an entity on every node and a link on every edge."""
    built = CaseGraph()
    built.graph.add_nodes_from([NodeData(f"e{i}", "Person", f"Person {i}", frozenset({"CA"})) for i in range(nodes)])
    built.index = {f"e{i}": i for i in range(nodes)}
    link = EdgeData("associated with", None)
    built.graph.add_edges_from([(a, b, link) for a, b in edges])
    return built


def compare(nodes: int, edges: list[tuple[int, int]], seed: int, with_networkx: bool, result: dict[str, Any]) -> None:
    """Each step's figures go into `result` as it ends, its failure under result["errors"]."""
    errors: dict[str, str] = result.setdefault("errors", {})

    def step(name: str, fn: Callable[[], dict[str, Any]]) -> None:
        log(f"{name}…")
        try:
            measured = fn()
        except Exception as exc:  # a benchmark reports what failed and goes on with the next step
            errors[name] = f"{type(exc).__name__}: {exc}"
            log(f"{name} failed: {traceback.format_exc(limit=3)}")
            return
        for key, value in measured.items():
            if key.endswith("_s"):
                measured[key] = round(value, 5)
        if "rustworkx_s" in measured and "networkx_s" in measured and measured["rustworkx_s"] > 0:
            measured["ratio"] = round(measured["networkx_s"] / measured["rustworkx_s"], 1)
        result[name] = measured
        log(f"{name}: {measured}")

    state: dict[str, Any] = {}

    def load() -> dict[str, Any]:
        def bare_rustworkx() -> rx.PyGraph:
            graph = rx.PyGraph()  # the links are distinct: no need to look each one up
            graph.add_nodes_from(range(nodes))
            graph.add_edges_from_no_data(edges)
            return graph

        def bare_networkx() -> nx.Graph:
            graph = nx.Graph()
            graph.add_nodes_from(range(nodes))
            graph.add_edges_from(edges)
            return graph

        rx_s, bare = timed(bare_rustworkx, 3)
        case_s, state["case"] = timed(lambda: case_graph(nodes, edges))
        measured = {"rustworkx_s": rx_s, "case_graph_s": case_s, "edges": bare.num_edges()}
        if with_networkx:
            measured["networkx_s"], state["nx"] = timed(bare_networkx, 1)
        return measured

    step("load", load)
    if "case" not in state:
        return
    built: CaseGraph = state["case"]
    oracle: nx.Graph | None = state.get("nx")
    degrees = np.bincount(np.asarray(edges, dtype=np.int64).ravel(), minlength=nodes)
    hub = int(degrees.argmax())
    rng = np.random.default_rng(seed + 1)
    pairs = [(int(a), int(b)) for a, b in rng.integers(0, nodes, (PATH_PAIRS, 2))]

    def two_hops() -> dict[str, Any]:
        rx_s, found = timed(lambda: neighbourhood(built, f"e{hub}", 2), FAST_STEP_REPEATS)
        measured: dict[str, Any] = {"rustworkx_s": rx_s, "hub_links": int(degrees[hub]), "nodes": len(found)}
        if oracle is not None:
            nx_s, theirs = timed(
                lambda: nx.single_source_shortest_path_length(oracle, hub, cutoff=2), FAST_STEP_REPEATS
            )
            measured |= {"networkx_s": nx_s, "same_answer": set(theirs) == found}
        return measured

    def paths() -> dict[str, Any]:
        built.simple()  # built once per case graph and kept with it, as in the node

        def ours() -> list[int]:
            lengths = []
            for a, b in pairs:
                try:
                    lengths.append(len(shortest_path(built, f"e{a}", f"e{b}")) - 1)
                except NotFound:  # not connected
                    lengths.append(-1)
            return lengths

        def theirs() -> list[int]:
            assert oracle is not None
            lengths = []
            for a, b in pairs:
                try:
                    lengths.append(len(nx.shortest_path(oracle, a, b)) - 1)
                except nx.NetworkXNoPath:
                    lengths.append(-1)
            return lengths

        rx_s, found = timed(ours, 3)
        measured: dict[str, Any] = {"pairs": len(pairs), "rustworkx_s": rx_s, "mean_length": statistics.mean(found)}
        if oracle is not None:
            nx_s, expected = timed(theirs, 3)
            measured |= {"networkx_s": nx_s, "same_answer": found == expected}
        return measured

    def pagerank() -> dict[str, Any]:
        built.symmetric()  # like the simple graph, built once per case graph and kept with it

        def ours() -> dict[str, float]:
            built.memo.pop("pagerank", None)
            return analysis.pagerank(built)

        rx_s, found = timed(ours, 3)
        measured: dict[str, Any] = {"rustworkx_s": rx_s}
        if oracle is not None:
            nx_s, theirs = timed(
                lambda: nx.pagerank(
                    oracle, alpha=analysis.PAGERANK_DAMPING, tol=analysis.PAGERANK_TOLERANCE, max_iter=10_000
                ),
                1,
            )
            gap = max(abs(found[f"e{i}"] - theirs[i]) for i in range(nodes))
            measured |= {"networkx_s": nx_s, "max_difference": gap}
        return measured

    def components() -> dict[str, Any]:
        rx_s, found = timed(lambda: analysis.components(built), 3)
        measured: dict[str, Any] = {"rustworkx_s": rx_s, "components": len(found)}
        if oracle is not None:
            nx_s, theirs = timed(lambda: list(nx.connected_components(oracle)), 1)
            measured |= {"networkx_s": nx_s, "same_answer": len(theirs) == len(found)}
        return measured

    def articulation_points() -> dict[str, Any]:
        rx_s, found = timed(lambda: analysis.articulation_points(built), 3)
        measured: dict[str, Any] = {"rustworkx_s": rx_s, "articulation_points": len(found)}
        if oracle is not None:
            nx_s, theirs = timed(lambda: set(nx.articulation_points(oracle)), 1)
            measured |= {"networkx_s": nx_s, "same_answer": {f"e{i}" for i in theirs} == set(found)}
        return measured

    for name, fn in (
        ("two_hop_neighbourhood", two_hops),
        ("shortest_path", paths),
        ("pagerank", pagerank),
        ("components", components),
        ("articulation_points", articulation_points),
    ):
        step(name, fn)


# ---------------------------------------------------------------------------------------------------- the API


def api_latency(
    root: Path,
    seed: int,
    neighbours: int = API_NEIGHBOURS,
    background: int = API_BACKGROUND,
    queries: int = API_QUERIES,
) -> dict[str, Any]:
    """The hub's 2-hop neighbourhood through GET /api/v1/networks/cases/{case}/graph on a real SQLite node."""
    from fastapi.testclient import TestClient

    from accord.bootstrap import create_app, init_node
    from accord.config import load_settings
    from accord.directory.officers import Role, create_officer
    from accord.domain.parties import Party
    from accord.focus.networks.entities import check_entity
    from accord.focus.networks.store import add_entities, ensure_case

    node = init_node(load_settings(root, database_url=f"sqlite:///{(root / 'accord.sqlite3').resolve()}"), Party.IN)
    try:
        create_officer(node, "in.bench", PASSWORD, "Bench analyst", "NCB", frozenset({Role.OFFICER}))
        raw = case_entities(seed, neighbours, background)
        started = time.perf_counter()
        proxies = [check_entity(e) for e in raw]
        now = datetime.now(UTC)
        with node.engine.begin() as conn:
            ensure_case(
                conn, case_id=CASE, title="Bench", owner_agency="NCB", origin_party=Party.IN, created_by="b", now=now
            )
            add_entities(conn, CASE, proxies, party=Party.IN, source="bench", added_by="b", now=now)
        stored_s = time.perf_counter() - started
        log(f"api: {len(proxies)} entities stored in {stored_s:.1f} s")
        client = TestClient(create_app(node, delivery_workers=0))  # no lifespan: no background jobs
        token = client.post("/api/v1/token", data={"username": "in.bench", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        url = f"/api/v1/networks/cases/{CASE}/graph"
        params = {"entity": "hub", "hops": "2"}

        def query() -> dict[str, Any]:
            answer = client.get(url, params=params, headers=headers)
            answer.raise_for_status()
            body: dict[str, Any] = answer.json()
            return body

        first_s, body = timed(query)
        warm = [timed(query)[0] for _ in range(queries)]
        return {
            "case_entities": len(proxies),
            "hub_neighbours": neighbours,
            "nodes_returned": len(body["elements"]["nodes"]),
            "edges_returned": len(body["elements"]["edges"]),
            "store_s": round(stored_s, 2),
            "first_query_s": round(first_s, 4),
            "median_s": round(statistics.median(warm), 4),
            "p95_s": round(sorted(warm)[int(0.95 * (len(warm) - 1))], 4),
            "goal_s": 0.2,
        }
    finally:
        node.close()


def case_entities(seed: int, neighbours: int, background_people: int) -> list[dict[str, Any]]:
    """A hub company with `neighbours` directors and employees, each linked further out, in a background of
    people associated at random."""
    rng = np.random.default_rng(seed)
    raw: list[dict[str, Any]] = [{"id": "hub", "schema": "Company", "properties": {"name": ["Hub Trading Ltd"]}}]
    people = neighbours + neighbours * API_SECOND_RING + background_people
    raw += [{"id": f"p{i}", "schema": "Person", "properties": {"name": [f"Person {i}"]}} for i in range(people)]
    for i in range(neighbours):
        props = {"director": [f"p{i}"], "organization": ["hub"], "startDate": [f"{2010 + i % 15}"]}
        raw.append({"id": f"d{i}", "schema": "Directorship", "properties": props})
        for k in range(API_SECOND_RING):
            other = neighbours + i * API_SECOND_RING + k
            raw.append(_associate(f"a{i}-{k}", i, other))
    background = neighbours * (1 + API_SECOND_RING)
    for n, (a, b) in enumerate(rng.integers(background, people, (2 * background_people, 2))):
        if a != b:
            raw.append(_associate(f"b{n}", int(a), int(b)))
    return raw


def _associate(link_id: str, a: int, b: int) -> dict[str, Any]:
    return {"id": link_id, "schema": "Associate", "properties": {"person": [f"p{a}"], "associate": [f"p{b}"]}}


# ---------------------------------------------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--nodes", type=int, default=None, help="nodes of the graph (default 200,000)")
    parser.add_argument("--edges", type=int, default=None, help="links of the graph (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-networkx", action="store_true", help="time Accord's side only")
    parser.add_argument("--skip-api", action="store_true", help="do not measure the API's latency")
    add_run_options(parser, f"{QUICK['nodes']} nodes, {QUICK['edges']} links, a hub of {QUICK_API[0]} in the API")
    args = parser.parse_args(argv)
    fill_defaults(args, full=FULL, quick=QUICK)
    if args.nodes < 2 or not 0 < args.edges <= args.nodes * (args.nodes - 1) // 2:
        parser.error("--nodes is at least 2 and --edges between 1 and nodes × (nodes − 1) / 2")
    with result_line("graph", args) as result:
        log(f"generating {args.nodes} nodes, {args.edges} links")
        edges = generate(args.nodes, args.edges, args.seed)
        result |= {"nodes": args.nodes, "edges": len(edges), "rustworkx": rx.__version__, "networkx": nx.__version__}
        compare(args.nodes, edges, args.seed, not args.skip_networkx, result)
        if not args.skip_api:
            root = Path(tempfile.mkdtemp(prefix="accord-bench-graph-"))
            try:
                result["api_two_hop"] = api_latency(root, args.seed, *(QUICK_API if args.quick else ()))
            except Exception as exc:  # reported with the rest
                result["errors"]["api_two_hop"] = f"{type(exc).__name__}: {exc}"
                log(f"api failed: {traceback.format_exc(limit=5)}")
            finally:
                shutil.rmtree(root, ignore_errors=True)
        if result["errors"]:
            raise StepsFailed(f"{len(result['errors'])} step(s) failed: {', '.join(result['errors'])}")


class StepsFailed(Exception):
    """Steps failed (each named under "errors"); the others were measured."""


if __name__ == "__main__":
    main()
