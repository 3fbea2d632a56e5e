"""The report's figures on lawful disclosure, counted from ledger events on an in-memory store: held, approved and
refused per rule family (the family from data, by the rule id's stem), and the assurances obtained."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, create_engine, insert

from accord.ledger.events import EventType, append_events, event_row
from accord.policy.families import OTHER, rule_families
from accord.reports.disclosures import disclosure_figures
from accord.store.tables import ledger_head, metadata
from accord.workplan.periods import parse_period

IN_PERIOD = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
BEFORE = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
ASSURANCE = {
    "assurances": 1,
    "assurance1.kind": "no-death-penalty",
    "assurance1.reference": "NV-2026-114",
    "assurance1.issued_on": "2026-11-01",
    "assurance1.issuing_authority": "MEA",
}


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(ledger_head).values(id=1, size=0))
        yield connection


def _decided(message: str, verdict: str, policies: str, at: datetime) -> dict[str, object]:
    refs = {"message": message, "verdict": verdict, "pack": "ca-disclosure@1", "policies": policies}
    return event_row(EventType.POLICY_DECIDED, "officer-1", refs, b"{}", at)


def _reviewed(message: str, action: str, extra: dict[str, str | int] | None = None) -> dict[str, object]:
    refs = {"message": message, "action": action, "level": 1} | (extra or {})
    return event_row(EventType.REVIEW_DECIDED, "legal-1", refs, b"{}", IN_PERIOD)


def test_a_rule_belongs_to_the_family_its_id_continues_after_the_party_prefix() -> None:
    families = rule_families()

    assert families.family_of("ca-neutrality-text") == families.family_of("in-neutrality-text") == "neutrality"
    assert families.family_of("ca-acmfea-deputy-head") == families.family_of("in-mistreatment-mitigable")
    assert families.family_of("ca-death-penalty-assurance") == "mistreatment"
    assert families.family_of("ca-something-new") == OTHER


def test_held_approved_and_refused_disclosures_are_counted_per_family_in_the_period(conn: Connection) -> None:
    append_events(
        conn,
        [
            _decided("m-1", "review", "ca-neutrality-text,ca-privacy-basis-recognised", IN_PERIOD),
            _decided("m-2", "review", "ca-neutrality-structure", IN_PERIOD),
            _decided("m-3", "deny", "ca-mlat-evidence", IN_PERIOD),
            _decided("m-4", "allow", "ca-baseline-disclosure", IN_PERIOD),
            _decided("m-5", "review", "ca-neutrality-text", BEFORE),  # held last quarter, approved in this one
            _reviewed("m-1", "approve", ASSURANCE),
            _reviewed("m-2", "refuse"),
            _reviewed("m-5", "approve"),
            _reviewed("m-1", "escalate"),
            event_row(EventType.MESSAGE_CREATED, "officer-1", {"message": "m-6"} | ASSURANCE, b"{}", IN_PERIOD),
            event_row(EventType.MESSAGE_CREATED, "officer-1", {"message": "m-7"} | ASSURANCE, b"{}", BEFORE),
        ],
    )

    figures = disclosure_figures(conn, parse_period("2026-Q4"), rule_families())

    by_family = {row["family"]: (row["held"], row["approved"], row["refused"]) for row in figures["by_family"]}
    assert by_family == {
        "neutrality": (2, 2, 1),
        "personal-data": (1, 1, 0),
        "treaty-route": (0, 0, 1),
    }
    assert figures["assurances"] == [{"kind": "no-death-penalty", "obtained": 1, "disclosures": 2}]


def test_a_period_without_decisions_has_no_rows(conn: Connection) -> None:
    figures = disclosure_figures(conn, parse_period("2026-Q4"), rule_families())

    assert figures == {"by_family": [], "assurances": []}
