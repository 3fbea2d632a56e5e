"""structlog JSON logs for node processes; never secrets or message bodies. Each HTTP request's log lines carry its
request id, and who the caller authenticated as once they have."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import structlog


def configure_logging(level: str = "info") -> None:
    """JSON lines on stderr: structlog's, and the standard library's (uvicorn, alembic) rendered alike, each with the
    request id of the request it was written for."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def configure_default() -> None:
    """Until a node process configures its logs: warnings and errors only, on stderr (stdout is for output)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


@dataclass(slots=True)
class RequestScope:
    """One HTTP request as the logs and the error answers see it: its id, and the caller once authenticated (an
    officer or a pinned peer). Mutable on purpose: worker threads run in a copy of the request's context, and an
    authentication made there must be seen by the error handler back in the request's own task."""

    request_id: str
    caller: str | None = None


_request: ContextVar[RequestScope | None] = ContextVar("accord_request", default=None)


@contextmanager
def request_scope(request_id: str) -> Iterator[RequestScope]:
    """For the duration of one request: its scope, and its id on every log line written meanwhile."""
    scope = RequestScope(request_id)
    token = _request.set(scope)
    try:
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            yield scope
    finally:
        _request.reset(token)


def current_request() -> RequestScope | None:
    return _request.get()


def bind_caller(caller: str) -> None:
    """The request's caller has authenticated (`officer:<username>`, `peer:<node id>`): its errors may be precise."""
    scope = _request.get()
    if scope is not None:
        scope.caller = caller
        structlog.contextvars.bind_contextvars(caller=caller)


class LineBudget:
    """At most `lines` log lines per key in any `interval_s`, so that traffic nobody authenticated cannot grow the log
    without bound; the next line allowed for a key says how many were left out meanwhile. One per process."""

    def __init__(self, lines: int = 20, interval_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lines = lines
        self._interval_s = interval_s
        self._windows: dict[str, tuple[float, int, int]] = {}  # key -> (window start, lines written, left out)
        self._lock = threading.Lock()

    def spend(self, key: str) -> int | None:
        """None if the line for `key` must be left out; otherwise how many were left out before it."""
        with self._lock:
            now = self._clock()
            start, written, left_out = self._windows.get(key, (now, 0, 0))
            if now - start >= self._interval_s:
                start, written = now, 0
            if written >= self._lines:
                self._windows[key] = (start, written, left_out + 1)
                return None
            self._windows[key] = (start, written + 1, 0)
            if len(self._windows) > 10_000:  # keys come from strangers: forget the quiet ones
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < self._interval_s}
            return left_out
