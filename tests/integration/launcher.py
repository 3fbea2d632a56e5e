"""Starts `accord` processes (nodes, and the commands the tests run against a node's data) by forking a process
that has Accord imported already: a fresh interpreter spends seconds importing FastAPI, SQLAlchemy, pydantic and the
rest before it does anything, and the suite starts hundreds. Each child runs the real `accord` command (the same
`main`, its own arguments, environment, input and output), a process of its own from the fork on; only the imports
happened before it. The tests of the command itself (test_cli_deployment, test_sandbox) still start interpreters.

Run as a script, this file is the launcher: one request per line on stdin, {"argv": [...], "env": {...}, "stdout":
path, "stderr": path, "stdin": path or null, "status": path or null, "cwd": path (optional)}, each answered with
{"pid": N} on stdout; it ends when stdin closes. A child with a status path writes its exit code there as it ends.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import IO, Any

import httpx

from accord.exchange.transport import tls_context


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


def stop_launched(processes: list[LaunchedProcess], timeout_s: float = 15.0) -> None:
    """SIGTERM to every process at once (each takes a moment to end), then wait for each; one that outlives
    `timeout_s` is killed."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout_s)
        except TimeoutError:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout_s=30)


def wait_answering(
    url: str, process: LaunchedProcess, log: Path, node_id: str | None = None, timeout_s: float = 30.0
) -> None:
    """Until `url`/healthz answers (as `node_id`, if given: another program may hold the port); the end of `log`
    if the process ends first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.has_exited():
            raise RuntimeError(f"the node at {url} exited: {log.read_text()[-3000:]}")
        try:
            answer = httpx.get(url + "/healthz", timeout=1.0, verify=tls_context())
            if answer.status_code == 200 and (node_id is None or answer.json().get("node") == node_id):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.02)
    raise TimeoutError(f"the node at {url} did not answer within {timeout_s} s")


class NodeLauncher:
    """The launcher process of this test process (one per xdist worker), started on first use."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def launch(self, argv: list[str], env: dict[str, str], log: Path) -> LaunchedProcess:
        """Start `accord ARGV` (a node: `node serve …`), its output appended to `log`; do not wait for it."""
        return self._request({"argv": argv, "env": env, "stdin": None, "stdout": str(log), "stderr": str(log)})

    def run(
        self, argv: list[str], env: dict[str, str], *, input: str | None = None, timeout_s: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Run `accord ARGV` to its end, as `subprocess.run(..., capture_output=True, text=True)` would."""
        with tempfile.TemporaryDirectory(prefix="accord-run-") as folder:
            files = {name: Path(folder) / name for name in ("stdin", "stdout", "stderr", "status")}
            if input is not None:
                files["stdin"].write_text(input, encoding="utf-8")
            request: dict[str, Any] = {"argv": argv, "env": env} | {name: str(path) for name, path in files.items()}
            if input is None:
                request["stdin"] = None
            code = self._run_to_end(request, timeout_s)
            out, err = (files[name].read_text(encoding="utf-8") for name in ("stdout", "stderr"))
        return subprocess.CompletedProcess(["accord", *argv], -signal.SIGKILL if code is None else code, out, err)

    def run_attached(
        self, argv: list[str], env: dict[str, str], cwd: str, files: dict[str, str], *, timeout_s: float
    ) -> int | None:
        """Run `accord ARGV` in `cwd` to its end on the files a caller names (its stdin, stdout, stderr: paths, such
        as a shell's pipes under /proc, and `status`, where its exit code is written as it ends): its exit code, None
        if it wrote none (it was killed)."""
        return self._run_to_end({"argv": argv, "env": env, "cwd": cwd} | files, timeout_s)

    def _run_to_end(self, request: dict[str, Any], timeout_s: float) -> int | None:
        """Start the request and wait for its end (killed if it outlives `timeout_s`); the exit code its status file
        holds, None if it wrote none."""
        process = self._request(request)
        try:
            process.wait(timeout_s)
        except TimeoutError:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            raise
        status = Path(request["status"])
        return int(status.read_text(encoding="utf-8")) if status.exists() else None

    def _request(self, request: dict[str, Any]) -> LaunchedProcess:
        with self._lock:
            process = self._started()
            stdin, stdout = _pipes(process)
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
            reply = stdout.readline()
        if not reply:
            raise RuntimeError(f"the launcher ended (exit code {process.wait()}); its errors are above")
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
    """The launcher: import what `accord` imports, then fork a child per request. Single-threaded: forking is safe."""
    import uvicorn.lifespan.on
    import uvicorn.loops.auto
    import uvicorn.protocols.http.auto
    import uvicorn.protocols.websockets.auto  # noqa: F401 - imported here so that no node imports them again

    import accord.api  # what a node's create_app imports
    import accord.bootstrap
    import accord.cli
    import accord.web
    from accord.policy.warm import warm_shipped_policies

    accord.bootstrap.build_registry()  # every data file read and checked once here, not again in each node
    warm_shipped_policies()  # the screens' indexes and the search words' pattern built once, not in each node
    tls_context()  # the HTTP clients' TLS settings (the CA bundle read: 24 ms)
    _preload_libraries()

    assert threading.active_count() == 1, "the launcher must not run threads: a fork copies only the caller's"
    # What is imported now lives as long as every child: out of the collector's sight, a child's collections (its last
    # one, as it ends, above all) no longer walk, and copy, the whole inherited heap. Seconds per child otherwise.
    gc.freeze()
    sys.path[0] = os.getcwd()  # as `python -m accord` has it, not this file's folder
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the nodes; the tests watch them by pidfd
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            return _run_child(request)  # the child leaves the loop and ends as any Python process does
        print(json.dumps({"pid": pid}), flush=True)
    return 0


def _preload_libraries() -> None:
    """The libraries a node or a command imports when a request first needs them (charts and PDFs, STIX, FollowTheMoney,
    transliteration: 0.3–1.2 s each) or as it starts serving (its database driver, the event loop's backend), imported
    once here: many of the suite's nodes and commands use one of them. A node started otherwise imports them as late
    as ever (tests/unit/test_start_up_imports.py)."""
    for name in (
        # What every node imports as it opens its store or serves its first request.
        "anyio._backends._asyncio",
        "cryptography.hazmat.backends.openssl",
        "httpcore",
        "psycopg",
        "sqlalchemy.dialects.postgresql.psycopg",
        "sqlite3",
        # What some requests and commands import when first needed.
        "followthemoney.model",
        "indic_transliteration.sanscript",
        "matplotlib.pyplot",
        "numpy",
        "weasyprint",
        "accord.focus.cyber.schema_check",
        "accord.reports.render",
    ):
        importlib.import_module(name)
    importlib.import_module("accord.reports.charts").chart_style()  # matplotlib's fonts and backend chosen once


def _run_child(request: dict[str, Any]) -> int:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    # The launcher's pipes are not the child's: its own input, output and errors, as a shell would redirect them.
    _redirect(0, request["stdin"] or os.devnull, os.O_RDONLY)
    _redirect(1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    _redirect(2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.environ.clear()
    os.environ.update(request["env"])
    if request.get("cwd"):
        os.chdir(request["cwd"])
    sys.argv = ["accord", *request["argv"]]
    code = _run_accord()
    if request.get("status"):
        Path(request["status"]).write_text(str(code), encoding="utf-8")
    return code


def _redirect(fd: int, path: str, flags: int) -> None:
    opened = os.open(path, flags, 0o600)  # as a node's files: owner-only
    os.dup2(opened, fd)
    os.close(opened)


def _run_accord() -> int:
    """`python -m accord`'s exit code: SystemExit's, or 1 with the traceback for an exception nothing caught."""
    from accord.cli import main

    try:
        main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(serve())
