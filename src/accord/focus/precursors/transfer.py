"""Pre-export notifications and precursor incidents to and from files: flat CSV rows (one row per item) or JSON message
drafts, checked row by row and each sent in its own transaction; and back out, the ones the officer may read.

CSV (UTF-8, header on line 1, column names in any order and case; `*` marks a column the header must have):

- both kinds: reference*, recipient_agency, classification*, tlp, caveats, restrictions, priority, legal_basis,
  title, note. Rows sharing a `reference` are the items of one notification or incident and agree on every other
  column. recipient_agency defaults to the other party's competent authority for notifications; `note` is the body.
- notifications: exporter_name*, exporter_address*, exporter_country*, exporter_licence, importer_name*,
  importer_address*, importer_country*, importer_licence, consignee_name, consignee_address, consignee_country,
  consignee_licence, transport_mode*, carrier, route, port_of_exit*, point_of_entry*, dispatch_date*,
  export_permit*, import_permit; per item: substance*, quantity_kg*, purity_percent*, salt_form, preparation,
  hs_code*.
- incidents: recipient_agency*, kind*, occurred_on*, detected_on, place_name*, place_country*, latitude*, longitude*,
  modus_operandi*, concealment, route, companies (`name:CC[:role]` separated by `;`), persons (`name[:role]`
  separated by `;`, role "suspect" unless given, an empty role for none), notification_id; per item: substance*,
  quantity_kg*, purity_percent.

Lists (route, caveats, companies, persons) are separated by `;` (route and caveats also by spaces). Dates are
YYYY-MM-DD, numbers use a decimal point. JSON is an array of message drafts as POST /api/v1/messages takes them, each
with an optional "reference" of the sender's own; "kind" and "focus_area" default to the import's. docs/precursors-
import.md has the details and examples.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from accord.directory.officers import Officer
from accord.domain.agreement import Agreement
from accord.domain.drafts import MessageDraft
from accord.domain.incidents import Incident
from accord.domain.messages import DeliveryState, MessageKind, SubjectKind
from accord.domain.notifications import PreExportNotification
from accord.domain.parties import Party
from accord.errors import AccordError, InvalidInput
from accord.exchange.sending import STATE_FOR_VERDICT, evaluate_draft, require_sender, send_messages
from accord.focus.precursors.incidents import IncidentFilter, check_incident, list_incidents
from accord.focus.precursors.notifications import DRUGS, PRECURSOR_OFFENCE, check_notification
from accord.focus.precursors.plausibility import check_plausible
from accord.focus.precursors.risk import resolve_substance
from accord.focus.precursors.service import list_notifications
from accord.i18n import N_, _
from accord.node import Node

MAX_ROWS = 5000  # data rows of a CSV file, or drafts of a JSON array
MAX_FILE_BYTES = 5 * 1024 * 1024
SEPARATOR = ";"
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): the export prefixes it with an
# apostrophe, as spreadsheets themselves do, and the import takes the apostrophe off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


class UnusableFile(InvalidInput):
    """The file as a whole cannot be read (encoding, header, size): nothing in it is imported."""

    slug = "unusable-file"
    title = N_("The file cannot be imported")


class UnsupportedFormat(InvalidInput):
    status = 415
    slug = "unsupported-media-type"
    title = N_("The file is neither CSV nor JSON")


class TransferKind(StrEnum):
    NOTIFICATIONS = "notifications"
    INCIDENTS = "incidents"

    @property
    def message_kind(self) -> MessageKind:
        return MessageKind.PEN if self is TransferKind.NOTIFICATIONS else MessageKind.INCIDENT

    @property
    def singular(self) -> str:
        return "notification" if self is TransferKind.NOTIFICATIONS else "incident"


class FileFormat(StrEnum):
    CSV = "csv"
    JSON = "json"

    @property
    def media_type(self) -> str:
        return "text/csv; charset=utf-8" if self is FileFormat.CSV else "application/json"

    @classmethod
    def for_path(cls, path: Path) -> FileFormat:
        try:
            return cls(path.suffix.lower().removeprefix("."))
        except ValueError:
            raise UnsupportedFormat(
                _(
                    "cannot tell the format of {name!r} from its extension; name it .csv or .json, or give "
                    "the format (csv or json)"
                ).format(name=path.name)
            ) from None

    @classmethod
    def for_media_type(cls, content_type: str) -> FileFormat:
        media, _sep, params = content_type.partition(";")
        charset = re.search(r"charset\s*=\s*\"?([\w-]+)", params, re.IGNORECASE)
        if charset is not None and charset.group(1).lower() not in {"utf-8", "utf8"}:
            raise UnsupportedFormat(_("the body is {group}; send it as UTF-8").format(group=charset.group(1)))
        found = {"text/csv": cls.CSV, "application/json": cls.JSON}.get(media.strip().lower())
        if found is None:
            raise UnsupportedFormat(
                _("send the file as text/csv or application/json, not {value}").format(value=media.strip() or "nothing")
            )
        return found


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    required: bool = False  # the header must have it
    item: bool = False  # varies between the rows (items) of one notification or incident


def _message_columns(recipient_required: bool) -> tuple[Column, ...]:
    return (
        Column("reference", required=True),
        Column("recipient_agency", required=recipient_required),
        Column("classification", required=True),
        Column("tlp"),
        Column("caveats"),
        Column("restrictions"),
        Column("priority"),
        Column("legal_basis"),
        Column("title"),
        Column("note"),
    )


def _trader_columns(role: str, required: bool) -> tuple[Column, ...]:
    return (
        Column(f"{role}_name", required),
        Column(f"{role}_address", required),
        Column(f"{role}_country", required),
        Column(f"{role}_licence"),
    )


NOTIFICATION_COLUMNS: tuple[Column, ...] = (
    *_message_columns(recipient_required=False),
    *_trader_columns("exporter", True),
    *_trader_columns("importer", True),
    *_trader_columns("consignee", False),
    Column("transport_mode", True),
    Column("carrier"),
    Column("route"),
    Column("port_of_exit", True),
    Column("point_of_entry", True),
    Column("dispatch_date", True),
    Column("export_permit", True),
    Column("import_permit"),
    Column("substance", True, item=True),
    Column("quantity_kg", True, item=True),
    Column("purity_percent", True, item=True),
    Column("salt_form", item=True),
    Column("preparation", item=True),
    Column("hs_code", True, item=True),
)
INCIDENT_COLUMNS: tuple[Column, ...] = (
    *_message_columns(recipient_required=True),
    Column("kind", True),
    Column("occurred_on", True),
    Column("detected_on"),
    Column("place_name", True),
    Column("place_country", True),
    Column("latitude", True),
    Column("longitude", True),
    Column("modus_operandi", True),
    Column("concealment"),
    Column("route"),
    Column("companies"),
    Column("persons"),
    Column("notification_id"),
    Column("substance", True, item=True),
    Column("quantity_kg", True, item=True),
    Column("purity_percent", item=True),
)


def columns_for(kind: TransferKind) -> tuple[Column, ...]:
    return NOTIFICATION_COLUMNS if kind is TransferKind.NOTIFICATIONS else INCIDENT_COLUMNS


@dataclass(frozen=True, slots=True)
class Sender:
    """What a file is checked against before anything is sent: the agreement, the sending party and today (UTC)."""

    agreement: Agreement
    party: Party
    today: date

    @classmethod
    def of(cls, node: Node) -> Sender:
        return cls(node.agreement, node.party, datetime.now(UTC).date())


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # CSV: the physical line (the header is line 1); JSON: the index in the array
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedDraft:
    reference: str | None
    lines: tuple[int, ...]  # the CSV lines of its items, or its JSON index
    draft: MessageDraft


@dataclass(frozen=True, slots=True)
class ParsedFile:
    kind: TransferKind
    format: FileFormat
    rows: int  # CSV data rows, or JSON array entries
    drafts: tuple[ParsedDraft, ...]
    errors: tuple[RowError, ...]


def parse_file(data: bytes, kind: TransferKind, form: FileFormat, sender: Sender) -> ParsedFile:
    """Every good notification or incident in the file as a draft, and every bad row with its line and reason;
    UnusableFile when the file as a whole cannot be read."""
    if len(data) > MAX_FILE_BYTES:
        raise UnusableFile(
            _("the file has {count:,} bytes; at most {MAX_FILE_BYTES:,} are imported at once").format(
                count=len(data), MAX_FILE_BYTES=MAX_FILE_BYTES
            )
        )
    text = _decode(data)
    rows, drafts, errors = _parse_csv(text, kind, sender) if form is FileFormat.CSV else _parse_json(text, kind, sender)
    return ParsedFile(kind, form, rows, tuple(drafts), tuple(sorted(errors, key=lambda e: e.line)))


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark, as spreadsheets write, is not part of the header
    except UnicodeDecodeError as exc:
        raise UnusableFile(
            _(
                "the file is not UTF-8 text (byte {data:#04x} at offset {start}); save it as 'CSV UTF-8' "
                "or re-encode it"
            ).format(data=data[exc.start], start=exc.start)
        ) from None
    if not text.strip():
        raise UnusableFile(_("the file is empty"))
    return text


# ---- CSV in


Row = dict[str, str]
_Parsed = tuple[int, list[ParsedDraft], list[RowError]]


def _parse_csv(text: str, kind: TransferKind, sender: Sender) -> _Parsed:
    columns = columns_for(kind)
    header_line, header, records = _csv_records(text)
    names = _header(header_line, header, kind)
    if not records:
        raise UnusableFile(_("the file has a header but no rows"))
    groups: dict[str, list[tuple[int, Row]]] = {}
    errors: list[RowError] = []
    broken: dict[str, list[int]] = {}  # references whose rows could not all be read
    for line, cells in records:
        if len(cells) != len(names):
            errors.append(RowError(line, f"the row has {len(cells)} cells, the header {len(names)}: {_cells_hint()}"))
            at = names.index("reference")
            reference = _unescape(cells[at].strip()) if at < len(cells) else ""
            if reference:
                broken.setdefault(reference, []).append(line)
            continue
        row = {c.name: "" for c in columns} | {n: _unescape(v.strip()) for n, v in zip(names, cells, strict=True)}
        if not row["reference"]:
            errors.append(RowError(line, f"reference: empty; rows sharing a reference are one {kind.singular}"))
            continue
        groups.setdefault(row["reference"], []).append((line, row))
    drafts = []
    for reference, rows in groups.items():
        lines = tuple(line for line, _ in rows)
        found = _group_errors(kind, rows)
        if reference in broken:
            found.append(RowError(lines[0], f"line(s) {_listed(broken[reference])} of this {kind.singular} are bad"))
        draft = None
        if not found:
            draft, found = _group_draft(kind, rows, sender)
        if found:
            errors.extend(_whole(e, reference, lines) for e in found)
        elif draft is not None:
            drafts.append(ParsedDraft(reference, lines, draft))
    return len(records), drafts, errors


def _cells_hint() -> str:
    return 'quote a value that holds a comma, e.g. "12 Industrial Rd, Mississauga ON"'


def _listed(lines: Iterable[int]) -> str:
    return ", ".join(str(n) for n in lines)


def _whole(error: RowError, reference: str | None, lines: tuple[int, ...]) -> RowError:
    """An error in one row of a multi-row notification stops all of it: say so, so nobody looks for the rest."""
    if len(lines) < 2:
        return error
    return RowError(error.line, f"{error.reason} (reference {reference}, lines {_listed(lines)}: not imported)")


def _csv_records(text: str) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: tuple[int, list[str]] | None = None
    records: list[tuple[int, list[str]]] = []
    end = 0
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num  # a quoted value may span lines: a record starts after the last
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = (start, cells)
                continue
            records.append((start, cells))
            if len(records) > MAX_ROWS:
                raise UnusableFile(
                    _("the file has more than {MAX_ROWS} rows; split it and import the parts in turn").format(
                        MAX_ROWS=MAX_ROWS
                    )
                )
    except csv.Error as exc:
        raise UnusableFile(
            _("line {line_num}: the CSV cannot be read: {exc}").format(line_num=reader.line_num, exc=exc)
        ) from None
    if header is None:
        raise UnusableFile(_("the file is empty"))
    return header[0], header[1], records


def _header(line: int, cells: list[str], kind: TransferKind) -> list[str]:
    names = [c.strip().lower() for c in cells]
    known = {c.name for c in columns_for(kind)}
    problems = []
    if any(not n for n in names):
        problems.append(f"column {names.index('') + 1} has no name")
    unknown = [n for n in names if n and n not in known]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    missing = [c.name for c in columns_for(kind) if c.required and c.name not in names]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if not problems:
        return names
    other = TransferKind.INCIDENTS if kind is TransferKind.NOTIFICATIONS else TransferKind.NOTIFICATIONS
    if all(c.name in names for c in columns_for(other) if c.required):
        problems.append(f"this looks like a file of {other}: import it as {other}")
    raise UnusableFile(
        _("line {line}, the header: {join}. The {kind} columns are {join2}. Nothing was imported").format(
            line=line, join="; ".join(problems), kind=kind, join2=", ".join(c.name for c in columns_for(kind))
        )
    )


def _group_errors(kind: TransferKind, rows: list[tuple[int, Row]]) -> list[RowError]:
    """Empty required cells, and later rows that disagree with the first on a shared column."""
    columns = columns_for(kind)
    errors = []
    first_line, first = rows[0]
    for index, (line, row) in enumerate(rows):
        for column in columns:
            value = row[column.name]
            if column.required and not value and (column.item or index == 0):
                errors.append(RowError(line, f"{column.name}: empty"))
            elif index and not column.item and value != first[column.name]:
                errors.append(
                    RowError(
                        line,
                        f"{column.name}: {value!r} here but {first[column.name]!r} on line {first_line}; the rows of "
                        f"one {kind.singular} differ only in {', '.join(c.name for c in columns if c.item)}",
                    )
                )
    return errors


def _group_draft(
    kind: TransferKind, rows: list[tuple[int, Row]], sender: Sender
) -> tuple[MessageDraft | None, list[RowError]]:
    lines = tuple(line for line, _ in rows)
    first = rows[0][1]
    try:
        payload = (_notification_payload if kind is TransferKind.NOTIFICATIONS else _incident_payload)(
            first, [row for _, row in rows], sender
        )
    except _CellError as exc:
        return None, [RowError(lines[0], f"{exc.column}: {exc.reason}")]
    try:
        draft = MessageDraft.model_validate(payload)
    except ValidationError as exc:
        return None, [RowError(*_csv_place(loc, message, lines)) for loc, message in _rendered(exc)]
    found = [
        RowError(lines[0] if index is None else lines[index], f"substance: {reason}" if index is not None else reason)
        for index, reason in check_content(kind, draft, sender)
    ]
    return (None, found) if found else (draft, [])


def _csv_place(loc: tuple[int | str, ...], message: str, lines: tuple[int, ...]) -> tuple[int, str]:
    """The CSV line and column a pydantic error location points at, with the message: `column: message`."""
    path = loc
    if path and path[0] in {"notification", "incident", "handling"}:
        path = path[1:]
    if not path:
        return lines[0], message
    head = str(path[0])
    line = lines[0]
    column = {"subjects": "persons", "body": "note"}.get(head, head)
    if head == "items" and len(path) >= 3 and isinstance(path[1], int) and path[1] < len(lines):
        line, column = lines[path[1]], str(path[2])
    elif head in {"exporter", "importer", "consignee"} and len(path) >= 2:
        column = f"{head}_{path[1]}"
    elif head == "place" and len(path) >= 2:
        column = {"name": "place_name", "country": "place_country"}.get(str(path[1]), str(path[1]))
    return line, f"{column}: {message}"


def _rendered(exc: ValidationError) -> list[tuple[tuple[int | str, ...], str]]:
    """Pydantic errors as (location, message), with the offending value when it is a plain one."""
    rendered = []
    errors = exc.errors()
    locations = [tuple(e["loc"]) for e in errors]
    for error in errors:
        loc = tuple(error["loc"])
        if any(len(other) > len(loc) and other[: len(loc)] == loc for other in locations):
            continue  # "items: too short" only because an item inside was refused, which is reported itself
        message = str(error["msg"]).removeprefix("Value error, ")
        value = error.get("input")
        if isinstance(value, str | int | float) and error["type"] != "missing":
            message = f"{message} (got {value!r})"
        rendered.append((loc, message))
    return rendered


class _CellError(Exception):
    """A cell that cannot become a field (a malformed list); reported as `column: reason` on the row."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def _given(row: Row, *names: str) -> dict[str, str]:
    return {name: row[name] for name in names if row[name]}


