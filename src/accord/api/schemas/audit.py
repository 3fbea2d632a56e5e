"""The ledger as the API answers it: checkpoints with the peer's countersignature, alarms, proofs of a message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from accord.api.schemas import ApiModel

HASH_PATTERN = r"^[0-9a-f]{64}$"


class CheckpointView(ApiModel):
    """A signed tree head of a ledger (RFC 9162 §4.10), as a C2SP signed note, and whether the peer witnessed it."""

    origin: str
    size: int
    root: str = Field(pattern=HASH_PATTERN, description="the tree's root hash, hex")
    issued_at: datetime
    countersigned: bool
    cosigner: str | None
    cosigned_at: datetime | None
    note: str = Field(description="the signed note with its signature lines")


class AlarmLine(ApiModel):
    id: int
    at: datetime
    origin: str
    kind: str
    detail: str


class LedgerStatus(ApiModel):
    node: str
    ledger_size: int
    checkpoints: list[CheckpointView] = Field(description="the newest first")
    alarms: list[AlarmLine] = Field(description="the newest unacknowledged alarms")
    alarm_count: int
    unacknowledged_alarms: int


class AcknowledgementView(ApiModel):
    at: datetime
    by: str
    note: str


class AlarmView(ApiModel):
    id: int
    at: datetime
    origin: str = Field(description="the log or peer the alarm is about")
    kind: str
    detail: str
    evidence: Any = Field(description="what was seen, as recorded (JSON)")
    acknowledged: AcknowledgementView | None


class AlarmPage(ApiModel):
    alarms: list[AlarmView] = Field(description="the oldest first")
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last")
    unacknowledged: int


class RecentCheckpoints(ApiModel):
    checkpoints: list[CheckpointView] = Field(description="the newest first")


class ProvenLeafView(ApiModel):
    """One ledger entry about the message with its inclusion proof (RFC 9162 §2.1.3) against a checkpoint."""

    log: str = Field(description="whose ledger: this node's or the peer's")
    index: int
    event: str
    leaf_hash: str = Field(pattern=HASH_PATTERN)
    proof: list[str] = Field(description="the audit path, hex hashes")
    checkpoint: CheckpointView | None
    verified: bool
    note: str


class MessageProof(ApiModel):
    message: str
    verified: bool
    leaves: list[ProvenLeafView]


class LedgerEventView(ApiModel):
    """One ledger event (a leaf's record): ids and digests, never the contents of a message."""

    index: int = Field(description="the leaf index, the event's place in the ledger")
    at: datetime
    type: str
    actor: str = Field(description="the officer's id, the peer node or the node's own process that caused it")
    refs: dict[str, Any] = Field(description="the ids the event names")
    payload_sha256: str | None = Field(description="SHA-256 of the sensitive payload the event records by digest")
    leaf_hash: str = Field(pattern=HASH_PATTERN)
    message: str | None = Field(description="the message it is about, whose proof `/messages/{id}/proof` gives")


class LedgerEventPage(ApiModel):
    events: list[LedgerEventView] = Field(description="in ledger order")
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last")
