"""Network cases on a running node, through the API and `accord network`: open a case, add FtM entities all or none
(a bad batch answered with each bad entity's position and reason, nothing stored), read the summary and the entities
with their provenance, export FtM, GEXF and GraphML; import a CSV through an FtM mapping (row errors, dry run, exit
codes 0/1/2, one ledger event); and need-to-know: 403 for another agency, 404 for no such case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from accord.store.tables import events
from tests.integration.nodes import RunningNode

MAPPING = """
rcmp_precursors:
  queries:
    - entities:
        company:
          schema: Company
          keys: [company]
          properties:
            name: {column: company}
            jurisdiction: {column: country}
        director:
          schema: Person
          keys: [director]
          properties:
            name: {column: director}
            phone: {column: phone}
            birthDate: {column: born}
        directorship:
          schema: Directorship
          key_literal: directorship
          keys: [company, director]
          properties:
            organization: {entity: company}
            director: {entity: director}
"""
GOOD_CSV = "company,country,director,phone,born\nMaple Chemicals Ltd,ca,John Smith,+1 416 555 0100,1970-01-02\n"
BAD_ROW = "Ganga Traders Pvt,in,Ravi Kumar,+91 98765 43210,not a date\n"


@pytest.fixture(scope="module")
def ca(shared_pair: tuple[RunningNode, RunningNode]) -> RunningNode:
    return shared_pair[0]


def entities(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": "p-1", "schema": "Person", "properties": {"name": ["Arjun Mehta"], "phone": ["+91 98765 43210"]}},
        {"id": "c-1", "schema": "Company", "properties": {"name": ["Maple Chemicals Ltd"]}},
        {"id": "o-1", "schema": "Ownership", "properties": {"owner": ["p-1"], "asset": ["c-1"]}},
        *extra,
    ]


def network_events(node: RunningNode, case_id: str) -> list[dict[str, Any]]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(events.c.refs).where(events.c.type == "network.entities_added")).scalars()
        return [refs for refs in (json.loads(r) for r in rows) if refs["case"] == case_id]


def test_an_analyst_opens_a_case_adds_entities_reads_and_exports_them(ca: RunningNode) -> None:
    with ca.client("ca.rcmp") as rcmp:
        opened = rcmp.post("/api/v1/networks/cases", json={"title": "Precursor ring", "case_id": "api-case"})
        assert opened.status_code == 201, opened.text
        assert opened.json()["owner_agency"] == "RCMP"
        assert rcmp.post("/api/v1/networks/cases", json={"title": "again", "case_id": "api-case"}).status_code == 409

        added = rcmp.post("/api/v1/networks/cases/api-case/entities", json=entities())
        assert added.status_code == 201, added.text
        assert sorted(added.json()["new"]) == ["c-1", "o-1", "p-1"]
        again = rcmp.post("/api/v1/networks/cases/api-case/entities", json=entities()[:1])
        assert again.json()["merged"] == ["p-1"]

        summary = rcmp.get("/api/v1/networks/cases/api-case").json()
        assert (summary["entities"], summary["by_schema"], summary["by_party"]) == (
            3,
            {"Company": 1, "Ownership": 1, "Person": 1},
            {"CA": 3},
        )
        assert [
            c["entities"] for c in rcmp.get("/api/v1/networks/cases").json()["cases"] if c["case_id"] == "api-case"
        ] == [3]
        listed = {e["id"]: e for e in rcmp.get("/api/v1/networks/cases/api-case/entities").json()["entities"]}
        assert listed["p-1"]["properties"]["phone"] == ["+919876543210"]
        assert [(a["party"], a["source"], a["added_by"]) for a in listed["p-1"]["provenance"]] == [
            ("CA", "api", "ca.rcmp"),
            ("CA", "api", "ca.rcmp"),
        ]

        ftm = rcmp.get("/api/v1/networks/cases/api-case/export", params={"format": "ftm"})
        assert ftm.headers["content-type"].startswith("application/x-ndjson")
        assert sorted(json.loads(line)["id"] for line in ftm.text.splitlines()) == ["c-1", "o-1", "p-1"]
        for form, root in (("gexf", "<gexf"), ("graphml", "<graphml")):
            exported = rcmp.get("/api/v1/networks/cases/api-case/export", params={"format": form})
            assert exported.status_code == 200 and root in exported.text and "Arjun Mehta" in exported.text
    assert [e["count"] for e in network_events(ca, "api-case")] == [3, 1]


def test_a_batch_with_bad_entities_is_refused_whole_with_each_by_position(ca: RunningNode) -> None:
    with ca.client("ca.rcmp") as rcmp:
        rcmp.post("/api/v1/networks/cases", json={"title": "Refusals", "case_id": "api-refused"}).raise_for_status()
        bad = entities(
            {"id": "x-1", "schema": "Persn", "properties": {}},
            {"id": "o-2", "schema": "Ownership", "properties": {"owner": ["p-1"], "asset": ["ghost"]}},
            {"id": "p-2", "schema": "Person", "properties": {"name": ["A"], "birthDate": ["soon"]}},
        )
        refused = rcmp.post("/api/v1/networks/cases/api-refused/entities", json=bad)
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["refused"] == 3
        assert [e["location"] for e in problem["errors"]] == [["body", 3], ["body", 4], ["body", 5]]
        assert problem["entities"] == [
            {"position": 4, "id": "x-1"},
            {"position": 5, "id": "o-2"},
            {"position": 6, "id": "p-2"},
        ]
        assert "ghost, which is neither" in problem["errors"][1]["message"]
        assert rcmp.get("/api/v1/networks/cases/api-refused").json()["entities"] == 0
    assert network_events(ca, "api-refused") == []


def test_need_to_know_and_roles_decide_who_reads_and_adds(ca: RunningNode) -> None:
    with ca.client("ca.rcmp") as rcmp:
        rcmp.post("/api/v1/networks/cases", json={"title": "RCMP only", "case_id": "api-rcmp"}).raise_for_status()
    with ca.client("ca.cbsa") as cbsa:
        for path in ("", "/entities", "/export?format=gexf"):
            assert cbsa.get(f"/api/v1/networks/cases/api-rcmp{path}").status_code == 403
        assert cbsa.post("/api/v1/networks/cases/api-rcmp/entities", json=entities()).status_code == 403
        assert "api-rcmp" not in [c["case_id"] for c in cbsa.get("/api/v1/networks/cases").json()["cases"]]
        assert cbsa.get("/api/v1/networks/cases/no-such-case").status_code == 404
    with ca.client("ca.operator") as operator:
        refused = operator.post("/api/v1/networks/cases", json={"title": "Not mine to open"})
        assert refused.status_code == 403
    assert httpx.get(ca.url + "/api/v1/networks/cases").status_code == 401


def test_accord_network_import_maps_a_csv_reports_rows_and_exits_by_what_was_stored(
    ca: RunningNode, tmp_path: Path
) -> None:
    mapping = tmp_path / "rcmp.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    table = tmp_path / "network.csv"
    table.write_text(GOOD_CSV + BAD_ROW, encoding="utf-8")
    data = str(ca.data_dir)
    base = ("network", "import", str(table), "--data", data, "--case", "cli-case", "--mapping", str(mapping))

    dry = ca.run_accord(*base, "--officer", "ca.rcmp", "--title", "CLI ring", "--dry-run")
    assert dry.returncode == 1, dry.stderr
    assert "line 3: director: 'not a date' is not a valid date for birthDate" in dry.stdout
    assert "would store 4 entities" in dry.stdout and "nothing stored" in dry.stdout
    assert "cli-case" not in ca.run_accord("network", "cases", "--data", data, "--officer", "ca.rcmp").stdout

    done = ca.run_accord(*base, "--officer", "ca.rcmp", "--title", "CLI ring")
    assert done.returncode == 1, done.stderr
    assert "stored 4 entities (4 new, 0 merged" in done.stdout
    assert [(e["count"], e["source"]) for e in network_events(ca, "cli-case")] == [
        (4, "import network.csv mapped by rcmp.yml")
    ]
    table.write_text(GOOD_CSV, encoding="utf-8")
    clean = ca.run_accord(*base, "--officer", "ca.rcmp")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "3 merged into held ones" in clean.stdout

    listed = ca.run_accord("network", "cases", "--data", data, "--officer", "ca.rcmp")
    assert "cli-case" in listed.stdout and "CLI ring" in listed.stdout
    out = tmp_path / "case.graphml"
    exported = ca.run_accord(
        "network",
        "export",
        "--data",
        data,
        "--officer",
        "ca.rcmp",
        "--case",
        "cli-case",
        "--format",
        "graphml",
        "--out",
        str(out),
    )
    assert exported.returncode == 0, exported.stderr
    assert "John Smith" in out.read_text(encoding="utf-8")

    other_agency = ca.run_accord(*base, "--officer", "ca.cbsa")
    assert other_agency.returncode == 2 and "no need to know" in other_agency.stderr
    (tmp_path / "broken.yml").write_text("entities:\n  p: [\n", encoding="utf-8")
    broken = ca.run_accord(*base[:-1], str(tmp_path / "broken.yml"), "--officer", "ca.rcmp")
    assert broken.returncode == 2 and "does not parse as YAML" in broken.stderr
    assert len(network_events(ca, "cli-case")) == 2  # the refused and the dry runs logged nothing
