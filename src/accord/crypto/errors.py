"""Errors raised while verifying envelopes, receipts and descriptors."""

from __future__ import annotations

from accord.errors import AccordError
from accord.i18n import N_


class VerificationFailed(AccordError):
    """Base of every refusal of a signed or encrypted artefact."""

    status = 400
    slug = "verification-failed"
    title = N_("The signed artefact did not verify")


class UnknownSender(VerificationFailed):
    status = 403
    slug = "unknown-sender"
    title = N_("The sender's key is not pinned at this node")


class BadSignature(VerificationFailed):
    slug = "bad-signature"
    title = N_("The signature does not verify")


class UndecryptableEnvelope(VerificationFailed):
    slug = "undecryptable-envelope"
    title = N_("The envelope cannot be decrypted")


class StaleEnvelope(VerificationFailed):
    slug = "stale-envelope"
    title = N_("The envelope's timestamp is outside the accepted window")


class ReplayedEnvelope(VerificationFailed):
    status = 409
    slug = "replayed-envelope"
    title = N_("The envelope was already presented")


class MalformedArtefact(VerificationFailed):
    slug = "malformed-artefact"
    title = N_("The artefact is not well formed")


class KeyFileError(AccordError):
    status = 500
    slug = "key-file-error"
    title = N_("A key file is missing or unsafe")
