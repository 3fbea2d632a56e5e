"""The node's private keys in a backup, sealed under the operator's passphrase: scrypt (RFC 7914) derives a 256-bit
key, AES-256-GCM (NIST SP 800-38D) encrypts and authenticates; the header with the parameters is the associated
data, so no parameter can be changed without the seal failing."""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from accord.backup.errors import DamagedArchive, WrongPassphrase
from accord.i18n import _

FORMAT = "accord-sealed-keys/1"
# RFC 7914 §2 and OWASP's scrypt minimum for interactive use: N=2^17, r=8, p=1 (128 MiB, well under a second).
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_NONCE_BYTES = 12
MIN_PASSPHRASE_CHARS = 12


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def seal_files(files: dict[str, bytes], passphrase: str, context: str) -> bytes:
    """The files (name → bytes) encrypted under `passphrase`, bound to `context` (the node's id)."""
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise WrongPassphrase(
            _("a backup passphrase has at least {count} characters").format(count=MIN_PASSPHRASE_CHARS)
        )
    salt, nonce = os.urandom(_SALT_BYTES), os.urandom(_NONCE_BYTES)
    header = {
        "format": FORMAT,
        "context": context,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": salt.hex()},
        "aead": {"name": "AES-256-GCM", "nonce": nonce.hex()},
    }
    header_bytes = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    plain = json.dumps({name: data.hex() for name, data in sorted(files.items())}).encode()
    sealed = AESGCM(_key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).encrypt(nonce, plain, header_bytes)
    return header_bytes + b"\n" + sealed


def open_files(sealed: bytes, passphrase: str, context: str) -> dict[str, bytes]:
    """The files sealed by `seal_files`; WrongPassphrase if the passphrase (or anything sealed) is not the one."""
    header_bytes, separator, ciphertext = sealed.partition(b"\n")
    header = _header(header_bytes) if separator else None
    if header is None:
        raise DamagedArchive(_("the sealed keys have no readable header: the archive is damaged"))
    if header.get("context") != context:
        raise DamagedArchive(
            _("the sealed keys belong to node {theirs!r}, not {ours!r}").format(
                theirs=header.get("context"), ours=context
            )
        )
    try:
        kdf, aead = header["kdf"], header["aead"]
        salt, nonce = bytes.fromhex(kdf["salt"]), bytes.fromhex(aead["nonce"])
        n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DamagedArchive(_("the sealed keys' header is not in the expected form")) from exc
    if (n, r, p) != (SCRYPT_N, SCRYPT_R, SCRYPT_P) or len(nonce) != _NONCE_BYTES:
        raise DamagedArchive(_("the sealed keys name parameters this version does not use"))
    try:
        plain = AESGCM(_key(passphrase, salt, n, r, p)).decrypt(nonce, ciphertext, header_bytes)
    except InvalidTag as exc:
        raise WrongPassphrase(
            _(
                "the passphrase does not open the node's keys (or the sealed keys were changed); give the passphrase "
                "the backup was taken with"
            )
        ) from exc
    return {name: bytes.fromhex(data) for name, data in json.loads(plain).items()}


def _header(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) and value.get("format") == FORMAT else None
