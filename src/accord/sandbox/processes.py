"""The sandbox's node processes: their ports checked free before anything starts, each node waited for until it
answers as itself, a node that dies named with the errors its log gives, and both stopped together."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from accord.domain.parties import Party
from accord.errors import ConfigurationError
from accord.i18n import N_, _
from accord.sandbox.nodes import HOST, SandboxNode, node_environment
from accord.store.modes import PRIVATE_UMASK

NODE_LOG = "node.log"
STARTUP_TIMEOUT_S = 60.0
# How many of the log's error lines a failed start shows (the rest stay in the log).
CAUSE_LINES = 3
# The option of `accord up` and the variable of `make run` that choose each node's port, and the mail catcher's.
PORT_OPTIONS = {Party.IN: ("--india-port", "IN_PORT"), Party.CA: ("--canada-port", "CA_PORT")}
MAIL_PORT_OPTION = ("--mail-port", "MAIL_PORT")
# A line of a node's log that says what went wrong: uvicorn's and Python's own lines, not the JSON lines (read apart).
_ERROR_LINE = re.compile(r"\berror\b|\[Errno \d+\]|^[\w.]+(Error|Exception)\b", re.IGNORECASE)
_PORT_TAKEN = re.compile(rf"\[Errno {errno.EADDRINUSE}\]|address already in use", re.IGNORECASE)
_ERROR_LEVELS = {"error", "critical"}


class PortInUse(ConfigurationError):
    slug = "port-in-use"
    title = N_("A port the sandbox needs is in use")


class NodeDidNotStart(ConfigurationError):
    slug = "node-did-not-start"
    title = N_("A sandbox node did not start")


def require_free_ports(ports: Mapping[Party, int], mail_port: int | None = None, host: str = HOST) -> None:
    """Refuse, naming the port and how to choose another, when a node's port or the mail catcher's is taken (or two
    of them got one port): checked by binding it as the server would (SO_REUSEADDR, as uvicorn and asyncio set it),
    before anything is made or started."""
    if len(set(ports.values())) < len(ports):
        raise PortInUse(
            _("the India and Canada nodes need two ports, not port {port} for both").format(
                port=next(iter(ports.values()))
            )
        )
    if mail_port in ports.values():
        raise PortInUse(
            _("the sandbox's mail catcher needs a port of its own, not port {port} of a node").format(port=mail_port)
        )
    for party, port in ports.items():
        try:
            _probe(host, port)
        except OSError as exc:
            option, variable = PORT_OPTIONS[party]
            raise PortInUse(
                _(
                    "port {port} of {host}, the {party} node's, is in use ({reason}); stop what holds it or "
                    "choose another port: `accord up {option} PORT` (`make run {variable}=PORT`)"
                ).format(port=port, host=host, party=party, reason=exc.strerror, option=option, variable=variable)
            ) from exc
    if mail_port is not None:
        try:
            _probe(host, mail_port)
        except OSError as exc:
            raise mail_port_in_use(mail_port, host, exc) from exc


def mail_port_in_use(port: int, host: str, exc: OSError) -> PortInUse:
    option, variable = MAIL_PORT_OPTION
    return PortInUse(
        _(
            "port {port} of {host}, the sandbox mail catcher's, is in use ({reason}); stop what holds it or choose "
            "another port: `accord up {option} PORT` (`make run {variable}=PORT`)"
        ).format(port=port, host=host, reason=exc.strerror, option=option, variable=variable)
    )


def _probe(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def start_node_process(node: SandboxNode, mail_port: int | None = None) -> subprocess.Popen[bytes]:
    """`accord node serve` for the node, its log appended to `node.log` (owner-only: it names officers and peers);
    with a `mail_port`, mailing through the sandbox's mail catcher there."""
    log_path = node.data_dir / NODE_LOG
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(log, 0o600)  # a log from before its files were owner-only
        return subprocess.Popen(
            [sys.executable, "-m", "accord", "node", "serve", "--data", str(node.data_dir)],
            env=node_environment(node, mail_port),
            stdout=subprocess.DEVNULL,
            stderr=log,
            umask=PRIVATE_UMASK,
        )
    finally:
        os.close(log)


