"""Data at rest is the owner's alone. The database holds message bodies, subjects and password hashes, the data
directory the blobs, the log and the keys: a node process creates files owner-only (umask 077), a new node's files
are tightened once made, and a node refuses to start on a database file or data directory others may open, as it
does on a key file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from accord.errors import ConfigurationError
from accord.i18n import N_, _

# Files 0600 and directories 0700, whatever the process inherited.
PRIVATE_UMASK = 0o077
_OTHERS = 0o077  # group and world: read, write, execute (a directory others may enter gives its files away)
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


class OpenFileMode(ConfigurationError):
    slug = "open-file-mode"
    title = N_("A file of the node is open to other users")


def restrict_umask() -> None:
    """From now on, this process creates files 0600 and directories 0700. Called first by the commands that start
    or make a node."""
    os.umask(PRIVATE_UMASK)


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for a server database or an in-memory one."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def tighten(data_dir: Path, database_url: str) -> None:
    """Take every permission of group and world from the data directory, everything under it, and the SQLite file
    (with its journal) wherever it is. Symbolic links are left alone: they are not the node's to change."""
    _take_from_others(data_dir)
    for root, directories, files in os.walk(data_dir):
        for name in (*directories, *files):
            path = Path(root) / name
            if not path.is_symlink():
                _take_from_others(path)
    database = sqlite_file(database_url)
    if database is not None:
        for path in (database, *(database.with_name(database.name + suffix) for suffix in _SQLITE_COMPANIONS)):
            if path.exists():
                _take_from_others(path)


def require_private(data_dir: Path, database_url: str) -> None:
    """Raise `OpenFileMode`, naming the file and the `chmod` that fixes it, if the data directory or the SQLite file
    is open to group or world. Paths that do not exist yet are not judged here."""
    database = sqlite_file(database_url)
    for path, what, wanted in (
        (data_dir, "data directory", 0o700),
        *(((database, "database file", 0o600),) if database is not None else ()),
    ):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & _OTHERS:
            raise OpenFileMode(
                _(
                    "the {what} {path} has mode {mode:o}, open to other users; it must be {wanted:o} (chmod "
                    "{wanted:o} {path})"
                ).format(what=what, path=path, mode=mode, wanted=wanted)
            )


def _take_from_others(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & _OTHERS:
        path.chmod(mode & ~_OTHERS)