def _split(value: str, spaces: bool = False) -> list[str]:
    return [part.strip() for part in re.split(r"[;\s]+" if spaces else SEPARATOR, value) if part.strip()]


def _message_payload(kind: TransferKind, first: Row, title: str, body: str) -> dict[str, Any]:
    handling: dict[str, Any] = {"classification": first["classification"]} | _given(first, "tlp", "restrictions")
    if first["caveats"]:
        handling["caveats"] = _split(first["caveats"], spaces=True)
    return {
        "kind": kind.message_kind.value,
        "focus_area": DRUGS,
        "handling": handling,
        "title": first["title"] or title[:300],
        "body": first["note"] or body,
    } | _given(first, "recipient_agency", "priority", "legal_basis")


def _trader(row: Row, role: str) -> dict[str, str]:
    return {
        field: row[f"{role}_{field}"] for field in ("name", "address", "country", "licence") if row[f"{role}_{field}"]
    }


def _substances(rows: Sequence[Row]) -> str:
    return ", ".join(dict.fromkeys(row["substance"] for row in rows))


_SHIPMENT = (
    "transport_mode",
    "carrier",
    "port_of_exit",
    "point_of_entry",
    "dispatch_date",
    "export_permit",
    "import_permit",
)


def _notification_payload(first: Row, rows: Sequence[Row], sender: Sender) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "exporter": _trader(first, "exporter"),
        "importer": _trader(first, "importer"),
        "items": [
            _given(row, "substance", "quantity_kg", "purity_percent", "salt_form", "preparation", "hs_code")
            for row in rows
        ],
        "route": _split(first["route"], spaces=True),
    } | _given(first, *_SHIPMENT)
    consignee = _trader(first, "consignee")
    if consignee:
        notification["consignee"] = consignee
    title = f"PEN: {_substances(rows)} to {first['importer_name']}"
    body = "Pre-export notification of the shipment described (1988 Convention Art. 12(10))."
    payload = _message_payload(TransferKind.NOTIFICATIONS, first, title, body) | {"notification": notification}
    payload.setdefault("recipient_agency", sender.agreement.pre_export_notifications.authorities[sender.party.other])
    return payload


