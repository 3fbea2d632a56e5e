"""Minimisation: the persons a disclosure describes are counted in its subjects, its text and its attachments (CSV,
XLSX, JSON, PDF, plain text; headings and names in English, French, Hindi and Punjabi); an attachment that cannot be
read is "not screened", never an error; above the pack's threshold the message is held with the hit/no-hit remedy."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
import weasyprint
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.datafiles import load_agreement
from accord.domain.handling import Handling
from accord.domain.messages import Address, AttachmentRef, Message, Subject, SubjectKind
from accord.domain.parties import Party
from accord.exchange.attachment_persons import NotScreened, count_persons_in
from accord.policy.engine import CedarPolicy, Verdict
from accord.policy.pack import load_pack, shipped_pack_dir
from accord.policy.persons import person_records
from accord.policy.screens import AttachmentPersons, Evidence
from tests.assessed import assessed
from tests.person_lists import applicants, as_csv, as_json, as_lines, as_pdf, as_xlsx, encrypted_pdf
from tests.unit.test_language import INVISIBLE_CHARACTERS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _no_budget() -> None:
    return None


def count(data: bytes, media_type: str, name: str) -> int:
    return count_persons_in(data, media_type, name, _no_budget)


# ---------------------------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    ("data", "media_type", "name"),
    [
        (as_csv(applicants(500)), "text/csv", "applicants.csv"),
        (as_xlsx(applicants(500)), XLSX, "applicants.xlsx"),
        (as_json(applicants(500)), "application/json", "applicants.json"),
        (as_pdf(as_lines(applicants(500)).splitlines()), "application/pdf", "applicants.pdf"),
        (as_lines(applicants(500)).encode(), "text/plain", "applicants.txt"),
    ],
    ids=["csv", "xlsx", "json", "pdf", "text"],
)
def test_five_hundred_applicants_are_counted_in_every_format_the_screen_reads(
    data: bytes, media_type: str, name: str
) -> None:
    assert count(data, media_type, name) == 500
    # A mislabelled file is read for what it is: its bytes decide, before the declared type.
    if media_type in (XLSX, "application/pdf"):
        assert count(data, "application/octet-stream", "upload.bin") == 500


def test_three_persons_are_three() -> None:
    assert count(as_csv(applicants(3)), "text/csv", "three.csv") == 3
    assert person_records().count_text(as_lines(applicants(3))) == 3


@pytest.mark.parametrize(
    ("script", "heading"),
    [
        ("devanagari", ("नाम", "जन्म तिथि", "पासपोर्ट संख्या")),
        ("gurmukhi", ("ਨਾਮ", "ਜਨਮ ਮਿਤੀ", "ਪਾਸਪੋਰਟ ਨੰਬਰ")),
        ("latin", ("Nom de famille", "Date de naissance", "Numéro de passeport")),
        ("latin", ("applicant_name", "dateOfBirth", "passport-no")),
    ],
)
def test_headings_in_hindi_punjabi_french_and_as_keys_name_the_columns(
    script: str, heading: tuple[str, str, str]
) -> None:
    people = applicants(40, script=script)
    assert count(as_csv(people, heading), "text/csv", "list.csv") == 40
    assert count(as_xlsx(people, heading), XLSX, "list.xlsx") == 40


def test_devanagari_and_gurmukhi_names_with_indic_digits_are_records_in_text() -> None:
    records = person_records()
    hindi = "\n".join(f"{p.name}, जन्म तिथि: १५/०८/१९९०" for p in applicants(12, script="devanagari"))
    punjabi = "\n".join(f"{p.name}, ਜਨਮ ਮਿਤੀ ੧੨-੦੩-੧੯੮੮" for p in applicants(12, script="gurmukhi"))
    assert records.count_text(hindi) == 12
    assert records.count_text(punjabi) == 12
    assert records.count_text(as_lines(applicants(15, script="gurmukhi"))) == 15


def test_forms_count_a_labelled_name_followed_by_its_date_of_birth() -> None:
    form = "Name: Amrit Sandhu\nDate of birth: 12 March 1985\n\nNom : Luc Roy\nNé le 1 avril 1990\nName: Only A Name\n"
    assert person_records().count_text(form) == 2


def test_not_every_capitalised_word_is_a_person() -> None:
    prose = (
        "The Consignment left Nhava Sheva on 2026-10-02 aboard the MSC Example and reached the Port of Vancouver\n"
        "on 2026-10-29. Example Chem Pvt Ltd, IEC 0512345678, declared it as Industrial Adhesive (HS 3506).\n"
        "Meeting In New Delhi On 2026-11-20 With The Narcotics Control Bureau And The Royal Canadian Mounted Police\n"
        "Name, Date of birth, Passport\n"
        "Please Verify The Following Applicants Against Your Records\n"
    )
    assert person_records().count_text(prose) == 0
    heading_only = as_csv([])
    assert count(heading_only, "text/csv", "empty.csv") == 0


def test_a_person_named_in_a_sentence_counts_only_with_a_labelled_date_of_birth_or_identifier() -> None:
    records = person_records()
    assert records.count_text("Kindly locate Rajesh Kumar, born 3 March 1980, last seen in Surrey.") == 1
    assert records.count_text("Rajesh Kumar s/o Ram Kumar DOB 03/02/1980 passport Z1234567") == 1
    assert records.count_text("Rajesh Kumar met the broker in New Delhi on 2026-11-20.") == 0


@pytest.mark.parametrize(
    ("line", "persons"),
    [
        ("Rajesh Kumar March 3, 1980 Z9876501", 1),  # a table's row as text extraction gives it, a US date
        ("Rajesh Kumar Sept. 4, 1975 Z9876508", 1),
        ("Harpreet Singh, born March 3, 1980", 1),
        ("Kumar, Rajesh, March 3, 1980", 1),  # surname first, then the date
        ("Kindly locate Rajesh Kumar, born March 3, 1980, last seen in Surrey.", 1),
        ("Amrit Pal Gill, né le 3 mars, 1985", 1),
        # as officers write them: in Hindi and Punjabi, victims and witnesses, a date of birth said in passing
        ("राजेश कुमार, जन्म 3 मार्च, 1980", 1),
        ("राजेश कुमार, जन्म तिथि: मार्च ३, १९८०", 1),
        ("ਹਰਪ੍ਰੀਤ ਸਿੰਘ, ਜਨਮ ਮਾਰਚ 3, 1980", 1),
        ("The witness, Pooja Saini (born March 3, 1990), saw the truck leave.", 1),
        ("Victime : Amrit Pal Gill, née le 3 mars, 1985", 1),
        ("Témoin: Harpreet Singh, date de naissance 15 août, 1979", 1),
        ("We understand the victim Pooja Saini was born on March 3, 1990, in Ludhiana.", 1),
        ("The shipment reached Nhava Sheva on March 3, 1980, and left on March 9, 1980.", 0),
        ("Rajesh Kumar met the broker in New Delhi on March 3, 2026.", 0),
    ],
)
def test_a_date_written_with_a_comma_is_one_field_of_the_line(line: str, persons: int) -> None:
    """A line is read field by field, cut at commas and the like; a date's own comma ("March 3, 1980") does not cut
    it, or the name and the date of birth it gives would be read apart and the person not counted."""
    assert person_records().count_text(line) == persons


def test_a_list_of_persons_with_us_dates_is_bulk_personal_data() -> None:
    months = ["March 3, 1980", "Sept. 4, 1975", "December 25, 1990", "Jan 1, 2001", "AUGUST 15, 1947"]
    lines = [f"{n}. Rajesh Kumar, {months[n % 5]}, Z98765{n:02d}" for n in range(1, 12)]
    assert person_records().count_text("\n".join(lines)) == 11


@settings(max_examples=300)
@given(st.sampled_from(INVISIBLE_CHARACTERS), st.integers(min_value=1, max_value=3), st.data())
def test_an_invisible_character_inside_a_date_or_an_identifier_does_not_hide_the_person(
    hidden: str, where: int, data: st.DataObject
) -> None:
    """A zero-width space, a soft hyphen, a word joiner… inside a date of birth or a passport number (typed, or
    pasted from a PDF): the person is counted as without it, in text and in a table."""
    value = data.draw(st.sampled_from(["3 March 1980", "March 3, 1980", "1980-03-03", "१९८०-०३-०३", "Z1234567"]))
    cut = min(where, len(value) - 1)
    hidden_in = value[:cut] + hidden + value[cut:]
    records = person_records()
    label = "passport" if value.startswith("Z") else "born"
    assert records.count_text(f"Rajesh Kumar, {label} {hidden_in}") == 1
    assert records.count_text(f"Rajesh Kumar {hidden_in}") == records.count_text(f"Rajesh Kumar {value}")
    heading = ["Name", "Passport" if value.startswith("Z") else "Date of birth"]
    assert records.count_table([heading, ["Rajesh Kumar", hidden_in], ["Pooja Saini", value]]) == 2


def test_eleven_persons_with_zero_width_spaces_in_their_dates_are_bulk_personal_data() -> None:
    lines = [f"{n}. Rajesh Kumar, born {n} Mar\u200bch 19\u200b{60 + n}" for n in range(1, 12)]
    assert person_records().count_text("\n".join(lines)) == 11


def test_nested_json_objects_with_a_name_and_an_identifier_are_persons() -> None:
    document = (
        b'{"case": "2026/114", "network": {"members": [{"naam": "Harpreet Singh", "aadhaar": "2345 6789 0123"},'
        b' {"nom": "Jean Roy", "passeport": "ZX123456"}, {"name": "No Key"}, {"company": "Example Ltd", '
        b'"registration": "U12345"}], "notes": "Rajesh Kumar, DOB 1980-02-03\\nGurpreet Brar, DOB 1979-01-01"}}'
    )
    assert count(document, "application/json", "network.json") == 4


def test_a_csv_exported_by_a_french_spreadsheet_on_windows_is_read() -> None:
    people = applicants(30)
    data = as_csv(people, ("Nom", "Date de naissance", "Numéro de passeport")).decode().replace(",", ";")
    assert count(data.encode("cp1252"), "text/csv", "demandeurs.csv") == 30
    assert count(data.encode("utf-16"), "text/csv", "demandeurs.csv") == 30


def test_a_json_table_of_rows_is_read_like_a_spreadsheet() -> None:
    rows = [["Surname", "Given names", "Date of birth"]] + [
        [p.name.split()[1], p.name.split()[0], str(p.born)] for p in applicants(25)
    ]
    assert count(json.dumps({"sheet": rows}).encode(), "application/json", "rows.json") == 25


def test_a_pdf_table_rendered_by_an_html_engine_is_read_row_by_row() -> None:
    """Text extraction joins a table row's cells with single spaces ("Rajesh Kumar 1970-01-01 Z1000000")."""
    people = applicants(40)
    rows = "".join(f"<tr><td>{p.name}</td><td>{p.born}</td><td>{p.passport}</td></tr>" for p in people)
    html = f"<h1>Applicants</h1><table><tr><th>Name</th><th>Date of birth</th><th>Passport</th></tr>{rows}</table>"
    pdf = weasyprint.HTML(string=html).write_pdf()
    assert pdf is not None
    assert count(pdf, "application/pdf", "applicants.pdf") == 40
    assert person_records().count_text("Kumar, Rajesh, 1980-02-03\nApplicant 1: Harpreet Singh, born 3 March 1980") == 2


