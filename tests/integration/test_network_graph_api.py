"""The network graph API on a running node: a case's graph as cytoscape.js elements (whole, a neighbourhood, filtered
by schema, party and time), the path between a Canadian company and an Indian supplier, the link analysis, need to
know (403/404) and clear refusals of bad ids, hops and dates; a change to the case is seen by the next query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from accord.domain.parties import Party
from accord.focus.networks.entities import check_entity
from accord.focus.networks.store import add_entities, ensure_case
from tests.integration.nodes import RunningNode

CASE = "net-graph-1"
URL = f"/api/v1/networks/cases/{CASE}"
NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)

OURS = [
    {"id": "in-sup", "schema": "Company", "properties": {"name": ["Shakti Chemicals Pvt Ltd"], "country": ["in"]}},
    {"id": "in-acct", "schema": "BankAccount", "properties": {"accountNumber": ["50100012345678"]}},
    {"id": "in-own", "schema": "Ownership", "properties": {"owner": ["in-sup"], "asset": ["in-acct"]}},
    {"id": "in-loner", "schema": "Person", "properties": {"name": ["Unconnected Person"]}},
]
THEIRS = [
    {"id": "ca-co", "schema": "Company", "properties": {"name": ["Maple Precursors Inc"], "country": ["ca"]}},
    {"id": "ca-dir", "schema": "Person", "properties": {"name": ["Jean Tremblay"]}},
    {
        "id": "ca-d1",
        "schema": "Directorship",
        "properties": {"director": ["ca-dir"], "organization": ["ca-co"], "startDate": ["2019"]},
    },
    {
        "id": "ca-pay",
        "schema": "Payment",
        "properties": {"payer": ["ca-co"], "beneficiary": ["in-sup"], "date": ["2021-03-04"]},
    },
]


@pytest.fixture(scope="module")
def shared_pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> tuple[RunningNode, RunningNode]:
    """A capability's rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair


def add(node: RunningNode, raw: list[dict[str, Any]], party: Party) -> None:
    with node.engine.begin() as conn:
        ensure_case(
            conn,
            case_id=CASE,
            title="Precursor network",
            owner_agency="NCB",
            origin_party=Party.IN,
            created_by="t",
            now=NOW,
        )
        proxies = [check_entity(e) for e in raw]
        add_entities(conn, CASE, proxies, party=party, source="test", added_by="t", now=NOW)


@pytest.fixture(scope="module")
def india(shared_pair: tuple[RunningNode, RunningNode]) -> Iterator[RunningNode]:
    _, in_ = shared_pair
    add(in_, OURS, Party.IN)
    add(in_, THEIRS, Party.CA)
    yield in_


@pytest.fixture(scope="module")
def ncb(india: RunningNode) -> Iterator[httpx.Client]:
    with india.client("in.ncb") as client:
        yield client


def elements(answer: httpx.Response) -> tuple[set[str], set[tuple[str, str, str | None]]]:
    assert answer.status_code == 200, answer.text
    found = answer.json()["elements"]
    nodes = {n["data"]["id"] for n in found["nodes"]}
    edges = {(e["data"]["source"], e["data"]["target"], e["data"]["via"]) for e in found["edges"]}
    return nodes, edges


def test_the_case_graph_loads_as_cytoscape_elements_with_pagerank(ncb: httpx.Client) -> None:
    answer = ncb.get(f"{URL}/graph")
    nodes, edges = elements(answer)
    assert nodes == {"in-sup", "in-acct", "in-loner", "ca-co", "ca-dir"}
    assert edges == {("in-sup", "in-acct", "in-own"), ("ca-dir", "ca-co", "ca-d1"), ("ca-co", "in-sup", "ca-pay")}
    by_id = {n["data"]["id"]: n["data"] for n in answer.json()["elements"]["nodes"]}
    assert by_id["in-sup"]["parties"] == ["IN"] and by_id["ca-co"]["parties"] == ["CA"]
    assert by_id["in-sup"]["schema"] == "Company"
    assert abs(sum(n["pagerank"] for n in by_id.values()) - 1.0) < 1e-6
    assert max(by_id, key=lambda e: by_id[e]["pagerank"]) in {"ca-co", "in-sup"}
    edge = next(e["data"] for e in answer.json()["elements"]["edges"] if e["data"]["via"] == "ca-pay")
    assert edge["id"] == "ca-pay|ca-co|in-sup" and edge["dates"] == ["2021-03-04"]