def _incident_payload(first: Row, rows: Sequence[Row], sender: Sender) -> dict[str, Any]:
    incident: dict[str, Any] = {
        "place": {
            "name": first["place_name"],
            "country": first["place_country"],
            "latitude": first["latitude"],
            "longitude": first["longitude"],
        },
        "items": [_given(row, "substance", "quantity_kg", "purity_percent") for row in rows],
        "route": _split(first["route"], spaces=True),
        "companies": [_company(part) for part in _split(first["companies"])],
    } | _given(first, "kind", "occurred_on", "detected_on", "modus_operandi", "concealment", "notification_id")
    what = first["kind"].replace("_", " ").capitalize()
    title = f"{what}: {_substances(rows)} at {first['place_name']}"
    body = f"{what} at {first['place_name']} on {first['occurred_on']}; the details are in the incident record."
    payload = _message_payload(TransferKind.INCIDENTS, first, title, body) | {"incident": incident}
    # A precursor incident is a diversion of precursors (ICCS 06012): the offence an incident naming a person needs.
    return payload | {"subjects": [_person(part) for part in _split(first["persons"])], "offence": PRECURSOR_OFFENCE}


def _company(text: str) -> dict[str, str]:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (2, 3) or not parts[0]:
        raise _CellError(_("companies"), f"{text!r} is not name:country or name:country:role")
    return {"name": parts[0], "country": parts[1]} | ({"role": parts[2]} if len(parts) == 3 and parts[2] else {})


