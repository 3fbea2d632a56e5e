"""A network case's graph for link charts and analysts: the whole case or an entity's neighbourhood (filtered by
schema, provenance and time) as cytoscape.js elements, the shortest paths between two entities, and the link analysis
of the view. Reads pass the case's need-to-know as its entities' reads do."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from accord.directory.officers import Officer
from accord.domain.parties import Party
from accord.errors import InvalidInput
from accord.focus.networks import analysis
from accord.focus.networks.entities import SCHEMATA
from accord.focus.networks.graph import (
    CASE_GRAPHS,
    MAX_HOPS,
    MAX_PATHS,
    UNKNOWN_SCHEMA,
    CaseGraph,
    EdgeData,
    Filters,
    Window,
    neighbourhood,
    path_edges,
    select_nodes,
    shortest_paths,
    subgraph,
)
from accord.focus.networks.store import visible_case
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import OFFICER_PROBLEMS, problems
from accord.http.parameters import Rfc3339Date
from accord.i18n import _
from accord.node import Node

router = APIRouter(tags=["networks"])
READ_PROBLEMS = (*OFFICER_PROBLEMS, 403, 404)
# A chart of more entities than this is unreadable and slow to draw: ask for a neighbourhood or filter instead.
MAX_VIEW_NODES = 5_000
MAX_LISTED = 200
MAX_TOP = 100

# Ids are text without control characters (FtM's ids; a NUL cannot reach PostgreSQL).
ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"
CaseId = Annotated[str, Path(min_length=1, max_length=36, pattern=ID_PATTERN, description="the network case's id")]
EntityId = Annotated[
    str, Query(min_length=1, max_length=256, pattern=ID_PATTERN, description="an entity id of the case")
]


class NodeOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    schema_: str = Field(alias="schema", serialization_alias="schema")
    caption: str
    parties: list[str] = Field(description="whose the entity is: CA, IN or both")
    pagerank: float = Field(description="the entity's PageRank in the whole case (links both ways)")


class EdgeOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="stable across requests: the relation (or label), source and target")
    source: str
    target: str
    label: str
    via: str | None = Field(description="the relation entity's id; null for an entity-valued property")
    dates: list[str]
    start: str | None
    end: str | None


class NodeElement(BaseModel):
    data: NodeOut


class EdgeElement(BaseModel):
    data: EdgeOut


class Elements(BaseModel):
    """cytoscape.js's elements JSON: `cy.add(elements)` loads it."""

    nodes: list[NodeElement]
    edges: list[EdgeElement]


class GraphOut(BaseModel):
    case_id: str
    elements: Elements


class PathsOut(BaseModel):
    case_id: str
    source: str
    target: str
    length: int = Field(description="links on each shortest path")
    paths: list[list[str]] = Field(description="entity ids from source to target, up to `limit` paths")
    elements: Elements = Field(description="the entities and links of the paths")


class Score(BaseModel):
    id: str
    caption: str
    score: float


class BetweennessOut(BaseModel):
    exact: bool
    sources: int = Field(description="sources the shortest paths were counted from (every node when exact)")
    top: list[Score]


class Listed(BaseModel):
    count: int
    largest: list[list[str]] = Field(description=f"the {MAX_LISTED} largest, entity ids")


class KeyPlayers(BaseModel):
    count: int
    listed: list[str] = Field(description=f"up to {MAX_LISTED}, the highest PageRank first")


class Bridges(BaseModel):
    count: int
    listed: list[list[str]] = Field(description=f"up to {MAX_LISTED} pairs of entity ids")


class AnalysisOut(BaseModel):
    case_id: str
    nodes: int
    edges: int
    pagerank: list[Score]
    betweenness: BetweennessOut
    communities: Listed = Field(description="asynchronous label propagation, seeded")
    components: Listed
    articulation_points: KeyPlayers = Field(description="entities whose removal splits the network")
    bridges: Bridges = Field(description="links whose removal splits the network")


