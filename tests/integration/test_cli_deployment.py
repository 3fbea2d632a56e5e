"""A real deployment through the `accord` command: init, exchange descriptors, add officers, serve, exchange."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.errors import AccordError
from accord.exchange.transport import tls_context
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PASSWORD, draft, free_port, wait_for

# Dozens of `accord` processes, each a fresh interpreter, as an operator's shell runs them (`-m "not slow"` skips them).
pytestmark = [pytest.mark.slow, pytest.mark.spread]


def accord(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accord", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


@dataclass(frozen=True)
class Ran:
    exit_code: int
    stdout: str
    stderr: str


def in_process(*args: str, stdin: str | None = None) -> Ran:
    """A command run in this process; an AccordError it raises is the message `accord.cli.main` would print."""
    result = CliRunner().invoke(app, list(args), input=stdin)
    raised = result.exception.detail if isinstance(result.exception, AccordError) else ""
    return Ran(exit_code=result.exit_code, stdout=result.stdout, stderr=result.stderr + raised)


def node_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["ACCORD_DATABASE_URL"] = database_url
    env["COLUMNS"] = "200"
    env["ACCORD_PASSWORD_HASHING"] = "test"  # argon2 at its least cost, as the rest of the suite
    return env


def test_two_operators_set_up_pin_and_exchange_through_the_cli(databases: DatabaseFactory, tmp_path: Path) -> None:
    ca_dir, in_dir = tmp_path / "ca", tmp_path / "in"
    ca_env, in_env = node_env(databases.new_url("cli_ca")), node_env(databases.new_url("cli_in"))
    ca_port, in_port = free_port(), free_port()

    made = accord("node", "init", "--party", "CA", "--data", str(ca_dir), "--port", str(ca_port), env=ca_env)
    assert made.returncode == 0, made.stderr
    assert "Ed25519" in made.stdout and "X25519" in made.stdout
    assert (
        accord("node", "init", "--party", "in", "--data", str(in_dir), "--port", str(in_port), env=in_env).returncode
        == 0
    )
    for key_file in (ca_dir / "keys").iterdir():
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    assert (
        accord("peer", "export", "--data", str(ca_dir), "--out", str(tmp_path / "ca.jws"), env=ca_env).returncode == 0
    )
    in_descriptor = accord("peer", "export", "--data", str(in_dir), env=in_env).stdout
    pinned = accord("peer", "import", str(tmp_path / "ca.jws"), "--data", str(in_dir), env=in_env)
    assert pinned.returncode == 0, pinned.stderr
    assert "ca-node-1" in pinned.stdout
    assert accord("peer", "import", "-", "--data", str(ca_dir), env=ca_env, stdin=in_descriptor).returncode == 0

    for data_dir, env, username, agency in ((ca_dir, ca_env, "ops.rcmp", "RCMP"), (in_dir, in_env, "ops.ncb", "NCB")):
        added = accord(
            "officer",
            "add",
            "--data",
            str(data_dir),
            "--username",
            username,
            "--agency",
            agency,
            "--name",
            username,
            "--role",
            "officer",
            "--password-stdin",
            env=env,
            stdin=PASSWORD + "\n",
        )
        assert added.returncode == 0, added.stderr

    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "accord", "node", "serve", "--data", str(d)],
            env=e,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for d, e in ((ca_dir, ca_env), (in_dir, in_env))
    ]
    try:
        ca_url, in_url = f"http://127.0.0.1:{ca_port}", f"http://127.0.0.1:{in_port}"
        for url in (ca_url, in_url):
            wait_for(lambda url=url: _healthy(url))
        token = httpx.post(ca_url + "/api/v1/token", data={"username": "ops.rcmp", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        sent = httpx.post(ca_url + "/api/v1/messages", json=draft(kind="alert", priority="immediate"), headers=headers)
        assert sent.status_code == 201, sent.text
        wait_for(
            lambda: (
                httpx.get(f"{ca_url}/api/v1/messages/{sent.json()['id']}", headers=headers).json()["delivery"]["state"]
                == "delivered"
            )
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1, verify=tls_context()).status_code == 200
    except httpx.HTTPError:
        return False


def test_cli_refuses_bad_input_with_a_message_and_nonzero_exit(tmp_path: Path) -> None:
    """The same commands in this process (typer's runner): what is tested is each message and exit code."""
    bad_party = in_process("node", "init", "--party", "XX", "--data", str(tmp_path / "x"))
    assert bad_party.exit_code != 0 and "unknown party" in bad_party.stderr

    data = tmp_path / "ca"
    assert in_process("node", "init", "--party", "CA", "--data", str(data)).exit_code == 0
    again = in_process("node", "init", "--party", "CA", "--data", str(data))
    assert again.exit_code != 0 and "already holds a node" in again.stderr

    (tmp_path / "garbage.jws").write_text("not a descriptor")
    garbage = in_process("peer", "import", str(tmp_path / "garbage.jws"), "--data", str(data))
    assert garbage.exit_code != 0 and "error" in garbage.stderr

    own = in_process("peer", "export", "--data", str(data)).stdout
    itself = in_process("peer", "import", "-", "--data", str(data), stdin=own)
    assert itself.exit_code != 0 and "own" in itself.stderr

    unknown_agency = in_process(
        "officer",
        "add",
        "--data",
        str(data),
        "--username",
        "x",
        "--agency",
        "NCB",
        "--name",
        "x",
        "--role",
        "officer",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert unknown_agency.exit_code != 0 and "unknown agency" in unknown_agency.stderr
    assert "RCMP" in unknown_agency.stderr  # the agencies there are, not a command that does not exist

    short = in_process(
        "officer",
        "add",
        "--data",
        str(data),
        "--username",
        "x",
        "--agency",
        "RCMP",
        "--name",
        "x",
        "--role",
        "officer",
        "--password-stdin",
        stdin="short\n",
    )
    assert short.exit_code != 0 and "12 characters" in short.stderr

    # `serve` sets the process's logging up on its stderr: a process of its own, as an operator's shell runs it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    no_node = accord("node", "serve", "--data", str(tmp_path / "nothing"), env=env)
    assert no_node.returncode != 0 and "accord node init" in no_node.stderr
