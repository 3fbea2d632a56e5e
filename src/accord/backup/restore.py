"""Restoring a backup into an empty place: nothing is written until the passphrase opened the keys, the manifest's
signature verified and every file's hash matched; the database is loaded and its ledger recomputed leaf by leaf and
compared with the manifest before the data directory appears (a refused restore leaves everything as it was)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tarfile
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey
from sqlalchemy import select

from accord.backup.database import DatabaseKind, empty_again, kind_of, load, require_empty
from accord.backup.errors import DamagedArchive, LedgerDoesNotMatch, LiveNode
from accord.backup.manifest import unverified_node_id, verify_manifest
from accord.backup.sealing import open_files
from accord.backup.take import CONFIG_DIR, KEYS_NAME, MANIFEST_NAME
from accord.config import NODE_FILE, load_settings
from accord.crypto.descriptors import verify_descriptor
from accord.crypto.envelope import PinnedPeer
from accord.crypto.keys import ARCHIVE_DIR, ENCRYPTION_KEY_FILE, SIGNING_KEY_FILE, NodeKeys
from accord.i18n import _
from accord.ledger.leaves import leaf_bytes, leaf_record
from accord.ledger.notes import origin_for, verify_by_any, verify_checkpoint, verify_cosignature
from accord.ledger.tree import MemoryTree, leaf_hash
from accord.node import BLOB_DIR, KEY_DIR
from accord.store.engine import make_engine
from accord.store.tables import events, key_rotations, ledger_head, node_identity, peers
from accord.trust.peers import ACCEPTED, apply_rotations, own_signing_keys

_MAX_MEMBERS = 10_000_000


@dataclass(frozen=True, slots=True)
class RestoredBackup:
    node_id: str
    created_at: str
    ledger_size: int
    ledger_root: str
    files: int
    manifest: dict[str, Any]


def restore_backup(archive: Path, data_dir: Path, passphrase: str, database_url: str | None) -> RestoredBackup:
    """Restore `archive` into `data_dir` (absent or empty) and the database (`database_url`, else SQLite in
    `data_dir`), which must be empty; raises before anything is written if the archive does not verify."""
    _require_no_node_dir(data_dir)
    members = _read_archive(archive)
    manifest_token = members.pop(MANIFEST_NAME, None)
    if manifest_token is None:
        raise DamagedArchive(_("{archive} has no manifest: it is not an Accord backup").format(archive=archive))
    node_id = unverified_node_id(manifest_token)
    sealed = members.get(KEYS_NAME)
    if sealed is None:
        raise DamagedArchive(_("the archive holds no sealed keys"))
    key_files = open_files(sealed, passphrase, node_id)
    keys = _keys(key_files)
    manifest = verify_manifest(manifest_token, keys.signing)
    if manifest.get("node_id") != node_id:
        raise DamagedArchive(_("the manifest names two nodes"))
    _check_hashes(manifest, members)
    database_file = str(manifest["database"]["file"])
    staging = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.restoring-", dir=data_dir.parent))
    try:
        _write_files(staging, members, key_files)
        settings = load_settings(staging, database_url=database_url)
        target_url = database_url if database_url else f"sqlite:///{(data_dir / 'accord.sqlite3').resolve()}"
        _require_not_serving(settings.host, settings.port)
        if kind_of(target_url).value != manifest["database"]["kind"]:
            raise DamagedArchive(
                _("the archive holds a {theirs} database; the target is {ours}: restore into the same kind").format(
                    theirs=manifest["database"]["kind"], ours=kind_of(target_url).value
                )
            )
        require_empty(target_url)
        snapshot_path = staging / database_file
        # A SQLite database in the data directory is loaded there once the directory is in place; elsewhere, now.
        in_data_dir = kind_of(target_url) is DatabaseKind.SQLITE and database_url is None
        load(_staged_url(staging) if in_data_dir else target_url, snapshot_path)
        try:
            _verify_ledger(_staged_url(staging) if in_data_dir else target_url, manifest, keys)
        except BaseException:
            if not in_data_dir:
                empty_again(target_url)
            raise
        shutil.rmtree(staging / "database")
        if data_dir.exists():
            data_dir.rmdir()
        os.replace(staging, data_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    ledger = manifest["ledger"]
    return RestoredBackup(
        node_id, str(manifest["created_at"]), int(ledger["size"]), str(ledger["root"]), len(members), manifest
    )


def _staged_url(staging: Path) -> str:
    return f"sqlite:///{(staging / 'accord.sqlite3').resolve()}"


def _require_no_node_dir(data_dir: Path) -> None:
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise LiveNode(
            _(
                "{data_dir} is not empty: a restore never overwrites a node; stop the node and move its data directory "
                "away, or give another --data"
            ).format(data_dir=data_dir)
        )


def _require_not_serving(host: str, port: int) -> None:
    """A node process still listening at the address the restored node would take is a live node."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((host, port)) == 0:
            raise LiveNode(
                _(
                    "a process listens on {host}:{port}, where the restored node would: stop the running node "
                    "before restoring it"
                ).format(host=host, port=port)
            )


