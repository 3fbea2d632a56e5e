"""Bulk import into a TAXII collection: STIX objects streamed one at a time from a bundle or JSON Lines file, checked
and stored in batches (one transaction each), so a 100,000-object file needs the memory of one batch."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import IO, Any

from accord.directory.officers import Officer
from accord.errors import Forbidden, InvalidInput
from accord.focus.cyber.checking import ObjectChecker, PendingChecks
from accord.focus.cyber.collections import Collection, Direction
from accord.focus.cyber.sharing import share_posted
from accord.focus.cyber.store import AddResult, add_objects, held_unchanged
from accord.focus.cyber.validation import CheckedObjects, first_check
from accord.i18n import _
from accord.node import Node

CHUNK_CHARS = 64 * 1024
# One object may be this large; a value still unfinished past it is broken JSON, not an object to wait for.
MAX_OBJECT_CHARS = 16 * 1024 * 1024
BATCH_SIZE = 500
SHARE_CHUNK = 1_000  # objects per share message when importing into a to_partner collection
FAILURES_KEPT = 20
_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()

Progress = Callable[[int, int], None]


class UnreadableStixFile(InvalidInput):
    """The file stops being a STIX bundle or JSON Lines of STIX objects at the position named."""


@dataclass(frozen=True, slots=True)
class SourcedObject:
    position: int  # in the file, from 0
    line: int  # where it starts, from 1
    stix: Any


class StixReader:
    """Reads the objects of a STIX bundle (or TAXII envelope: `{"objects": [...]}`) or of JSON Lines (one object per
    line), one at a time, through a sliding text buffer and `JSONDecoder.raw_decode`.

    The file is a bundle when its first value is a JSON object with an `objects` array (streamed, whatever else the
    bundle holds is ignored); otherwise every top-level value is one object."""

    def __init__(self, stream: IO[bytes], chunk_chars: int = CHUNK_CHARS) -> None:
        self._stream = stream
        self._chunk = chunk_chars
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._buffer = ""
        self._pos = 0
        self._line = 1  # of self._buffer[0]
        self._eof = False
        self._count = 0
        self.bytes_read = 0

    def __iter__(self) -> Iterator[SourcedObject]:
        if self._peek() == "\ufeff":
            self._pos += 1
        if self._peek() != "{":
            self._fail("expected a STIX bundle or JSON Lines of STIX objects, each a JSON object")
        first = yield from self._first_value()
        if first is not None:
            yield first
            while self._peek():
                yield self._sourced(self._line_here(), self._value())

    # -- the first value: a bundle whose objects are streamed, or the first of the JSON Lines

    def _first_value(self) -> Generator[SourcedObject, None, SourcedObject | None]:
        """Yields a bundle's objects and returns None; or yields nothing and returns the first JSON Lines object."""
        line = self._line_here()
        self._pos += 1  # {
        members: dict[str, Any] = {}
        streamed = False
        while self._peek() != "}":
            if not self._peek():
                self._fail("the file ends inside the first object")
            if members or streamed:
                self._expect(",", "a ',' or '}' between members")
                self._peek()
            key = self._value()
            if not isinstance(key, str):
                self._fail("expected a member name (a JSON string)")
            self._peek()
            self._expect(":", "a ':' after a member name")
            starts = self._peek()
            if key == "objects" and starts == "[" and not streamed:
                streamed = True
                yield from self._array()
            else:
                members[key] = self._value()
        self._pos += 1  # }
        if not streamed:
            return self._sourced(line, members)
        if self._peek():
            self._fail("unexpected content after the bundle")
        return None

    def _array(self) -> Iterator[SourcedObject]:
        self._pos += 1  # [
        if self._peek() == "]":
            self._pos += 1
            return
        while True:
            self._peek()
            yield self._sourced(self._line_here(), self._value())
            self._expect_one_of(",]", f"a ',' or ']' after object {self._count}")
            if self._buffer[self._pos - 1] == "]":
                return

    # -- the sliding buffer

    def _value(self) -> Any:
        """The JSON value at the position, reading more of the file until it is complete."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                if self._eof or len(self._buffer) - self._pos > MAX_OBJECT_CHARS:
                    raise UnreadableStixFile(
                        _(
                            "object {value} (line {line_here}) is not valid JSON: {removesuffix} on line {line_here2}"
                        ).format(
                            value=self._count + 1,
                            line_here=self._line_here(),
                            removesuffix=exc.msg.removesuffix(" at"),
                            line_here2=self._line_here(exc.pos),
                        )
                    ) from exc
                self._read()
                continue
            # A number at the end of the buffer may go on in the next chunk.
            if end < len(self._buffer) or self._eof:
                self._pos = end
                return value
            self._read()

    def _peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file), moving to it."""
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if self._eof:
                return ""
            self._read()

    def _expect(self, char: str, what: str) -> None:
        self._expect_one_of(char, what)

    def _expect_one_of(self, chars: str, what: str) -> None:
        found = self._peek()
        if not found or found not in chars:
            self._fail(f"expected {what}, found {found!r}" if found else f"expected {what}; the file ends")
        self._pos += 1

    def _read(self) -> None:
        # Drop what has been read; keep the unread tail, counting the lines dropped.
        self._line += self._buffer.count("\n", 0, self._pos)
        self._buffer = self._buffer[self._pos :]
        self._pos = 0
        data = self._stream.read(self._chunk)
        self.bytes_read += len(data)
        if not data:
            self._eof = True
        try:
            self._buffer += self._decoder.decode(data, final=self._eof)
        except UnicodeDecodeError as exc:
            self._fail(f"not UTF-8: {exc.reason}")

    def _line_here(self, at: int | None = None) -> int:
        return self._line + self._buffer.count("\n", 0, self._pos if at is None else at)

    def _sourced(self, line: int, stix: Any) -> SourcedObject:
        self._count += 1
        return SourcedObject(self._count - 1, line, stix)

    def _fail(self, reason: str, at: int | None = None) -> Any:
        raise UnreadableStixFile(_("line {line_here}: {reason}").format(line_here=self._line_here(at), reason=reason))


