"""Checkpoints as C2SP signed notes (tlog-checkpoint), signed by the log's node and cosigned by the peer
(tlog-cosignature, cosignature/v1), with the node's Ed25519 key; nothing here touches a database.

    accord/ca-node-1          origin
    1234                      tree size
    <base64 root hash>        root
    time 1795372800           extension line: when the node issued it
                              (blank line)
    — accord/ca-node-1 <base64(key id ‖ signature)>
    — accord/in-node-1 <base64(key id ‖ u64 timestamp ‖ signature)>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

from accord.crypto.errors import BadSignature, MalformedArtefact
from accord.i18n import _

_SIGNATURE_DASH = "\u2014 "
_ED25519_NOTE = b"\x01"
_ED25519_COSIGNATURE = b"\x04"
_COSIGNATURE_HEADER = "cosignature/v1\n"
MAX_NOTE_BYTES = 4096
T = TypeVar("T")


def origin_for(node_id: str) -> str:
    return f"accord/{node_id}"


@dataclass(frozen=True, slots=True)
class CheckpointBody:
    origin: str
    size: int
    root: bytes
    issued_at: int  # POSIX seconds

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\ntime {self.issued_at}\n"


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    body: CheckpointBody
    signature_line: str  # the origin's
    cosignature_line: str | None = None

    @property
    def note(self) -> str:
        """The checkpoint as its origin signed it (what the peer is sent)."""
        return f"{self.body.text()}\n{self.signature_line}\n"

    @property
    def full_note(self) -> str:
        """With the cosignature too, as an oversight body reads it."""
        extra = f"{self.cosignature_line}\n" if self.cosignature_line else ""
        return self.note + extra


def _private(key: OKPKey) -> Ed25519PrivateKey:
    private = key.private_key
    if not isinstance(private, Ed25519PrivateKey):
        raise MalformedArtefact(_("a checkpoint is signed with the node's Ed25519 private key"))
    return private


def key_id(name: str, algorithm: bytes, key: OKPKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + algorithm + _public(key).public_bytes_raw()).digest()[:4]


def sign_checkpoint(body: CheckpointBody, key: OKPKey) -> SignedCheckpoint:
    signature = _private(key).sign(body.text().encode())
    value = base64.b64encode(key_id(body.origin, _ED25519_NOTE, key) + signature).decode()
    return SignedCheckpoint(body, f"{_SIGNATURE_DASH}{body.origin} {value}")


def cosign(checkpoint: SignedCheckpoint, cosigner: str, key: OKPKey, timestamp: int) -> str:
    """The cosigner's signature line: it has verified this head is consistent with every earlier one it saw."""
    message = f"{_COSIGNATURE_HEADER}time {timestamp}\n{checkpoint.body.text()}".encode()
    signature = _private(key).sign(message)
    value = key_id(cosigner, _ED25519_COSIGNATURE, key) + struct.pack(">Q", timestamp) + signature
    return f"{_SIGNATURE_DASH}{cosigner} {base64.b64encode(value).decode()}"


