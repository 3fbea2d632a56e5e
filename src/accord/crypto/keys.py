"""A node's key pair files (Ed25519 signing, X25519 encryption), the keys it retired, and the public keys of pinned
peers.

A rotated key is not deleted: `replace_key` moves the old file into `keys/archive/` (mode 600, named by role and
fingerprint) before the new one takes its place, so envelopes still in flight to the old encryption key can be opened
during the overlap, and what the old signing key signed stays attributable."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from joserfc.jwk import OKPKey

from accord.crypto.errors import KeyFileError, MalformedArtefact
from accord.i18n import _

SIGNING_KEY_FILE = "signing-ed25519.pem"
ENCRYPTION_KEY_FILE = "encryption-x25519.pem"
ARCHIVE_DIR = "archive"
_PRIVATE_MODE = 0o600


class KeyRole(StrEnum):
    """What a node key is for: each is rotated on its own."""

    SIGNING = "signing"
    ENCRYPTION = "encryption"

    @property
    def file_name(self) -> str:
        return SIGNING_KEY_FILE if self is KeyRole.SIGNING else ENCRYPTION_KEY_FILE

    @property
    def curve(self) -> Literal["Ed25519", "X25519"]:
        return "Ed25519" if self is KeyRole.SIGNING else "X25519"


@dataclass(frozen=True, slots=True)
class PublicKeys:
    """The public half of a node: what a peer pins."""

    signing: OKPKey
    encryption: OKPKey
    # RFC 7638 JWK thumbprints (SHA-256), the keys' ids: worked out once, not for every envelope signed or verified.
    signing_fingerprint: str = field(init=False, compare=False, repr=False)
    encryption_fingerprint: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "signing_fingerprint", str(self.signing.thumbprint()))
        object.__setattr__(self, "encryption_fingerprint", str(self.encryption.thumbprint()))

    def as_jwks(self) -> dict[str, Any]:
        return {
            "signing": self.signing.as_dict(private=False),
            "encryption": self.encryption.as_dict(private=False),
        }

    @classmethod
    def from_jwks(cls, jwks: dict[str, Any]) -> PublicKeys:
        try:
            signing = OKPKey.import_key(jwks["signing"])
            encryption = OKPKey.import_key(jwks["encryption"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedArtefact(_("public keys are not valid OKP JWKs: {exc}").format(exc=exc)) from exc
        if signing.curve_name != "Ed25519" or encryption.curve_name != "X25519":
            raise MalformedArtefact(_("signing key must be Ed25519 and encryption key X25519"))
        if signing.is_private or encryption.is_private:
            raise MalformedArtefact(_("a descriptor must never carry private keys"))
        return cls(signing=signing, encryption=encryption)


@dataclass(frozen=True, slots=True)
class NodeKeys:
    """A node's own private keys, and the encryption keys it retired (to open what was sealed to them in flight)."""

    signing: OKPKey
    encryption: OKPKey
    retired_encryption: tuple[OKPKey, ...] = ()
    stamp: tuple[int, ...] = ()  # the key files' inode and mtime when loaded: a rotation on disk changes it
    signing_fingerprint: str = field(init=False, compare=False, repr=False)  # its signing key's id, as PublicKeys
    _decryption: tuple[tuple[str, OKPKey], ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "signing_fingerprint", str(self.signing.thumbprint()))
        keys = (self.encryption, *self.retired_encryption)
        object.__setattr__(self, "_decryption", tuple((str(key.thumbprint()), key) for key in keys))

    def decryption_key(self, kid: str | None) -> OKPKey | None:
        """The private encryption key with thumbprint `kid`: the current one or a retired one."""
        for thumbprint, key in self._decryption:
            if kid is None or thumbprint == kid:
                return key
        return None

    def key(self, role: KeyRole) -> OKPKey:
        return self.signing if role is KeyRole.SIGNING else self.encryption

    @property
    def public(self) -> PublicKeys:
        return PublicKeys(
            signing=OKPKey.import_key(self.signing.as_dict(private=False)),
            encryption=OKPKey.import_key(self.encryption.as_dict(private=False)),
        )

    @classmethod
    def generate(cls) -> NodeKeys:
        return cls(signing=OKPKey.generate_key("Ed25519"), encryption=OKPKey.generate_key("X25519"))

    def save(self, key_dir: Path) -> None:
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, key in ((SIGNING_KEY_FILE, self.signing), (ENCRYPTION_KEY_FILE, self.encryption)):
            path = key_dir / name
            if path.exists():
                raise KeyFileError(_("{path} exists; refusing to overwrite a node key").format(path=path))
            _write_private(path, key)

    @classmethod
    def load(cls, key_dir: Path) -> NodeKeys:
        stamp = key_files_stamp(key_dir)
        archive = key_dir / ARCHIVE_DIR
        retired = sorted(archive.glob(f"{KeyRole.ENCRYPTION.value}-*.pem")) if archive.is_dir() else []
        return cls(
            signing=_load_private(key_dir / SIGNING_KEY_FILE, Ed25519PrivateKey),
            encryption=_load_private(key_dir / ENCRYPTION_KEY_FILE, X25519PrivateKey),
            retired_encryption=tuple(_load_private(path, X25519PrivateKey) for path in retired),
            stamp=stamp,
        )


def key_files_stamp(key_dir: Path) -> tuple[int, ...]:
    """Inode and modification time of both key files: it changes when a rotation replaces one."""
    stamp: list[int] = []
    for name in (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE):
        try:
            status = (key_dir / name).stat()
        except OSError:
            return ()
        stamp += [status.st_ino, status.st_mtime_ns]
    return tuple(stamp)


def generate_key(role: KeyRole) -> OKPKey:
    return OKPKey.generate_key(role.curve)


def _pem(key: OKPKey) -> bytes:
    return key.private_key.private_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, key: OKPKey) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(_pem(key))
        handle.flush()
        os.fsync(handle.fileno())


def replace_key(key_dir: Path, role: KeyRole, old: OKPKey, new: OKPKey) -> Path:
    """Archive `old` (which must be the key on disk) and put `new` in its place; returns the archived file.

    The archive copy is written first and the new key renamed over the old file, so at every moment the key file
    holds a whole key, old or new, and the old one is never lost."""
    current = key_dir / role.file_name
    on_disk = _load_private(current, Ed25519PrivateKey if role is KeyRole.SIGNING else X25519PrivateKey)
    if on_disk.thumbprint() != old.thumbprint():
        raise KeyFileError(
            _("{path} no longer holds key {fingerprint}; another rotation ran meanwhile").format(
                path=current, fingerprint=old.thumbprint()
            )
        )
    archive = key_dir / ARCHIVE_DIR
    archive.mkdir(mode=0o700, exist_ok=True)
    archived = archive / f"{role.value}-{old.thumbprint()}.pem"
    if not archived.exists():
        _write_private(archived, old)
    staged = key_dir / f".{role.file_name}.new"
    staged.unlink(missing_ok=True)
    _write_private(staged, new)
    staged.replace(current)
    return archived


def _load_private(path: Path, expected: type) -> OKPKey:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        pem = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(
            _(
                "cannot read key file {path} ({reason}): a node's keys are the ones `accord node init` made; "
                "restore them from the node's backup"
            ).format(path=path, reason=exc.strerror or exc)
        ) from exc
    if mode & 0o077:
        raise KeyFileError(
            _("key file {path} has mode {mode:o}; it must be 600 (chmod 600 {path})").format(path=path, mode=mode)
        )
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, expected):
        raise KeyFileError(_("key file {path} does not hold a {name__}").format(path=path, name__=expected.__name__))
    return OKPKey.import_key(pem)
