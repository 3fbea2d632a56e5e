"""Link analysis of a case's graph on rustworkx: who matters (PageRank, betweenness), how the network falls apart
(articulation points, bridges, components) and which groups it holds (communities)."""

from __future__ import annotations

import rustworkx as rx

from accord.focus.networks.graph import CaseGraph

PAGERANK_DAMPING = 0.85


def pagerank(built: CaseGraph) -> dict[str, float]:
    """Entity id → PageRank (summing to 1). Links count both ways: an association in a link chart has no
    direction that should drain importance from one end (a passport's holder, a company's director)."""
    if built.graph.num_nodes() == 0:
        return {}
    scores = rx.pagerank(built.simple().to_directed(), alpha=PAGERANK_DAMPING, tol=1e-8, max_iter=200)
    return {built.entity_id(index): float(score) for index, score in scores.items()}
