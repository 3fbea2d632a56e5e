"""Link analysis of a case's graph on rustworkx: who matters (PageRank, betweenness), how the network falls apart
(articulation points, bridges, components) and which groups it holds (communities). Every measure reads the links
both ways, as a link chart does: an association has no direction that should decide who is central."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import rustworkx as rx

from accord.focus.networks.graph import CaseGraph

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Ints: TypeAlias = npt.NDArray[np.int64]
    Floats: TypeAlias = npt.NDArray[np.float64]

PAGERANK_DAMPING = 0.85
# Iterations stop when the L1 change is below nodes × this (networkx's rule): networkx's default of 1e-6 lets a graph
# of 200,000 nodes stop at an L1 change of 0.2, with scores off by 5e-3; this one keeps them within 1e-6 there.
PAGERANK_TOLERANCE = 1e-10
# Up to this many nodes betweenness is exact (Brandes, O(nodes × links)); above it, sampled.
EXACT_BETWEENNESS_NODES = 2_000
BETWEENNESS_SAMPLES = 100  # relative error about 1/√100 on the top scores; ~0.2 s a source on 1 M links
LABEL_PROPAGATION_ROUNDS = 100


def pagerank(built: CaseGraph, *, tolerance: float = PAGERANK_TOLERANCE) -> dict[str, float]:
    """Entity id → PageRank (summing to 1), computed once per graph. Links count both ways: an association in a
    link chart has no direction that should drain importance from one end (a passport's holder, a director)."""
    cached = built.memo.get("pagerank")
    if tolerance == PAGERANK_TOLERANCE and isinstance(cached, dict):
        return cached
    scores: dict[str, float] = {}
    if built.graph.num_nodes():
        ranked = rx.pagerank(built.symmetric(), alpha=PAGERANK_DAMPING, tol=tolerance, max_iter=10_000)
        scores = {built.entity_id(index): score for index, score in ranked.items()}
    if tolerance == PAGERANK_TOLERANCE:
        built.memo["pagerank"] = scores
    return scores


@dataclass(frozen=True, slots=True)
class Betweenness:
    scores: dict[str, float]  # entity id → normalised betweenness (networkx's normalisation)
    exact: bool
    sources: int  # how many sources the shortest paths were counted from (all nodes when exact)


def betweenness(built: CaseGraph, *, samples: int = BETWEENNESS_SAMPLES, seed: int = 0) -> Betweenness:
    """Betweenness centrality: exact (rustworkx's parallel Brandes) on neighbourhoods and small graphs; on a graph
    of more than EXACT_BETWEENNESS_NODES nodes, estimated from `samples` sources drawn uniformly without
    replacement (seeded), each source's dependencies accumulated as in Brandes (2001) and scaled by nodes / samples:
    the estimator of Brandes and Pich (2007), the one networkx's `betweenness_centrality(k=…)` uses. rustworkx 0.18
    has no sampled betweenness, so the sampled pass runs on numpy over rustworkx's adjacency."""
    simple = built.simple()
    n = simple.num_nodes()
    if n <= EXACT_BETWEENNESS_NODES or samples >= n:
        exact = rx.graph_betweenness_centrality(simple, normalized=True)
        return Betweenness({built.entity_id(i): float(v) for i, v in exact.items()}, True, n)
    sources = random.Random(seed).sample(range(n), samples)
    return Betweenness(_sampled_betweenness(built, sources), False, samples)


def sampled_betweenness(built: CaseGraph, sources: list[int]) -> dict[str, float]:
    """Betweenness estimated from the given source nodes (all nodes: the exact value)."""
    return _sampled_betweenness(built, sources)


def _sampled_betweenness(built: CaseGraph, sources: list[int]) -> dict[str, float]:
    # numpy loads in ~0.2 s: only a betweenness computation needs it.
    import numpy as np

    simple = built.simple()
    n = simple.num_nodes()
    indptr, indices = _adjacency(simple)
    total = np.zeros(n)
    for source in sources:
        total += _dependencies(indptr, indices, source, n)
    # networkx's scale for an undirected graph: each pair was counted from both ends when every node is a source.
    scale = (n / len(sources)) / ((n - 1) * (n - 2)) if n > 2 and sources else 0.0
    return {built.entity_id(i): float(total[i] * scale) for i in range(n)}


def _adjacency(simple: rx.PyGraph) -> tuple[Ints, Ints]:
    """Compressed sparse rows of the undirected graph (both directions of every link)."""
    import numpy as np

    n = simple.num_nodes()
    pairs = np.asarray(simple.edge_list(), dtype=np.int64).reshape(-1, 2)
    heads = np.concatenate([pairs[:, 0], pairs[:, 1]])
    tails = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.argsort(heads, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(heads, minlength=n), out=indptr[1:])
    return indptr, tails[order]


def _dependencies(indptr: Ints, indices: Ints, source: int, n: int) -> Floats:
    """Brandes' single-source pass, a breadth-first level at a time: σ (shortest-path counts) forwards, then the
    dependencies δ backwards over the links from each level to the next."""
    import numpy as np

    distance = np.full(n, -1, dtype=np.int64)
    sigma = np.zeros(n)
    distance[source], sigma[source] = 0, 1.0
    frontier = np.array([source], dtype=np.int64)
    steps: list[tuple[Ints, Ints]] = []  # per level, the (parent, child) links on shortest paths
    level = 0
    while frontier.size:
        starts, ends = indptr[frontier], indptr[frontier + 1]
        counts = ends - starts
        parents = np.repeat(frontier, counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        children = indices[np.repeat(starts, counts) + offsets]
        fresh = children[distance[children] == -1]
        distance[fresh] = level + 1
        on_path = distance[children] == level + 1
        parents, children = parents[on_path], children[on_path]
        sigma += np.bincount(children, weights=sigma[parents], minlength=n)
        steps.append((parents, children))
        frontier = np.unique(children)
        level += 1
    delta = np.zeros(n)
    for parents, children in reversed(steps):
        delta += np.bincount(parents, weights=sigma[parents] / sigma[children] * (1.0 + delta[children]), minlength=n)
    delta[source] = 0.0
    return delta


def communities(built: CaseGraph, *, seed: int = 0, rounds: int = LABEL_PROPAGATION_ROUNDS) -> list[list[str]]:
    """Communities by asynchronous label propagation (Raghavan, Albert and Kumara 2007) on the rustworkx graph,
    rustworkx 0.18 having no community detection: in a seeded random order each node takes the label most of its
    neighbours carry (ties broken by the seeded generator, a node keeping its own label when it is among the most
    frequent), until no node changes. Largest community first, entity ids sorted within each."""
    simple = built.simple()
    n = simple.num_nodes()
    neighbours = [list(simple.neighbors(i)) for i in range(n)]
    labels = list(range(n))
    rng = random.Random(seed)
    order = list(range(n))
    for _ in range(rounds):
        rng.shuffle(order)
        changed = False
        for node in order:
            if not neighbours[node]:
                continue
            counts = Counter(labels[other] for other in neighbours[node])
            top = max(counts.values())
            if counts.get(labels[node]) == top:
                continue
            labels[node] = rng.choice(sorted(label for label, count in counts.items() if count == top))
            changed = True
        if not changed:
            break
    groups: dict[int, list[str]] = {}
    for node, label in enumerate(labels):
        groups.setdefault(label, []).append(built.entity_id(node))
    return sorted((sorted(members) for members in groups.values()), key=lambda m: (-len(m), m[0]))


def components(built: CaseGraph) -> list[list[str]]:
    """Connected components (links either way), largest first, entity ids sorted within each."""
    found = rx.connected_components(built.simple())
    return sorted((sorted(built.entity_id(i) for i in c) for c in found), key=lambda m: (-len(m), m[0]))


def articulation_points(built: CaseGraph) -> list[str]:
    """The key players: entities whose removal splits their part of the network."""
    return sorted(built.entity_id(i) for i in rx.articulation_points(built.simple()))


def bridges(built: CaseGraph) -> list[tuple[str, str]]:
    """The links whose removal splits their part of the network, as sorted pairs of entity ids."""
    found: list[tuple[int, ...]] = list(rx.bridges(built.simple()))  # the stub says tuple[int]: they are pairs
    pairs = ((built.entity_id(pair[0]), built.entity_id(pair[1])) for pair in found)
    return sorted((min(a, b), max(a, b)) for a, b in pairs)


def top(scores: dict[str, float], count: int) -> list[tuple[str, float]]:
    """The `count` highest scores, ties by entity id."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:count]
