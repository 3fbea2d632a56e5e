"""Controlled-substance look-up and the precursor risk rules, on realistic notifications."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from accord.datafiles import load_agreement
from accord.domain.notifications import (
    ConsignmentItem,
    ImportRecord,
    PenAnswer,
    PreExportNotification,
    RecordedItem,
    Trader,
    TransportMode,
)
from accord.errors import InvalidInput
from accord.focus.precursors.notifications import escalation, notification_status, resolve_items
from accord.focus.precursors.risk import PastNotification, assess, importer_key
from accord.focus.precursors.substances import load_substances, valid_cas


def test_every_fentanyl_precursor_is_listed_with_its_cnd_decision_cas_and_hs_code() -> None:
    listed = load_substances()
    fentanyl = {s.code: s for s in listed.substances if s.fentanyl_precursor}
    assert set(fentanyl) == {"anpp", "npp", "4-ap", "1-boc-4-ap", "norfentanyl", "4-piperidone", "1-boc-4-piperidone"}
    assert fentanyl["4-ap"].cas == "23056-29-3" and fentanyl["4-ap"].scheduled is not None
    assert fentanyl["4-ap"].scheduled.decision == "CND 65/4"
    assert fentanyl["anpp"].hs == "2933.36" and fentanyl["npp"].hs == "2933.37"
    assert {s.table for s in listed.substances} == {"I", "II"}
    assert all(valid_cas(s.cas) for s in listed.substances if s.cas)


@pytest.mark.parametrize(
    ("query", "code", "how"),
    [
        ("23056-29-3", "4-ap", "cas"),
        ("4-AP", "4-ap", "synonym"),
        ("phenylacetone", "p2p", "synonym"),
        ("Sulfuric Acid", "sulphuric-acid", "synonym"),
        ("norfentanil", "norfentanyl", "fuzzy"),
        ("pseudoephidrine", "pseudoephedrine", "fuzzy"),
        ("2933.36", "anpp", "hs"),
    ],
)
def test_look_up_by_cas_name_synonym_hs_and_misspelling(query: str, code: str, how: str) -> None:
    first = load_substances().find(query)[0]
    assert (first.substance.code, first.matched_on) == (code, how)


def test_an_unknown_substance_is_refused_with_suggestions() -> None:
    with pytest.raises(InvalidInput, match="did you mean"):
        load_substances().resolve("pseudoephidrin")
    with pytest.raises(InvalidInput, match="not a substance"):
        load_substances().resolve("table salt")
    assert not valid_cas("23056-29-4")  # wrong check digit


def notification(**changes: object) -> PreExportNotification:
    base: dict[str, object] = {
        "exporter": Trader(
            name="Maple Fine Chemicals Inc.",
            address="12 Industrial Rd, Mississauga ON",
            country="CA",
            licence="HC-PCR-2026-0413",
        ),
        "importer": Trader(
            name="Deccan Pharma Intermediates Pvt Ltd",
            address="Plot 7, MIDC, Pune",
            country="IN",
            licence="CBN/NOC/2026/118",
        ),
        "items": (
            ConsignmentItem(
                substance="4-piperidone",
                quantity_kg=25,
                purity_percent=98.5,
                salt_form="hydrochloride monohydrate",
                hs_code="2933.39",
            ),
        ),
        "transport_mode": TransportMode.SEA,
        "carrier": "Example Line",
        "route": ("SG",),
        "port_of_exit": "Vancouver",
        "point_of_entry": "Nhava Sheva",
        "dispatch_date": date(2026, 12, 15),
        "export_permit": "HC-EXP-2026-8841",
    }
    base.update(changes)
    return PreExportNotification.model_validate(base)


def history(n: int, quantity: float) -> list[PastNotification]:
    key = importer_key(notification())
    return [PastNotification(key, "4-piperidone", quantity) for _ in range(n)]


def rules_hit(pen: PreExportNotification, past: list[PastNotification]) -> set[str]:
    return {flag.rule for flag in assess(pen, resolve_items(pen), past)}


def test_a_regular_shipment_to_a_known_licensed_importer_raises_no_flag() -> None:
    assert rules_hit(notification(), history(3, 20)) == set()


def test_each_rule_flags_its_own_realistic_case() -> None:
    mismatched = notification(
        items=(ConsignmentItem(substance="ANPP", quantity_kg=5, purity_percent=99, hs_code="2933.39"),)
    )
    assert "hs-code-mismatch" in rules_hit(mismatched, [])
    protected = notification(
        items=(
            ConsignmentItem(substance="1-benzyl-4-piperidone", quantity_kg=50, purity_percent=99, hs_code="2933.39"),
        )
    )
    assert "unscheduled-analogue" in rules_hit(protected, history(3, 20))
    big = notification(
        items=(ConsignmentItem(substance="4-piperidone", quantity_kg=400, purity_percent=98, hs_code="2933.39"),)
    )
    assert rules_hit(big, history(3, 20)) == {"quantity-above-history"}
    assert rules_hit(notification(), []) == {"new-importer"}
    unlicensed = notification(importer=Trader(name="Deccan Pharma Intermediates Pvt Ltd", address="Pune", country="IN"))
    assert "unlicensed-importer" in rules_hit(unlicensed, history(3, 20))
    via_watch_list = notification(route=("AE", "SG"))
    assert rules_hit(via_watch_list, history(3, 20)) == {"watch-list-transit"}


def test_bad_notifications_are_refused_before_any_rule_runs() -> None:
    with pytest.raises(ValueError):
        notification(items=(ConsignmentItem(substance="4-AP", quantity_kg=1, purity_percent=140, hs_code="2933.39"),))
    with pytest.raises(ValueError):
        notification(items=(ConsignmentItem(substance="4-AP", quantity_kg=-3, purity_percent=90, hs_code="2933.39"),))
    with pytest.raises(ValueError):
        notification(route=("UAE",))
    with pytest.raises(InvalidInput):
        resolve_items(
            notification(
                items=(ConsignmentItem(substance="sugar", quantity_kg=1, purity_percent=90, hs_code="1701.99"),)
            )
        )
    with pytest.raises(ValueError, match="grounds"):
        PenAnswer.model_validate({"decision": "objected"})


def test_status_follows_the_answers_and_the_deadline() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    later, earlier = now + timedelta(days=3), now - timedelta(days=1)
    assert notification_status([], later, now) == "pending"
    assert notification_status([], earlier, now) == "overdue"
    assert notification_status([{"decision": "info_requested"}], later, now) == "info_requested"
    assert notification_status([{"decision": "info_requested"}, {"decision": "objected"}], earlier, now) == "objected"
    assert notification_status([{"decision": "cleared"}], earlier, now) == "cleared"


def record(**changes: object) -> ImportRecord:
    base: dict[str, object] = {
        "importer": "DECCAN PHARMA INTERMEDIATES PVT. LTD.",
        "items": (RecordedItem(substance="4-Piperidone", quantity_kg=25.9),),
        "point_of_entry": "Nhava Sheva",
    }
    base.update(changes)
    return ImportRecord.model_validate(base)


def mismatch(pen: PreExportNotification, *records: ImportRecord) -> str | None:
    flags = [
        f for f in assess(pen, resolve_items(pen), history(3, 20), records=records) if f.rule == "records-disagree"
    ]
    return flags[0].reason if flags else None


def test_the_two_sides_records_agree_within_the_tolerance_and_differ_beyond_it() -> None:
    pen = notification()
    assert mismatch(pen) is None  # no record from the importing side yet
    assert mismatch(pen, record()) is None  # 25.9 kg against 25 kg is within 5 %; case and dots do not count
    over = mismatch(pen, record(items=(RecordedItem(substance="piperidin-4-one", quantity_kg=27),)))
    assert over is not None and "4-piperidone: 27 kg recorded against 25 kg notified" in over
    other = mismatch(pen, record(importer="Konkan Traders", point_of_entry="Mundra"))
    assert other is not None and "importer 'Konkan Traders'" in other and "point of entry 'Mundra'" in other
    extra = mismatch(pen, record(items=(*record().items, RecordedItem(substance="ANPP", quantity_kg=5))))
    assert extra is not None and "anpp only in the importing side's record" in extra
    swapped = mismatch(pen, record(items=(RecordedItem(substance="ANPP", quantity_kg=25),)))
    assert swapped is not None and "4-piperidone only in the exporting side's record" in swapped
    latest = mismatch(pen, record(importer="Konkan Traders"), record())
    assert latest is None  # the latest record counts


def test_silence_escalates_after_the_agreed_working_days() -> None:
    agreement = load_agreement()
    deadline = datetime(2026, 12, 4, 12, tzinfo=UTC)  # a Friday
    assert escalation(agreement, "pending", deadline, deadline - timedelta(days=1)) is None
    assert escalation(agreement, "cleared", deadline, deadline + timedelta(days=30)) is None
    first = escalation(agreement, "overdue", deadline, deadline + timedelta(days=1))
    assert first is not None and first["level"] == 1
    # Five working days after Friday 4 December is Friday 11 December: the weekend does not count.
    assert escalation(agreement, "overdue", deadline, datetime(2026, 12, 11, 11, tzinfo=UTC))["level"] == 1  # type: ignore[index]
    second = escalation(agreement, "overdue", deadline, datetime(2026, 12, 11, 13, tzinfo=UTC))
    assert second is not None and second["level"] == 2 and second["since"].startswith("2026-12-11")
