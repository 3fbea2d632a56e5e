"""The person records in an outgoing message's attachments, for the minimisation screen: CSV, XLSX and JSON are parsed
(a row or object with a name and a date of birth or identifier is a person), PDFs are text-extracted and plain text is
read line by line. Reading is bounded in bytes, time and records; an attachment that cannot be read within them —
broken, encrypted, too large, a scan without text, a format the screen does not read — is "not screened", never an
error on the send path: the screen holds such a message for a legal officer."""

from __future__ import annotations

import codecs
import csv
import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pypdfium2

from accord.domain.messages import AttachmentRef
from accord.errors import NotFound
from accord.exchange.attachments import read_blob_bytes
from accord.i18n import _
from accord.node import Node
from accord.policy.persons import PersonRecords, person_records
from accord.policy.screens import AttachmentPersons

# An XLSX is a zip: its parts, inflated, may be this many times the bytes the screen reads (a zip bomb is not).
_XLSX_INFLATION = 20
_XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Format(StrEnum):
    CSV = "CSV"
    XLSX = "XLSX"
    JSON = "JSON"
    PDF = "PDF"
    TEXT = "text"


class NotScreened(Exception):
    """Why an attachment could not be counted: an outcome the screen reports, never an error of the send path."""


@dataclass(slots=True)
class _Budget:
    """Time and records one attachment may take."""

    deadline: float
    records: int
    limit_s: float

    def tick(self) -> None:
        self.records -= 1
        if self.records < 0:
            raise NotScreened(_("it holds more records than the screen reads; split it or send matched records only"))
        if time.monotonic() > self.deadline:
            raise NotScreened(_("reading it took longer than {limit_s:g} s").format(limit_s=self.limit_s))


def count_attachment_persons(node: Node, attachment: AttachmentRef) -> AttachmentPersons:
    """The persons `attachment` describes, or why they could not be counted."""
    settings = node.settings
    if attachment.size > settings.screen_attachment_bytes:
        why = f"it has {attachment.size} bytes; the screen reads at most {settings.screen_attachment_bytes}"
        return AttachmentPersons(attachment.sha256, attachment.name, 0, why)
    try:
        data = read_blob_bytes(node, attachment.sha256)
    except (OSError, NotFound) as exc:
        return AttachmentPersons(attachment.sha256, attachment.name, 0, f"its bytes could not be read ({exc})")
    budget = _Budget(
        time.monotonic() + settings.screen_attachment_seconds,
        settings.screen_attachment_records,
        settings.screen_attachment_seconds,
    )
    try:
        persons = count_persons_in(data, attachment.media_type, attachment.name, budget.tick)
    except NotScreened as exc:
        return AttachmentPersons(attachment.sha256, attachment.name, 0, str(exc))
    return AttachmentPersons(attachment.sha256, attachment.name, persons)


def count_persons_in(data: bytes, media_type: str, name: str, tick: Callable[[], None]) -> int:
    """The person records in one file's bytes; raises NotScreened when they cannot be counted."""
    form = _format(data, media_type, name)
    records = person_records()
    readers: dict[_Format, Callable[[bytes, PersonRecords, Callable[[], None]], int]] = {
        _Format.CSV: _count_csv,
        _Format.XLSX: _count_xlsx,
        _Format.JSON: _count_json,
        _Format.PDF: _count_pdf,
        _Format.TEXT: _count_text,
    }
    return readers[form](data, records, tick)


