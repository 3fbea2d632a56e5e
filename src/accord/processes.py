"""Worker processes for work that reads only its input (validating STIX objects, screening arrivals): how many cores
this process may use, and where the workers come from."""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from collections.abc import Iterable
from multiprocessing.context import BaseContext

_preload: set[str] = set()
_preload_lock = threading.Lock()


def machine_cores() -> int:
    """The cores this process may run on (os.process_cpu_count() from Python 3.13)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_context(preload: Iterable[str]) -> BaseContext:
    """Workers from a fresh interpreter ('forkserver', else 'spawn'), never a fork of a process that may be running
    threads. The fork server (one per process, started by the first pool) imports `preload` once, with what pools
    asked for before it started, so that each worker forked from it starts with those modules loaded; a module
    asked for later is imported by each worker when its first task needs it."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    with _preload_lock:
        _preload.update(preload)
        context.set_forkserver_preload(sorted(_preload))
    return context


def exit_with(parent_pid: int) -> None:
    """In a worker, as it starts: end it when the process it works for ends, however that ends (kill -9 included). A
    pool's worker waits for tasks on a queue it holds both ends of, so it would outlive that process, and keep the
    fork server alive with it."""
    threading.Thread(target=_watch, args=(parent_pid,), name="exit-with-parent", daemon=True).start()


def _watch(parent_pid: int) -> None:
    try:
        handle = os.pidfd_open(parent_pid)
    except ProcessLookupError:
        os._exit(0)
    except (AttributeError, OSError):  # no pidfd (not Linux, or before 5.3): ask every second
        while _alive(parent_pid):
            time.sleep(1.0)
        os._exit(0)
    select.select([handle], [], [])  # readable once the process has ended
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
