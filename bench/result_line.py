"""The one JSON line every benchmark ends with, printed whatever happened: the figures measured so far and, when a
step failed, timed out or the run was stopped, an `error` naming its type and message (exit status 1).

    with result_line("exchange", args) as result:
        result["messages_per_s"] = ...  # set each figure as soon as it is measured

While the run lasts, anything written to stdout (by a library, a child process) goes to stderr: stdout carries the
result line alone, so `bench/x.py | jq` and the smoke run read it whatever else was printed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from progress import log  # bench/progress.py, beside this script


class Stopped(Exception):
    """The run was ended from outside (SIGTERM, SIGINT) or ran past --time-limit."""


def add_run_options(parser: argparse.ArgumentParser, quick: str) -> None:
    """--quick (what it shrinks is said in `quick`) and --time-limit, common to every benchmark."""
    parser.add_argument("--quick", action="store_true", help=f"smoke run in seconds: {quick}")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        metavar="S",
        help="stop after S seconds, still printing what was measured (with an error)",
    )


def fill_defaults(args: argparse.Namespace, *, full: dict[str, Any], quick: dict[str, Any]) -> None:
    """Give each option left unset (None, or not an option) its value for a full run, or for a --quick one."""
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)


def _stop(signum: int, _frame: FrameType | None) -> None:
    if signum == signal.SIGALRM:
        raise Stopped("the run passed its --time-limit")
    raise Stopped(f"stopped by {signal.Signals(signum).name}")


@contextmanager
def _stdout_to_stderr() -> Iterator[int]:
    """Point file descriptor 1 at stderr (for this process and the ones it starts); yields a copy of the real one."""
    sys.stdout.flush()
    real = os.dup(1)
    os.dup2(2, 1)
    try:
        yield real
    finally:
        sys.stdout.flush()
        os.dup2(real, 1)
        os.close(real)


@contextmanager
def result_line(benchmark: str, args: argparse.Namespace | None = None) -> Iterator[dict[str, Any]]:
    """Yield the result to fill in; on the way out print it as one JSON line, with `error` if the body raised."""
    result: dict[str, Any] = {"benchmark": benchmark, "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if args is not None and getattr(args, "quick", False):
        result["quick"] = True
    started = time.monotonic()
    previous = {signum: signal.signal(signum, _stop) for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM)}
    limit = getattr(args, "time_limit", None) if args is not None else None
    if limit:
        signal.setitimer(signal.ITIMER_REAL, limit)
    failed = False
    with _stdout_to_stderr() as real_stdout:
        try:
            yield result
        except BaseException as exc:  # a benchmark reports what it measured and why it stopped, whatever stopped it
            failed = True
            result["error"] = {"type": type(exc).__name__, "message": str(exc)[:2000]}
            log(f"{benchmark} stopped: {''.join(traceback.format_exception(exc, limit=8))}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            result["run_s"] = round(time.monotonic() - started, 1)
            os.write(real_stdout, (json.dumps(result, default=str) + "\n").encode())
    if failed:
        sys.exit(1)