def _filters(
    schema: list[str] | None, party: list[Party] | None, since: date | None, until: date | None, dated_only: bool
) -> Filters:
    for name in schema or []:
        if name not in SCHEMA_NAMES:
            raise InvalidInput(
                _("unknown schema {name!r}; the schemata are {join}").format(name=name, join=", ".join(SCHEMA_NAMES))
            )
    window = None
    if since is not None or until is not None or dated_only:
        window = Window(
            since.isoformat() if since else None, until.isoformat() if until else None, dated_only=dated_only
        )
    return Filters(frozenset(schema) if schema else None, frozenset(p.value for p in party) if party else None, window)


def _case_graph(node: Node, officer: Officer, case_id: str) -> CaseGraph:
    with node.engine.connect() as conn:
        visible_case(node, conn, officer, case_id)
        return CASE_GRAPHS.case_graph(conn, case_id)


def _view(built: CaseGraph, entity: str | None, hops: int, filters: Filters) -> CaseGraph:
    if entity is not None:
        nodes = neighbourhood(
            built, entity, hops, schemata=filters.schemata, parties=filters.parties, window=filters.window
        )
    elif filters == Filters():
        return built
    else:
        nodes = select_nodes(built, filters)
    return subgraph(built, nodes, filters)


# The graph and path answers are built as plain JSON and sent as they are: validating thousands of elements through
# their models again costs more than the query (the models still document the answer).
def _elements(built: CaseGraph, view: CaseGraph) -> dict[str, Any]:
    ranks = analysis.pagerank(built)
    nodes = [{"data": _node(view, i, ranks)} for i in view.graph.node_indices()]
    edges = [{"data": _edge(view.entity_id(s), view.entity_id(t), data)} for s, t, data in view.edges()]
    return {"nodes": nodes, "edges": edges}


def _node(view: CaseGraph, index: int, ranks: dict[str, float]) -> dict[str, Any]:
    data = view.data(index)
    return {
        "id": data.entity_id,
        "schema": data.schema,
        "caption": data.caption,
        "parties": sorted(data.parties),
        "pagerank": ranks.get(data.entity_id, 0.0),
    }


def _edge(source: str, target: str, data: EdgeData) -> dict[str, Any]:
    return {
        "id": f"{data.via or data.label}|{source}|{target}",
        "source": source,
        "target": target,
        "label": data.label,
        "via": data.via,
        "dates": list(data.dates),
        "start": data.start,
        "end": data.end,
    }


# One set of view parameters for the graph and its analysis.
Entity = Annotated[
    str | None,
    Query(min_length=1, max_length=256, pattern=ID_PATTERN, description="the entity whose neighbourhood to show"),
]
Hops = Annotated[int, Query(ge=0, le=MAX_HOPS, description="links from the entity (with `entity`)")]
SCHEMA_NAMES = sorted({*SCHEMATA, UNKNOWN_SCHEMA})
Schemata = Annotated[
    list[str] | None,
    Query(
        max_length=30,
        description="keep only entities of these schemata",
        json_schema_extra={"items": {"type": "string", "enum": SCHEMA_NAMES}},
    ),
]
Parties = Annotated[list[Party] | None, Query(max_length=2, description="keep only what came from these parties")]
Since = Annotated[Rfc3339Date | None, Query(alias="from", description="links standing on or after this day")]
Until = Annotated[Rfc3339Date | None, Query(alias="to", description="links standing on or before this day")]
DatedOnly = Annotated[bool, Query(description="drop links without dates from the time window")]


@router.get("/api/v1/networks/cases/{case_id}/graph", response_model=GraphOut, responses=problems(*READ_PROBLEMS))
def case_graph(
    node: NodeDep,
    officer: OfficerDep,
    case_id: CaseId,
    entity: Entity = None,
    hops: Hops = 1,
    schema: Schemata = None,
    party: Parties = None,
    since: Since = None,
    until: Until = None,
    dated_only: DatedOnly = False,
) -> JSONResponse:
    """The case's graph, or an entity's neighbourhood, as cytoscape.js elements; each entity carries its PageRank
    in the whole case (the link chart's node size). 422 when the view holds more than 5,000 entities."""
    built = _case_graph(node, officer, case_id)
    view = _view(built, entity, hops, _filters(schema, party, since, until, dated_only))
    if view.graph.num_nodes() > MAX_VIEW_NODES:
        raise InvalidInput(
            _(
                "the view holds {num_nodes} entities, more than the {MAX_VIEW_NODES} a chart can show; "
                "ask for an entity's neighbourhood or filter by schema, party or time"
            ).format(num_nodes=view.graph.num_nodes(), MAX_VIEW_NODES=MAX_VIEW_NODES)
        )
    return JSONResponse({"case_id": case_id, "elements": _elements(built, view)})