# ---------------------------------------------------------------------------------------------- not screened


@pytest.mark.parametrize(
    ("data", "media_type", "name", "why"),
    [
        (encrypted_pdf(), "application/pdf", "statement.pdf", "encrypted or damaged"),
        (b"%PDF-1.7\n" + b"\x00" * 64, "application/pdf", "broken.pdf", "cannot be opened"),
        (b"not a pdf at all", "application/pdf", "fake.pdf", "declared a PDF"),
        (as_xlsx(applicants(50))[:3000], XLSX, "truncated.xlsx", "workbook cannot be opened"),
        (b"PK\x03\x04garbage", XLSX, "garbage.xlsx", "workbook cannot be opened"),
        (b'{"applicants": [', "application/json", "cut.json", "not well-formed JSON"),
        (b"\x81\x8d\x8f\x90\x9d not text", "text/csv", "odd.csv", "not text in UTF-8"),
        (b"Name,DOB\nA\x00B,1\n", "text/csv", "nul.csv", "binary data"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png", "register.png", "does not read image/png"),
        (as_pdf([]), "application/pdf", "scan.pdf", "no text layer"),
    ],
    ids=[
        "encrypted-pdf",
        "broken-pdf",
        "not-a-pdf",
        "truncated-xlsx",
        "garbage-xlsx",
        "cut-json",
        "bad-text",
        "nul-in-text",
        "image",
        "scan",
    ],
)
def test_an_unreadable_attachment_is_not_screened_and_says_why(
    data: bytes, media_type: str, name: str, why: str
) -> None:
    with pytest.raises(NotScreened, match=why):
        count(data, media_type, name)


def test_an_xlsx_that_inflates_far_beyond_its_size_is_not_opened() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (25 * 1024 * 1024))
    with pytest.raises(NotScreened, match="inflate"):
        count(out.getvalue(), XLSX, "bomb.xlsx")


