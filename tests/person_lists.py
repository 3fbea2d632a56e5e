"""Lists of persons as officers attach them: CSV, XLSX, JSON, PDF (a real text layer, written here by hand), plain
text — and the damaged and locked files a send path meets. Names in Latin, Devanagari and Gurmukhi letters."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, timedelta

import openpyxl

_GIVEN = ("Rajesh", "Harpreet", "Amandeep", "Sukhwinder", "Jean", "Marie", "Gurpreet", "Navdeep", "Priya", "Luc")
_FAMILY = ("Kumar", "Singh", "Gill", "Sandhu", "Tremblay", "Gagnon", "Brar", "Sidhu", "Sharma", "Roy")
_DEVANAGARI = ("राजेश कुमार", "सुरेश शर्मा", "अमित वर्मा", "विजय सिंह", "अनिल यादव")
_GURMUKHI = ("ਹਰਪ੍ਰੀਤ ਕੌਰ", "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ", "ਮਨਪ੍ਰੀਤ ਕੌਰ", "ਜਸਪ੍ਰੀਤ ਸਿੰਘ", "ਅਮਨਦੀਪ ਸਿੰਘ")


@dataclass(frozen=True, slots=True)
class Applicant:
    name: str
    born: date
    passport: str


def applicants(count: int, *, script: str = "latin") -> list[Applicant]:
    names = {"latin": None, "devanagari": _DEVANAGARI, "gurmukhi": _GURMUKHI}[script]
    people = []
    for i in range(count):
        name = f"{_GIVEN[i % 10]} {_FAMILY[(i // 10) % 10]}" if names is None else names[i % len(names)]
        people.append(Applicant(name, date(1970, 1, 1) + timedelta(days=97 * i), f"Z{1000000 + i}"))
    return people


def as_csv(
    people: list[Applicant], heading: tuple[str, str, str] = ("Full name", "Date of birth", "Passport")
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(heading)
    writer.writerows((p.name, p.born.isoformat(), p.passport) for p in people)
    return out.getvalue().encode()


def as_xlsx(
    people: list[Applicant], heading: tuple[str, str, str] = ("Nom", "Date de naissance", "Passeport")
) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Liste des demandeurs — dossier 2026/114"])
    sheet.append(list(heading))
    for p in people:
        sheet.append([p.name, p.born, p.passport])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def as_json(people: list[Applicant]) -> bytes:
    document = {
        "export": "case system",
        "applicants": [{"full_name": p.name, "dob": p.born.isoformat(), "passport_no": p.passport} for p in people],
    }
    return json.dumps(document, ensure_ascii=False).encode()


def as_lines(people: list[Applicant]) -> str:
    return "\n".join(f"{i}. {p.name}, DOB {p.born:%d/%m/%Y}, passport {p.passport}" for i, p in enumerate(people, 1))


def as_pdf(lines: list[str], lines_per_page: int = 60, *, padding: bytes = b"") -> bytes:
    """A PDF whose pages carry `lines` as real text (Helvetica, so Latin letters only); `padding` travels in a
    stream no page uses (an embedded image's bytes, say), to make the file as large as a test needs."""
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)] or [[]]
    objects: list[bytes] = [b"", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for page in pages:
        text = b"BT /F1 9 Tf 11 TL 40 800 Td " + b" ".join(b"(" + _pdf_text(line) + b") Tj T*" for line in page)
        objects.append(b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream")
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % content
        )
        kids.append(len(objects))
    if padding:
        objects.append(b"<< /Length %d >>\nstream\n" % len(padding) + padding + b"\nendstream")
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    return _pdf_file(objects)


def encrypted_pdf() -> bytes:
    """A PDF locked with a password (standard security handler, RC4 128-bit) that nobody here knows."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    encrypt = (
        b"/Encrypt << /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 "
        b"/O <" + b"6b" * 32 + b"> /U <" + b"2f" * 32 + b"> >> /ID [<" + b"01" * 16 + b"> <" + b"01" * 16 + b">]"
    )
    return _pdf_file(objects, encrypt)


def _pdf_text(line: str) -> bytes:
    return line.encode("latin-1", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pdf_file(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer_extra,
        xref,
    )
    return bytes(out)
