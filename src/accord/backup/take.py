"""Taking a backup of a live node: the database snapshot first (its ledger head read in the same snapshot), then the
blobs it names, the node's configuration files and its keys sealed under a passphrase, all in one tar file with a
manifest signed by the node's signing key."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from accord import __version__
from accord.backup.database import SNAPSHOT_NAMES, kind_of, snapshot
from accord.backup.errors import BackupError
from accord.backup.manifest import SnapshotState, read_snapshot, sign_manifest
from accord.backup.sealing import seal_files
from accord.crypto.keys import ARCHIVE_DIR, ENCRYPTION_KEY_FILE, SIGNING_KEY_FILE
from accord.exchange.uploads import INCOMING_DIR
from accord.i18n import _
from accord.node import BLOB_DIR, KEY_DIR, Node
from accord.store.modes import sqlite_file

MANIFEST_NAME = "manifest.jws"
KEYS_NAME = "keys.sealed"
CONFIG_DIR = "config"
# What a data directory holds that is no part of a backup: the keys (sealed apart), the blobs (copied by the list the
# snapshot holds), uploads still arriving, and the process's own log.
_NOT_CONFIG = frozenset({KEY_DIR, BLOB_DIR, INCOMING_DIR, "node.log"})


@dataclass(frozen=True, slots=True)
class BackupSummary:
    out: Path
    node_id: str
    ledger_size: int
    ledger_root: str
    files: int
    blobs: int
    missing_blobs: tuple[str, ...]


def take_backup(node: Node, out: Path, passphrase: str) -> BackupSummary:
    """Write `out` (a tar file, 0600) while the node keeps running; nothing at `out` is overwritten."""
    if out.exists():
        raise BackupError(_("{out} exists; a backup never overwrites a file").format(out=out))
    database_url = node.settings.resolved_database_url
    kind = kind_of(database_url)
    data_dir = node.settings.data_dir
    key_dir = data_dir / KEY_DIR
    key_files = {name: (key_dir / name).read_bytes() for name in (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE)}
    # The keys rotations retired: the encryption ones still open what was sealed to them during an overlap.
    for retired in sorted((key_dir / ARCHIVE_DIR).glob("*.pem")):
        key_files[f"{ARCHIVE_DIR}/{retired.name}"] = retired.read_bytes()
    sealed = seal_files(key_files, passphrase, node.node_id)
    with tempfile.TemporaryDirectory(prefix=".accord-backup-", dir=out.parent) as work:
        database_copy = Path(work) / "database"
        state = snapshot(database_url, database_copy, read_snapshot)
        if state.node_id != node.node_id:
            raise BackupError(
                _("the database holds node {theirs}, the data directory node {ours}").format(
                    theirs=state.node_id, ours=node.node_id
                )
            )
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with (
                os.fdopen(fd, "wb") as handle,
                tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as tar,
            ):
                files: dict[str, str] = {}
                files[KEYS_NAME] = _add_bytes(tar, KEYS_NAME, sealed)
                files[SNAPSHOT_NAMES[kind]] = _add_file(tar, SNAPSHOT_NAMES[kind], database_copy)
                missing = _add_blobs(tar, files, node, state)
                for path in _config_files(data_dir, database_url, out):
                    name = f"{CONFIG_DIR}/{path.relative_to(data_dir).as_posix()}"
                    files[name] = _add_file(tar, name, path)
                manifest = {
                    "version": __version__,
                    "node_id": node.node_id,
                    "party": state.party,
                    "created_at": datetime.now(UTC).isoformat(),
                    "database": {"kind": kind.value, "file": SNAPSHOT_NAMES[kind]},
                    "signing_key": node.keys.public.signing_fingerprint,
                    "ledger": state.ledger,
                    "channels": state.channels,
                    "files": files,
                    "missing_blobs": list(missing),
                }
                _add_bytes(tar, MANIFEST_NAME, sign_manifest(manifest, node.keys.signing))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupSummary(
        out,
        node.node_id,
        int(state.ledger["size"]),
        str(state.ledger["root"]),
        len(files),
        len(state.blobs) - len(missing),
        missing,
    )


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> str:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(data).hexdigest()


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> str:
    """Add the file once, hashing what was added (a file that changes while read is hashed as archived)."""
    data = path.read_bytes()
    return _add_bytes(tar, name, data)


def _add_blobs(tar: tarfile.TarFile, files: dict[str, str], node: Node, state: SnapshotState) -> tuple[str, ...]:
    """The blobs the snapshot names, each checked against its name (its SHA-256); those gone since (purged) or
    damaged on disk are left out and named."""
    missing = []
    for sha256 in state.blobs:
        path = node.blob_dir / sha256[:2] / sha256
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            missing.append(sha256)
            continue
        if hashlib.sha256(data).hexdigest() != sha256:
            missing.append(sha256)
            continue
        name = f"{BLOB_DIR}/{sha256[:2]}/{sha256}"
        files[name] = _add_bytes(tar, name, data)
    return tuple(missing)


def _config_files(data_dir: Path, database_url: str, out: Path) -> list[Path]:
    """Every regular file of the data directory that is neither keys, blobs, the database nor transient."""
    database = sqlite_file(database_url)
    skip = {out.resolve()}
    if database is not None:
        skip |= {database.resolve().with_name(database.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")}
    found = []
    for root, directories, names in os.walk(data_dir):
        here = Path(root)
        if here == data_dir:
            directories[:] = [d for d in directories if d not in _NOT_CONFIG]
        for name in names:
            path = here / name
            if here == data_dir and name in _NOT_CONFIG:
                continue
            if path.is_symlink() or not path.is_file() or path.resolve() in skip or name.endswith(".partial"):
                continue
            found.append(path)
    return sorted(found)
