"""STIX objects checked across the machine's cores: the cheap checks in the calling process, the libraries' (the
OASIS validator, stix2's parse: ~2 ms an indicator) in a pool of worker processes that each build them once and
live as long as the checker. The verdicts are those of `check_object`, object for object, in input order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from threading import Lock
from types import TracebackType
from typing import Any

from accord.errors import AccordError
from accord.focus.cyber.validation import CheckedObject, CheckedObjects, first_check, library_errors
from accord.i18n import N_, _
from accord.processes import machine_cores, worker_pool

# Objects per task: enough to amortise pickling and the round trip (~0.1 ms), few enough to keep every worker busy.
CHUNK = 64
# Fewer objects than this to check are checked in the calling process: starting the pool would cost more.
PARALLEL_FROM = 2 * CHUNK
_WARM_UP = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-01-01T00:00:00.000Z",
    "pattern": "[ipv4-addr:value = '198.51.100.1']",
    "pattern_type": "stix",
    "valid_from": "2026-01-01T00:00:00.000Z",
}

Verdicts = list[tuple[str, ...]]


class ValidatorStopped(AccordError):
    status = 503
    slug = "validator-stopped"
    title = N_("The STIX validator stopped")


@dataclass(frozen=True, slots=True)
class PendingChecks:
    """Objects whose library checks may still be running; `result` waits for them."""

    firsts: tuple[CheckedObject, ...]  # after the cheap checks
    # Indexes into `firsts` and their verdicts (each a list of reasons), computed or still running.
    parts: tuple[tuple[tuple[int, ...], Future[Verdicts] | Verdicts], ...]

    def result(self) -> CheckedObjects:
        items = list(self.firsts)
        for indexes, verdicts in self.parts:
            try:
                done = verdicts.result() if isinstance(verdicts, Future) else verdicts
            except BrokenProcessPool as exc:
                raise ValidatorStopped(
                    _(
                        "a STIX validator process stopped ({exc}); nothing of this batch was stored, run it again"
                    ).format(exc=exc)
                ) from exc
            for index, errors in zip(indexes, done, strict=True):
                items[index] = replace(items[index], errors=errors)
        return CheckedObjects(tuple(items))


class ObjectChecker:
    """Checks objects as `check_object` does, the slow part in `workers` processes (by default one a core).

    The pool starts with the first batch large enough to need it and is kept until `close` (or the end of a `with`
    block), so an import pays the workers' start (and their building of the validator) once. Workers come from a
    fresh interpreter ('forkserver', else 'spawn'), never a fork of a process that may be running threads."""

    def __init__(self, workers: int | None = None, *, parallel_from: int = PARALLEL_FROM) -> None:
        self.workers = workers if workers is not None else machine_cores()
        self._parallel_from = parallel_from
        self._pool: ProcessPoolExecutor | None = None
        self._lock = Lock()

    def __enter__(self) -> ObjectChecker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def check(self, objects: Iterable[Any]) -> CheckedObjects:
        """Every object of an envelope, positions from 0."""
        return self.submit(list(enumerate(objects))).result()

    def submit(self, objects: Sequence[tuple[int, Any]], *, known_valid: Iterable[int] = ()) -> PendingChecks:
        """Start checking (position, object) pairs; objects whose position is in `known_valid` (held already, as
        they are, so checked when stored) skip the library checks."""
        return self.submit_checked([first_check(position, stix) for position, stix in objects], known_valid)

    def submit_checked(self, firsts: Sequence[CheckedObject], known_valid: Iterable[int] = ()) -> PendingChecks:
        """As `submit`, for objects through `first_check` already."""
        skip = frozenset(known_valid)
        todo = tuple(i for i, item in enumerate(firsts) if item.ok and item.position not in skip)
        if len(todo) < self._parallel_from or self.workers < 2:
            return PendingChecks(tuple(firsts), ((todo, _library_checks([firsts[i].stix for i in todo])),))
        pool = self._started()
        size = max(1, min(CHUNK, -(-len(todo) // self.workers)))
        parts = []
        for start in range(0, len(todo), size):
            indexes = todo[start : start + size]
            try:
                parts.append((indexes, pool.submit(_library_checks, [firsts[i].stix for i in indexes])))
            except BrokenProcessPool as exc:
                raise ValidatorStopped(
                    _("the STIX validator processes stopped ({exc}); run it again").format(exc=exc)
                ) from exc
        return PendingChecks(tuple(firsts), tuple(parts))

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # The fork server imports the validator once; each worker forked from it starts with it loaded.
                self._pool = worker_pool(self.workers, ["accord.focus.cyber.schema_check"], _warm_up)
            return self._pool


def _warm_up() -> None:
    """In each worker as it starts: build the validator's schemas and registry before the first task needs them."""
    library_errors(dict(_WARM_UP))


def _library_checks(objects: list[Any]) -> Verdicts:
    return [tuple(library_errors(stix)) for stix in objects]
