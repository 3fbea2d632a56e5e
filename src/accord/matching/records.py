"""Person records as analysts and holdings give them (the fields as written), checked on the way in: a name to
match on, a possible date of birth, no word that mixes scripts; person CSVs read with each error's line."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from accord.errors import InvalidInput
from accord.i18n import _
from accord.matching.normalise import DateUnreadable, read_birth_date

COLUMNS = ("id", "name", "date_of_birth", "sex", "nationality", "document_number", "phone")
REQUIRED = ("id", "name")
MAX_FIELD = 300  # characters; a longer value is not a field of a person record
MAX_ERRORS = 200  # listed in one InvalidInput; the count of the rest follows


@dataclass(frozen=True, slots=True)
class PersonRecord:
    id: str
    name: str
    date_of_birth: str = ""  # as written
    sex: str = ""
    nationality: str = ""
    document_number: str = ""
    phone: str = ""


def person_from_row(row: Mapping[str, str | None]) -> PersonRecord:
    """The record of one row; InvalidInput (a sentence naming the field and its value) for a missing id, an empty
    name, a word mixing scripts, an impossible date of birth or a value too long to be one."""
    values = {name: _clean(row.get(name)) for name in COLUMNS}
    for name, value in values.items():
        if len(value) > MAX_FIELD:
            raise InvalidInput(
                _("{name} is {count} characters long; a field may have at most {MAX_FIELD}").format(
                    name=name, count=len(value), MAX_FIELD=MAX_FIELD
                )
            )
        if any(unicodedata.category(c) in ("Cc", "Cf") and c not in "\u200c\u200d" for c in value):
            raise InvalidInput(
                _("{name} {value!r} holds control characters; remove them").format(name=name, value=value)
            )
    if not values["id"]:
        raise InvalidInput(_("id is empty; every record needs an id of its own"))
    if not any(c.isalpha() for c in values["name"]):
        raise InvalidInput(
            _("name {name!r} of record {id!r} has no letters; give the full name").format(
                name=values["name"], id=values["id"]
            )
        )
    _check_scripts(values["name"], values["id"])
    try:
        read_birth_date(values["date_of_birth"])
    except DateUnreadable as exc:
        raise InvalidInput(_("{exc} (record {id!r})").format(exc=exc, id=values["id"])) from exc
    return PersonRecord(**values)


def _clean(value: str | None) -> str:
    return unicodedata.normalize("NFC", value or "").strip()


def script_of(char: str) -> str | None:
    """The script a letter or a vowel sign is written in ("LATIN", "DEVANAGARI", "GURMUKHI", …); None for
    non-letters and for combining marks that take their base letter's script (accents, joiners)."""
    category = unicodedata.category(char)
    if not char.isalpha() and not category.startswith("M"):
        return None
    name = unicodedata.name(char, "")
    if not name or name.startswith(("COMBINING", "ZERO WIDTH", "VARIATION SELECTOR")):
        return None  # inherited: takes its base letter's script
    return name.split(" ", 1)[0]


def _check_scripts(name: str, record_id: str) -> None:
    for word in name.split():
        scripts = {s for c in word if (s := script_of(c)) is not None}
        if len(scripts) > 1:
            raise InvalidInput(
                _(
                    "name {name!r} of record {record_id!r} mixes scripts inside the word {word!r} ({join}); "
                    "write each word in one script"
                ).format(name=name, record_id=record_id, word=word, join=", ".join(sorted(s.title() for s in scripts)))
            )


def read_people_csv(path: Path | str) -> list[PersonRecord]:
    """Every record of a person CSV (UTF-8, a header with at least id and name; other columns of COLUMNS optional,
    unknown columns ignored). InvalidInput listing every error by its line when any row is unusable or an id
    repeats; nothing is returned in part."""
    source = Path(path)
    try:
        with source.open(encoding="utf-8-sig", newline="") as stream:
            reader = csv.DictReader(stream)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise InvalidInput(
                    _(
                        "{name} has no {join} column in its header; the first line must name the columns "
                        "({join2}), id and name at least"
                    ).format(name=source.name, join=" or ".join(missing), join2=", ".join(COLUMNS))
                )
            reader.fieldnames = header
            records, problems = _read_rows(reader)
    except OSError as exc:
        raise InvalidInput(_("cannot read {source}: {strerror}").format(source=source, strerror=exc.strerror)) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            _("{name} is not UTF-8 text (byte {start}); save it as UTF-8").format(name=source.name, start=exc.start)
        ) from exc
    except csv.Error as exc:
        raise InvalidInput(_("{name} is not a readable CSV: {exc}").format(name=source.name, exc=exc)) from exc
    if problems:
        more = f"; and {len(problems) - MAX_ERRORS} more" if len(problems) > MAX_ERRORS else ""
        raise InvalidInput(f"{source.name}: " + "; ".join(problems[:MAX_ERRORS]) + more)
    return records


def _read_rows(reader: csv.DictReader[str]) -> tuple[list[PersonRecord], list[str]]:
    records: list[PersonRecord] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(f"line {line}: more values than the header has columns")
            continue
        try:
            record = person_from_row(row)
        except InvalidInput as exc:
            problems.append(f"line {line}: {exc.detail}")
            continue
        if record.id in seen:
            problems.append(f"line {line}: id {record.id!r} repeats line {seen[record.id]}; ids must be unique")
            continue
        seen[record.id] = line
        records.append(record)
    return records, problems
