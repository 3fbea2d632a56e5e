"""Owner-only data at rest: a node's data directory and SQLite file are tightened, and one open to others is refused
with the file named and the `chmod` that fixes it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from accord.store.modes import OpenFileMode, require_private, sqlite_file, tighten


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def a_node_made_open(tmp_path: Path) -> tuple[Path, str]:
    data = tmp_path / "node"
    (data / "blobs" / "ab").mkdir(parents=True)
    for directory in (data, data / "blobs", data / "blobs" / "ab"):
        directory.chmod(0o755)
    (data / "blobs" / "ab" / "abcd").write_bytes(b"attachment")
    (data / "node.log").write_text("{}\n")
    database = tmp_path / "node.sqlite3"
    for path in (data / "blobs" / "ab" / "abcd", data / "node.log", database, tmp_path / "node.sqlite3-wal"):
        path.touch()
        path.chmod(0o644)
    return data, f"sqlite:///{database}"


def test_tightening_takes_every_permission_of_group_and_world_and_keeps_the_owners(tmp_path: Path) -> None:
    data, url = a_node_made_open(tmp_path)
    (data / "run.sh").write_text("#!/bin/sh\n")
    (data / "run.sh").chmod(0o755)
    tighten(data, url)
    assert mode(data) == mode(data / "blobs") == mode(data / "blobs" / "ab") == 0o700
    assert mode(data / "blobs" / "ab" / "abcd") == mode(data / "node.log") == 0o600
    assert mode(data / "run.sh") == 0o700
    assert mode(tmp_path / "node.sqlite3") == mode(tmp_path / "node.sqlite3-wal") == 0o600
    require_private(data, url)


@pytest.mark.parametrize(("loose", "wanted"), [("database", 0o600), ("data", 0o700)])
def test_a_database_or_data_directory_open_to_others_is_refused_with_the_chmod_that_fixes_it(
    tmp_path: Path, loose: str, wanted: int
) -> None:
    data, url = a_node_made_open(tmp_path)
    tighten(data, url)
    path = data if loose == "data" else tmp_path / "node.sqlite3"
    path.chmod(0o711 if loose == "data" else 0o640)
    with pytest.raises(OpenFileMode) as refused:
        require_private(data, url)
    assert f"chmod {wanted:o} {path}" in refused.value.detail


def test_only_a_sqlite_url_names_a_file() -> None:
    assert sqlite_file("sqlite:////var/lib/accord/node.sqlite3") == Path("/var/lib/accord/node.sqlite3")
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("postgresql+psycopg://accord@db/accord") is None
