"""The message: what an officer sends to the other party, and the states it passes through."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from accord.domain.cyber import SharedBundle
from accord.domain.forwarding import OnwardConsent, OnwardDisclosure
from accord.domain.handling import Handling
from accord.domain.incidents import Incident
from accord.domain.matching import MatchReference
from accord.domain.networks import SharedEntities
from accord.domain.notifications import PenAnswer, PreExportNotification
from accord.domain.parties import Party


class MessageKind(StrEnum):
    REQUEST = "request"
    RESPONSE = "response"
    SHARE = "share"
    ALERT = "alert"
    CORRECTION = "correction"
    WITHDRAWAL = "withdrawal"
    RETRACTION = "retraction"
    PEN = "pen"  # a pre-export notification of a precursor shipment, answered by the importing authority
    INCIDENT = "incident"  # a precursor incident (seizure, stopped shipment, diversion, suspicious order)
    FORWARD_CONSENT = "forward-consent"  # asks the originator's consent to forward its message inside our state
    FORWARD_NOTICE = "forward-notice"  # tells the originator its message was forwarded inside our state

    @property
    def is_amendment(self) -> bool:
        return self in AMENDMENT_KINDS


AMENDMENT_KINDS = frozenset({MessageKind.CORRECTION, MessageKind.WITHDRAWAL, MessageKind.RETRACTION})
OPENING_KINDS = frozenset(
    {MessageKind.REQUEST, MessageKind.SHARE, MessageKind.ALERT, MessageKind.PEN, MessageKind.INCIDENT}
)


class Priority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    IMMEDIATE = "immediate"

    @property
    def outbox_rank(self) -> int:
        """Lower goes first: immediate and urgent traffic overtakes routine traffic."""
        return {Priority.IMMEDIATE: 0, Priority.URGENT: 1, Priority.ROUTINE: 2}[self]

    @property
    def urgent(self) -> bool:
        """Immediate or urgent: carried by the urgent delivery lane, its writes before routine ones."""
        return self.outbox_rank <= Priority.URGENT.outbox_rank


class Direction(StrEnum):
    OUTGOING = "outgoing"
    INCOMING = "incoming"


class DeliveryState(StrEnum):
    """Where a message is; every message has exactly one, and none means success silently."""

    QUEUED = "queued"  # outgoing, accepted, in the outbox
    SENT = "sent"  # outgoing, handed to the peer at least once, no receipt yet
    DELIVERED = "delivered"  # outgoing, the peer's signed receipt is stored
    READ = "read"  # outgoing: the recipient opened it; incoming: an officer here opened it
    FAILED = "failed"  # outgoing, refused for good by the peer; `state_reason` says why
    HELD = "held"  # outgoing, held by policy for legal review; not sent
    REFUSED = "refused"  # outgoing, refused by this party's policy; never sent
    RECEIVED = "received"  # incoming, stored, not yet opened


class Amendment(StrEnum):
    """What a later correction, withdrawal or retraction did to a message."""

    CORRECTED = "corrected"
    WITHDRAWN = "withdrawn"
    RETRACTED = "retracted"


AMENDMENT_EFFECT = {
    MessageKind.CORRECTION: Amendment.CORRECTED,
    MessageKind.WITHDRAWAL: Amendment.WITHDRAWN,
    MessageKind.RETRACTION: Amendment.RETRACTED,
}


class SubjectKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    VESSEL = "vessel"
    VEHICLE = "vehicle"
    ACCOUNT = "account"
    DEVICE = "device"
    SHIPMENT = "shipment"


class SubjectRole(StrEnum):
    """What a person is to the case; the death-penalty and minimisation rules turn on it."""

    SUSPECT = "suspect"
    ACCUSED = "accused"  # charged, or detained on a charge
    VICTIM = "victim"
    WITNESS = "witness"
    OTHER = "other"  # an associate, a relative, a contact: neither suspected nor a victim or witness

    @property
    def incriminated(self) -> bool:
        """A suspect or accused: the person the receiving state may prosecute (and sentence)."""
        return self in (SubjectRole.SUSPECT, SubjectRole.ACCUSED)


# An offence is an ICCS v1.0 code (UNODC 2015): two digits for a section, four, five or six below it.
OFFENCE_CODE_PATTERN = r"^\d{2}(\d{2}(\d{1,2})?)?$"
OFFENCE_DESCRIPTION = "the offence investigated: an ICCS code, e.g. 0101 (intentional homicide), 06012 (drugs)"


class Identifier(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    scheme: str = Field(min_length=1, max_length=64, description="e.g. passport, phone, iban, cas, waybill")
    value: str = Field(min_length=1, max_length=256)
    issuer: str | None = Field(default=None, max_length=64)


class Subject(BaseModel):
    """A structured subject of a message: who or what it is about."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SubjectKind
    name: str | None = Field(default=None, max_length=256)
    aliases: tuple[str, ...] = ()
    date_of_birth: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    nationality: str | None = Field(default=None, max_length=3)
    role: SubjectRole | None = Field(default=None, description="for a person: suspect, accused, victim, witness, other")
    identifiers: tuple[Identifier, ...] = ()


