"""A ledger leaf: the event record each leaf's bytes are the canonical JSON of, and the event types. Pure: the
offline verifier rebuilds leaves from an audit bundle with nothing but this module."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from accord.crypto.canonical import canonical_json

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class EventType(StrEnum):
    NODE_INITIALISED = "node.initialised"
    PEER_PINNED = "peer.pinned"
    PEER_REPOINTED = "peer.repointed"
    KEY_ROTATED = "key.rotated"  # this node replaced one of its keys (refs: role, old, new, overlap end, emergency)
    KEY_ROTATION_DELIVERED = "key.rotation_delivered"  # the peer took this node's rotation statement
    PEER_KEY_ROTATED = "peer.key_rotated"  # a peer's rotation verified against its pinned key and applied
    PEER_KEY_ROTATION_HELD = "peer.key_rotation_held"  # a peer's emergency rotation, held for the operator's check
    OFFICER_CREATED = "officer.created"
    OFFICER_SIGNED_IN = "officer.signed_in"
    # Written by earlier versions; a failed sign-in is now counted (sign_in_failures, refusal_counts), not logged here.
    OFFICER_SIGN_IN_FAILED = "officer.sign_in_failed"
    OFFICER_LOCKED_OUT = "officer.locked_out"
    OFFICER_UNLOCKED = "officer.unlocked"
    ACCESS_DENIED = "access.denied"
    MESSAGE_CREATED = "message.created"
    POLICY_DECIDED = "policy.decided"
    POLICY_PACK_INSTALLED = "policy.pack_installed"
    REVIEW_DECIDED = "review.decided"
    ASSESSMENT_RECORDED = "assessment.recorded"  # a mistreatment-risk assessment (ACMFEA Directions s.1)
    DATA_PURGED = "data.purged"
    ENVELOPE_SENT = "envelope.sent"
    ENVELOPE_DELIVERED = "envelope.delivered"
    ENVELOPE_FAILED = "envelope.failed"
    ENVELOPE_RECEIVED = "envelope.received"
    ENVELOPE_REFUSED = "envelope.refused"
    MESSAGE_READ = "message.read"
    MESSAGE_READ_BY_PEER = "message.read_by_peer"
    MESSAGE_AMENDED = "message.amended"
    CASE_EXPORTED = "case.exported"  # a case written to a file (JSON or PDF): a disclosure of what it holds
    MESSAGE_FORWARDED = "message.forwarded"  # inside this state, to another agency or officer
    MESSAGE_FORWARDED_BY_PEER = "message.forwarded_by_peer"  # the peer reports forwarding our message in its state
    FORWARD_REFUSED = "forward.refused"
    FORWARD_CONSENT_REQUESTED = "forward.consent_requested"  # of the originator, by us; or of us, by the peer
    FORWARD_CONSENT_ANSWERED = "forward.consent_answered"
    ROSTER_PUBLISHED = "roster.published"  # our officers per agency, sent to the peer
    PEER_ROSTER_RECEIVED = "peer.roster_received"
    ATTACHMENT_STORED = "attachment.stored"
    CHECKPOINT_ISSUED = "checkpoint.issued"
    CHECKPOINT_COSIGNED_BY_PEER = "checkpoint.cosigned_by_peer"
    PEER_CHECKPOINT_COSIGNED = "peer_checkpoint.cosigned"
    LEDGER_ALARM = "ledger.alarm"
    LEDGER_ALARM_ACKNOWLEDGED = "ledger.alarm_acknowledged"
    ENVELOPE_SEQUENCE_COLLISION = "envelope.sequence_collision"
    CHANNEL_RESEQUENCED = "channel.resequenced"
    NODE_RESTORED = "node.restored"  # this node was restored from a backup and caught up with its peer
    PEER_RECOVERY_ANSWERED = "peer.recovery_answered"  # the peer, restored from a backup, was told what it lacks
    # The peer declared its log restored to a head (refs: origin, size, root) that extends what was countersigned
    # here up to that size; the checkpoints countersigned beyond it (refs: lost, each size and root) are set aside.
    PEER_LEDGER_RESTORED = "peer.ledger_restored"
    WORKPLAN_INITIALISED = "workplan.initialised"
    WORKPLAN_PROPOSED = "workplan.proposed"
    WORKPLAN_ACCEPTED = "workplan.accepted"
    WORKPLAN_REJECTED = "workplan.rejected"
    WORKPLAN_CHANGED = "workplan.changed"
    WORKPLAN_CONFLICTED = "workplan.conflicted"
    WORKPLAN_COMMENTED = "workplan.commented"
    WORKPLAN_REFUSED = "workplan.refused"
    SANDBOX_SEEDED = "sandbox.seeded"
    SANDBOX_MESSAGE_WRITTEN = "sandbox.message_written"  # one generated SAMPLE message, as `sandbox.seeded` wrote it
    STIX_OBJECTS_ADDED = "stix.objects_added"
    STIX_OBJECTS_REFUSED = "stix.objects_refused"
    STIX_UNMARKED_DEFAULTED = "stix.unmarked_defaulted"
    STIX_OBJECTS_DELETED = "stix.objects_deleted"
    NETWORK_ENTITIES_ADDED = "network.entities_added"  # to a case: imported, added by an analyst, or shared
    NETWORK_JUDGED = "network.judged"  # an analyst judged two entities the same, not the same, or unsure
    MATCH_HOLDINGS_IMPORTED = "match.holdings_imported"  # persons or identifiers into the party's own holdings
    MATCH_QUERY_SENT = "match.query_sent"  # a hit/no-hit query of encodings left for the partner
    MATCH_QUERY_ANSWERED = "match.query_answered"  # a partner's query answered here: its size and hits, no data
    MATCH_ANSWER_RECEIVED = "match.answer_received"  # the partner's answer to our query: hits and references
    MATCH_QUERY_REFUSED = "match.query_refused"  # a query refused (over the period's limit, an unknown key)
    MATCH_RECORD_RELEASED = "match.record_released"  # a hit's record sent in answer to a follow-up request


def leaf_record(
    index: int, at: datetime, type_: str, actor: str, refs: Any, payload_sha256: str | None
) -> dict[str, Any]:
    """The exact object a leaf's bytes are the canonical JSON of; the offline verifier rebuilds it from a bundle."""
    return {
        "index": index,
        "at": at.astimezone(UTC).strftime(TIME_FORMAT),
        "type": type_,
        "actor": actor,
        "refs": orjson.loads(refs) if isinstance(refs, str) else refs,
        "payload_sha256": payload_sha256,
    }


def leaf_bytes(record: Mapping[str, Any]) -> bytes:
    return canonical_json(dict(record))