def _read_archive(archive: Path) -> dict[str, bytes]:
    """Every regular file of the tar, by name; anything else (a link, a device, a path leaving the archive) is
    refused as damage."""
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, mode="r:") as tar:
            for count, member in enumerate(tar):
                if count > _MAX_MEMBERS:
                    raise DamagedArchive(_("the archive holds too many files"))
                name = member.name
                if not member.isfile() or name.startswith("/") or ".." in Path(name).parts or name in members:
                    raise DamagedArchive(
                        _("the archive holds {name!r}, which no backup holds: refused").format(name=name)
                    )
                extracted = tar.extractfile(member)
                assert extracted is not None
                members[name] = extracted.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DamagedArchive(
            _("{archive} is not a readable tar archive ({exc}): it is damaged or not a backup").format(
                archive=archive, exc=exc
            )
        ) from exc
    return members


# A retired key's file as `replace_key` names it: its role and its RFC 7638 fingerprint (base64url).
_RETIRED_KEY = re.compile(rf"{ARCHIVE_DIR}/(signing|encryption)-[A-Za-z0-9_-]{{43}}\.pem")


def _keys(files: dict[str, bytes]) -> NodeKeys:
    current = {SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE}
    if not current <= set(files) or not all(_RETIRED_KEY.fullmatch(name) for name in set(files) - current):
        raise DamagedArchive(_("the sealed keys are not a node's two key files"))
    try:
        return NodeKeys(
            signing=OKPKey.import_key(files[SIGNING_KEY_FILE]), encryption=OKPKey.import_key(files[ENCRYPTION_KEY_FILE])
        )
    except (ValueError, TypeError) as exc:
        raise DamagedArchive(_("the sealed keys are not readable keys")) from exc


