"""Person records for the minimisation screen: how many persons a text, a table or a JSON document describes. A
record is a name together with a date of birth or a personal identifier (never every capitalised word); the field
names, identifier formats and month names are data (`data/minimisation/person_records.yaml`), matched in English,
French, Hindi and Punjabi through `accord.policy.language`."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from functools import cache, cached_property, lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.datafiles import load
from accord.policy.language import Hit, Language, Lexicon, Term, tokenise, without_format_characters, word_keys
from accord.policy.text_dates import TextDates

Tick = Callable[[], None]  # called once per row, line or object: raises when the caller's budget is spent


class PersonField(StrEnum):
    NAME = "name"
    BIRTH_DATE = "birth_date"
    IDENTIFIER = "identifier"


class FieldTerm(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1, max_length=64)
    language: Language


class PersonRecordVocabulary(BaseModel):
    """The data file's contents, validated: every field kind named, every pattern a regular expression."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fields: dict[PersonField, tuple[FieldTerm, ...]]
    identifier_patterns: dict[str, str]
    months: tuple[str, ...] = Field(min_length=12)
    not_person_words: tuple[str, ...] = ()
    name_particles: tuple[str, ...] = ()  # lower-case words inside names ("de", "van", "bin")

    @field_validator("fields")
    @classmethod
    def _every_field(cls, value: dict[PersonField, tuple[FieldTerm, ...]]) -> dict[PersonField, tuple[FieldTerm, ...]]:
        missing = [f.value for f in PersonField if not value.get(f)]
        if missing:
            raise ValueError(f"terms are needed for {', '.join(missing)}")
        return value

    @field_validator("months")
    @classmethod
    def _months_are_words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        spaced = [m for m in value if not m or m != m.strip()]
        if spaced:
            raise ValueError(f"a month name is a word, without spaces around it: {spaced!r}")
        return value

    @field_validator("identifier_patterns")
    @classmethod
    def _patterns_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for scheme, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"identifier pattern {scheme!r} is not a regular expression: {exc}") from exc
            # A pattern describes the identifier itself; the screen adds the boundaries. Without anchors or
            # lookarounds of its own, a pattern that matches nowhere in a line matches in none of its fields, so a
            # line is searched once rather than once per field.
            if _BOUNDARY_SYNTAX.search(pattern):
                raise ValueError(
                    f"identifier pattern {scheme!r} has an anchor or a lookaround: the screen adds the boundaries"
                )
        return value


@cache
def person_records() -> PersonRecords:
    """The shipped vocabulary, read and checked once per process."""
    return PersonRecords(load(PersonRecordVocabulary, "minimisation", "person_records.yaml"))


_DIGITS = {c: str(d) for c in range(0x0660, 0x1100) if (d := unicodedata.decimal(chr(c), None)) is not None}
_ENUMERATION = re.compile(r"^\s*(?:[-*•·]+|\(?[0-9]{1,6}[.)]|#[0-9]+)\s+")
_FIELD_SEPARATORS = re.compile(r"[,;\t|()\[\]{}]| {2,}")
_NUMBERED = re.compile(r"^[0-9]{1,4}\s*[:：.)-]\s*")
_LABEL_END = re.compile(r"^\s*[:：=–-]\s*")
_HAS_DIGIT = re.compile(r"[0-9]")  # every date the screen reads has one
_BOUNDARY_SYNTAX = re.compile(r"(?<!\[)(?<!\\)\^|(?<!\\)\$|\\[bBAZ]|\(\?<?[=!]")
_LATIN = re.compile(r"[A-Za-zÀ-ÿ]")
_FIELD_NAMES_KEPT = 4096
_BLOCK_LINES = 4  # a labelled name and its date of birth or identifier on the lines that follow it (a form)


@dataclass(frozen=True, slots=True)
class _Line:
    name: bool
    key: bool  # a date of birth or a personal identifier


