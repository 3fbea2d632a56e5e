"""The work on an arriving message that reads only the message and the pack: the neutrality screen on arrival, the
message as stored (canonical JSON) and the words it is found by. Done before the store's write transaction; for a
routine batch, across the machine's cores in worker processes, while the node's own interpreter stores and receipts
other batches (measured during a backlog's drain: 45 % of the receiving node's interpreter time was this work).

Only what verified reaches here: the envelopes are authenticated, and each message validated, by the node process
first. The results are those of `work_here`, message for message, in order, wherever the work was done."""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from threading import Lock
from typing import Any

import structlog

from accord.crypto.canonical import canonical_json
from accord.domain.messages import Message
from accord.exchange.disclosure import ArrivalScreen, screen_arriving
from accord.processes import exit_with, machine_cores, worker_context
from accord.store.engine import bulk_item
from accord.store.search import message_words

log = structlog.get_logger("accord.inbox")

# Fewer messages than this are worked on in the node process: the round trip to a worker (pickling, a wake-up) would
# cost more than it saves, and an urgent batch (one message, as a rule) does not wait for it.
PARALLEL_FROM = 32


@dataclass(frozen=True, slots=True)
class ArrivalWork:
    screening: dict[str, Any] | None  # the neutrality screen on arrival (None: no pack, or not an opening message)
    content: str  # the message as stored
    words: str  # what search finds it by


Arriving = tuple[Message, dict[str, Any]]  # a message as validated, and its body as signed


def work_here(screen: ArrivalScreen | None, arriving: Sequence[Arriving]) -> list[ArrivalWork]:
    """The work on each message, in this process (each an item of bulk work: it gives way to urgent work)."""
    done = []
    for message, body in arriving:
        with bulk_item():
            content = canonical_json(body).decode()
            done.append(ArrivalWork(screen_arriving(screen, message), content, message_words(content)))
    return done


class ArrivalWorkers:
    """A pool of `workers` processes (by default one a core; 0: none) for routine batches, started by the first batch
    large enough to use it and kept until `close`. Until its workers are up and warm (a second or two), batches are
    worked on here, so the first ones do not wait for them. A batch the pool cannot take (a worker died) is worked on
    here too, and the pool is started again by the next: nothing is lost, it is only slower."""

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

    def work(self, screen: ArrivalScreen | None, arriving: Sequence[Arriving], *, urgent: bool) -> list[ArrivalWork]:
        """The work on each message, in order: here for an urgent or small batch, else shared among the workers."""
        if urgent or len(arriving) < self._parallel_from or self.workers < 1:
            return work_here(screen, arriving)
        # Bodies travel (plain JSON data pickles faster than models) and are validated again there, as here.
        size = -(-len(arriving) // self.workers)
        chunks = [[body for _, body in arriving[start : start + size]] for start in range(0, len(arriving), size)]
        pool = self._ready(screen, chunks[0][0])
        if pool is None:
            return work_here(screen, arriving)
        try:
            parts: list[Future[list[ArrivalWork]]] = [pool.submit(_work_bodies, screen, chunk) for chunk in chunks]
            return [work for part in parts for work in part.result()]
        except BrokenProcessPool as exc:
            log.warning("an arrival worker stopped; this batch is worked on in the node process", error=str(exc))
            self._discard(pool)
            return work_here(screen, arriving)

    def _ready(self, screen: ArrivalScreen | None, sample: dict[str, Any]) -> ProcessPoolExecutor | None:
        """The pool if its workers are warm; else None, starting it if it is not started."""
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=worker_context([__name__]),
                    initializer=_warm_up,
                    initargs=(os.getpid(), screen, sample),
                )
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


def _work_bodies(screen: ArrivalScreen | None, bodies: Sequence[dict[str, Any]]) -> list[ArrivalWork]:
    return work_here(screen, [(Message.model_validate(body), body) for body in bodies])


def _warm_up(node_pid: int, screen: ArrivalScreen | None, sample: dict[str, Any]) -> None:
    """In each worker as it starts: end it with the node process (a node killed must not leave its workers behind);
    build the screen's term indexes and the word pattern on a message of the batch that started the pool, before the
    first task needs them (1.4 s), then set what is built aside from the collector, as a node process does at its
    start."""
    exit_with(node_pid)
    try:
        _work_bodies(screen, [sample])
    except Exception as exc:  # only a head start: the task itself reports whatever failed
        log.warning("an arrival worker could not be warmed up", error=str(exc))
    gc.collect()
    gc.freeze()
