"""Errors raised while verifying envelopes, receipts and descriptors."""

from __future__ import annotations

from accord.errors import AccordError


class VerificationFailed(AccordError):
    """Base of every refusal of a signed or encrypted artefact."""

    status = 400
    slug = "verification-failed"
    title = "The signed artefact did not verify"


class UnknownSender(VerificationFailed):
    status = 403
    slug = "unknown-sender"
    title = "The sender's key is not pinned at this node"


class BadSignature(VerificationFailed):
    slug = "bad-signature"
    title = "The signature does not verify"


class UndecryptableEnvelope(VerificationFailed):
    slug = "undecryptable-envelope"
    title = "The envelope cannot be decrypted"


class StaleEnvelope(VerificationFailed):
    slug = "stale-envelope"
    title = "The envelope's timestamp is outside the accepted window"


class ReplayedEnvelope(VerificationFailed):
    status = 409
    slug = "replayed-envelope"
    title = "The envelope was already presented"


class MalformedArtefact(VerificationFailed):
    slug = "malformed-artefact"
    title = "The artefact is not well formed"


class KeyFileError(AccordError):
    status = 500
    slug = "key-file-error"
    title = "A key file is missing or unsafe"
