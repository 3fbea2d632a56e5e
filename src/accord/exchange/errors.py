"""Errors of the exchange service."""

from __future__ import annotations

from accord.errors import Conflict, InvalidInput
from accord.i18n import N_


class UnknownAgency(InvalidInput):
    slug = "unknown-agency"
    title = N_("No such agency in the agreement")


class UnknownFocusArea(InvalidInput):
    slug = "unknown-focus-area"
    title = N_("No such focus area in the agreement")


class AboveChannelCeiling(InvalidInput):
    slug = "above-channel-ceiling"
    title = N_("The classification is above what this channel may carry")


class UnknownClassification(InvalidInput):
    slug = "unknown-classification"
    title = N_("The marking is not one of the party's classifications in the agreement")


class TlpRedUnnamed(InvalidInput):
    slug = "tlp-red-unnamed"
    title = N_("TLP:RED needs its named recipients")


class H3RestrictionUnstated(InvalidInput):
    slug = "h3-restriction-unstated"
    title = N_("Handling code H3 needs its restriction stated")


class HandlingWeakened(InvalidInput):
    slug = "handling-weakened"
    title = N_("An answer may not be handled more loosely than the message it answers")


class AttachmentMissing(Conflict):
    slug = "attachment-missing"
    title = N_("An attachment the message names is not stored here")


class UnknownReference(Conflict):
    """Transient: the message this one amends has not arrived yet; the sender retries until it has."""

    slug = "unknown-reference"
    title = N_("The message this one refers to has not arrived here yet")


class NotAmendable(Conflict):
    slug = "not-amendable"
    title = N_("That message cannot be amended")


class SequenceCollision(Conflict):
    """The channel holds another envelope under this sequence number: the sender's channel counter went back (a
    database restored from a backup, say). Not final: the sender's operator gives the waiting envelopes fresh numbers
    past `highest_seq` (`accord node resequence`) and they are delivered."""

    slug = "sequence-collision"
    title = N_("Another envelope holds this sequence number on the channel")

    def __init__(self, channel: str, seq: int, held_by: str, highest_seq: int) -> None:
        super().__init__(
            f"sequence number {seq} on channel {channel} is already used by envelope {held_by}; the highest "
            f"sequence number received on the channel is {highest_seq}"
        )
        self.channel, self.seq, self.held_by, self.highest_seq = channel, seq, held_by, highest_seq

    def extensions(self) -> dict[str, object]:
        return {"channel": self.channel, "seq": self.seq, "held_by": self.held_by, "highest_seq": self.highest_seq}


class UnknownOffence(InvalidInput):
    slug = "unknown-offence"
    title = N_("The offence is not a code of the offence taxonomy")

    def extensions(self) -> dict[str, object]:
        return {"errors": [{"location": ["body", "offence"], "message": self.detail, "type": self.slug}]}


class OffenceRequired(InvalidInput):
    """A request, share, alert or incident that names a person must say what offence it concerns; the refusal
    names the sending party's law."""

    slug = "offence-required"
    title = N_("A disclosure naming a person must name the offence")

    def __init__(self, detail: str, citation: str) -> None:
        super().__init__(f"{detail} ({citation})")
        self.citation = citation

    def extensions(self) -> dict[str, object]:
        return {
            "citation": self.citation,
            "errors": [{"location": ["body", "offence"], "message": self.detail, "type": self.slug}],
        }
