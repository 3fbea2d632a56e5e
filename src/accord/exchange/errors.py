"""Errors of the exchange service."""

from __future__ import annotations

from accord.errors import Conflict, InvalidInput


class UnknownAgency(InvalidInput):
    slug = "unknown-agency"
    title = "No such agency in the agreement"


class UnknownFocusArea(InvalidInput):
    slug = "unknown-focus-area"
    title = "No such focus area in the agreement"


class AboveChannelCeiling(InvalidInput):
    slug = "above-channel-ceiling"
    title = "The classification is above what this channel may carry"


class AttachmentMissing(Conflict):
    slug = "attachment-missing"
    title = "An attachment the message names is not stored here"


class UnknownReference(Conflict):
    """Transient: the message this one amends has not arrived yet; the sender retries until it has."""

    slug = "unknown-reference"
    title = "The message this one refers to has not arrived here yet"


class NotAmendable(Conflict):
    slug = "not-amendable"
    title = "That message cannot be amended"
