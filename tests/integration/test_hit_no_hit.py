"""Hit/no-hit between the parties, end to end on two nodes: the operators agree a matching key (the CLI), Bureau of
Immigration imports its holdings (persons in three scripts, a forged passport), IRCC queries a batch of applicants as
encodings and sees which are hits; a hit's record is requested through the ordinary exchange (held by Canada's pack
until a legal officer assesses the risk), released by India in answer, and the indicators count it all. A query
encoded with a key India does not hold is refused; a batch with a repeated record, and a query past the period's
limit, are refused before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from accord.store.tables import match_queries
from accord.workplan.indicators import INDICATORS, IndicatorContext, load_exchange
from accord.workplan.periods import Period
from tests.integration.nodes import RunningNode, assessment, open_local, wait_for

pytestmark = pytest.mark.usefixtures("shared_sqlite_pair")

HOLDINGS = """id,name,date_of_birth,sex,nationality,document_number,phone,notes
BOI-1,Gurpreet Kaur Sandhu,1998-04-03,F,IND,P1234567,+91 98140 12345,overstay
BOI-2,हरप्रीत सिंह ढिल्लों,1987-11-20,M,IND,,,refused entry
BOI-3,ਮਨਪ੍ਰੀਤ ਕੌਰ ਗਿੱਲ,1995-06-15,F,IND,R7654321,,forged letter used
BOI-4,Rajesh Kumar Sharma,1979-01-30,M,IND,K1111111,,deported
BOI-5,Amandeep Singh Brar,1990-09-09,M,IND,,,overstay
"""
APPLICANTS = """id,name,date_of_birth,sex,nationality,document_number,phone
A-1,ਗੁਰਪ੍ਰੀਤ ਕੌਰ ਸੰਧੂ,03/04/1998,F,India,,
A-2,Harprit Dhillon,11/20/1987,M,IND,,
A-3,Manpreet Gill,15/06/1995,F,IND,R7654321,
A-4,Rajesh Kumar Sharma,1992-05-17,M,IND,Z9999999,
A-5,Jaspreet Kaur Randhawa,2001-02-28,F,IND,,
A-6,Emily Tremblay,1999-12-01,F,CAN,,
"""
HANDLING = {"classification": "Protected B", "tlp": "AMBER"}


@pytest.fixture(scope="module")
def answered(
    shared_sqlite_pair: tuple[RunningNode, RunningNode], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    ca, in_ = shared_sqlite_pair
    carried = tmp_path_factory.mktemp("key") / "k.json"
    made = ca.run_accord("match", "key", "generate", "2026-12", "--data", str(ca.data_dir))
    assert made.returncode == 0, made.stderr
    out = ca.run_accord("match", "key", "export", "2026-12", "--out", str(carried), "--data", str(ca.data_dir))
    assert out.returncode == 0, out.stderr
    taken = in_.run_accord("match", "key", "import", str(carried), "--data", str(in_.data_dir))
    assert taken.returncode == 0, taken.stderr
    with in_.client("in.boi") as boi:
        imported = boi.post(
            "/api/v1/matching/holdings/import",
            params={"type": "person", "source": "BOI watch list", "retain_until": "2030-12-31"},
            content=HOLDINGS.encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert imported.status_code == 200, imported.text
        assert imported.json()["stored"] == 5, imported.json()
        docs = boi.post(
            "/api/v1/matching/holdings/import",
            params={"type": "document", "source": "BOI forged documents", "retain_until": "2030-12-31"},
            json=[{"id": "D-1", "document_number": "X 7777 777", "document_type": "passport", "status": "forged"}],
        )
        assert docs.status_code == 200 and docs.json()["stored"] == 1, docs.text
    with ca.client("ca.ircc") as ircc:
        # An identifier alone, before any person was queried: the holdings' blind indexes are made for it.
        document = ircc.post(
            "/api/v1/matching/queries",
            json={
                "queried_agency": "BOI",
                "focus_area": "immigration",
                "type": "document",
                "records": [{"id": "DOC-1", "document_number": "x7777777"}, {"id": "DOC-2", "value": "Y1234567"}],
            },
        )
        assert document.status_code == 202, document.text
        docs_result = wait_for(
            lambda: (
                (r := ircc.get(f"/api/v1/matching/queries/{document.json()['query_id']}").json())["state"] == "answered"
                and r
            )
        )
        sent = ircc.post(
            "/api/v1/matching/queries/batch",
            params={"queried_agency": "BOI", "focus_area": "immigration"},
            content=APPLICANTS.encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert sent.status_code == 202, sent.text
        query_id = sent.json()["query_id"]
        result = wait_for(
            lambda: (r := ircc.get(f"/api/v1/matching/queries/{query_id}").json())["state"] == "answered" and r
        )
    yield {"ca": ca, "in": in_, "query": result, "documents": docs_result}


def test_the_answer_says_hit_or_no_hit_per_record_across_scripts(answered: dict[str, Any]) -> None:
    rows = {r["id"]: r for r in answered["query"]["rows"]}
    hits = {label for label, r in rows.items() if r["hit"]}
    # A-1 Gurmukhi with the day first, A-2 a romanised spelling with Singh dropped, month first, A-3 Kaur dropped:
    # each is a person BOI holds; A-4 shares a held person's name but not the date or passport.
    assert hits == {"A-1", "A-2", "A-3"}, {k: (r["hit"], r["band"]) for k, r in rows.items()}
    assert all(rows[h]["reference"] and rows[h]["band"] for h in hits)
    assert all(r["reference"] is None for label, r in rows.items() if label not in hits)
    assert answered["query"]["hits"] == 3 and answered["query"]["size"] == 6
    doc_rows = {r["id"]: r["hit"] for r in answered["documents"]["rows"]}
    assert doc_rows == {"DOC-1": True, "DOC-2": False}


def test_the_answering_node_keeps_no_queried_data(answered: dict[str, Any]) -> None:
    opened = open_local(answered["in"])
    try:
        with opened.engine.connect() as conn:
            stored = [dict(r._mapping) for r in conn.execute(select(match_queries))]
    finally:
        opened.close()
    text = json.dumps(stored, default=str)
    assert "Tremblay" not in text and "Randhawa" not in text and "A-6" not in text
    assert {r["direction"] for r in stored} == {"in"}


def test_a_hit_is_followed_up_through_the_policy_path_and_released(answered: dict[str, Any]) -> None:
    ca, in_ = answered["ca"], answered["in"]
    query_id = answered["query"]["query_id"]
    row = next(r for r in answered["query"]["rows"] if r["id"] == "A-1")
    with ca.client("ca.ircc") as ircc:
        asked = ircc.post(
            f"/api/v1/matching/queries/{query_id}/records/{row['row']}/request",
            json={
                "legal_basis": "IRPA s.8; Privacy Act s.8(2)(f); Canada–India arrangement",
                "body": "A study-permit applicant matched your holdings; we ask for the record to check whether the "
                "passport the applicant presented is a forged document.",
                "handling": HANDLING,
                "role": "other",
                "context": {"offence": "07023"},
            },
        )
        assert asked.status_code == 201, asked.text
        again = ircc.post(
            f"/api/v1/matching/queries/{query_id}/records/{row['row']}/request",
            json={"legal_basis": "IRPA s.8", "body": "again", "handling": HANDLING},
        )
        assert again.status_code == 409
        message_id = asked.json()["message_id"]
        if asked.json()["state"] == "held":  # a person named to India: a legal officer weighs the risk first
            subjects = ircc.get(f"/api/v1/messages/{message_id}").json()["subjects"]
            with ca.client("ca.legal") as legal:
                recorded = legal.post("/api/v1/assessments", json=assessment(asked.json()["case_id"], subjects))
                assert recorded.status_code == 201, recorded.text
    with in_.client("in.boi") as boi:
        pending = wait_for(
            lambda: [
                f for f in boi.get("/api/v1/matching/followups").json()["followups"] if f["message_id"] == message_id
            ]
        )
        assert pending[0]["record"]["id"] == "BOI-1"
        released = boi.post(
            f"/api/v1/matching/followups/{message_id}/release",
            json={
                "legal_basis": "Passports Act 1967 s.12; MLAT",
                "body": "The record you asked for.",
                "handling": {"classification": "Restricted", "tlp": "AMBER"},
                "role": "other",
            },
        )
        assert released.status_code == 201, released.text
        twice = boi.post(
            f"/api/v1/matching/followups/{message_id}/release",
            json={"legal_basis": "x", "body": "x", "handling": {"classification": "Restricted"}},
        )
        assert twice.status_code == 409
    if released.json()["state"] == "held":
        with in_.client("in.legal") as legal:
            decided = legal.post(
                f"/api/v1/reviews/{released.json()['message_id']}",
                json={"action": "approve", "reason": "a lawful follow-up"},
            )
            assert decided.status_code == 200, decided.text
    with ca.client("ca.ircc") as ircc:
        view = wait_for(
            lambda: (
                (r := ircc.get(f"/api/v1/matching/queries/{query_id}").json())
                and next(x for x in r["rows"] if x["id"] == "A-1")["followup"]["released_at"]
                and r
            )
        )
        followup = next(x for x in view["rows"] if x["id"] == "A-1")["followup"]
        record = ircc.get(f"/api/v1/messages/{followup['response_message_id']}").json()
    assert record["subjects"][0]["name"] == "Gurpreet Kaur Sandhu"
    opened = open_local(ca)
    try:
        now = datetime.now(UTC)
        period = Period("test", datetime(now.year, 1, 1, tzinfo=UTC), datetime(now.year + 1, 1, 1, tzinfo=UTC))
        with opened.engine.connect() as conn:
            context = IndicatorContext(conn, opened.agreement, period, now, load_exchange(conn, period, now))
            values = {i.code: i.compute(context) for i in opened.registry.all(INDICATORS) if i.module == "matching"}
    finally:
        opened.close()
    assert values["hit-no-hit-records-queried"].value == 8
    assert values["hit-no-hit-hits"].value == 4
    assert values["hit-no-hit-records-queried"].by_focus_area == {"immigration": 8.0}
    assert values["hit-no-hit-followups-requested"].value == 1
    assert values["hit-no-hit-followups-approved"].value == 1


def test_a_batch_repeating_a_record_is_refused_and_nothing_is_sent(answered: dict[str, Any]) -> None:
    ca = answered["ca"]
    batch = APPLICANTS + (
        "A-7,ਗੁਰਪ੍ਰੀਤ ਕੌਰ ਸੰਧੂ,03/04/1998,F,India,,\n"  # A-1 again under another id
        "A-1,Someone Else,2000-01-01,,,,\n"  # a repeated id
        ",No Id,,,,,\n"
        "A-9,,1990-01-01,,,,\n"  # no name
        "A-10,Bad Date,31/02/1990,,,,\n"  # no such day
    )
    with ca.client("ca.ircc") as ircc:
        before = len(ircc.get("/api/v1/matching/queries").json()["queries"])
        refused = ircc.post(
            "/api/v1/matching/queries/batch",
            params={"queried_agency": "BOI", "focus_area": "immigration"},
            content=batch.encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert refused.status_code == 422, refused.text
        lines = {e["location"][1] for e in refused.json()["errors"]}
        assert lines == {8, 9, 10, 11, 12}, refused.json()
        assert len(ircc.get("/api/v1/matching/queries").json()["queries"]) == before


def test_a_query_past_the_periods_limit_is_refused(answered: dict[str, Any]) -> None:
    ca = answered["ca"]
    opened = open_local(ca)
    try:
        with opened.engine.begin() as conn:
            conn.execute(
                insert(match_queries),
                [
                    {
                        "id": "00000000-0000-7000-8000-000000000001",
                        "direction": "out",
                        "querying_party": "CA",
                        "querying_agency": "IRCC",
                        "queried_agency": "BOI",
                        "officer": "x",
                        "focus_area": "immigration",
                        "key_id": "2026-12",
                        "size": opened.agreement.hit_no_hit.max_records_per_period - 9,
                        "hits": 0,
                        "state": "answered",
                        "reason": None,
                        "created_at": datetime.now(UTC),
                        "answered_at": None,
                    }
                ],
            )
    finally:
        opened.close()
    with ca.client("ca.ircc") as ircc:
        over = ircc.post(
            "/api/v1/matching/queries/batch",
            params={"queried_agency": "BOI", "focus_area": "immigration"},
            content=APPLICANTS.encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert over.status_code == 429, over.text
        assert int(over.headers["Retry-After"]) > 0
    opened = open_local(ca)
    try:
        with opened.engine.begin() as conn:
            conn.execute(match_queries.delete().where(match_queries.c.id == "00000000-0000-7000-8000-000000000001"))
    finally:
        opened.close()


def test_a_query_encoded_with_a_key_india_does_not_hold_is_refused(answered: dict[str, Any], tmp_path: Path) -> None:
    ca = answered["ca"]
    made = ca.run_accord("match", "key", "generate", "2027-01", "--data", str(ca.data_dir))
    assert made.returncode == 0, made.stderr
    try:
        with ca.client("ca.ircc") as ircc:
            sent = ircc.post(
                "/api/v1/matching/queries",
                json={
                    "queried_agency": "BOI",
                    "focus_area": "immigration",
                    "records": [{"id": "Z-1", "name": "Navdeep Singh"}],
                },
            )
            assert sent.status_code == 202, sent.text
            assert sent.json()["key_id"] == "2027-01"
            refused = wait_for(
                lambda: (
                    (r := ircc.get(f"/api/v1/matching/queries/{sent.json()['query_id']}").json())["state"] == "refused"
                    and r
                )
            )
        assert "2027-01" in refused["reason"]
    finally:
        retired = ca.run_accord("match", "key", "retire", "2027-01", "--data", str(ca.data_dir))
        assert retired.returncode == 0, retired.stderr


def test_a_follow_up_written_in_french_with_no_role_is_screened_like_any_request(answered: dict[str, Any]) -> None:
    """An officer who writes in French and leaves the person's role empty: the person cannot be excluded from the
    screens, so Canada's pack holds the request as it holds any request naming a person to India."""
    ca = answered["ca"]
    query_id = answered["query"]["query_id"]
    row = next(r for r in answered["query"]["rows"] if r["id"] == "A-3")
    with ca.client("ca.ircc") as ircc:
        asked = ircc.post(
            f"/api/v1/matching/queries/{query_id}/records/{row['row']}/request",
            json={
                "legal_basis": "LIPR art. 8; Loi sur la protection des renseignements personnels, al. 8(2)f)",
                "body": "La demandeuse de permis d'études correspond à vos dossiers; nous demandons la fiche pour "
                "vérifier si le passeport présenté est un document contrefait.",
                "handling": HANDLING,
                "context": {"offence": "07023"},
            },
        )
    assert asked.status_code == 201, asked.text
    assert asked.json()["state"] == "held"
    assert "ca-acmfea-assessment-required" in {p["id"] for p in asked.json()["decision"]["policies"]}
