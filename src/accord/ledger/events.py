"""Appends an event record for every state change, inside the transaction that makes the change.

A record carries the event's type, time, actor and ids, and the SHA-256 of any sensitive payload rather than
the payload, so the record can be exported without disclosing message contents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Connection, insert

from accord.crypto.canonical import canonical_json, sha256_hex
from accord.store.tables import events


class EventType(StrEnum):
    NODE_INITIALISED = "node.initialised"
    PEER_PINNED = "peer.pinned"
    PEER_REPOINTED = "peer.repointed"
    OFFICER_CREATED = "officer.created"
    OFFICER_SIGNED_IN = "officer.signed_in"
    OFFICER_SIGN_IN_FAILED = "officer.sign_in_failed"
    ACCESS_DENIED = "access.denied"
    MESSAGE_CREATED = "message.created"
    POLICY_DECIDED = "policy.decided"
    ENVELOPE_SENT = "envelope.sent"
    ENVELOPE_DELIVERED = "envelope.delivered"
    ENVELOPE_FAILED = "envelope.failed"
    ENVELOPE_RECEIVED = "envelope.received"
    ENVELOPE_REFUSED = "envelope.refused"
    MESSAGE_READ = "message.read"
    MESSAGE_READ_BY_PEER = "message.read_by_peer"
    MESSAGE_AMENDED = "message.amended"
    ATTACHMENT_STORED = "attachment.stored"


def append_event(
    conn: Connection,
    event_type: EventType,
    actor: str,
    refs: Mapping[str, str | int | None],
    payload: bytes | None = None,
    at: datetime | None = None,
) -> None:
    conn.execute(insert(events), [event_row(event_type, actor, refs, payload, at)])


def append_events(conn: Connection, rows: Sequence[dict[str, object]]) -> None:
    if rows:
        conn.execute(insert(events), list(rows))


def event_row(
    event_type: EventType,
    actor: str,
    refs: Mapping[str, str | int | None],
    payload: bytes | None = None,
    at: datetime | None = None,
) -> dict[str, object]:
    return {
        "at": at or datetime.now(UTC),
        "type": event_type.value,
        "actor": actor,
        "refs": canonical_json({k: v for k, v in refs.items() if v is not None}).decode(),
        "payload_sha256": sha256_hex(payload) if payload is not None else None,
    }