def test_a_neighbourhood_is_filtered_by_schema_party_and_time(ncb: httpx.Client) -> None:
    assert elements(ncb.get(f"{URL}/graph", params={"entity": "ca-dir", "hops": 2}))[0] == {"ca-dir", "ca-co", "in-sup"}
    companies = {"entity": "ca-dir", "hops": 3, "schema": ["Company"]}
    assert elements(ncb.get(f"{URL}/graph", params=companies))[0] == {"ca-dir", "ca-co", "in-sup"}
    assert elements(ncb.get(f"{URL}/graph", params={"entity": "in-sup", "hops": 3, "party": "IN"}))[0] == {
        "in-sup",
        "in-acct",
    }
    in_2020 = {"entity": "in-sup", "hops": 3, "from": "2020-01-01", "to": "2020-12-31"}
    assert elements(ncb.get(f"{URL}/graph", params=in_2020))[0] == {"in-sup", "in-acct"}
    dated = in_2020 | {"from": "2021-01-01", "to": "2021-12-31", "dated_only": "true"}
    nodes, edges = elements(ncb.get(f"{URL}/graph", params=dated))
    assert nodes == {"in-sup", "ca-co", "ca-dir"} and len(edges) == 2


def test_the_path_from_the_canadian_company_to_the_indian_supplier_s_account(ncb: httpx.Client) -> None:
    answer = ncb.get(f"{URL}/path", params={"source": "ca-dir", "target": "in-acct"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["paths"] == [["ca-dir", "ca-co", "in-sup", "in-acct"]] and answer.json()["length"] == 3
    nodes, edges = elements(answer)
    assert nodes == {"ca-dir", "ca-co", "in-sup", "in-acct"} and {via for _, _, via in edges} == {
        "ca-d1",
        "ca-pay",
        "in-own",
    }
    apart = ncb.get(f"{URL}/path", params={"source": "ca-dir", "target": "in-loner"})
    assert apart.status_code == 404 and "ca-dir and in-loner are not connected" in apart.json()["detail"]
    unknown = ncb.get(f"{URL}/path", params={"source": "ghost", "target": "in-loner"})
    assert unknown.status_code == 404 and "'ghost'" in unknown.json()["detail"]


def test_the_analysis_names_the_key_players_bridges_and_groups(ncb: httpx.Client) -> None:
    answer = ncb.get(f"{URL}/analysis", params={"top": 2})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["nodes"], found["edges"]) == (5, 3)
    assert len(found["pagerank"]) == 2 and found["betweenness"]["exact"] is True
    assert {s["id"] for s in found["betweenness"]["top"]} == {"ca-co", "in-sup"}
    assert set(found["articulation_points"]["listed"]) == {"ca-co", "in-sup"}
    assert found["bridges"]["count"] == 3
    assert found["components"]["largest"] == [["ca-co", "ca-dir", "in-acct", "in-sup"], ["in-loner"]]
    assert sum(len(c) for c in found["communities"]["largest"]) == 5
    around = ncb.get(f"{URL}/analysis", params={"entity": "ca-dir", "hops": 1}).json()
    assert (around["nodes"], around["components"]["count"]) == (2, 1)


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"entity": "ca-dir", "hops": 7}, 422, "hops"),
        ({"entity": "nobody"}, 404, "'nobody'"),
        ({"from": "2021-13-01"}, 422, "query.from"),
        ({"from": "2022-01-01", "to": "2021-01-01"}, 422, "after it ends"),
        ({"schema": "Spaceship"}, 422, "unknown schema 'Spaceship'"),
        ({"party": "FR"}, 422, "party"),
    ],
)
def test_bad_queries_are_refused_with_a_sentence(
    ncb: httpx.Client, params: dict[str, Any], status: int, says: str
) -> None:
    answer = ncb.get(f"{URL}/graph", params=params)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert says in answer.text


def test_need_to_know_applies_and_a_case_not_held_is_not_found(india: RunningNode, ncb: httpx.Client) -> None:
    with india.client("in.ncb.cyber") as cyber:
        assert cyber.get(f"{URL}/graph").status_code == 403
        assert cyber.get(f"{URL}/path", params={"source": "ca-dir", "target": "in-acct"}).status_code == 403
    assert ncb.get("/api/v1/networks/cases/no-such-case/analysis").status_code == 404


def test_an_entity_added_to_the_case_is_in_the_next_query(india: RunningNode, ncb: httpx.Client) -> None:
    assert ncb.get(f"{URL}/path", params={"source": "ca-dir", "target": "in-loner"}).status_code == 404
    link = {"id": "in-assoc", "schema": "Associate", "properties": {"person": ["in-loner"], "associate": ["ca-dir"]}}
    add(india, [link], Party.IN)
    answer = ncb.get(f"{URL}/path", params={"source": "ca-dir", "target": "in-loner"})
    assert answer.status_code == 200 and answer.json()["paths"] == [["ca-dir", "in-loner"]]