def _person(text: str) -> dict[str, str | None]:
    name, colon, role = (p.strip() for p in text.partition(":"))
    if not name or ":" in role:
        raise _CellError(_("persons"), f"{text!r} is not name or name:role")
    return {"kind": SubjectKind.PERSON.value, "name": name, "role": (role or None) if colon else "suspect"}


# ---- JSON in


def _parse_json(text: str, kind: TransferKind, sender: Sender) -> _Parsed:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnusableFile(
            _("not valid JSON: {msg} at line {lineno}, column {colno}").format(
                msg=exc.msg, lineno=exc.lineno, colno=exc.colno
            )
        ) from None
    if not isinstance(document, list):
        raise UnusableFile(
            _("a JSON import is an array of message drafts (kind {message_kind}), not a single value").format(
                message_kind=kind.message_kind
            )
        )
    if not document:
        raise UnusableFile(_("the array is empty"))
    if len(document) > MAX_ROWS:
        raise UnusableFile(
            _("the array has {count} drafts; at most {MAX_ROWS} are imported at once").format(
                count=len(document), MAX_ROWS=MAX_ROWS
            )
        )
    drafts, errors = [], []
    for index, entry in enumerate(document):
        parsed, found = _json_draft(index, entry, kind, sender)
        errors.extend(found)
        if parsed is not None:
            drafts.append(parsed)
    return len(document), drafts, errors