@router.get("/api/v1/networks/cases/{case_id}/path", response_model=PathsOut, responses=problems(*READ_PROBLEMS))
def case_path(
    node: NodeDep,
    officer: OfficerDep,
    case_id: CaseId,
    source: EntityId,
    target: EntityId,
    limit: Annotated[int, Query(ge=1, le=MAX_PATHS, description="how many shortest paths at most")] = 1,
) -> JSONResponse:
    """The shortest paths between two entities (links followed either way); 404 naming both when they are not
    connected, or naming an entity the case does not hold."""
    built = _case_graph(node, officer, case_id)
    paths = shortest_paths(built, source, target, limit=limit)
    on_paths = {e for path in paths for e in path}
    view = subgraph(built, (built.node(e) for e in on_paths), None)
    links: dict[str, dict[str, Any]] = {}
    for path in paths:
        for s, t, data in path_edges(built, path):
            edge = _edge(s, t, data)
            links[edge["id"]] = edge
    ranks = analysis.pagerank(built)
    elements = {
        "nodes": [{"data": _node(view, i, ranks)} for i in view.graph.node_indices()],
        "edges": [{"data": edge} for edge in links.values()],
    }
    return JSONResponse(
        {
            "case_id": case_id,
            "source": source,
            "target": target,
            "length": len(paths[0]) - 1,
            "paths": paths,
            "elements": elements,
        }
    )


@router.get("/api/v1/networks/cases/{case_id}/analysis", responses=problems(*READ_PROBLEMS))
def case_analysis(
    node: NodeDep,
    officer: OfficerDep,
    case_id: CaseId,
    entity: Entity = None,
    hops: Hops = 2,
    schema: Schemata = None,
    party: Parties = None,
    since: Since = None,
    until: Until = None,
    dated_only: DatedOnly = False,
    top: Annotated[int, Query(ge=1, le=MAX_TOP, description="how many of the most central entities")] = 10,
) -> AnalysisOut:
    """The link analysis of the case or of a view of it: the most central entities (PageRank; betweenness, exact
    up to 2,000 entities and estimated from 100 sampled sources above), communities, components, articulation
    points and bridges."""
    built = _case_graph(node, officer, case_id)
    view = _view(built, entity, hops, _filters(schema, party, since, until, dated_only))
    found = _analyse(view)
    between = found["betweenness"]
    return AnalysisOut.model_validate(
        found
        | {
            "case_id": case_id,
            "pagerank": found["pagerank"][:top],
            "betweenness": between | {"top": between["top"][:top]},
        }
    )


def _analyse(view: CaseGraph) -> dict[str, Any]:
    cached = view.memo.get("analysis")  # the whole case's view is the cached graph: analysed once per version
    if isinstance(cached, dict):
        return cached
    ranks = analysis.pagerank(view)
    between = analysis.betweenness(view)
    communities = analysis.communities(view)
    components = analysis.components(view)
    key_players = sorted(analysis.articulation_points(view), key=lambda e: (-ranks[e], e))
    bridges = analysis.bridges(view)
    result = {
        "nodes": view.graph.num_nodes(),
        "edges": view.graph.num_edges(),
        "pagerank": _scores(view, ranks),
        "betweenness": {"exact": between.exact, "sources": between.sources, "top": _scores(view, between.scores)},
        "communities": {"count": len(communities), "largest": communities[:MAX_LISTED]},
        "components": {"count": len(components), "largest": components[:MAX_LISTED]},
        "articulation_points": {"count": len(key_players), "listed": key_players[:MAX_LISTED]},
        "bridges": {"count": len(bridges), "listed": [list(pair) for pair in bridges[:MAX_LISTED]]},
    }
    view.memo["analysis"] = result
    return result


def _scores(view: CaseGraph, scores: dict[str, float]) -> list[dict[str, Any]]:
    return [{"id": e, "caption": view.data(view.node(e)).caption, "score": s} for e, s in analysis.top(scores, MAX_TOP)]
