"""A node's key pair files (Ed25519 signing, X25519 encryption) and the public keys of pinned peers."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from joserfc.jwk import OKPKey

from accord.crypto.errors import KeyFileError, MalformedArtefact
from accord.i18n import _

SIGNING_KEY_FILE = "signing-ed25519.pem"
ENCRYPTION_KEY_FILE = "encryption-x25519.pem"
_PRIVATE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class PublicKeys:
    """The public half of a node: what a peer pins."""

    signing: OKPKey
    encryption: OKPKey

    @property
    def signing_fingerprint(self) -> str:
        return str(self.signing.thumbprint())  # RFC 7638 JWK thumbprint, SHA-256

    @property
    def encryption_fingerprint(self) -> str:
        return str(self.encryption.thumbprint())

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
    """A node's own private keys."""

    signing: OKPKey
    encryption: OKPKey

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
            pem = key.private_key.private_bytes(  # type: ignore[union-attr]
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)

    @classmethod
    def load(cls, key_dir: Path) -> NodeKeys:
        return cls(
            signing=_load_private(key_dir / SIGNING_KEY_FILE, Ed25519PrivateKey),
            encryption=_load_private(key_dir / ENCRYPTION_KEY_FILE, X25519PrivateKey),
        )


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