def _check_hashes(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise DamagedArchive(_("the manifest lists no files"))
    extra = sorted(set(members) - set(listed))
    if extra:
        raise DamagedArchive(_("the archive holds files its manifest does not list: {names}").format(names=extra[:5]))
    for name, expected in sorted(listed.items()):
        data = members.get(name)
        if data is None:
            raise DamagedArchive(_("the archive lacks {name}, which its manifest lists").format(name=name))
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise DamagedArchive(
                _(
                    "{name} has SHA-256 {actual}, the manifest says {expected}: the archive was damaged or changed"
                ).format(name=name, actual=actual, expected=expected)
            )


def _write_files(staging: Path, members: dict[str, bytes], key_files: dict[str, bytes]) -> None:
    staging.chmod(0o700)
    (staging / BLOB_DIR).mkdir(mode=0o700)
    NodeKeys(
        signing=OKPKey.import_key(key_files[SIGNING_KEY_FILE]),
        encryption=OKPKey.import_key(key_files[ENCRYPTION_KEY_FILE]),
    ).save(staging / KEY_DIR)
    retired = {name: data for name, data in key_files.items() if name.startswith(f"{ARCHIVE_DIR}/")}
    if retired:
        (staging / KEY_DIR / ARCHIVE_DIR).mkdir(mode=0o700)
    for name, data in retired.items():
        fd = os.open(staging / KEY_DIR / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    for name, data in members.items():
        if name == KEYS_NAME:
            continue
        relative = name.removeprefix(f"{CONFIG_DIR}/") if name.startswith(f"{CONFIG_DIR}/") else name
        path = staging / relative
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    if not (staging / NODE_FILE).exists():
        raise DamagedArchive(_("the archive holds no {name}").format(name=NODE_FILE))


def _verify_ledger(database_url: str, manifest: dict[str, Any], keys: NodeKeys) -> None:
    """Every leaf rebuilt from its record and hashed again, the tree recomputed from the leaves alone (RFC 9162
    §2.1.1), and the result compared with the manifest's head and its two checkpoints' signed roots."""
    ledger = manifest["ledger"]
    size, root = int(ledger["size"]), bytes.fromhex(str(ledger["root"]))
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            identity = conn.execute(select(node_identity.c.node_id)).scalar_one_or_none()
            if identity != manifest["node_id"]:
                raise DamagedArchive(
                    _("the database holds node {theirs!r}, the manifest names {ours!r}").format(
                        theirs=identity, ours=manifest["node_id"]
                    )
                )
            stored_size = int(conn.execute(select(ledger_head.c.size)).scalar_one())
            if stored_size != size:
                raise LedgerDoesNotMatch(
                    _("the restored ledger has {stored} leaves, the manifest {size}").format(
                        stored=stored_size, size=size
                    )
                )
            tree = MemoryTree()
            query = select(events).order_by(events.c.id)
            for row in conn.execute(query):
                if row.id != tree.size:
                    raise LedgerDoesNotMatch(_("the restored ledger lacks leaf {index}").format(index=tree.size))
                record = leaf_record(row.id, row.at, row.type, row.actor, row.refs, row.payload_sha256)
                computed = leaf_hash(leaf_bytes(record))
                if computed != bytes(row.leaf_hash):
                    raise LedgerDoesNotMatch(
                        _(
                            "leaf {index} of the restored ledger does not hash to its stored hash: its record was "
                            "changed"
                        ).format(index=row.id)
                    )
                tree.append(computed)
            accepted = conn.execute(
                select(key_rotations).where(key_rotations.c.state == ACCEPTED).order_by(key_rotations.c.id)
            ).all()
            peer_keys = {
                row.node_id: apply_rotations(
                    PinnedPeer(row.node_id, verify_descriptor(row.descriptor).keys),
                    [r for r in accepted if r.node_id == row.node_id],
                )
                for row in conn.execute(select(peers))
            }
            own_keys = own_signing_keys(conn, str(manifest["node_id"]), keys.signing)
    finally:
        engine.dispose()
    if tree.size != size or tree.root() != root:
        raise LedgerDoesNotMatch(
            _("the restored ledger's recomputed root {actual} is not the manifest's {expected}").format(
                actual=tree.root().hex(), expected=root.hex()
            )
        )
    origin = origin_for(str(manifest["node_id"]))
    for name in ("checkpoint", "countersigned"):
        checkpoint = ledger.get(name)
        if not checkpoint:
            continue
        note = str(checkpoint["note"])
        signed = verify_by_any(own_keys, partial(verify_checkpoint, note, origin))
        if signed.body.size > tree.size or tree.root(signed.body.size) != signed.body.root:
            raise LedgerDoesNotMatch(
                _("the restored ledger does not have the root the node signed for size {size}").format(
                    size=signed.body.size
                )
            )
        if name == "countersigned":
            cosigner = str(checkpoint["cosigner"])
            pinned = next((p for pid, p in peer_keys.items() if origin_for(pid) == cosigner), None)
            if pinned is None:
                raise LedgerDoesNotMatch(
                    _("no pinned peer {cosigner} for the countersignature").format(cosigner=cosigner)
                )
            line = str(checkpoint["cosignature"])
            # a countersignature kept from before a rotation is history: any key the peer had verifies it
            verify_by_any(pinned.accepted_signing_keys(None), partial(verify_cosignature, signed, line, cosigner))
