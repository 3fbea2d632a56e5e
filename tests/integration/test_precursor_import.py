"""Notifications and incidents imported from files between real nodes: over the API and through the `accord` command,
the good rows arrive at India, every bad row is reported with its line and reason and nothing of it is stored, an
unusable file is refused whole; the export reads back to the same drafts in CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from accord.datafiles import load_agreement
from accord.domain.parties import Party
from accord.focus.precursors.transfer import MAX_FILE_BYTES, FileFormat, Sender, TransferKind, parse_file
from accord.store.tables import messages
from tests.integration.nodes import RunningNode, assessment, wait_for

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
TODAY = datetime.now(UTC).date()
IMPORT = "/api/v1/precursors/import"
CSV_TYPE = {"Content-Type": "text/csv"}


@pytest.fixture(scope="module")
def shared_pair(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> tuple[RunningNode, RunningNode]:
    """A capability's rules: once, on SQLite (tests/integration/conftest.py says why)."""
    return shared_sqlite_pair


def dated(kind: str, **changes: str) -> list[dict[str, str]]:
    """The sample file's rows with its dates moved to around today (dispatch ahead, incidents behind), changed."""
    with (EXAMPLES / f"{kind}.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if kind == "notifications":
            row["dispatch_date"] = (TODAY + timedelta(days=30)).isoformat()
        else:
            row["occurred_on"] = (TODAY - timedelta(days=40)).isoformat()
            row["detected_on"] = (TODAY - timedelta(days=39)).isoformat() if row["detected_on"] else ""
        row.update(changes)
    return rows


def csv_body(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def mixed_notifications() -> list[dict[str, str]]:
    """Lines 2–6: the sample's four notifications; lines 7–13: bad ones, each for a different reason."""
    good = dated("notifications")
    one = good[2]
    past = (TODAY - timedelta(days=2)).isoformat()
    return [
        *good,
        one | {"reference": "BAD-1", "substance": "table salt"},  # line 7
        one | {"reference": "BAD-2", "purity_percent": "140"},  # line 8
        one | {"reference": "BAD-3", "dispatch_date": past},  # line 9
        one | {"reference": "BAD-4", "recipient_agency": "NCB"},  # line 10
        one | {"reference": "BAD-5", "classification": "Top Secret"},  # line 11: refused by the send path
        one | {"reference": "BAD-6"},  # line 12
        one | {"reference": "BAD-6", "carrier": "CMA CGM"},  # line 13
    ]


def stored(node: RunningNode) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())


def problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:accord:problem:{slug}", body
    return body


def listed(node: RunningNode, username: str, what: str) -> set[str]:
    with node.client(username) as client:
        return {m["id"] for m in client.get(f"/api/v1/precursors/{what}").json()[what]}


def test_good_rows_arrive_in_india_and_each_bad_row_is_reported_with_its_line(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    before = stored(ca)
    with ca.client("ca.ocs") as ocs:
        answer = ocs.post(
            IMPORT, params={"kind": "notifications"}, content=csv_body(mixed_notifications()), headers=CSV_TYPE
        )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert [(i["line"], i["lines"], i["reference"], i["state"]) for i in report["imported"]] == [
        (2, [2, 3], "PEN-CA-2026-0101", "queued"),
        (4, [4], "PEN-CA-2026-0102", "queued"),
        (5, [5], "PEN-CA-2026-0103", "queued"),
        (6, [6], "PEN-CA-2026-0104", "queued"),
    ]
    errors = {e["line"]: e["reason"] for e in report["errors"]}
    assert sorted(errors) == [7, 8, 9, 10, 11, 13]
    assert "'table salt' is not a substance of Tables I/II" in errors[7]
    assert errors[8].startswith("purity_percent: Input should be less than or equal to 100")
    assert "is already past" in errors[9]
    assert errors[10] == "notifications go to IN's competent authority CBN, not NCB"
    assert "this channel carries at most secret" in errors[11]
    assert errors[13].startswith("carrier: 'CMA CGM' here but 'Air Canada Cargo' on line 12")
    assert report["summary"] == {"imported": 4, "held": 0, "refused": 0, "errors": 6}
    assert stored(ca) == before + 4  # nothing of a bad row, not even the half of BAD-6 that was fine

    ids = {i["id"] for i in report["imported"]}
    wait_for(lambda: ids <= listed(in_, "in.cbn", "notifications"))
    with in_.client("in.cbn") as cbn:
        arrived = {n["id"]: n for n in cbn.get("/api/v1/precursors/notifications").json()["notifications"]}
    first = arrived[report["imported"][0]["id"]]
    assert [i["substance"] for i in first["notification"]["items"]] == ["NPP", "ANPP"]
    assert first["notification"]["importer"]["name"] == "Deccan Pharma Intermediates Pvt Ltd"


def test_incidents_import_with_persons_and_the_policy_refuses_one_without_a_legal_basis(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    rows = dated("incidents")
    named = rows[3] | {"reference": "INC-NAMED", "persons": "K. Example", "legal_basis": ""}  # line 6
    backwards = rows[3] | {"reference": "INC-BACKWARDS", "detected_on": (TODAY - timedelta(days=90)).isoformat()}
    before = stored(ca)
    with ca.client("ca.ocs") as ocs:
        answer = ocs.post(
            IMPORT, params={"kind": "incidents"}, content=csv_body([*rows, named, backwards]), headers=CSV_TYPE
        )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    states = {i["reference"]: i for i in report["imported"]}
    assert {r: i["state"] for r, i in states.items()} == {
        "INC-CA-2026-017": "held",  # it names two persons: ACMFEA wants an assessment first
        "INC-CA-2026-018": "queued",
        "INC-CA-2026-019": "queued",
        "INC-NAMED": "refused",
    }
    assert "ca-privacy-legal-basis" in states["INC-NAMED"]["reason"]
    assert [e["line"] for e in report["errors"]] == [7] and "is before occurred_on" in report["errors"][0]["reason"]
    assert report["summary"] == {"imported": 3, "held": 1, "refused": 1, "errors": 1}
    assert stored(ca) == before + 4  # the refused one is kept here, as refused, and never sent
    persons = [{"name": "R. Example"}, {"name": "A. Example"}]
    with ca.client("ca.ocs") as ocs, ca.client("ca.legal") as legal:
        case = ocs.get(f"/api/v1/messages/{states['INC-CA-2026-017']['id']}").json()["case_id"]
        assert legal.post("/api/v1/assessments", json=assessment(case, persons)).status_code == 201

    to_cbn = {states["INC-CA-2026-017"]["id"], states["INC-CA-2026-019"]["id"]}
    wait_for(lambda: to_cbn <= listed(in_, "in.cbn", "incidents"))
    wait_for(lambda: states["INC-CA-2026-018"]["id"] in listed(in_, "in.ncb", "incidents"))
    assert states["INC-NAMED"]["id"] not in listed(in_, "in.cbn", "incidents")
    with in_.client("in.cbn") as cbn:
        seen = {i["id"]: i for i in cbn.get("/api/v1/precursors/incidents").json()["incidents"]}
    stopped = seen[states["INC-CA-2026-017"]["id"]]
    assert stopped["persons"] == ["R. Example", "A. Example"] and len(stopped["incident"]["items"]) == 2


def test_an_export_in_csv_and_json_reads_back_to_the_drafts_that_were_imported(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    sender = Sender(load_agreement(), Party.CA, TODAY)
    sent_csv = csv_body(dated("notifications"))
    sent = parse_file(sent_csv, TransferKind.NOTIFICATIONS, FileFormat.CSV, sender).drafts
    as_json = json.dumps([p.draft.model_dump(mode="json") | {"reference": p.reference} for p in sent]).encode()
    with ca.client("ca.ocs") as ocs:
        answer = ocs.post(
            IMPORT, params={"kind": "notifications"}, content=as_json, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 200 and answer.json()["errors"] == [], answer.text
        ids = [i["id"] for i in answer.json()["imported"]]
        exported = {
            form: ocs.get("/api/v1/precursors/notifications/export", params={"format": form})
            for form in ("csv", "json")
        }
        incidents = ocs.get("/api/v1/precursors/incidents/export", params={"format": "json"})
    for form, response in exported.items():
        assert response.status_code == 200, response.text
        assert response.headers["content-disposition"].startswith('attachment; filename="notifications-ca-')
        assert response.headers["content-disposition"].endswith(f'.{form}"')
    assert exported["csv"].headers["content-type"].startswith("text/csv")
    back = {
        form: {
            p.reference: p.draft
            for p in parse_file(r.content, TransferKind.NOTIFICATIONS, FileFormat(form), sender).drafts
        }
        for form, r in exported.items()
    }
    assert back["csv"] == back["json"]
    assert [back["csv"][i] for i in ids] == [p.draft for p in sent]
    assert incidents.status_code == 200 and incidents.headers["content-type"].startswith("application/json")
    assert all(entry["kind"] == "incident" for entry in incidents.json())


def test_a_file_that_cannot_be_used_is_refused_whole_with_the_right_status(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    before = stored(ca)
    good = csv_body(dated("notifications"))
    with ca.client("ca.ocs") as ocs:
        latin = ocs.post(
            IMPORT, params={"kind": "notifications"}, content="référence\n1\n".encode("latin-1"), headers=CSV_TYPE
        )
        assert "not UTF-8" in problem(latin, 422, "unusable-file")["detail"]
        header = ocs.post(
            IMPORT, params={"kind": "notifications"}, content=b"reference,carier\nX,Y\n", headers=CSV_TYPE
        )
        assert "unknown column(s) carier" in problem(header, 422, "unusable-file")["detail"]
        wrong_kind = ocs.post(IMPORT, params={"kind": "incidents"}, content=good, headers=CSV_TYPE)
        assert "import it as notifications" in problem(wrong_kind, 422, "unusable-file")["detail"]
        no_kind = ocs.post(IMPORT, content=good, headers=CSV_TYPE)
        problem(no_kind, 422, "invalid-input")
        plain = ocs.post(IMPORT, params={"kind": "notifications"}, content=good, headers={"Content-Type": "text/plain"})
        problem(plain, 415, "unsupported-media-type")
        too_big = ocs.post(
            IMPORT, params={"kind": "notifications"}, content=good + b" " * MAX_FILE_BYTES, headers=CSV_TYPE
        )
        problem(too_big, 413, "payload-too-large")
        dry = ocs.post(IMPORT, params={"kind": "notifications", "dry_run": "true"}, content=good, headers=CSV_TYPE)
        assert dry.status_code == 200 and dry.json()["summary"]["imported"] == 4, dry.text
        assert {i["id"] for i in dry.json()["imported"]} == {None}
    assert stored(ca) == before


def test_an_officer_who_may_not_send_is_refused_and_nothing_is_stored(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, _ = shared_pair
    before = stored(ca)
    for username in ("ca.operator", "ca.legal"):
        with ca.client(username) as client:
            refused = client.post(
                IMPORT, params={"kind": "notifications"}, content=csv_body(dated("notifications")), headers=CSV_TYPE
            )
        assert "may not send" in problem(refused, 403, "forbidden")["detail"]
    assert stored(ca) == before


def accord(node: RunningNode, *args: str) -> subprocess.CompletedProcess[str]:
    return node.run_accord(*args, "--data", str(node.data_dir), env=node.env() | {"COLUMNS": "200"})


def test_the_cli_imports_with_exit_codes_for_all_some_and_none_and_exports(
    shared_pair: tuple[RunningNode, RunningNode], tmp_path: Path
) -> None:
    ca, in_ = shared_pair
    good, mixed, latin = tmp_path / "good.csv", tmp_path / "mixed.csv", tmp_path / "latin.csv"
    good.write_bytes(csv_body(dated("notifications")))
    mixed.write_bytes(csv_body(mixed_notifications()))
    latin.write_bytes("référence\n1\n".encode("latin-1"))
    before = stored(ca)

    dry = accord(ca, "precursors", "import", str(mixed), "--officer", "ca.ocs", "--dry-run")
    assert dry.returncode == 1, dry.stderr
    assert "would import 4 notifications" in dry.stdout and stored(ca) == before

    unusable = accord(ca, "precursors", "import", str(latin), "--officer", "ca.ocs")
    assert unusable.returncode == 2 and "not UTF-8" in unusable.stderr
    operator = accord(ca, "precursors", "import", str(good), "--officer", "ca.operator")
    assert operator.returncode == 2 and "ca.operator: role(s) operator may not send" in operator.stderr
    nobody = accord(ca, "precursors", "import", str(good), "--officer", "ca.nobody")
    assert nobody.returncode == 2 and "no active officer 'ca.nobody'" in nobody.stderr
    assert stored(ca) == before

    imported = accord(ca, "precursors", "import", str(good), "--officer", "ca.ocs")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "imported 4 notifications, refused by policy 0, errors 0" in imported.stdout
    some = accord(
        ca, "precursors", "import", str(mixed), "--officer", "ca.ocs", "--kind", "notifications", "--format", "csv"
    )
    assert some.returncode == 1, some.stdout + some.stderr
    assert "line 7: substance: 'table salt' is not a substance" in some.stdout
    assert "line 13: carrier: 'CMA CGM' here but 'Air Canada Cargo' on line 12" in some.stdout
    assert "imported 4 notifications, refused by policy 0, errors 6" in some.stdout
    assert stored(ca) == before + 8

    out = tmp_path / "export.json"
    exported = accord(ca, "precursors", "export", "--officer", "ca.ocs", "--kind", "notifications", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    references = {entry["reference"] for entry in json.loads(out.read_text(encoding="utf-8"))}
    with ca.engine.connect() as conn:
        newest = conn.execute(select(messages.c.id).order_by(messages.c.id.desc()).limit(8)).scalars().all()
    assert set(newest) <= references
    wait_for(lambda: set(newest) <= listed(in_, "in.cbn", "notifications"))
