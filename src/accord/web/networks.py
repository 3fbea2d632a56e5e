"""The network cases an officer may read, and each case's link chart (cytoscape.js, served from /static/vendor):
nodes shaped by FtM schema and coloured by provenance (ours, the partner's, both), sized by PageRank; the JSON routes
the chart calls to expand a node, find a path, and export the entities on screen as FtM JSON lines.

Every route reads the case through `visible_case`, so need-to-know applies as it does to messages.
"""

from __future__ import annotations

import gettext
import json
import math
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Row, func, select

from accord.directory.officers import Officer
from accord.errors import InvalidInput, NotFound
from accord.focus.networks.analysis import pagerank
from accord.focus.networks.entities import links_of
from accord.focus.networks.graph import CaseGraph, build_graph, neighbourhood, shortest_path
from accord.focus.networks.judgements import merged_case
from accord.focus.networks.store import list_cases, visible_case
from accord.http.dependencies import NodeDep
from accord.i18n import N_, Language, _, current_language
from accord.node import Node
from accord.store.tables import network_entities
from accord.web._pages import page
from accord.web.security import CsrfChecked, WebOfficerDep

if TYPE_CHECKING:
    from followthemoney.proxy import EntityProxy

router = APIRouter(include_in_schema=False)

# A chart opened on a larger case starts from its most central entity's neighbourhood instead of every entity.
WHOLE_CASE_LIMIT = 300
MAX_EXPORT_IDS = 20_000
_LABEL_CHARS = 48
_MIN_SIZE, _SIZE_RANGE = 26.0, 46.0
# i2-style shapes: one per kind of thing, so a printed (black-and-white) chart still tells them apart.
SHAPES = {
    "Person": "ellipse",
    "Company": "round-rectangle",
    "Organization": "hexagon",
    "LegalEntity": "octagon",
    "Address": "tag",
    "Passport": "vee",
    "Identification": "vee",
    "BankAccount": "rectangle",
    "CryptoWallet": "diamond",
    "UserAccount": "round-triangle",
    "Vehicle": "barrel",
    "Vessel": "concave-hexagon",
    "Airplane": "star",
    "Event": "round-diamond",
    "Call": "rhomboid",
    "Unknown": "ellipse",
}
PROVENANCE = {"ours": N_("ours"), "partner": N_("the partner's"), "both": N_("both sides'"), "unknown": N_("not held")}
LAYOUTS = {  # cytoscape's layouts, by the names it knows them by
    # TRANSLATORS: a layout of the link chart that places linked entities near each other (cytoscape's "cose").
    "cose": N_("cose"),
    "breadthfirst": N_("breadthfirst"),
    "concentric": N_("concentric"),
    "circle": N_("circle"),
    "grid": N_("grid"),
}


@dataclass(frozen=True, slots=True)
class _Chart:
    """A case's graph as the chart shows it, with what each node needs: provenance class and PageRank."""

    case: Row[Any]
    built: CaseGraph
    proxies: dict[str, EntityProxy]
    ranks: dict[str, float]
    ours: str

    def provenance(self, index: int) -> str:
        parties = self.built.data(index).parties
        if not parties:
            return "unknown"
        if parties == {self.ours}:
            return "ours"
        return "both" if self.ours in parties else "partner"

    def node_element(self, index: int) -> dict[str, Any]:
        # followthemoney reads its whole schema model at import (~0.9 s): imported by the pages that show entities.
        from followthemoney import model

        data = self.built.data(index)
        top = max(self.ranks.values(), default=0.0) or 1.0
        rank = self.ranks.get(data.entity_id, 0.0)
        schema = model.get(data.schema)
        caption = data.caption if len(data.caption) <= _LABEL_CHARS else data.caption[: _LABEL_CHARS - 1] + "…"
        return {
            "data": {
                "id": data.entity_id,
                "label": caption,
                "caption": data.caption,
                "schema": data.schema,
                "schemaLabel": _ftm_text(schema.label) if schema is not None else _("Not held in this case"),
                "shape": SHAPES.get(data.schema, "ellipse"),
                "provenance": self.provenance(index),
                "parties": sorted(data.parties),
                "rank": round(rank, 6),
                "size": round(_MIN_SIZE + _SIZE_RANGE * math.sqrt(rank / top), 1),
            }
        }

    def elements(self, indices: set[int]) -> dict[str, list[dict[str, Any]]]:
        """The nodes and the links among them."""
        edges: dict[str, dict[str, Any]] = {}
        for index in indices:
            for source, target, link in self.built.graph.out_edges(index):
                if target not in indices:
                    continue
                ends = (self.built.entity_id(source), self.built.entity_id(target))
                edge_id = f"{link.via or '~'}|{ends[0]}|{ends[1]}|{link.label}"
                label = _ftm_text(link.label)
                edges[edge_id] = {
                    "data": {"id": edge_id, "source": ends[0], "target": ends[1], "label": label, "via": link.via}
                }
        nodes = [self.node_element(i) for i in sorted(indices, key=self.built.entity_id)]
        return {"nodes": nodes, "edges": [edges[k] for k in sorted(edges)]}


@cache
def _ftm_catalogue(language: Language) -> gettext.NullTranslations:
    from followthemoney.util import i18n_path

    return gettext.translation("followthemoney", i18n_path, [language.value], fallback=True)


def _ftm_text(english: str) -> str:
    """A FollowTheMoney schema or property label in the language of the request, from FtM's own catalogues (French
    is there; a language FtM lacks reads English). FtM hands out its English labels: its model locale is never set."""
    return _ftm_catalogue(current_language()).gettext(english)


