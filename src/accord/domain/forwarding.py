"""Onward disclosure inside the recipient's own state: a forward, the originator's consent where a caveat asks for
it, and the stricter-wins rule for handling carried from one message into another."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from accord.domain.handling import Handling, Tlp
from accord.domain.parties import Party

# FIRST TLP 2.0, least to most restricted.
TLP_ORDER = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)


class ForwardState(StrEnum):
    """Where a forward is, at the forwarder's node and (as the originator sees it) at the originator's."""

    FORWARDED = "forwarded"  # the target may read the message
    AWAITING_CONSENT = "awaiting-consent"  # a caveat asks for the originator's consent; asked, not yet answered
    REFUSED = "refused"  # the forwarder's pack refused it
    CONSENT_REFUSED = "consent-refused"  # the originator refused consent
    CONSENT_GRANTED = "consent-granted"  # (originator's side) consent given; the forwarder completes the forward


class ForwardRole(StrEnum):
    FORWARDER = "forwarder"  # this node's officer forwarded a message received from the peer
    ORIGINATOR = "originator"  # the peer forwarded (or asks to forward) a message this node sent


class OnwardDisclosure(BaseModel):
    """A forward as it travels to the originator: in a consent request, and in the notice of a forward done."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    forward_id: str = Field(min_length=1, max_length=36, description="the forward, the same id at both nodes")
    message_id: str = Field(min_length=1, max_length=36, description="the originator's message forwarded")
    to_party: Party
    to_agency: str = Field(min_length=1, max_length=32)
    to_officer: str | None = Field(default=None, max_length=128)
    reason: str = Field(min_length=1, max_length=2000, description="why the forwarder needs to pass it on")


class ConsentDecision(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"


class OnwardConsent(BaseModel):
    """The originator's answer to a consent request, in the response to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: ConsentDecision
    conditions: str | None = Field(default=None, max_length=2000, description="what the consent is subject to")


class ForwardDraft(BaseModel):
    """What an officer asks for: pass a received message to another agency, or one officer, of their own state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: str = Field(min_length=1, max_length=32, description="the agency it goes to")
    officer: str | None = Field(default=None, max_length=128, description="only this officer of it reads it")
    party: Party | None = Field(default=None, description="the target's state; a forward stays in one's own")
    reason: str = Field(min_length=1, max_length=2000, description="why they need it (told to the originator)")


def stricter_tlp(a: Tlp, b: Tlp) -> Tlp:
    return max(a, b, key=TLP_ORDER.index)


def inherit_handling(own: Handling, source: Handling) -> Handling:
    """The handling of a message made from `source` (a forward, a quotation): the stricter TLP, every caveat of
    both, both restrictions. A recipient never lowers the label the originator gave (FIRST TLP 2.0; the
    originator's handling codes bind every onward use of the information)."""
    caveats = tuple(dict.fromkeys((*own.caveats, *source.caveats)))
    restrictions = "; ".join(dict.fromkeys(r for r in (own.restrictions, source.restrictions) if r)) or None
    return own.model_copy(
        update={"tlp": stricter_tlp(own.tlp, source.tlp), "caveats": caveats, "restrictions": restrictions}
    )
