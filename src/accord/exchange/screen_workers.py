"""Worker processes beside a node process for the screens' work on a bulk batch, which reads only the messages and
the pack: the sending node's disclosure decisions on a batch its officer sends, the receiving node's neutrality screen
of a batch that arrives. The node's own interpreter runs one thread at a time; while the workers screen a batch it
stores, signs and receipts others.

Whatever is done there gives what doing it here gives, item for item and in order: the caller hands the same task
the same input, and the tests compare the two on every case of both packs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from threading import Lock
from typing import Any, TypeVar

import structlog

from accord.processes import machine_cores, worker_pool

log = structlog.get_logger("accord.screen_workers")

# What the fork server the workers come from imports, and builds, before it forks them (`worker_context`).
_PRELOAD = "accord.exchange.screen_workers_preload"
# Fewer items than this are worked on in the node process: the round trip to a worker (pickling, a wake-up) would
# cost more than it saves, and an urgent batch (one message, as a rule) does not wait for it.
PARALLEL_FROM = 32

Common = TypeVar("Common")
Item = TypeVar("Item")
Result = TypeVar("Result")


class ScreenWorkers:
    """A pool of `workers` processes (by default one a core; 0: none), started by the first batch large enough to use
    it and kept until `close`. Until its workers are up and warm (a second or two), batches are worked on here, so the
    first ones do not wait for them. A batch the pool cannot take (a worker died) is worked on here too, and the pool
    is started again by the next: nothing is lost, it is only slower."""

    def __init__(self, workers: int | None = None, *, parallel_from: int = PARALLEL_FROM) -> None:
        self.workers = workers if workers is not None else machine_cores()
        self._parallel_from = parallel_from
        self._pool: ProcessPoolExecutor | None = None
        self._warm: list[Future[None]] = []  # one a worker: done once each is up and warm
        self._lock = Lock()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def map(
        self,
        task: Callable[[Common, list[Item]], list[Result]],
        common: Common,
        items: Sequence[Item],
        here: Callable[[], list[Result]],
        *,
        urgent: bool,
    ) -> list[Result]:
        """`task(common, part)` for the parts of `items`, their results in order; `here()` instead (the same work in
        this process) for an urgent or small batch, while the workers start, or when one died."""
        if urgent or len(items) < self._parallel_from or self.workers < 1:
            return here()
        size = -(-len(items) // self.workers)
        parts = [list(items[start : start + size]) for start in range(0, len(items), size)]
        pool = self._ready(task, common, parts[0][:1])
        if pool is None:
            return here()
        try:
            running: list[Future[list[Result]]] = [pool.submit(task, common, part) for part in parts]
            return [result for part in running for result in part.result()]
        except BrokenProcessPool as exc:
            log.warning("a screen worker stopped; this batch is worked on in the node process", error=str(exc))
            self._discard(pool)
            return here()

    def _ready(self, task: Callable[..., Any], common: Any, sample: list[Any]) -> ProcessPoolExecutor | None:
        """The pool if its workers are warm; else None, starting it (warmed up on `sample`) if it is not started."""
        with self._lock:
            if self._pool is None:
                self._pool = worker_pool(self.workers, [task.__module__, _PRELOAD], _warm_up, task, common, sample)
                # A pool not forked starts a worker when a task finds none idle: one task each starts them all.
                self._warm = [self._pool.submit(_warm) for _ in range(self.workers)]
            pool, warm = self._pool, self._warm
        if not all(w.done() for w in warm):
            return None
        if any(w.exception() is not None for w in warm):
            self._discard(pool)
            return None
        return pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


def _warm() -> None:
    """A task that returns once its worker is up (its initializer, `_warm_up`, ran first)."""


def _warm_up(task: Callable[..., Any], common: Any, sample: list[Any]) -> None:
    """In each worker as it starts: the batch's task on one of its items, which builds what the screens build on
    first use and the fork server did not (`_PRELOAD` builds the shipped packs'; a pack of the node's own makes its
    term indexes here: 1.4 s)."""
    try:
        task(common, sample)
    except Exception as exc:  # only a head start: the task itself reports whatever failed
        log.warning("a screen worker could not be warmed up", error=str(exc))