def _json_draft(
    index: int, entry: Any, kind: TransferKind, sender: Sender
) -> tuple[ParsedDraft | None, list[RowError]]:
    if not isinstance(entry, dict):
        return None, [RowError(index, f"a draft is a JSON object, not {type(entry).__name__}")]
    payload = dict(entry)
    reference = payload.pop("reference", None)
    if reference is not None and not isinstance(reference, str | int):
        return None, [RowError(index, "reference: a string or a number")]
    payload.setdefault("kind", kind.message_kind.value)
    payload.setdefault("focus_area", DRUGS)
    try:
        draft = MessageDraft.model_validate(payload)
    except ValidationError as exc:
        return None, [RowError(index, _dotted(loc, message)) for loc, message in _rendered(exc)]
    field = "notification" if kind is TransferKind.NOTIFICATIONS else "incident"
    found = [
        RowError(index, reason if item is None else f"{field}.items.{item}.substance: {reason}")
        for item, reason in check_content(kind, draft, sender)
    ]
    if found:
        return None, found
    return ParsedDraft(None if reference is None else str(reference), (index,), draft), []


def _dotted(loc: tuple[int | str, ...], message: str) -> str:
    return f"{'.'.join(str(p) for p in loc)}: {message}" if loc else message


# ---- checks both formats share