def test_reading_stops_when_the_budget_is_spent() -> None:
    calls = 0

    def budget() -> None:
        nonlocal calls
        calls += 1
        if calls > 100:
            raise NotScreened("it holds more records than the screen reads")

    with pytest.raises(NotScreened, match="more records"):
        count_persons_in(as_csv(applicants(500)), "text/csv", "huge.csv", budget)


# ---------------------------------------------------------------------------------------------- the decision


def _message(party: Party, **changes: Any) -> Message:
    agreement = load_agreement()
    fields: dict[str, Any] = {
        "id": "m-1",
        "kind": "request",
        "case_id": "c-1",
        "sender": Address(party=party, agency="RCMP" if party is Party.CA else "NCB", officer="officer"),
        "recipient": Address(party=party.other, agency="NCB" if party is Party.CA else "RCMP"),
        "focus_area": "immigration",
        "priority": "routine",
        "created_at": datetime.now(UTC),
        "deadline": None,
        "handling": Handling(
            classification="Protected B" if party is Party.CA else "Restricted",
            level=agreement.common_level(party, "Protected B" if party is Party.CA else "Restricted"),
            tlp="AMBER",
        ),
        "legal_basis": "Privacy Act s.8(2)(f); arrangement"
        if party is Party.CA
        else "DPDP Act s.17(1)(c); arrangement",
        "title": "Applicants",
        "body": "Please check the attached applicants.",
        "offence": "0805",
    }
    return Message(**(fields | changes))


