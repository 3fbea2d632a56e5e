"""Data at rest is the owner's alone: what `accord node init` and a running node write is owner-only whatever the
umask they were started with, a node made in a directory others could read is tightened, and a node refuses to start
on a database file or data directory others may open, naming the file and the `chmod` that fixes it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import DatabaseFactory
from tests.integration.nodes import PairTemplates, running_pair, wait_for

# Modules of their own `accord` processes (`-m "not slow"` skips them).
pytestmark = pytest.mark.slow


def accord(*args: str, database_url: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """`accord …` as an operator's shell runs it, with the umask most shells have (022)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["ACCORD_DATABASE_URL"] = database_url
    env["COLUMNS"] = "300"
    return subprocess.run(
        [sys.executable, "-m", "accord", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        umask=0o022,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def open_to_others(root: Path) -> list[str]:
    """Everything under `root` (and `root`) that group or world may use."""
    found = [f"{root} {mode(root):o}"] if mode(root) & 0o077 else []
    for directory, names, files in os.walk(root):
        for name in (*names, *files):
            path = Path(directory) / name
            if mode(path) & 0o077:
                found.append(f"{path} {mode(path):o}")
    return found


def sqlite_path(database_url: str) -> Path:
    return Path(str(make_url(database_url).database))


def test_node_init_leaves_nothing_open_to_others_even_in_a_directory_made_open(tmp_path: Path) -> None:
    data = tmp_path / "ca"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    leftover = data / "notes.txt"
    leftover.write_text("made before the node")
    leftover.chmod(0o644)
    database_url = f"sqlite:///{tmp_path / 'ca.sqlite3'}"

    made = accord("node", "init", "--party", "CA", "--data", str(data), database_url=database_url)

    assert made.returncode == 0, made.stderr
    assert open_to_others(data) == []
    assert mode(data) == 0o700
    assert {path.name: mode(path) for path in (data / "keys").iterdir()} == {
        "signing-ed25519.pem": 0o600,
        "encryption-x25519.pem": 0o600,
    }
    database = sqlite_path(database_url)
    assert mode(database) == 0o600
    assert [f for f in tmp_path.glob("ca.sqlite3*") if mode(f) & 0o077] == []


def test_a_node_refuses_to_start_on_a_database_or_data_directory_others_may_read(tmp_path: Path) -> None:
    data = tmp_path / "in"
    database_url = f"sqlite:///{tmp_path / 'in.sqlite3'}"
    assert accord("node", "init", "--party", "IN", "--data", str(data), database_url=database_url).returncode == 0
    database = sqlite_path(database_url)

    database.chmod(0o644)
    refused = accord("node", "serve", "--data", str(data), "--port", "1", database_url=database_url)
    assert refused.returncode != 0
    assert str(database) in refused.stderr and f"chmod 600 {database}" in refused.stderr, refused.stderr
    database.chmod(0o600)

    data.chmod(0o755)
    refused = accord("node", "serve", "--data", str(data), "--port", "1", database_url=database_url)
    assert refused.returncode != 0
    assert f"chmod 700 {data}" in refused.stderr, refused.stderr
    data.chmod(0o711)  # no listing, but a path that is known can be opened: refused too
    assert accord("node", "serve", "--data", str(data), "--port", "1", database_url=database_url).returncode != 0


def test_what_a_running_node_writes_is_owner_only(templates: PairTemplates, tmp_path: Path) -> None:
    """The test harness starts its nodes with the test process's umask: the node itself must not depend on it."""
    with running_pair(templates, DatabaseFactory("sqlite", tmp_path), tmp_path) as (ca, in_):
        rcmp = ca.client("ca.rcmp")
        uploaded = rcmp.post("/api/v1/attachments", content=os.urandom(4096), headers={"Content-Type": "text/plain"})
        assert uploaded.status_code == 201, uploaded.text
        digest = uploaded.json()["sha256"]
        assert mode(ca.data_dir / "blobs" / digest[:2]) == 0o700
        assert mode(ca.data_dir / "blobs" / digest[:2] / digest) == 0o600
        assert httpx.get(ca.url + "/healthz").status_code == 200
        for node in (ca, in_):
            assert mode(node.data_dir / "node.log") == 0o600
            assert open_to_others(node.data_dir) == []
            database = sqlite_path(node.database_url)
            wait_for(lambda database=database: database.with_name(database.name + "-wal").exists(), 10)
            assert [f.name for f in database.parent.glob(database.name + "*") if mode(f) & 0o077] == []