def _format(data: bytes, media_type: str, name: str) -> _Format:
    """What the bytes are: their signature first, then the declared media type, then the file name."""
    lower = name.casefold()
    if data.startswith(b"%PDF-"):
        return _Format.PDF
    if data.startswith(b"PK\x03\x04"):
        if media_type == _XLSX_MEDIA or lower.endswith((".xlsx", ".xlsm")) or _is_workbook(data):
            return _Format.XLSX
        raise NotScreened(
            _("it is a zip archive ({media_type}); the screen reads XLSX, CSV, JSON, PDF and text").format(
                media_type=media_type
            )
        )
    if media_type == "application/pdf" or lower.endswith(".pdf"):
        raise NotScreened(_("it is declared a PDF but is not one (damaged)"))
    if media_type == _XLSX_MEDIA or lower.endswith((".xlsx", ".xlsm")):
        raise NotScreened(_("it is declared an XLSX workbook but is not one (damaged)"))
    if media_type in ("text/csv", "application/csv") or lower.endswith((".csv", ".tsv")):
        return _Format.CSV
    if media_type == "application/json" or media_type.endswith("+json") or lower.endswith(".json"):
        return _Format.JSON
    if media_type.startswith("text/") or lower.endswith((".txt", ".text", ".md")):
        return _Format.TEXT
    raise NotScreened(
        _("the screen does not read {media_type} ({name}); a legal officer must look at it").format(
            media_type=media_type, name=name
        )
    )


def _is_workbook(data: bytes) -> bool:
    """A zip whose parts are a spreadsheet's (Office Open XML, ECMA-376 Part 2: `xl/workbook.xml`)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _decode(data: bytes) -> str:
    """Text in UTF-8 or UTF-16 (with its byte-order mark) or, as spreadsheets on Windows export CSV, Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise NotScreened(_("it is binary data, not text"))
        return text
    raise NotScreened(_("it is not text in UTF-8, UTF-16 or Windows-1252"))


def _count_text(data: bytes, records: PersonRecords, tick: Callable[[], None]) -> int:
    return records.count_text(_decode(data), tick)


def _count_csv(data: bytes, records: PersonRecords, tick: Callable[[], None]) -> int:
    text = _decode(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        return records.count_table(csv.reader(io.StringIO(text), dialect), tick)
    except csv.Error as exc:
        raise NotScreened(_("it is not a well-formed CSV file ({exc})").format(exc=exc)) from exc


def _count_json(data: bytes, records: PersonRecords, tick: Callable[[], None]) -> int:
    try:
        document: Any = json.loads(_decode(data))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise NotScreened(_("it is not well-formed JSON ({exc})").format(exc=exc)) from exc
    return records.count_json(document, tick)


def _count_xlsx(data: bytes, records: PersonRecords, tick: Callable[[], None]) -> int:
    import openpyxl  # here, not at the top: a quarter of a second at every node start, for a few workbooks

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
        if inflated > _XLSX_INFLATION * max(len(data), 1024 * 1024):
            raise NotScreened(
                _("its parts inflate to {inflated} bytes, more than the screen reads").format(inflated=inflated)
            )
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except NotScreened:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged or encrypted workbook
        raise NotScreened(
            _("the workbook cannot be opened ({name__}: {exc})").format(name__=type(exc).__name__, exc=exc)
        ) from exc
    try:
        return sum(records.count_table(_rows(sheet), tick) for sheet in workbook.worksheets)
    except NotScreened:
        raise
    except Exception as exc:  # a damaged sheet part is only found while it is read
        raise NotScreened(
            _("a worksheet cannot be read ({name__}: {exc})").format(name__=type(exc).__name__, exc=exc)
        ) from exc
    finally:
        workbook.close()


def _rows(sheet: Any) -> Iterator[Sequence[object]]:
    for row in sheet.iter_rows(values_only=True):
        yield tuple(row)


def _count_pdf(data: bytes, records: PersonRecords, tick: Callable[[], None]) -> int:
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise NotScreened(_("the PDF cannot be opened (encrypted or damaged: {exc})").format(exc=exc)) from exc
    try:
        pages = []
        for index in range(len(document)):
            tick()
            page = document[index]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
    except pypdfium2.PdfiumError as exc:
        raise NotScreened(_("the PDF's text cannot be extracted ({exc})").format(exc=exc)) from exc
    finally:
        document.close()
    text = "\n".join(pages).replace("\r\n", "\n").replace("\r", "\n")
    if pages and not text.strip():
        raise NotScreened(_("the PDF has no text layer (a scan); a legal officer must read it"))
    return records.count_text(text, tick)
