"""Notifications and incidents from CSV and JSON files: grouping rows into items, every bad row named with its line and
reason, a file that cannot be read refused whole, and an export that reads back to the same drafts."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from accord.datafiles import load_agreement
from accord.domain.parties import Party
from accord.focus.precursors.transfer import (
    MAX_ROWS,
    ExportedDraft,
    FileFormat,
    ParsedFile,
    Sender,
    TransferKind,
    UnsupportedFormat,
    UnusableFile,
    csv_rows,
    parse_file,
    render_file,
)

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
# The sample files' dates are for a day in late November 2026: dispatch dates ahead, incident dates behind.
TODAY = date(2026, 11, 25)
CANADA = Sender(load_agreement(), Party.CA, TODAY)
PEN, INCIDENTS = TransferKind.NOTIFICATIONS, TransferKind.INCIDENTS
CSV, JSON = FileFormat.CSV, FileFormat.JSON


def sample(kind: TransferKind) -> list[dict[str, str]]:
    with (EXAMPLES / f"{kind.value}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def csv_file(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def parse(kind: TransferKind, rows: list[dict[str, str]]) -> ParsedFile:
    return parse_file(csv_file(rows), kind, CSV, CANADA)


def one_pen(**changes: str) -> list[dict[str, str]]:
    """The single-item notification of the sample (line 2 of its file), changed."""
    return [sample(PEN)[2] | changes]


def one_incident(**changes: str) -> list[dict[str, str]]:
    return [sample(INCIDENTS)[2] | changes]


def reasons(parsed: ParsedFile) -> dict[int, str]:
    return {e.line: e.reason for e in parsed.errors}


def test_the_sample_files_import_cleanly_with_rows_grouped_into_items() -> None:
    pens = parse_file((EXAMPLES / "notifications.csv").read_bytes(), PEN, CSV, CANADA)
    assert pens.errors == () and pens.rows == 5
    assert [(p.reference, p.lines) for p in pens.drafts] == [
        ("PEN-CA-2026-0101", (2, 3)),
        ("PEN-CA-2026-0102", (4,)),
        ("PEN-CA-2026-0103", (5,)),
        ("PEN-CA-2026-0104", (6,)),
    ]
    first = pens.drafts[0].draft
    assert first.kind == "pen" and first.focus_area == "drugs" and first.recipient_agency == "CBN"
    assert first.notification is not None
    assert [(i.substance, i.quantity_kg, i.hs_code) for i in first.notification.items] == [
        ("NPP", 25, "2933.37"),
        ("ANPP", 10, "2933.36"),
    ]
    assert (
        first.notification.route == ("SG",) and first.title == "PEN: NPP, ANPP to Deccan Pharma Intermediates Pvt Ltd"
    )
    courier = pens.drafts[2].draft.notification
    assert courier is not None and courier.consignee is not None and courier.consignee.name.startswith("Gujarat")
    assert courier.items[0].salt_form == "hydrochloride" and pens.drafts[2].draft.handling.caveats == ("H0", "H2")

    incidents = parse_file((EXAMPLES / "incidents.csv").read_bytes(), INCIDENTS, CSV, CANADA)
    assert incidents.errors == () and [p.lines for p in incidents.drafts] == [(2, 3), (4,), (5,)]
    stopped = incidents.drafts[0].draft
    assert stopped.incident is not None and len(stopped.incident.items) == 2
    assert stopped.incident.place.latitude == pytest.approx(49.287) and stopped.incident.route == ("CA", "SG", "IN")
    exporter = stopped.incident.companies[0]
    assert (exporter.name, exporter.country, exporter.role) == ("Coastline Trading Ltd", "CA", "exporter")
    assert [(s.kind.value, s.name, s.role) for s in stopped.subjects] == [
        ("person", "R. Example", "suspect"),
        ("person", "A. Example", "other"),
    ]


def test_the_recipient_defaults_to_the_other_partys_competent_authority() -> None:
    parsed = parse(PEN, one_pen(recipient_agency=""))
    assert parsed.errors == () and parsed.drafts[0].draft.recipient_agency == "CBN"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"substance": "table salt"}, "substance: 'table salt' is not a substance of Tables I/II"),
        ({"purity_percent": "140"}, "purity_percent: Input should be less than or equal to 100 (got '140')"),
        ({"quantity_kg": "0"}, "quantity_kg: Input should be greater than 0"),
        ({"quantity_kg": "12,5"}, "quantity_kg: Input should be a valid number"),
        ({"dispatch_date": "2026-11-01"}, "the expected dispatch date 2026-11-01 is already past"),
        ({"dispatch_date": "2028-01-10"}, "more than a year away"),
        ({"dispatch_date": "18/01/2027"}, "dispatch_date: Input should be a valid date"),
        ({"recipient_agency": "NCB"}, "notifications go to IN's competent authority CBN, not NCB"),
        ({"importer_country": "CA"}, "the importer must be in IN"),
        ({"exporter_country": "IN"}, "the exporter of a notification sent by CA is in CA, not IN"),
        ({"transport_mode": "boat"}, "transport_mode: Input should be 'sea', 'air'"),
        ({"route": "Singapore"}, "route lists countries as ISO 3166-1 alpha-2 codes"),
        ({"hs_code": "29 33"}, "hs_code: String should match pattern"),
        ({"tlp": "PURPLE"}, "tlp: Input should be"),
        ({"exporter_name": ""}, "exporter_name: empty"),
        ({"reference": ""}, "reference: empty"),
    ],
)
def test_a_bad_notification_row_is_reported_with_its_line_and_reason(changes: dict[str, str], expected: str) -> None:
    parsed = parse(PEN, [*one_pen(reference="GOOD"), *one_pen(**changes)])
    assert [p.reference for p in parsed.drafts] == ["GOOD"]
    assert list(reasons(parsed)) == [3] and expected in reasons(parsed)[3], parsed.errors


def test_an_item_error_names_the_items_own_line_and_stops_the_whole_notification() -> None:
    rows = sample(PEN)
    rows[1] |= {"substance": "piperidine-4-ol-ish", "purity_percent": "101"}
    parsed = parse(PEN, rows)
    assert "PEN-CA-2026-0101" not in {p.reference for p in parsed.drafts} and len(parsed.drafts) == 3
    assert list(reasons(parsed)) == [3]
    assert reasons(parsed)[3].startswith("purity_percent: Input should be less than or equal to 100")
    assert reasons(parsed)[3].endswith("(reference PEN-CA-2026-0101, lines 2, 3: not imported)")


def test_rows_of_one_notification_that_disagree_on_the_shipment_are_refused_naming_line_and_column() -> None:
    rows = sample(PEN)
    rows[1] |= {"carrier": "CMA CGM", "dispatch_date": "2027-01-19"}
    parsed = parse(PEN, rows)
    assert [p.reference for p in parsed.drafts] == ["PEN-CA-2026-0102", "PEN-CA-2026-0103", "PEN-CA-2026-0104"]
    [carrier, dispatch] = [e for e in parsed.errors if e.line == 3]
    assert carrier.reason.startswith("carrier: 'CMA CGM' here but 'Maersk Line' on line 2;")
    assert dispatch.reason.startswith("dispatch_date: '2027-01-19' here but '2027-01-18' on line 2")


def test_rows_sharing_a_reference_need_not_be_next_to_each_other() -> None:
    rows = sample(PEN)
    parsed = parse(PEN, [rows[0], rows[2], rows[1]])
    assert [(p.reference, p.lines) for p in parsed.drafts] == [("PEN-CA-2026-0101", (2, 4)), ("PEN-CA-2026-0102", (3,))]


def test_line_numbers_are_physical_lines_when_a_quoted_note_spans_several() -> None:
    rows = [
        *one_pen(reference="A", note="first line\nsecond line\nthird line"),
        *one_pen(reference="B", quantity_kg="-1"),
    ]
    parsed = parse(PEN, rows)
    assert parsed.drafts[0].draft.body == "first line\nsecond line\nthird line"
    assert list(reasons(parsed)) == [5]


def test_a_row_with_the_wrong_number_of_cells_is_refused_with_its_whole_notification() -> None:
    data = csv_file(sample(PEN)).decode().splitlines()
    data[2] = data[2].replace('"12 Industrial Rd, Mississauga ON L5T 2H6"', "12 Industrial Rd, Mississauga ON L5T 2H6")
    parsed = parse_file("\n".join(data).encode(), PEN, CSV, CANADA)
    assert "PEN-CA-2026-0101" not in {p.reference for p in parsed.drafts} and len(parsed.drafts) == 3
    assert "the row has 36 cells, the header 35" in reasons(parsed)[3]
    assert "line(s) 3 of this notification are bad" in reasons(parsed)[2]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"detected_on": "2026-09-01"}, "detected_on 2026-09-01 is before occurred_on 2026-11-02"),
        ({"occurred_on": "2026-12-01", "detected_on": ""}, "occurred_on 2026-12-01 is in the future"),
        ({"latitude": "95"}, "latitude: Input should be less than or equal to 90"),
        ({"place_country": "India"}, "place_country: String should match pattern"),
        ({"kind": "theft"}, "kind: Input should be 'seizure'"),
        ({"companies": "Western Ghats Traders"}, "companies: 'Western Ghats Traders' is not name:country"),
        ({"companies": "Western Ghats Traders:India"}, "companies: String should match pattern"),
        ({"substance": "bleach"}, "substance: 'bleach' is not a substance of Tables I/II"),
        ({"recipient_agency": ""}, "recipient_agency: empty"),
    ],
)
def test_a_bad_incident_row_is_reported_with_its_line_and_reason(changes: dict[str, str], expected: str) -> None:
    parsed = parse(INCIDENTS, [*one_incident(reference="GOOD"), *one_incident(**changes)])
    assert [p.reference for p in parsed.drafts] == ["GOOD"]
    assert list(reasons(parsed)) == [3] and expected in reasons(parsed)[3], parsed.errors


def test_persons_are_suspects_unless_a_role_or_an_empty_role_is_given() -> None:
    parsed = parse(INCIDENTS, one_incident(persons="R. Example; W. Example:witness ;D. Example:", legal_basis="MLAT"))
    assert [(s.name, s.role) for s in parsed.drafts[0].draft.subjects] == [
        ("R. Example", "suspect"),
        ("W. Example", "witness"),
        ("D. Example", None),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"\n \n", "the file is empty"),
        (b"reference,classification\n", "missing column(s) exporter_name"),
        (b"Reference;Classification\n1;2\n", "unknown column(s) reference;classification"),
        (b"reference,classification,carier\n", "unknown column(s) carier"),
        ("référence\n1\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 1)"),
        (b'a,"b\n', "the CSV cannot be read"),
    ],
)
def test_a_file_that_cannot_be_read_as_a_whole_is_refused_and_nothing_is_imported(data: bytes, expected: str) -> None:
    with pytest.raises(UnusableFile) as refused:
        parse_file(data, PEN, CSV, CANADA)
    assert expected in refused.value.detail


def test_a_header_without_rows_a_repeated_column_or_the_other_kinds_header_is_refused() -> None:
    header = csv_file(sample(PEN)).decode().splitlines()[0]
    with pytest.raises(UnusableFile, match="a header but no rows"):
        parse_file(f"{header}\n\n".encode(), PEN, CSV, CANADA)
    with pytest.raises(UnusableFile, match=r"repeated column\(s\) carrier"):
        parse_file(f"{header},carrier\n".encode(), PEN, CSV, CANADA)
    with pytest.raises(UnusableFile, match="this looks like a file of incidents: import it as incidents"):
        parse_file(csv_file(sample(INCIDENTS)), PEN, CSV, CANADA)


def test_more_rows_than_the_limit_refuse_the_file() -> None:
    row = one_pen()[0]
    with pytest.raises(UnusableFile, match=f"more than {MAX_ROWS} rows"):
        parse(PEN, [row] * (MAX_ROWS + 1))


def test_a_byte_order_mark_and_header_case_and_order_do_not_matter() -> None:
    rows = [{k.upper(): v for k, v in reversed(list(row.items()))} for row in sample(PEN)]
    parsed = parse_file(b"\xef\xbb\xbf" + csv_file(rows), PEN, CSV, CANADA)
    assert parsed.errors == () and len(parsed.drafts) == 4


def drafts_json(kind: TransferKind) -> list[dict[str, Any]]:
    parsed = parse_file((EXAMPLES / f"{kind.value}.csv").read_bytes(), kind, CSV, CANADA)
    return list(json.loads(render_file(kind, JSON, [ExportedDraft(p.reference or "", p.draft) for p in parsed.drafts])))


def test_json_drafts_import_with_errors_by_array_index() -> None:
    entries = drafts_json(PEN)
    entries[1]["notification"]["items"][0]["substance"] = "sugar"
    entries[2]["handling"] = {}
    del entries[3]["kind"], entries[3]["focus_area"], entries[3]["reference"]
    entries.append({"kind": "request", "recipient_agency": "CBN", "handling": {"classification": "Protected A"}})
    parsed = parse_file(json.dumps([*entries, "PEN-1"]).encode(), PEN, JSON, CANADA)
    assert [(p.reference, p.lines) for p in parsed.drafts] == [("PEN-CA-2026-0101", (0,)), (None, (3,))]
    found = [(e.line, e.reason) for e in parsed.errors]
    assert found[0][0] == 1 and found[0][1].startswith("notification.items.0.substance: 'sugar' is not a substance")
    assert found[1:] == [
        (2, "handling.classification: Field required"),
        (4, "title: Field required"),
        (4, "body: Field required"),
        (5, "a draft is a JSON object, not str"),
    ]


def test_a_json_draft_of_the_wrong_kind_is_refused() -> None:
    entry = drafts_json(INCIDENTS)[1]
    parsed = parse_file(json.dumps([entry]).encode(), PEN, JSON, CANADA)
    assert parsed.drafts == () and reasons(parsed) == {0: "kind: 'incident'; a file of notifications holds 'pen'"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"{}", "an array of message drafts"), (b"[]", "the array is empty"), (b"[{]", "not valid JSON")],
)
def test_a_json_file_that_is_not_an_array_of_drafts_is_refused(data: bytes, expected: str) -> None:
    with pytest.raises(UnusableFile, match=expected):
        parse_file(data, PEN, JSON, CANADA)


@pytest.mark.parametrize("kind", [PEN, INCIDENTS])
def test_an_export_reads_back_to_the_same_drafts_in_either_format(kind: TransferKind) -> None:
    original = parse_file((EXAMPLES / f"{kind.value}.csv").read_bytes(), kind, CSV, CANADA).drafts
    exported = [ExportedDraft(f"id-{n}", p.draft) for n, p in enumerate(original)]
    as_csv = parse_file(render_file(kind, CSV, exported), kind, CSV, CANADA)
    as_json = parse_file(render_file(kind, JSON, exported), kind, JSON, CANADA)
    assert as_csv.errors == () == as_json.errors
    assert [(p.reference, p.draft) for p in as_csv.drafts] == [(e.reference, e.draft) for e in exported]
    assert [(p.reference, p.draft) for p in as_json.drafts] == [(e.reference, e.draft) for e in exported]


def test_a_formula_in_a_cell_is_defused_in_the_export_and_restored_on_import() -> None:
    [parsed] = parse(PEN, one_pen(carrier='=HYPERLINK("http://x.example","Track")', note="-check the permit")).drafts
    exported = ExportedDraft("id-1", parsed.draft)
    text = render_file(PEN, CSV, [exported]).decode()
    assert "'=HYPERLINK" in text and "'-check the permit" in text
    [again] = parse_file(text.encode(), PEN, CSV, CANADA).drafts
    assert again.draft == parsed.draft
    [incident] = parse(INCIDENTS, one_incident(longitude="-123.09")).drafts
    assert csv_rows(INCIDENTS, ExportedDraft("i", incident.draft))[0]["longitude"] == "-123.09"


def test_the_format_comes_from_the_media_type_or_the_extension() -> None:
    assert FileFormat.for_media_type("text/csv; charset=UTF-8") is CSV
    assert FileFormat.for_media_type("application/json") is JSON
    assert FileFormat.for_path(Path("pens.CSV")) is CSV
    with pytest.raises(UnsupportedFormat, match="not text/plain"):
        FileFormat.for_media_type("text/plain")
    with pytest.raises(UnsupportedFormat, match="windows-1252; send it as UTF-8"):
        FileFormat.for_media_type("text/csv; charset=windows-1252")
    with pytest.raises(UnsupportedFormat, match=r"'pens\.xlsx'"):
        FileFormat.for_path(Path("pens.xlsx"))