def read_stix_objects(stream: IO[bytes], chunk_chars: int = CHUNK_CHARS) -> Iterator[SourcedObject]:
    return iter(StixReader(stream, chunk_chars))


# --- importing ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportFailure:
    position: int  # in the file, from 0
    id: str
    reason: str


@dataclass(slots=True)
class ImportReport:
    """What the import did; only the first failures are kept, so a file of bad objects costs no memory."""

    read: int = 0
    stored: int = 0
    held: int = 0  # already in the collection, nothing changed
    failed: int = 0
    shares: list[str] = field(default_factory=list)  # message ids, for a to_partner collection
    failures: list[ImportFailure] = field(default_factory=list)
    stopped: str | None = None  # the file stopped being readable here; what came before is stored

    @property
    def complete(self) -> bool:
        return self.failed == 0 and self.stopped is None


def import_objects(
    node: Node,
    officer: Officer,
    collection: Collection,
    stream: IO[bytes],
    *,
    total_bytes: int,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    checker: ObjectChecker | None = None,
) -> ImportReport:
    """Check and store the file's objects in batches of `batch_size`, each in its own transaction; what is added to a
    `to_partner` collection is shared with the other party in messages of at most `SHARE_CHUNK` objects.

    Objects the collection holds already, as they are, skip the validator; the others are checked by `checker` (by
    default one of this import, a worker process a core), a batch ahead of the one being stored.

    Raises `UnreadableStixFile` if not even the first object can be read; a file that breaks later stops the import
    there, with what came before stored and the place named in `ImportReport.stopped`."""
    if not collection.may_write(officer):
        raise Forbidden(
            _("{username} may not add objects to collection {alias}").format(
                username=officer.username, alias=collection.alias
            )
        )
    if batch_size < 1:
        raise InvalidInput(_("the batch size must be at least 1"))
    with nullcontext(checker) if checker is not None else ObjectChecker() as checking:
        return _import(node, officer, collection, StixReader(stream), checking, batch_size, total_bytes, progress)


def _import(
    node: Node,
    officer: Officer,
    collection: Collection,
    reader: StixReader,
    checker: ObjectChecker,
    batch_size: int,
    total_bytes: int,
    progress: Progress | None,
) -> ImportReport:
    report = ImportReport()
    unshared: list[dict[str, Any]] = []
    batch: list[SourcedObject] = []
    checking: PendingChecks | None = None  # the batch before `batch`, being checked

    def store_checked() -> None:
        if checking is not None:
            _store_batch(node, officer, collection, checking.result(), report, unshared)
            if progress is not None:
                progress(reader.bytes_read, total_bytes)

    try:
        for sourced in reader:
            batch.append(sourced)
            if len(batch) == batch_size:
                ahead = _start_checks(node, collection, checker, batch)
                batch = []
                store_checked()
                checking = ahead
    except UnreadableStixFile as exc:
        if checking is None and not batch:
            raise
        report.stopped = exc.detail
    if batch:
        ahead = _start_checks(node, collection, checker, batch)
        store_checked()
        checking = ahead
    store_checked()
    _share(node, officer, collection, unshared, report, final=True)
    if progress is not None:
        progress(reader.bytes_read, total_bytes)
    return report


def _start_checks(
    node: Node, collection: Collection, checker: ObjectChecker, batch: Sequence[SourcedObject]
) -> PendingChecks:
    firsts = [first_check(s.position, s.stix) for s in batch]
    with node.engine.connect() as conn:
        held = held_unchanged(conn, collection.key, firsts)
    return checker.submit_checked(firsts, known_valid=held)


def _store_batch(
    node: Node,
    officer: Officer,
    collection: Collection,
    checked: CheckedObjects,
    report: ImportReport,
    unshared: list[dict[str, Any]],
) -> None:
    with node.engine.begin() as conn:
        # As a TAXII POST: a TLP:RED object is served back to the officer it was imported as.
        result = add_objects(conn, collection.key, checked, actor=officer.id, named_readers=(officer.username,))
    _count(checked, result, report)
    if collection.direction is Direction.TO_PARTNER:
        unshared.extend(stored.stix for stored in result.added)
        _share(node, officer, collection, unshared, report, final=False)


def _count(checked: CheckedObjects, result: AddResult, report: ImportReport) -> None:
    report.read += len(checked.items)
    report.stored += len(result.added)
    report.held += len(result.successes) - len(result.added)
    report.failed += len(result.failures)
    positions: dict[tuple[str, str | None], int] = {}
    for item in checked.items:
        positions.setdefault((item.id, item.version), item.position)
    for outcome in result.failures[: max(0, FAILURES_KEPT - len(report.failures))]:
        position = positions.get((outcome.id, outcome.version), -1)
        report.failures.append(ImportFailure(position, outcome.id, outcome.message or "refused"))
    report.failures.sort(key=lambda failure: failure.position)


def _share(
    node: Node,
    officer: Officer,
    collection: Collection,
    unshared: list[dict[str, Any]],
    report: ImportReport,
    *,
    final: bool,
) -> None:
    while len(unshared) >= SHARE_CHUNK or (final and unshared):
        chunk = unshared[:SHARE_CHUNK]
        del unshared[:SHARE_CHUNK]
        shared = share_posted(node, officer, collection, chunk)
        if shared is not None:
            report.shares.append(shared.message_id)