class AttachmentRef(BaseModel):
    """An attachment by content address; its bytes travel beside the envelope."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    name: str = Field(min_length=1, max_length=255)
    media_type: str = Field(default="application/octet-stream", max_length=127)
    size: int = Field(ge=0)


class Address(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    party: Party
    agency: str
    officer: str | None = None


class Purpose(StrEnum):
    """Why the information is disclosed; evidence for court goes through the treaty channel, not this one."""

    INTELLIGENCE = "intelligence"  # to prevent, detect or investigate crime
    OPERATIONAL = "operational"  # to act now: stop a shipment, locate a person
    EVIDENCE = "evidence"  # for use in judicial proceedings


class AssuranceKind(StrEnum):
    NO_DEATH_PENALTY = "no-death-penalty"
    HUMANE_TREATMENT = "humane-treatment"
    USE_LIMITATION = "use-limitation"


class Assurance(BaseModel):
    """An assurance the receiving state gave, recorded by reference (a diplomatic note, a letter): what it assures,
    the document, when it was given and by whom. It travels with the message and lands in both ledgers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: AssuranceKind
    reference: str = Field(min_length=1, max_length=200, description="the document, e.g. a note verbale's number")
    issued_on: date = Field(description="the date the receiving state gave it")
    issuing_authority: str = Field(
        min_length=2, max_length=200, description="who gave it, e.g. Ministry of Home Affairs, Government of India"
    )


class Message(BaseModel):
    """A message as both nodes hold it and as it is signed (RFC 8785 canonical JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: MessageKind
    case_id: str
    sender: Address
    recipient: Address
    focus_area: str
    priority: Priority
    created_at: datetime
    deadline: datetime | None
    handling: Handling
    legal_basis: str | None = None
    title: str
    body: str
    subjects: tuple[Subject, ...] = ()
    attachments: tuple[AttachmentRef, ...] = ()
    in_reply_to: str | None = None
    refers_to: str | None = None
    purpose: Purpose = Purpose.INTELLIGENCE
    offence: str | None = Field(default=None, pattern=OFFENCE_CODE_PATTERN, description=OFFENCE_DESCRIPTION)
    grounds: tuple[str, ...] = Field(default=(), max_length=10, description="what the request is grounded in")
    assurances: tuple[Assurance, ...] = Field(default=(), max_length=10)
    notification: PreExportNotification | None = None  # for kind "pen"
    pen_answer: PenAnswer | None = None  # for a response to a "pen"
    incident: Incident | None = None  # for kind "incident"
    stix: SharedBundle | None = None  # STIX 2.1 objects shared by the cyber centres (kind "share")
    # Left out of the signed form when absent, so every other message reads as before to a peer of an earlier release.
    onward: OnwardDisclosure | None = Field(default=None, exclude_if=lambda v: v is None)  # "forward-consent/-notice"
    onward_consent: OnwardConsent | None = Field(default=None, exclude_if=lambda v: v is None)  # answers a consent
    network: SharedEntities | None = Field(default=None, exclude_if=lambda v: v is None)  # FtM entities ("share")
    match_reference: MatchReference | None = Field(default=None, exclude_if=lambda v: v is None)  # a hit followed up
