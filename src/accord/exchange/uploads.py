"""Bodies the peer uploads (sealed attachments, envelope batches), authenticated before a byte of them is read.

The sender signs a short-lived upload token (a signed peer request whose `typ` names the kind of body:
`accord-blob-upload+jws` for an attachment, `accord-envelope-batch+jws` for a batch) naming the SHA-256 and the length
of the exact body it sends, and sends it in the `Accord-Upload-Token` header. The receiver verifies it against the
pinned key, compares the declared length, takes one of its slots for that kind of body, and only then reads the body,
hashing and counting as it goes (an attachment to a file in its data directory, a batch into memory); a body longer
than announced is refused the moment it is, one whose hash differs when it ends. Only a body that matches its token
is looked at.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType

from accord.config import Settings
from accord.crypto.errors import MalformedArtefact, ReplayedEnvelope, VerificationFailed
from accord.errors import AccordError, PayloadTooLarge
from accord.i18n import N_, _
from accord.node import Node
from accord.trust.peers import PeerRecord
from accord.trust.requests import PeerNotAuthenticated, sign_peer_request, verify_peer_request

UPLOAD_TOKEN_HEADER = "Accord-Upload-Token"
# Under the data directory: bodies while they arrive (owner-only, like everything there).
INCOMING_DIR = "incoming"
_JTI_MAX = 64
_BUSY_RETRY_S = 5
_HEX = frozenset("0123456789abcdef")


class UploadKind(StrEnum):
    """What a body the peer uploads is; the value is its upload token's JWS `typ`, so that a token signed for one kind
    of body is refused for another."""

    SEALED_BLOB = "accord-blob-upload+jws"
    ENVELOPE_BATCH = "accord-envelope-batch+jws"

    @property
    def noun(self) -> str:
        return "attachment" if self is UploadKind.SEALED_BLOB else "envelope batch"

    @property
    def plural(self) -> str:
        return "attachments" if self is UploadKind.SEALED_BLOB else "envelope batches"

    def limit(self, settings: Settings) -> int:
        """The longest body of this kind the node accepts."""
        return sealed_blob_limit(settings) if self is UploadKind.SEALED_BLOB else settings.max_batch_bytes


class UploadMismatch(VerificationFailed):
    slug = "upload-mismatch"
    title = N_("The body is not the one its upload token announces")


class ReplayedUpload(ReplayedEnvelope):
    slug = "replayed-upload"
    title = N_("The upload token was already used")


class UploadsBusy(AccordError):
    status = 503
    slug = "uploads-busy"
    title = N_("The node is receiving as many uploads of this kind as it takes at once")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(_BUSY_RETRY_S)}  # RFC 9110 §10.2.3; the sender's outbox retries on its own too


@dataclass(frozen=True, slots=True)
class AnnouncedUpload:
    """A verified upload token: the pinned peer that signed it, the kind of body and the body it announces."""

    peer: PeerRecord
    kind: UploadKind
    sha256: str
    size: int
    jti: str


def sealed_blob_limit(settings: Settings) -> int:
    """The longest body an upload may have: an attachment at the limit, sealed. The bytes are base64 in the JSON
    claims, base64url again in the JWS and once more in the JWE: (4/3)^3, with room for the rest of the envelope."""
    return settings.max_attachment_bytes * 64 // 27 + 64 * 1024


def sign_upload(node: Node, peer: PeerRecord, kind: UploadKind, body: bytes) -> str:
    """The upload token for sending `body`, the exact bytes of a body of `kind`, to `peer`."""
    return sign_peer_request(node, peer, kind.value, sha256=hashlib.sha256(body).hexdigest(), size=len(body))


def verify_upload(node: Node, kind: UploadKind, token: str | None) -> AnnouncedUpload:
    """The body of `kind` that `token` announces, once it is known to be a fresh token from a pinned peer, addressed
    to this node, for a body no longer than this node accepts. Reads nothing but the token."""
    if not token:
        raise PeerNotAuthenticated(
            _("an upload ({noun}) carries the sender's signed upload token in the {UPLOAD_TOKEN_HEADER} header").format(
                noun=kind.noun, UPLOAD_TOKEN_HEADER=UPLOAD_TOKEN_HEADER
            ),
            "missing-token",
        )
    request = verify_peer_request(node, token.strip(), kind.value)
    sha256, size, jti = (request.claims.get(name) for name in ("sha256", "size", "jti"))
    if not isinstance(sha256, str) or len(sha256) != 64 or not set(sha256) <= _HEX:
        raise MalformedArtefact(_("the upload token's claim 'sha256' is not 64 lowercase hex digits"))
    if type(size) is not int or size <= 0:
        raise MalformedArtefact(_("the upload token's claim 'size' is not a positive integer"))
    if not isinstance(jti, str) or not 0 < len(jti) <= _JTI_MAX:
        raise MalformedArtefact(
            _("the upload token's claim 'jti' is not a string of 1 to {JTI_MAX} characters").format(JTI_MAX=_JTI_MAX)
        )
    limit = kind.limit(node.settings)
    if size > limit:
        raise PayloadTooLarge(
            _("the {noun} announces {size} bytes; this node accepts at most {limit}").format(
                noun=kind.noun, size=size, limit=limit
            )
        )
    return AnnouncedUpload(request.peer, kind, sha256, size, jti)


def check_declared_length(upload: AnnouncedUpload, content_length: str | None) -> None:
    """A Content-Length that is not the announced size is refused before the body (none: counted as it arrives)."""
    if content_length is None:
        return
    if not content_length.isdigit():
        raise UploadMismatch(_("the Content-Length is not a number"))
    if int(content_length) > upload.size:
        raise PayloadTooLarge(
            _("the body has {content_length} bytes; its upload token announces {size}").format(
                content_length=content_length, size=upload.size
            )
        )
    if int(content_length) != upload.size:
        raise UploadMismatch(
            _("the body has {content_length} bytes; its upload token announces {size}").format(
                content_length=content_length, size=upload.size
            )
        )


class UploadSlots:
    """How many uploads of one kind this process receives at once, and the tokens it admitted while they could still
    be fresh (a token is good for one upload). Shared by the process's requests; a process of its own has its own
    slots."""

    def __init__(self, limit: int, token_lifetime_s: float) -> None:
        self._limit = limit
        self._lifetime_s = token_lifetime_s
        self._active = 0
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def admit(self, upload: AnnouncedUpload) -> None:
        """Take a slot for `upload`, or refuse it: busy (503, the sender retries later) or a replayed token (409)."""
        with self._lock:
            now = time.monotonic()
            self._seen = {jti: until for jti, until in self._seen.items() if until > now}
            if upload.jti in self._seen:
                raise ReplayedUpload(
                    _("upload token {jti} was already used; each upload signs a new one").format(jti=upload.jti)
                )
            if self._active >= self._limit:
                raise UploadsBusy(
                    _("{active} {plural} are arriving already; try again shortly").format(
                        active=self._active, plural=upload.kind.plural
                    )
                )
            self._active += 1
            self._seen[upload.jti] = now + self._lifetime_s

    def release(self) -> None:
        with self._lock:
            self._active -= 1


class BodyTally:
    """The size and SHA-256 of an admitted upload's body so far, checked against its token as the body arrives."""

    def __init__(self, upload: AnnouncedUpload) -> None:
        self._upload = upload
        self._hash = hashlib.sha256()
        self._size = 0

    def add(self, chunk: bytes) -> None:
        """Count and hash `chunk`; a body longer than announced is refused the moment it is."""
        self._size += len(chunk)
        if self._size > self._upload.size:
            raise PayloadTooLarge(
                _("the body is longer than the {size} bytes its upload token announces").format(size=self._upload.size)
            )
        self._hash.update(chunk)

    def verify(self) -> None:
        """The body ended: it must be the one the token announced, to the byte."""
        if self._size != self._upload.size:
            raise UploadMismatch(
                _("the body ended after {size} bytes; its upload token announces {size2}").format(
                    size=self._size, size2=self._upload.size
                )
            )
        if self._hash.hexdigest() != self._upload.sha256:
            raise UploadMismatch(_("the body's SHA-256 is not the one its upload token announces"))


