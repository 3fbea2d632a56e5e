"""Starts node processes by forking a process that has Accord imported already: a fresh interpreter spends seconds
importing FastAPI, SQLAlchemy, pydantic and the rest before a node can listen, and the suite starts over a hundred.
Each child is the real `accord node serve` (the same `main`, its own arguments, environment and log), a process of
its own from the fork on; only the imports happened before it.

Run as a script, this file is the launcher: one request per line on stdin, {"argv": [...], "env": {...}, "log":
path}, each answered with {"pid": N} on stdout; it ends when stdin closes.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any


class LaunchedProcess:
    """A node the launcher forked. It is not a child of this process, so it is watched through a pidfd: whether it
    has ended can be known, how it ended cannot (its log says)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # ended (and was reaped) before we looked
            self._pidfd = None

    def has_exited(self) -> bool:
        return self._pidfd is None or bool(select.select([self._pidfd], [], [], 0)[0])

    def wait(self, timeout_s: float) -> None:
        if self._pidfd is not None and not select.select([self._pidfd], [], [], timeout_s)[0]:
            raise TimeoutError(f"node process {self.pid} still running after {timeout_s} s")
        self._close()

    def send_signal(self, signum: int) -> None:
        if not self.has_exited():
            assert self._pidfd is not None
            signal.pidfd_send_signal(self._pidfd, signum)

    def _close(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


class NodeLauncher:
    """The launcher process of this test process (one per xdist worker), started on first use."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def launch(self, argv: list[str], env: dict[str, str], log: Path) -> LaunchedProcess:
        with self._lock:
            process = self._started()
            stdin, stdout = _pipes(process)
            stdin.write(json.dumps({"argv": argv, "env": env, "log": str(log)}) + "\n")
            stdin.flush()
            reply = stdout.readline()
        if not reply:
            raise RuntimeError(f"the node launcher ended (exit code {process.wait()}); its errors are above")
        return LaunchedProcess(int(json.loads(reply)["pid"]))

    def close(self) -> None:
        if self._process is not None:
            _pipes(self._process)[0].close()  # the launcher ends at the end of its input
            self._process.wait(timeout=30)
            self._process = None

    def _started(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            # Nothing of this test process's node settings: each node gets its own environment with its request.
            env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
            self._process = subprocess.Popen(
                [sys.executable, __file__], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
        return self._process


def _pipes(process: subprocess.Popen[str]) -> tuple[IO[str], IO[str]]:
    assert process.stdin is not None and process.stdout is not None
    return process.stdin, process.stdout


def serve() -> int:
    """The launcher: import what a node imports, then fork a node per request. Single-threaded, so forking is safe."""
    import uvicorn.lifespan.on
    import uvicorn.loops.auto
    import uvicorn.protocols.http.auto
    import uvicorn.protocols.websockets.auto  # noqa: F401 - imported here so that no node imports them again

    import accord.bootstrap
    import accord.cli  # noqa: F401

    assert threading.active_count() == 1, "the launcher must not run threads: a fork copies only the caller's"
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the nodes; the tests watch them by pidfd
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            return _run_node(request)  # the child leaves the loop and ends as any Python process does
        print(json.dumps({"pid": pid}), flush=True)
    return 0


def _run_node(request: dict[str, Any]) -> int:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # the launcher's pipes are not the node's
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["accord", *request["argv"]]

    from accord.cli import main

    try:
        main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0


if __name__ == "__main__":
    sys.exit(serve())