def parse_note(note: str) -> tuple[CheckpointBody, list[str]]:
    """Body and signature lines of a checkpoint note; refuses anything not in the exact format."""
    if len(note.encode("utf-8", "replace")) > MAX_NOTE_BYTES:
        raise MalformedArtefact(
            _("a checkpoint note is at most {MAX_NOTE_BYTES} bytes").format(MAX_NOTE_BYTES=MAX_NOTE_BYTES)
        )
    text, sep, signatures = note.partition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise MalformedArtefact(_("a checkpoint note is a body, a blank line, and newline-terminated signature lines"))
    lines = text.split("\n")
    if len(lines) != 4 or not lines[3].startswith("time "):
        raise MalformedArtefact(_("a checkpoint body is four lines: origin, size, base64 root, 'time <seconds>'"))
    origin, size_text, root_text, time_line = lines
    try:
        size = _decimal(size_text)
        issued_at = _decimal(time_line.removeprefix("time "))
        root = base64.b64decode(root_text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise MalformedArtefact(_("checkpoint body is malformed: {exc}").format(exc=exc)) from exc
    if len(root) != 32 or not origin:
        raise MalformedArtefact(_("checkpoint root must be 32 bytes and origin non-empty"))
    signature_lines = signatures[:-1].split("\n")
    if not all(line.startswith(_SIGNATURE_DASH) for line in signature_lines):
        raise MalformedArtefact(_("every signature line starts with an em dash and a space"))
    return CheckpointBody(origin, size, root, issued_at), signature_lines


def _decimal(text: str) -> int:
    if not text.isdigit() or (len(text) > 1 and text[0] == "0") or len(text) > 19:
        raise ValueError(f"{text!r} is not a decimal without leading zeros")
    return int(text)


def _line_value(line: str, name: str) -> bytes | None:
    """The decoded value of a signature line by `name`, or None if the line is someone else's."""
    parts = line.removeprefix(_SIGNATURE_DASH).split(" ")
    if len(parts) != 2 or parts[0] != name:
        return None
    try:
        return base64.b64decode(parts[1], validate=True)
    except binascii.Error as exc:
        raise MalformedArtefact(_("signature line of {name} is not base64").format(name=name)) from exc


def verify_checkpoint(note: str, origin: str, key: OKPKey) -> SignedCheckpoint:
    """Parse and verify the origin's signature with the pinned key; the first failure is raised, named."""
    body, lines = parse_note(note)
    if body.origin != origin:
        raise MalformedArtefact(
            _("checkpoint origin is {origin!r}, expected {origin2!r}").format(origin=body.origin, origin2=origin)
        )
    expected_id = key_id(origin, _ED25519_NOTE, key)
    for line in lines:
        value = _line_value(line, origin)
        if value is None or len(value) != 68:
            continue
        if value[:4] != expected_id:
            raise BadSignature(
                _("checkpoint of {origin} is signed by key id {hex}, not the pinned key (key id {hex2})").format(
                    origin=origin, hex=value[:4].hex(), hex2=expected_id.hex()
                )
            )
        try:
            _public(key).verify(value[4:], body.text().encode())
        except InvalidSignature as exc:
            raise BadSignature(
                _("checkpoint signature of {origin} (size {size}) does not verify").format(
                    origin=origin, size=body.size
                )
            ) from exc
        return SignedCheckpoint(body, line)
    raise BadSignature(_("checkpoint carries no signature by {origin}").format(origin=origin))


def verify_cosignature(checkpoint: SignedCheckpoint, line: str, cosigner: str, key: OKPKey) -> int:
    """Verify a cosignature line over the checkpoint body; returns its timestamp."""
    value = _line_value(line, cosigner)
    if value is None or len(value) != 76:
        raise MalformedArtefact(_("not a cosignature/v1 line by {cosigner}").format(cosigner=cosigner))
    expected_id = key_id(cosigner, _ED25519_COSIGNATURE, key)
    if value[:4] != expected_id:
        raise BadSignature(
            _("cosignature of {cosigner} is by key id {hex}, not the pinned key (key id {hex2})").format(
                cosigner=cosigner, hex=value[:4].hex(), hex2=expected_id.hex()
            )
        )
    (timestamp,) = struct.unpack(">Q", value[4:12])
    message = f"{_COSIGNATURE_HEADER}time {timestamp}\n{checkpoint.body.text()}".encode()
    try:
        _public(key).verify(value[12:], message)
    except InvalidSignature as exc:
        raise BadSignature(
            _("cosignature of {cosigner} over checkpoint size {size} does not verify").format(
                cosigner=cosigner, size=checkpoint.body.size
            )
        ) from exc
    return int(timestamp)


def _public(key: OKPKey) -> Ed25519PublicKey:
    public = key.public_key
    if not isinstance(public, Ed25519PublicKey):
        raise MalformedArtefact(_("checkpoints are verified with an Ed25519 key"))
    return public


def verify_by_any(keys: Sequence[OKPKey], verify: Callable[[OKPKey], T]) -> T:
    """`verify` with the first of `keys` it succeeds with (a node's key in force, then the keys a rotation retired
    but still accepts); when none does, the refusal under the first key, the one in force."""
    first: BadSignature | None = None
    for key in keys:
        try:
            return verify(key)
        except BadSignature as refusal:
            first = first or refusal
    if first is None:
        raise BadSignature(_("no signing key is accepted for this node"))
    raise first
