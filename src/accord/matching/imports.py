"""Holdings into the node from a CSV or JSON file (an array of objects, or JSON lines): every row checked, each
refusal with its line and reason, duplicates in the file and records held already refused, the valid rows stored
together in one transaction (or, in a dry run, only counted)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from accord.directory.officers import Officer
from accord.errors import InvalidInput, PayloadTooLarge
from accord.i18n import _
from accord.matching.holdings import Holding, RecordType, check_holding, held_labels, record_import, require_holder
from accord.node import Node

MAX_IMPORT_BYTES = 64 * 1024 * 1024
MAX_ROWS = 500_000

Progress = Callable[[int, int], None]


class UnreadableHoldings(InvalidInput):
    """The file cannot be read at all (not UTF-8, not CSV with a header, not JSON): nothing of it was attempted."""


@dataclass(frozen=True, slots=True)
class RowRefusal:
    line: int  # CSV: the physical line (the header is line 1); JSON lines: the line; JSON array: the position from 1
    label: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "id": self.label, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class HoldingsImport:
    import_id: str | None  # None in a dry run, or when nothing was stored
    record_type: RecordType
    rows: int
    stored: int
    refused: tuple[RowRefusal, ...]
    dry_run: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "record_type": self.record_type.value,
            "rows": self.rows,
            "stored": self.stored,
            "refused": len(self.refused),
            "errors": [r.as_json() for r in self.refused[:200]],
            "dry_run": self.dry_run,
        }


def read_rows(content: bytes, name: str, media_type: str | None = None) -> list[tuple[int, dict[str, Any]]]:
    """The rows of a CSV or JSON file, each with its line; UnreadableHoldings if the file is not one. A body sent as
    `application/json` is a JSON array of records (JSON lines go as `application/x-ndjson`)."""
    if len(content) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(
            _("{name} is {count:,} bytes; an import takes at most {MAX_IMPORT_BYTES:,}").format(
                name=name, count=len(content), MAX_IMPORT_BYTES=MAX_IMPORT_BYTES
            )
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableHoldings(
            _("{name} is not UTF-8 text (byte {start}); save it as UTF-8").format(name=name, start=exc.start)
        ) from None
    stripped = text.lstrip()
    if media_type == "application/json" and not stripped.startswith("["):
        raise UnreadableHoldings(
            _("{name}: a JSON body is an array of records; send JSON lines as application/x-ndjson").format(name=name)
        )
    as_json = stripped[:1] in ("[", "{") if media_type is None else media_type != "text/csv"
    rows = list(_json_rows(stripped, name) if as_json else _csv_rows(text, name))
    if not rows:
        raise UnreadableHoldings(_("{name} holds no records").format(name=name))
    if len(rows) > MAX_ROWS:
        raise PayloadTooLarge(
            _("{name} holds {count:,} records; an import takes at most {MAX_ROWS:,}: split it").format(
                name=name, count=len(rows), MAX_ROWS=MAX_ROWS
            )
        )
    return rows


def import_holdings(
    node: Node,
    officer: Officer,
    kind: RecordType,
    rows: Sequence[tuple[int, dict[str, Any]]],
    *,
    source: str | None,
    retain_until: date | None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> HoldingsImport:
    require_holder(officer)
    today = node.clock.now().date()
    accepted: list[Holding] = []
    refused: list[RowRefusal] = []
    seen: dict[str, int] = {}
    for done, (line, row) in enumerate(rows, start=1):
        label = str(row.get("id") or "").strip() or None
        try:
            holding = check_holding(kind, row, source=source, retain_until=retain_until, today=today)
        except InvalidInput as exc:
            refused.append(RowRefusal(line, label, exc.detail))
        else:
            if holding.label in seen:
                refused.append(RowRefusal(line, label, f"id {holding.label!r} repeats line {seen[holding.label]}"))
            else:
                seen[holding.label] = line
                accepted.append(holding)
        if progress is not None and (done % 500 == 0 or done == len(rows)):
            progress(done, len(rows))
    with node.engine.begin() as conn:
        held = held_labels(conn, officer.agency, kind, [h.label for h in accepted])
        if held:
            refused += [
                RowRefusal(seen[h.label], h.label, f"{officer.agency} holds a {kind.value} with id {h.label!r} already")
                for h in accepted
                if h.label in held
            ]
            accepted = [h for h in accepted if h.label not in held]
        refused.sort(key=lambda r: r.line)
        if dry_run or not accepted:
            return HoldingsImport(None, kind, len(rows), len(accepted), tuple(refused), dry_run)
        import_id = record_import(conn, officer.agency, officer.username, kind, accepted, datetime.now(UTC))
    return HoldingsImport(import_id, kind, len(rows), len(accepted), tuple(refused), dry_run)


def _csv_rows(text: str, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
        if not header or "id" not in [h.strip() for h in header]:
            raise UnreadableHoldings(
                _("{name} needs a header line naming its columns, with an 'id' column").format(name=name)
            )
        for row in reader:
            if None in row:
                raise UnreadableHoldings(
                    _("{name} line {line_num}: more values than the header has columns").format(
                        name=name, line_num=reader.line_num
                    )
                )
            if any(v not in (None, "") for v in row.values()):
                yield reader.line_num, {k.strip(): v for k, v in row.items() if k is not None}
    except csv.Error as exc:
        raise UnreadableHoldings(
            _("{name} line {line_num}: {exc}").format(name=name, line_num=reader.line_num, exc=exc)
        ) from None


def _json_rows(text: str, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if text.startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnreadableHoldings(
                _("{name} is not JSON: {msg} at line {lineno}").format(name=name, msg=exc.msg, lineno=exc.lineno)
            ) from None
        numbered: Iterator[tuple[int, Any]] = enumerate(records, start=1)
    else:
        numbered = _json_lines(text, name)
    for line, record in numbered:
        if not isinstance(record, dict):
            raise UnreadableHoldings(_("{name} record {line} is not an object of fields").format(name=name, line=line))
        yield line, record


def _json_lines(text: str, name: str) -> Iterator[tuple[int, Any]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            try:
                yield line, json.loads(raw)
            except json.JSONDecodeError as exc:
                raise UnreadableHoldings(
                    _("{name} line {line} is not JSON: {msg}").format(name=name, line=line, msg=exc.msg)
                ) from None


def read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(
                _("{name} is {size:,} bytes; an import takes at most {MAX_IMPORT_BYTES:,}").format(
                    name=path.name, size=size, MAX_IMPORT_BYTES=MAX_IMPORT_BYTES
                )
            )
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableHoldings(_("cannot read {path}: {strerror}").format(path=path, strerror=exc.strerror)) from None