def _chart(node: Node, officer: Officer, case_id: str) -> _Chart:
    with node.engine.connect() as conn:
        case = visible_case(node, conn, officer, case_id)
        merged = merged_case(node, conn, officer, case_id)  # entities judged the same shown as one
    proxies = merged.entities
    built = build_graph(proxies, merged.parties)
    return _Chart(case, built, {p.id: p for p in proxies if p.id}, pagerank(built), node.party.value)


def _entity_counts(node: Node) -> dict[str, int]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(network_entities.c.case_id, func.count()).group_by(network_entities.c.case_id)).all()
    return {case_id: count for case_id, count in rows}


@router.get("/networks")
def networks(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    counts = _entity_counts(node)
    cases = [{"case": row, "entities": counts.get(row.case_id, 0)} for row in list_cases(node, officer)]
    return page(request, "networks.html.j2", officer, cases=cases)


@router.get("/networks/{case_id}")
def chart(request: Request, node: NodeDep, officer: WebOfficerDep, case_id: str) -> HTMLResponse:
    shown = _chart(node, officer, case_id)
    built = shown.built
    start = request.query_params.get("entity") or ""
    if not start and built.graph.num_nodes() > WHOLE_CASE_LIMIT:
        start = max(shown.ranks, key=lambda entity_id: shown.ranks[entity_id])
    indices = neighbourhood(built, start, 1) if start else set(built.graph.node_indices())
    things = sorted(
        (built.data(i) for i in built.graph.node_indices()), key=lambda d: (d.caption.casefold(), d.entity_id)
    )
    base = f"/networks/{case_id}"
    setup = {
        "elements": shown.elements(indices),
        "start": start,
        "urls": {"neighbours": base + "/neighbours", "path": base + "/path", "export": base + "/export"},
        "fileName": case_id,
    }
    return page(
        request,
        "networks_chart.html.j2",
        officer,
        case=shown.case,
        setup=setup,
        start=start,
        things=things,
        schemata=sorted({d.schema for d in things}),
        schema_labels={d.schema: _schema_label(d.schema) for d in things},
        shapes=SHAPES,
        provenance=PROVENANCE,
        layouts=LAYOUTS,
        partner=node.party.other.value,
        total=len(things),
    )


def _schema_label(name: str) -> str:
    from followthemoney import model

    schema = model.get(name)
    return _ftm_text(schema.plural) if schema is not None else _("Not held in this case")


@router.get("/networks/{case_id}/neighbours")
def neighbours(node: NodeDep, officer: WebOfficerDep, case_id: str, entity: str, hops: int = 1) -> JSONResponse:
    """The entity's neighbourhood, for expanding it on the chart."""
    shown = _chart(node, officer, case_id)
    try:
        indices = neighbourhood(shown.built, entity, hops)
    except (InvalidInput, NotFound) as problem:
        return JSONResponse({"detail": problem.detail}, status_code=problem.status)
    return JSONResponse({"entity": entity, "elements": shown.elements(indices)})


@router.get("/networks/{case_id}/path")
def path(node: NodeDep, officer: WebOfficerDep, case_id: str, source: str = "", target: str = "") -> JSONResponse:
    """A shortest path between two entities, links followed either way; a sentence when there is none."""
    shown = _chart(node, officer, case_id)
    if not source or not target:
        return JSONResponse({"detail": _("choose the two entities to join")}, status_code=422)
    try:
        found = shortest_path(shown.built, source, target)
    except NotFound as problem:
        return JSONResponse({"detail": _unconnected(shown, source, target) or problem.detail}, status_code=404)
    indices = {shown.built.node(entity_id) for entity_id in found}
    return JSONResponse(
        {"path": found, "captions": [_caption(shown, e) for e in found], "elements": shown.elements(indices)}
    )


def _unconnected(shown: _Chart, source: str, target: str) -> str | None:
    """The sentence for two held entities with no path between them; None when an id is not in the case."""
    if source not in shown.built.index or target not in shown.built.index:
        return None
    return _("{source} and {target} are not connected in this case's graph").format(
        source=_caption(shown, source), target=_caption(shown, target)
    )


def _caption(shown: _Chart, entity_id: str) -> str:
    return shown.built.data(shown.built.node(entity_id)).caption


@router.post("/networks/{case_id}/export", dependencies=[CsrfChecked])
async def export(request: Request, node: NodeDep, officer: WebOfficerDep, case_id: str) -> Response:
    """The entities on the chart, and the relations among them, as FtM JSON lines."""
    shown = _chart(node, officer, case_id)
    try:
        asked = json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError):
        asked = None
    ids = asked.get("entities") if isinstance(asked, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > MAX_EXPORT_IDS:
        detail = _("send the ids of the entities to export (at most {limit})").format(limit=MAX_EXPORT_IDS)
        return JSONResponse({"detail": detail}, 422)
    chosen = set(ids) & set(shown.proxies)
    relations = [
        proxy
        for proxy in shown.built.relations.values()
        if any(link.source in chosen and link.target in chosen for link in links_of(proxy))
    ]
    lines = [json.dumps(shown.proxies[i].to_dict(), ensure_ascii=False, sort_keys=True) for i in sorted(chosen)]
    lines += [json.dumps(p.to_dict(), ensure_ascii=False, sort_keys=True) for p in relations]
    return Response(
        "".join(line + "\n" for line in lines),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{case_id}.ftm.json"'},
    )