class _KeysWithPrefix:
    """Which words' keys begin with one of the prefixes, remembered: a text's keys then cost a set difference and an
    intersection, and only a key not seen before is compared with the prefixes (a message's fields are read one by
    one, and their words are mostly the language's common ones)."""

    _REMEMBERED = 200_000  # distinct keys kept before the memory starts again (reference numbers are all new)

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        self._prefixes = prefixes
        self._lock = threading.Lock()
        # (keys seen, those of them with a prefix): replaced, never changed, so a reader sees one or the other whole
        self._memory: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())

    def any_of(self, keys: frozenset[str]) -> bool:
        seen, prefixed = self._memory
        if not keys <= seen:
            with self._lock:
                seen, prefixed = self._memory
                if len(seen) > self._REMEMBERED:
                    seen, prefixed = frozenset(), frozenset()
                unseen = keys - seen
                prefixed |= {key for key in unseen if key.startswith(self._prefixes)}
                seen |= unseen
                self._memory = (seen, prefixed)
        return not prefixed.isdisjoint(keys)


@dataclass(frozen=True, slots=True)
class _FirstWords:
    plain: frozenset[str]
    indic: frozenset[str]
    prefixed: _KeysWithPrefix


_LINES_REMEMBERED = 256


class PersonRecords:
    """The vocabulary compiled: counts person records in text, tables and JSON."""

    def __init__(self, vocabulary: PersonRecordVocabulary) -> None:
        self.vocabulary = vocabulary
        self.lexicon = Lexicon(
            {kind.value: [Term(t.text, t.language) for t in terms] for kind, terms in vocabulary.fields.items()}
        )
        self._dates = TextDates(vocabulary.months)
        # The boundaries once around all the patterns rather than around each: the same matches, four times as fast.
        self._identifier = re.compile(
            "(?<![A-Za-z0-9])(?:"
            + "|".join(f"(?:{p})" for p in vocabulary.identifier_patterns.values())
            + ")(?![A-Za-z0-9])"
        )
        self._not_person = frozenset(w.casefold() for w in vocabulary.not_person_words)
        self._particles = frozenset(w.casefold() for w in vocabulary.name_particles)
        # Lines read lately: a message's screens read each of its lines twice.
        self._line: Callable[[str], _Line] = lru_cache(maxsize=_LINES_REMEMBERED)(self._read_line)
        self._field_names: dict[str, PersonField | None] = {}  # headings and keys repeat: each is read once

    @cached_property
    def _first_words(self) -> _FirstWords:
        """The first word of every term, to skip the lexicon for text that cannot hold a field name (most prose).
        Worked out when a text is first read, not at start-up, as the lexicon's keys are (see `Lexicon`)."""
        terms = [t for terms in self.vocabulary.fields.values() for t in terms]
        firsts = [(tokenise(t.text.rstrip("*"))[0], t) for t in terms]
        return _FirstWords(
            frozenset(w.plain for w, t in firsts if not t.language.indic),
            frozenset(w.indic for w, t in firsts if t.language.indic),
            _KeysWithPrefix(tuple(w.plain for w, t in firsts if t.text.endswith("*") and len(tokenise(t.text)) == 1)),
        )

    # ------------------------------------------------------------------------------------------ field names

    def field_of(self, label: str) -> PersonField | None:
        """What a column heading or JSON key names, if it is a field of a person record ("Date of birth",
        "जन्म तिथि", "passport_no", "Nom de famille")."""
        if label in self._field_names:
            return self._field_names[label]
        found = self._field_of(label)
        if len(self._field_names) < _FIELD_NAMES_KEPT:
            self._field_names[label] = found
        return found

    def _field_of(self, label: str) -> PersonField | None:
        text = _readable_key(label)
        if not text or len(tokenise(text)) > 6:
            return None
        hits = self._hits(text)
        if not hits:
            return None
        kinds = {PersonField(h.concept) for h in hits}
        if PersonField.BIRTH_DATE in kinds:
            return PersonField.BIRTH_DATE
        # "Passport number", "Applicant name": the last word says what the column holds.
        last = max(hits, key=lambda h: (h.end, h.end - h.start))
        return PersonField(last.concept)

    def _hits(self, text: str) -> list[Hit]:
        """The lexicon's hits in `text`, looked for only when one of its words can begin a field name."""
        firsts = self._first_words
        plain, indic = word_keys(text)
        if not firsts.plain.isdisjoint(plain) or not firsts.indic.isdisjoint(indic) or firsts.prefixed.any_of(plain):
            return self.lexicon.find(text)
        return []

    # ------------------------------------------------------------------------------------------ values

    def is_date(self, value: object) -> bool:
        if isinstance(value, date | datetime):
            return True
        return isinstance(value, str) and self._has_date(_readable(value))

    def _has_date(self, text: str) -> bool:
        return _HAS_DIGIT.search(text) is not None and self._dates.search(text) is not None

    def is_identifier(self, value: object) -> bool:
        return isinstance(value, str) and self._identifier.search(_readable(value)) is not None

    def is_name(self, value: str, *, labelled: bool = False) -> bool:
        """Words of letters only, not field names, not an organisation; two or more words unless a label says it
        is a name (records rarely give one word for a person, and "Shipment" is not one)."""
        value = value.strip()
        if not value or _HAS_DIGIT.search(_readable(value)) or "@" in value:
            return False
        words = tokenise(value)
        if not 1 <= len(words) <= 6 or (len(words) < 2 and not labelled):
            return False
        if any(w.plain in self._not_person for w in words) or self._hits(value):
            return False
        # Names in Latin letters are capitalised, bar particles ("de", "van", "bin"); a sentence is not.
        latin = [w.surface for w in words if _LATIN.match(w.surface)]
        return all(w[0].isupper() or w.casefold() in self._particles or len(w) < 2 for w in latin)

    # ------------------------------------------------------------------------------------------ text

    def count_text(self, text: str, tick: Tick | None = None) -> int:
        """Person records in free text, line by line: a line with a name and a date of birth or identifier is one
        ("1. Rajesh Kumar, 03/02/1980, Z1234567"); so is a labelled name followed within a few lines by a labelled
        date of birth or identifier (a form: "Name: …" / "DOB: …")."""
        return sum(1 for _ in self._records(text, tick))

    def record_line_spans(self, text: str) -> list[tuple[int, int]]:
        """Where in `text` the lines are that name a person `count_text` counts: there a community's or a faith's
        word is part of a name ("Ashok Jain, 11-03-1981"; "Name: Seema Jain" over "DOB: 1990-01-02")."""
        return list(self._records(text))

    def _records(self, text: str, tick: Tick | None = None) -> Iterator[tuple[int, int]]:
        """(start, end) in `text` of the line that names each person record, in order."""
        offset, pending, named = 0, 0, (0, 0)
        for raw, with_end in zip(text.splitlines(), text.splitlines(keepends=True), strict=True):
            if tick is not None:
                tick()
            line, here = self._line(raw), (offset, offset + len(with_end))
            offset += len(with_end)
            if line.name and line.key:
                pending = 0
                yield here
            elif line.name:
                pending, named = _BLOCK_LINES, here
            elif line.key and pending:
                pending = 0
                yield named
            elif raw.strip():
                pending = max(0, pending - 1)

    def _read_line(self, raw: str) -> _Line:
        line = _ENUMERATION.sub("", _readable(raw), count=1)
        identifiers = self._identifier.search(line) is not None  # if none in the line, none in its fields
        name = key = named_in_prose = labelled_key = False
        single_before = False  # the field before was one capitalised word ("Kumar, Rajesh, 1980-02-03")
        for field in self._fields(line):
            single = False
            for label, value in self._segments(field):
                if label is PersonField.NAME:  # "Applicant 1: Harpreet Singh": the number is the list's
                    name = name or self.is_name(_NUMBERED.sub("", value, count=1), labelled=True)
                elif label is PersonField.BIRTH_DATE:
                    labelled_key = labelled_key or self.is_date(value)
                elif label is PersonField.IDENTIFIER:
                    first = value.split(maxsplit=1)[0] if value.split() else ""
                    labelled_key = labelled_key or bool(_HAS_DIGIT.search(first)) or "@" in first
                elif self._is_name_with_key(value, identifiers):
                    name = key = True
                elif self._is_key_value(value, identifiers):
                    key = True
                elif self.is_name(value):
                    name = True
                elif len(tokenise(value)) == 1 and self.is_name(value, labelled=True):
                    single = True
                    name = name or single_before
                else:
                    named_in_prose = named_in_prose or self._names_someone(value)
            single_before = single
        # In a sentence ("Kindly locate Rajesh Kumar, born 3 March 1980") only a labelled date of birth or
        # identifier makes a record: a date beside a place name ("New Delhi on 2026-11-20") does not.
        return _Line(name or (named_in_prose and labelled_key), key or labelled_key)

    def _fields(self, line: str) -> list[str]:
        """The line cut at its field separators, but not inside a date: "March 3, 1980" and "3 March, 1980" are one
        field, as "3 March 1980" is."""
        dates = self._dates.spans(line) if _HAS_DIGIT.search(line) else ()
        if not dates:
            return _FIELD_SEPARATORS.split(line)
        fields: list[str] = []
        start = 0
        for separator in _FIELD_SEPARATORS.finditer(line):
            if not any(first <= separator.start() < end for first, end in dates):
                fields.append(line[start : separator.start()])
                start = separator.end()
        fields.append(line[start:])
        return fields

    def _is_name_with_key(self, value: str, identifiers: bool) -> bool:
        """A table row as text extraction gives it, cells joined by single spaces ("Rajesh Kumar 1980-02-03
        Z1234567"): a name once its dates and identifiers are taken out, and at least one was there. `identifiers`:
        whether the line holds one (taking a date out can join an identifier's parts, so then it is looked for)."""
        rest, taken = self._dates.subn(" ", value) if _HAS_DIGIT.search(value) else (value, 0)
        if not (taken or identifiers):
            return False
        rest, more = self._identifier.subn(" ", rest)
        return bool(taken + more) and self.is_name(rest)

    def _names_someone(self, sentence: str) -> bool:
        """Two or more capitalised words in a row inside a sentence ("… locate Rajesh Kumar …")."""
        run = 0
        for word in tokenise(sentence):
            surface = word.surface
            person_like = (
                _LATIN.match(surface) is not None
                and surface[0].isupper()
                and len(surface) > 1
                and word.plain not in self._not_person
            )
            run = run + 1 if person_like else 0
            if run >= 2:
                return True
        return False

    def _is_key_value(self, value: str, identifiers: bool) -> bool:
        """A field that is a date or an identifier and little else ("03/02/1980", "Passport Z1234567")."""
        found = self._dates.search(value) if _HAS_DIGIT.search(value) else None
        if found is None and identifiers:
            identifier = self._identifier.search(value)
            found = None if identifier is None else identifier.span()
        if found is None:
            return False
        start, end = found
        return len(tokenise(value[:start] + value[end:])) <= 2

    def _segments(self, field: str) -> list[tuple[PersonField | None, str]]:
        """A field cut at the field names it contains ("Rajesh Kumar DOB: 1990-01-02"): each value with the field
        its label names (None for what comes before the first label)."""
        field = field.strip()
        if not field:
            return []
        labels: list[tuple[int, int, PersonField]] = []
        for hit in sorted(self._hits(field), key=lambda h: (h.start, h.start - h.end)):
            if not labels or hit.start >= labels[-1][1]:
                labels.append((hit.start, hit.end, PersonField(hit.concept)))
        if not labels:
            return [(None, field)]
        segments: list[tuple[PersonField | None, str]] = []
        if field[: labels[0][0]].strip():
            segments.append((None, field[: labels[0][0]]))
        for index, (_, end, kind) in enumerate(labels):
            stop = labels[index + 1][0] if index + 1 < len(labels) else len(field)
            segments.append((kind, _LABEL_END.sub("", field[end:stop], count=1).strip()))
        return segments

    # ------------------------------------------------------------------------------------------ tables

    def count_table(self, rows: Iterable[Sequence[object]], tick: Tick | None = None) -> int:
        """Person records in a table (a CSV file, a worksheet). The heading row — among the first rows, the first
        that names a name column — says which columns hold names, dates of birth and identifiers; a row with a
        name and a date of birth or identifier (in its columns, or any cell that is one) is a person. A table
        without such a heading is read as lines of text."""
        iterator = iter(rows)
        heading: dict[int, PersonField] | None = None
        seen: list[Sequence[object]] = []
        for row in iterator:
            if tick is not None:
                tick()
            fields = {i: f for i, cell in enumerate(row) if isinstance(cell, str) and (f := self.field_of(cell))}
            if PersonField.NAME in fields.values():
                heading = fields
                break
            seen.append(row)
            if len(seen) >= 10:
                break
        if heading is None:
            rest = [*seen, *iterator]
            return self.count_text("\n".join(", ".join(_cell_text(c) for c in row) for row in rest), tick)
        names = [i for i, f in heading.items() if f is PersonField.NAME]
        keys = [i for i, f in heading.items() if f is not PersonField.NAME]
        count = 0
        for row in iterator:
            if tick is not None:
                tick()
            if self._row_is_person(row, names, keys):
                count += 1
        return count

    def _row_is_person(self, row: Sequence[object], names: list[int], keys: list[int]) -> bool:
        if not any(i < len(row) and _cell_text(row[i]).strip() for i in names):
            return False
        if any(i < len(row) and _cell_text(row[i]).strip() for i in keys):
            return True
        others = (cell for i, cell in enumerate(row) if i not in names)
        return any(self.is_date(c) or self.is_identifier(_cell_text(c)) for c in others)

    # ------------------------------------------------------------------------------------------ JSON

    def count_json(self, document: Any, tick: Tick | None = None) -> int:
        """Objects, at any depth, with a name-like key and a date-of-birth or identifier key, both with values
        (`{"full_name": …, "dob": …}`, `{"nom": …, "passeport": …}`); a string value is also read as text."""
        count = 0
        stack = [document]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                if tick is not None:
                    tick()
                if self._object_is_person(value):
                    count += 1
                stack.extend(v for v in value.values() if _nested(v))
            elif isinstance(value, list) and len(value) > 1 and all(isinstance(row, list) for row in value):
                count += self.count_table(value, tick)  # rows of cells, a heading first: a table
            elif isinstance(value, list):
                if tick is not None:
                    tick()
                stack.extend(v for v in value if _nested(v))
            elif isinstance(value, str) and "\n" in value:
                count += self.count_text(value, tick)
        return count

    def _object_is_person(self, value: dict[Any, Any]) -> bool:
        name = key = False
        for label, item in value.items():
            if not isinstance(label, str) or item in (None, "", [], {}):
                continue
            field = self.field_of(label)
            if field is PersonField.NAME and isinstance(item, str | dict):
                name = True
            elif field in (PersonField.BIRTH_DATE, PersonField.IDENTIFIER):
                key = True
        return name and key


def _nested(value: object) -> bool:
    """What a JSON walk descends into: objects, arrays, and strings of several lines (text that may list persons)."""
    return isinstance(value, dict | list) or (isinstance(value, str) and "\n" in value)


def _readable_key(label: str) -> str:
    """A key as words: "date_of_birth", "passportNo" and "Date-of-Birth" read as "date of birth"."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", label)
    return re.sub(r"[_\-./]+", " ", spaced).strip()


def _readable(text: str) -> str:
    """The text as the patterns read it: Devanagari, Gurmukhi (and other) decimal digits as ASCII ones, so
    "१५/०८/१९९०" is a date, and without invisible format characters, so "1980\u200b-03-03" is one too."""
    return text if text.isascii() else without_format_characters(text).translate(_DIGITS)


def _cell_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):  # a spreadsheet's date cell is a datetime at midnight
        return cell.date().isoformat() if cell.time() == time() else cell.isoformat(sep=" ")
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


__all__ = ["PersonField", "PersonRecordVocabulary", "PersonRecords", "Tick", "person_records"]