class BufferedBody:
    """The body of an admitted upload small enough to hold (an envelope batch), kept in memory as it arrives."""

    def __init__(self, upload: AnnouncedUpload) -> None:
        self._tally = BodyTally(upload)
        self._chunks: list[bytes] = []

    def write(self, chunk: bytes) -> None:
        self._tally.add(chunk)
        self._chunks.append(chunk)

    def finish(self) -> bytes:
        """The body, once the whole of it arrived and is the one the token announced."""
        self._tally.verify()
        return b"".join(self._chunks)


class IncomingBody:
    """The body of an admitted upload, written to a file of its own (mode 0600) in `directory` as it arrives, hashed
    and counted on the way. The file is removed when the `with` block ends, stored or not."""

    def __init__(self, directory: Path, upload: AnnouncedUpload) -> None:
        directory.mkdir(mode=0o700, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".part")
        self.path = Path(name)
        self._file = os.fdopen(handle, "wb")
        self._tally = BodyTally(upload)

    def __enter__(self) -> IncomingBody:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    def write(self, chunk: bytes) -> None:
        self._tally.add(chunk)
        self._file.write(chunk)

    def finish(self) -> Path:
        """The file, once the whole body arrived and is the one the token announced."""
        self._file.close()
        self._tally.verify()
        return self.path


def sweep_incoming(data_dir: Path, older_than_s: float) -> int:
    """Remove bodies left by a process that ended while receiving them (one still arriving is written to often)."""
    directory = data_dir / INCOMING_DIR
    if not directory.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for part in directory.glob("upload-*.part"):
        if part.stat().st_mtime < cutoff:
            part.unlink(missing_ok=True)
            removed += 1
    return removed