def _decide(party: Party, message: Message, evidence: Evidence | None) -> Any:
    return CedarPolicy(load_pack(shipped_pack_dir(party)), load_agreement()).decide(
        message, None, assessed(message, evidence)
    )


@pytest.mark.parametrize("party", [Party.CA, Party.IN])
def test_a_list_of_applicants_is_held_with_the_hit_no_hit_remedy_and_three_are_not(party: Party) -> None:
    ref = AttachmentRef(sha256="a" * 64, name="applicants.csv", media_type="text/csv", size=10)
    message = _message(party, attachments=(ref,))
    held = _decide(party, message, Evidence(attachments=(AttachmentPersons(ref.sha256, ref.name, 500),)))
    assert held.verdict is Verdict.REVIEW
    [hit] = held.policies
    assert hit.id == f"{party.value.lower()}-minimisation-bulk-persons"
    assert hit.remedy is not None and "hit/no-hit" in hit.remedy
    assert ("Privacy Act" if party is Party.CA else "Puttaswamy") in hit.citation
    assert held.findings["bulk_personal_data"]["attachments"] == {"applicants.csv": 500}

    three = _decide(party, message, Evidence(attachments=(AttachmentPersons(ref.sha256, ref.name, 3),)))
    assert three.verdict is Verdict.ALLOW


@pytest.mark.parametrize("party", [Party.CA, Party.IN])
def test_an_attachment_nobody_read_holds_the_message(party: Party) -> None:
    ref = AttachmentRef(sha256="b" * 64, name="statement.pdf", media_type="application/pdf", size=10)
    message = _message(party, attachments=(ref,))
    for evidence in (None, Evidence(), Evidence(attachments=(AttachmentPersons(ref.sha256, ref.name, 0, "locked"),))):
        decision = _decide(party, message, evidence)
        assert decision.verdict is Verdict.REVIEW
        assert [p.id for p in decision.policies] == [f"{party.value.lower()}-minimisation-unscreened-attachment"]
        assert decision.findings["attachments_not_screened"][0]["name"] == "statement.pdf"


def test_subjects_body_records_and_attachments_add_up() -> None:
    person = Subject(kind=SubjectKind.PERSON, name="P. Example", role="other")
    ref = AttachmentRef(sha256="c" * 64, name="more.csv", media_type="text/csv", size=10)
    message = _message(Party.CA, subjects=(person,) * 4, body=as_lines(applicants(4)), attachments=(ref,))
    decision = _decide(Party.CA, message, Evidence(attachments=(AttachmentPersons(ref.sha256, ref.name, 3),)))
    assert decision.findings["bulk_personal_data"] == {
        "persons": 11,
        "threshold": 10,
        "subjects": 4,
        "title_and_body": 4,
        "attachments": {"more.csv": 3},
    }
    assert decision.verdict is Verdict.REVIEW
