"""Matching keys: the secrets both parties' operators agreed, with which each node encodes its side of a hit/no-hit
query. A key lives in a file of mode 600 under the node's key directory and never leaves the node by the exchange:
operators carry it across once (`accord match key export` / `import`), then retire it when a newer one is in use."""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from accord.errors import ConfigurationError, Conflict, InvalidInput, NotFound
from accord.i18n import N_, _
from accord.matching.encode import KEY_ID, MatchingKey
from accord.node import KEY_DIR

MATCHING_DIR = "matching"
SECRET_BYTES = 32
_PRIVATE_MODE = 0o600


class NoMatchingKey(Conflict):
    """Nothing can be encoded yet: the operators have not agreed a key (or retired every one)."""

    slug = "no-matching-key"
    title = N_("This node holds no matching key to encode with")


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What may be shown of a key: never its secret."""

    key_id: str
    created_at: datetime
    retired_at: datetime | None

    def as_json(self) -> dict[str, str | None]:
        return {
            "key_id": self.key_id,
            "created_at": self.created_at.isoformat(),
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
        }


@dataclass(frozen=True, slots=True)
class StoredKey:
    key: MatchingKey
    info: KeyInfo


def key_dir(data_dir: Path) -> Path:
    return data_dir / KEY_DIR / MATCHING_DIR


def check_key_id(key_id: str) -> str:
    if not KEY_ID.fullmatch(key_id):
        raise InvalidInput(
            _("{key_id!r} is not a usable key id: letters, digits and . _ : -, at most 64, e.g. '2026-12'").format(
                key_id=key_id
            )
        )
    return key_id


def generate_key(data_dir: Path, key_id: str, now: datetime | None = None) -> KeyInfo:
    """A new random key (32 bytes from the operating system's CSPRNG), stored here; export it for the partner."""
    check_key_id(key_id)
    stored = StoredKey(
        MatchingKey(key_id, secrets.token_bytes(SECRET_BYTES)), KeyInfo(key_id, now or datetime.now(UTC), None)
    )
    _write(key_dir(data_dir) / f"{key_id}.json", stored, exclusive=True)
    return stored.info


def export_key(data_dir: Path, key_id: str, out: Path) -> None:
    """The key in a file (mode 600) for the partner's operator to import; carry it by hand, never by the exchange."""
    _write(out, load_key(data_dir, key_id), exclusive=True)


def import_key(data_dir: Path, file: Path) -> KeyInfo:
    """A key the partner's operator exported; refused if this node holds a different key under the same id."""
    stored = _read(file, check_mode=False)
    path = key_dir(data_dir) / f"{stored.info.key_id}.json"
    if path.exists():
        held = _read(path)
        if not secrets.compare_digest(held.key.secret, stored.key.secret):
            raise Conflict(
                _("this node holds another key with id {key_id!r}; keys are never replaced").format(
                    key_id=stored.info.key_id
                )
            )
        return held.info
    _write(path, stored, exclusive=True)
    return stored.info


def retire_key(data_dir: Path, key_id: str, now: datetime | None = None) -> KeyInfo:
    """A retired key encodes no new query, and queries made with it are refused."""
    stored = load_key(data_dir, key_id)
    if stored.info.retired_at is not None:
        return stored.info
    retired = StoredKey(stored.key, KeyInfo(key_id, stored.info.created_at, now or datetime.now(UTC)))
    _write(key_dir(data_dir) / f"{key_id}.json", retired, exclusive=False)
    return retired.info


def list_keys(data_dir: Path) -> list[KeyInfo]:
    folder = key_dir(data_dir)
    if not folder.is_dir():
        return []
    return sorted((_read(p).info for p in folder.glob("*.json")), key=lambda i: (i.created_at, i.key_id))


def load_key(data_dir: Path, key_id: str) -> StoredKey:
    check_key_id(key_id)
    path = key_dir(data_dir) / f"{key_id}.json"
    if not path.exists():
        raise NotFound(
            _(
                "this node holds no matching key {key_id!r}; its operator imports it with `accord match key import`"
            ).format(key_id=key_id)
        )
    return _read(path)


def usable_key(data_dir: Path, key_id: str) -> MatchingKey:
    """The key a partner's query was encoded with, if this node holds it and has not retired it."""
    stored = load_key(data_dir, key_id)
    if stored.info.retired_at is not None:
        raise InvalidInput(
            _("matching key {key_id!r} was retired on {retired_at:%Y-%m-%d}; encode with the current key").format(
                key_id=key_id, retired_at=stored.info.retired_at
            )
        )
    return stored.key


def current_key(data_dir: Path) -> MatchingKey:
    """The newest key not retired: the one this node encodes its queries with."""
    live = [i for i in list_keys(data_dir) if i.retired_at is None]
    if not live:
        raise NoMatchingKey(
            _(
                "this node holds no matching key: the operators agree one (`accord match key generate` "
                "on one node, `export`, then `import` on the other)"
            )
        )
    return load_key(data_dir, live[-1].key_id).key


def read_key_file(path: Path) -> MatchingKey:
    """The key of a file `export_key` wrote (mode 600 or not: it is the analyst's copy)."""
    return _read(path, check_mode=False).key


def _write(path: Path, stored: StoredKey, *, exclusive: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps(
        {
            "key_id": stored.info.key_id,
            "secret": base64.urlsafe_b64encode(stored.key.secret).decode("ascii"),
            "created_at": stored.info.created_at.isoformat(),
            "retired_at": stored.info.retired_at.isoformat() if stored.info.retired_at else None,
        }
    )
    if exclusive:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
        except FileExistsError as exc:
            raise Conflict(_("{name} exists; a key file is never overwritten").format(name=path.name)) from exc
    else:
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(body)
    if not exclusive:
        os.replace(path.with_suffix(".tmp"), path)


def _read(path: Path, *, check_mode: bool = True) -> StoredKey:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(_("{name} is not a matching key file: {exc}").format(name=path.name, exc=exc)) from exc
    if check_mode and mode & 0o077:
        raise ConfigurationError(
            _("matching key file {name} has mode {mode:o}; it must be 600").format(name=path.name, mode=mode)
        )
    try:
        key_id = check_key_id(str(raw["key_id"]))
        secret = base64.urlsafe_b64decode(str(raw["secret"]))
        created = datetime.fromisoformat(str(raw["created_at"]))
        retired = datetime.fromisoformat(raw["retired_at"]) if raw.get("retired_at") else None
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise InvalidInput(_("{name} is not a matching key file: {exc}").format(name=path.name, exc=exc)) from exc
    if len(secret) < SECRET_BYTES:
        raise InvalidInput(
            _("{name} holds a key of {count} bytes; a matching key has at least {SECRET_BYTES}").format(
                name=path.name, count=len(secret), SECRET_BYTES=SECRET_BYTES
            )
        )
    return StoredKey(MatchingKey(key_id, secret), KeyInfo(key_id, created, retired))