def check_content(kind: TransferKind, draft: MessageDraft, sender: Sender) -> list[tuple[int | None, str]]:
    """What the send path would refuse in the notification or incident itself, found before anything is sent:
    (item index or None, reason). Unknown substances are named per item; then the first rule that fails."""
    if draft.kind is not kind.message_kind:
        return [(None, f"kind: '{draft.kind}'; a file of {kind} holds '{kind.message_kind}'")]
    notification, incident = draft.notification, draft.incident
    content: PreExportNotification | Incident | None = notification if kind is TransferKind.NOTIFICATIONS else incident
    if content is None:
        return [(None, f"{kind.singular}: missing")]
    substances = [item.substance for item in content.items]
    found: list[tuple[int | None, str]] = []
    for index, substance in enumerate(substances):
        try:
            resolve_substance(substance)
        except InvalidInput as exc:
            found.append((index, exc.detail))
    if found:
        return found
    try:
        if kind is TransferKind.NOTIFICATIONS:
            check_notification(
                sender.agreement, sender.party, draft.recipient_agency, draft.focus_area, notification, sender.today
            )
        else:
            check_plausible(check_incident(draft.focus_area, incident, sender.today))
    except InvalidInput as exc:
        return [(None, exc.detail)]
    return []


# ---- sending


Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ImportedDraft:
    reference: str | None
    lines: tuple[int, ...]
    id: str | None  # none in a dry run
    state: DeliveryState  # queued, held for legal review, or refused by this party's policy
    reason: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.lines[0],
            "lines": list(self.lines),
            "reference": self.reference,
            "id": self.id,
            "state": self.state.value,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ImportReport:
    kind: TransferKind
    format: FileFormat
    rows: int
    dry_run: bool
    imported: tuple[ImportedDraft, ...]
    errors: tuple[RowError, ...]

    def count(self, state: DeliveryState) -> int:
        return sum(1 for i in self.imported if i.state is state)

    @property
    def complete(self) -> bool:
        """Every row became a message on its way (queued, or held for a legal officer)."""
        return not self.errors and not self.count(DeliveryState.REFUSED)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "format": self.format.value,
            "rows": self.rows,
            "dry_run": self.dry_run,
            "summary": {
                "imported": self.count(DeliveryState.QUEUED) + self.count(DeliveryState.HELD),
                "held": self.count(DeliveryState.HELD),
                "refused": self.count(DeliveryState.REFUSED),
                "errors": len(self.errors),
            },
            "imported": [i.as_json() for i in self.imported],
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
        }