@dataclass(frozen=True, slots=True)
class NodeProcess:
    """A sandbox node's running process, and where this run's lines begin in its log."""

    node: SandboxNode
    process: subprocess.Popen[bytes]
    log_start: int

    def why_it_stopped(self) -> str:
        """What to tell of the node once its process has ended: its exit code, and the cause this run's log gives."""
        return _("the {party} node stopped (exit {returncode}): {cause}; its log is {log}").format(
            party=self.node.party,
            returncode=self.process.returncode,
            cause=startup_cause(_log_since(self.node, self.log_start), _port_of(self.node)),
            log=self.node.data_dir / NODE_LOG,
        )


def start_nodes(
    nodes: list[SandboxNode], mail_port: int | None = None, timeout_s: float = STARTUP_TIMEOUT_S
) -> list[NodeProcess]:
    """Start every node (mailing through the mail catcher on `mail_port`, if given) and wait until each answers as
    itself; if one dies or stays silent, stop them all and raise `NodeDidNotStart` with what its log says. Both start
    at once: each finds the other when it comes up."""
    running = [NodeProcess(node, *_started(node, mail_port)) for node in nodes]
    try:
        for each in running:
            _wait_ready(each, timeout_s)
    except BaseException:
        stop_processes([each.process for each in running])
        raise
    return running


def _started(node: SandboxNode, mail_port: int | None) -> tuple[subprocess.Popen[bytes], int]:
    log_start = _log_size(node)
    return start_node_process(node, mail_port), log_start


def startup_cause(log_text: str, port: int) -> str:
    """What went wrong, in a few lines of a node's log: a port already taken said so plainly, else the last error
    lines (uvicorn's, Python's last traceback line, JSON lines logged as errors)."""
    found: list[str] = []
    for line in (line.strip() for line in log_text.splitlines()):
        if _PORT_TAKEN.search(line):
            return _("port {port} is in use by another program").format(port=port)
        if _is_error(line):
            found.append(line)
    return " | ".join(found[-CAUSE_LINES:]) or _("its log names no error")


def _is_error(line: str) -> bool:
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except ValueError:
            return False
        return isinstance(record, dict) and record.get("level") in _ERROR_LEVELS
    return bool(_ERROR_LINE.search(line))


def _wait_ready(running: NodeProcess, timeout_s: float) -> None:
    node = running.node
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=1.0) as client:  # one for the wait: each client reads the CA bundle (24 ms) as it is made
        while time.monotonic() < deadline:
            if running.process.poll() is not None:
                raise NodeDidNotStart(running.why_it_stopped())
            if _answers_as(client, node):
                return
            time.sleep(0.1)
    raise NodeDidNotStart(
        _("the {party} node did not answer at {url} within {timeout_s:.0f} s; its log is {log}").format(
            party=node.party, url=node.url, timeout_s=timeout_s, log=node.data_dir / NODE_LOG
        )
    )


def _answers_as(client: httpx.Client, node: SandboxNode) -> bool:
    """Whether the node's URL answers as this very node: another program on its port may answer too."""
    try:
        answer = client.get(node.url + "/healthz")
        return answer.status_code == 200 and answer.json().get("node") == node.node_id
    except (httpx.HTTPError, ValueError):
        return False


def _port_of(node: SandboxNode) -> int:
    return httpx.URL(node.url).port or 80


def _log_size(node: SandboxNode) -> int:
    try:
        return (node.data_dir / NODE_LOG).stat().st_size
    except FileNotFoundError:
        return 0


def _log_since(node: SandboxNode, offset: int) -> str:
    try:
        with (node.data_dir / NODE_LOG).open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def stop_processes(processes: list[subprocess.Popen[bytes]], timeout_s: float = 15.0) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