def import_file(
    node: Node,
    officer: Officer,
    data: bytes,
    kind: TransferKind,
    form: FileFormat,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Send every good notification or incident in the file, each in its own transaction; a dry run only asks the
    policy what it would decide. UnusableFile when the file as a whole cannot be read."""
    require_sender(officer)
    parsed = parse_file(data, kind, form, Sender.of(node))
    report = progress or (lambda done, total: None)
    done = parsed.rows - sum(len(p.lines) for p in parsed.drafts)
    report(done, parsed.rows)
    imported, errors = [], list(parsed.errors)
    for item in parsed.drafts:
        try:
            imported.append(_dry_run(node, officer, item) if dry_run else _send(node, officer, item))
        except AccordError as exc:
            errors.append(_whole(RowError(item.lines[0], exc.detail), item.reference, item.lines))
        done += len(item.lines)
        report(done, parsed.rows)
    return ImportReport(kind, form, parsed.rows, dry_run, tuple(imported), tuple(sorted(errors, key=lambda e: e.line)))


def _send(node: Node, officer: Officer, item: ParsedDraft) -> ImportedDraft:
    [queued] = send_messages(node, officer, [item.draft])
    reason = None if queued.state is DeliveryState.QUEUED else "; ".join(queued.decision.reasons)
    return ImportedDraft(item.reference, item.lines, queued.message.id, queued.state, reason)


def _dry_run(node: Node, officer: Officer, item: ParsedDraft) -> ImportedDraft:
    decision = evaluate_draft(node, officer, item.draft)
    state = STATE_FOR_VERDICT[decision.verdict]
    reason = None if state is DeliveryState.QUEUED else "; ".join(decision.reasons)
    return ImportedDraft(item.reference, item.lines, None, state, reason)


# ---- out


@dataclass(frozen=True, slots=True)
class ExportedDraft:
    reference: str  # the message id
    draft: MessageDraft


def exported_draft(kind: TransferKind, message: Mapping[str, Any]) -> ExportedDraft:
    """A listed notification or incident (a message view with its content) as the draft the files carry: what the
    columns hold, nothing else (no case, attachments or subjects other than named persons)."""
    handling = message["handling"]
    persons = [
        {"kind": SubjectKind.PERSON.value, "name": s["name"], "role": s.get("role")}
        for s in message.get("subjects") or []
        if kind is TransferKind.INCIDENTS and s.get("kind") == SubjectKind.PERSON.value and s.get("name")
    ]
    draft = MessageDraft.model_validate(
        {
            "kind": kind.message_kind.value,
            "recipient_agency": message["recipient"]["agency"],
            "focus_area": message["focus_area"],
            "priority": message["priority"],
            "handling": {
                "classification": handling["classification"],
                "tlp": handling.get("tlp") or "AMBER",
                "caveats": handling.get("caveats") or [],
                "restrictions": handling.get("restrictions"),
            },
            "legal_basis": message.get("legal_basis"),
            "title": str(message["title"])[:300],  # a peer's title may be longer than a draft's
            "body": message["body"],
            "subjects": persons,
            kind.singular: message[kind.singular],
        }
        | ({"offence": PRECURSOR_OFFENCE} if kind is TransferKind.INCIDENTS else {})
    )
    return ExportedDraft(str(message["id"]), draft)


def export_file(node: Node, officer: Officer, kind: TransferKind, form: FileFormat) -> tuple[bytes, int]:
    """The notifications or incidents the officer may read (sent and received) as a file, and how many."""
    if kind is TransferKind.NOTIFICATIONS:
        messages = [v.message for v in list_notifications(node, officer)]
    else:
        messages = [
            v.message | {"incident": v.incident.model_dump(mode="json")}
            for v in list_incidents(node, officer, IncidentFilter())
        ]
    drafts = [exported_draft(kind, m) for m in messages if m.get(kind.singular) is not None]
    return render_file(kind, form, drafts), len(drafts)


def render_file(kind: TransferKind, form: FileFormat, drafts: Sequence[ExportedDraft]) -> bytes:
    if form is FileFormat.JSON:
        entries = [{"reference": d.reference} | d.draft.model_dump(mode="json", exclude_none=True) for d in drafts]
        return (json.dumps(entries, indent=2, ensure_ascii=False) + "\n").encode()
    out = io.StringIO()
    writer = csv.writer(out)
    columns = [c.name for c in columns_for(kind)]
    writer.writerow(columns)
    for exported in drafts:
        for row in csv_rows(kind, exported):
            writer.writerow([_escape(row.get(c, "")) for c in columns])
    return out.getvalue().encode()


def csv_rows(kind: TransferKind, exported: ExportedDraft) -> list[Row]:
    """One row per item: the shared columns repeated, the item columns per row."""
    d = exported.draft
    h = d.handling
    shared: Row = {
        "reference": exported.reference,
        "recipient_agency": d.recipient_agency,
        "classification": h.classification,
        "tlp": h.tlp.value,
        "caveats": SEPARATOR.join(h.caveats),
        "restrictions": h.restrictions or "",
        "priority": d.priority.value,
        "legal_basis": d.legal_basis or "",
        "title": d.title,
        "note": d.body,
    }
    if kind is TransferKind.NOTIFICATIONS:
        assert d.notification is not None
        n = d.notification
        shared |= {
            f"{role}_{field}": getattr(trader, field) or ""
            for role, trader in (("exporter", n.exporter), ("importer", n.importer), ("consignee", n.consignee))
            if trader is not None
            for field in ("name", "address", "country", "licence")
        } | {
            "transport_mode": n.transport_mode.value,
            "carrier": n.carrier or "",
            "route": SEPARATOR.join(n.route),
            "port_of_exit": n.port_of_exit,
            "point_of_entry": n.point_of_entry,
            "dispatch_date": n.dispatch_date.isoformat(),
            "export_permit": n.export_permit,
            "import_permit": n.import_permit or "",
        }
        return [
            shared
            | {
                "substance": item.substance,
                "quantity_kg": _number(item.quantity_kg),
                "purity_percent": _number(item.purity_percent),
                "salt_form": item.salt_form or "",
                "preparation": item.preparation or "",
                "hs_code": item.hs_code,
            }
            for item in n.items
        ]
    assert d.incident is not None
    i = d.incident
    shared |= {
        "kind": i.kind.value,
        "occurred_on": i.occurred_on.isoformat(),
        "detected_on": i.detected_on.isoformat() if i.detected_on else "",
        "place_name": i.place.name,
        "place_country": i.place.country,
        "latitude": _number(i.place.latitude),
        "longitude": _number(i.place.longitude),
        "modus_operandi": i.modus_operandi,
        "concealment": i.concealment or "",
        "route": SEPARATOR.join(i.route),
        "companies": SEPARATOR.join(":".join(p for p in (c.name, c.country, c.role) if p) for c in i.companies),
        "persons": SEPARATOR.join(
            s.name if s.role == "suspect" else f"{s.name}:{s.role or ''}"
            for s in d.subjects
            if s.kind is SubjectKind.PERSON and s.name
        ),
        "notification_id": i.notification_id or "",
    }
    return [
        shared
        | {
            "substance": item.substance,
            "quantity_kg": _number(item.quantity_kg),
            "purity_percent": "" if item.purity_percent is None else _number(item.purity_percent),
        }
        for item in i.items
    ]


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _escape(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) and not _NUMBER.match(value) else value


def _unescape(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value
