"""The node's tables (SQLAlchemy Core); Alembic migrations under migrations/ create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from accord.store.types import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

node_identity = Table(
    "node_identity",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("party", String(8), nullable=False),
    Column("agreement", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

peers = Table(
    "peers",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("party", String(8), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("signing_fingerprint", String(64), nullable=False, unique=True),
    Column("encryption_fingerprint", String(64), nullable=False),
    Column("descriptor", Text, nullable=False),
    Column("pinned_at", UtcDateTime, nullable=False),
)

# The wire versions each pinned peer last advertised (its descriptor at pinning, then each signed hello it sends or
# answers with); `advertised` is the claim's JSON, null when the peer advertised none (a release before versions).
peer_versions = Table(
    "peer_versions",
    metadata,
    Column("peer_node_id", String(64), primary_key=True),
    Column("advertised", Text),
    Column("source", String(16), nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
)

# Key rotations, this node's own and its peers': each row one signed statement (crypto.rotation). The own ones wait
# as `unsent` until the peer took them; a peer's emergency one waits as `held` until this node's operator confirms its
# fingerprint. A peer's keys in force are its descriptor's with its `accepted` rotations applied in order.
key_rotations = Table(
    "key_rotations",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("node_id", String(64), nullable=False),  # whose key: this node's or a peer's
    Column("role", String(16), nullable=False),  # signing | encryption
    Column("old_fingerprint", String(64), nullable=False),
    Column("new_fingerprint", String(64), nullable=False),
    Column("new_key", Text, nullable=False),  # the new public key, JWK
    Column("statement", Text, nullable=False),  # the signed statement (compact JWS)
    Column("issued_at", UtcDateTime, nullable=False),
    Column("overlap_until", UtcDateTime, nullable=False),
    Column("emergency", Boolean, nullable=False),
    Column("state", String(16), nullable=False),  # own: unsent | delivered; a peer's: held | accepted
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("settled_at", UtcDateTime),  # delivered to the peer, or accepted here
    UniqueConstraint("node_id", "role", "new_fingerprint", name="uq_key_rotations_new_key"),
    Index("ix_key_rotations_node", "node_id", "id"),
)

agencies = Table(
    "agencies",
    metadata,
    Column("party", String(8), primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("contact_24_7", Text),
)

officers = Table(
    "officers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("party", String(8), nullable=False),
    Column("agency", String(32), nullable=False),
    Column("roles", Text, nullable=False),
    Column("clearance", String(16), nullable=False, default="secret"),  # a CommonLevel
    Column("focus_areas", Text, nullable=False, default=""),  # comma-separated; empty: every focus area
    Column("password_hash", Text, nullable=False),
    Column("is_sample", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("email", String(254), nullable=True),  # where notifications reach them by mail; NULL: in the app only
    Column("duty", Boolean, nullable=False, default=False),  # on duty for what arrives for their agency
    Column("created_at", UtcDateTime, nullable=False),
    Column("language", String(8), nullable=True),  # an accord.i18n Language; NULL: the node's default
    Column("time_zone", String(64), nullable=True),  # an IANA zone; NULL: the node's
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("officer_id", String(36), ForeignKey("officers.id"), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# Failed sign-ins, by what they were tried against: an account (its officer id), a name no account has (an HMAC of
# it under a key derived from the node's private key, never the name), or a source address. A failure is charged
# before the password is checked and refunded if it was right; one is forgotten per `sign_in_forget_s` without
# another. An account (or a name) with `locked_at` set is refused until an operator unlocks it.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("subject_kind", String(16), primary_key=True),  # account | name | source
    Column("subject", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UtcDateTime, nullable=False),
    Column("locked_at", UtcDateTime),
    Index("ix_sign_in_failures_last_failure_at", "last_failure_at"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("direction", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("case_id", String(36), nullable=False, index=True),
    Column("sender_party", String(8), nullable=False),
    Column("sender_agency", String(32), nullable=False),
    Column("sender_officer", String(128)),
    Column("recipient_party", String(8), nullable=False),
    Column("recipient_agency", String(32), nullable=False),
    Column("recipient_officer", String(128)),
    Column("focus_area", String(32), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime),
    Column("title", Text, nullable=False),
    Column("content", Text, nullable=False),  # the Message as RFC 8785 canonical JSON
    Column("state", String(16), nullable=False),
    Column("state_reason", Text),
    Column("decision", Text),  # the policy decision (JSON): verdict, policies with citations, pack, findings
    Column("purged_at", UtcDateTime),  # personal data removed under the pack's retention rule
    Column("channel_seq", BigInteger),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("next_attempt_at", UtcDateTime),
    Column("delivered_at", UtcDateTime),
    Column("received_at", UtcDateTime),
    Column("read_at", UtcDateTime),
    Column("answered_at", UtcDateTime),
    Column("receipt", Text),  # the receiver's signed receipt (compact JWS)
    Column("in_reply_to", String(36)),
    Column("refers_to", String(36)),
    Column("amendment", String(16)),
    Column("amended_by", String(36)),
    # Who else at this node may read a received message, by forwards inside this state (JSON: agencies, officers).
    Column("forwarded_to", Text),
    Index("ix_messages_box_sender", "direction", "sender_agency", "created_at"),
    Index("ix_messages_box_recipient", "direction", "recipient_agency", "created_at"),
)

# The words of each message as full-text search reads them (accord.domain.search: its title, body and attachment
# names, folded), one row per message that has any. Only the migration can make the store's own index over them, so
# it lives there and in accord.store.search: an FTS5 table kept in step by triggers on SQLite, a GIN index on
# PostgreSQL. Written in the transaction that writes the message.
message_search = Table(
    "message_search",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=False, unique=True),
    Column("words", Text, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("peer_node_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # message | notice
    Column("ref_id", String(36), nullable=False, unique=True),
    Column("rank", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    # Claims walk this in priority order and stop at the batch size; next_attempt_at is checked on the way, so
    # a 100,000-row backlog is not sorted on every claim.
    Index("ix_outbox_due", "peer_node_id", "rank", "id"),
)

channel_counters = Table(
    "channel_counters",
    metadata,
    Column("channel", String(140), primary_key=True),
    Column("next_seq", BigInteger, nullable=False),
    # The peer did not answer: what is queued on the channel waits until then, with what waits already (one retry of
    # the channel at its backoff, not one per batch queued meanwhile). NULL, or past: not held. The rows waiting are
    # not rewritten: a message's next try and error are read with the hold.
    Column("held_until", UtcDateTime),
    Column("hold_error", Text),  # why the try that held it failed: what each message waiting on the channel shows
)

inbound_envelopes = Table(
    "inbound_envelopes",
    metadata,
    Column("channel", String(140), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("jti", String(36), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("ref_id", String(36), nullable=False, unique=True),
    Column("digest", String(64), nullable=False),
    Column("receipt", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)

# Refusals of unauthenticated input (requests from no pinned peer, failed sign-ins), counted per window, way in,
# problem and source rather than written to the permanent ledger one by one. `logged_*`: the last log line written
# for the row, so that a row is logged at most once per `refusal_log_interval_s` with the count it left out.
refusal_counts = Table(
    "refusal_counts",
    metadata,
    Column("window_start", UtcDateTime, primary_key=True),
    Column("endpoint", String(64), primary_key=True),
    Column("problem", String(64), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("refusals", BigInteger, nullable=False),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("logged_at", UtcDateTime),
    Column("logged_refusals", BigInteger, nullable=False),
)

# Envelopes the pinned peer signed that were refused and logged in the ledger, by the SHA-256 of their `jti`: the same
# envelope presented again (by anyone who saw it) is refused again but not logged again. Kept while such an envelope
# could still be fresh.
refused_envelopes = Table(
    "refused_envelopes",
    metadata,
    Column("jti_sha256", String(64), primary_key=True),
    Column("refused_at", UtcDateTime, nullable=False, index=True),
)

blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(127), nullable=False),
    Column("origin", String(64), nullable=False),  # 'local' or the peer node id it came from
    Column("uploaded_by_agency", String(32)),
    Column("stored_at", UtcDateTime, nullable=False),
)

message_attachments = Table(
    "message_attachments",
    metadata,
    Column("message_id", String(36), ForeignKey("messages.id"), primary_key=True),
    Column("sha256", String(64), ForeignKey("blobs.sha256"), primary_key=True, index=True),
)

blob_transfers = Table(
    "blob_transfers",
    metadata,
    Column("peer_node_id", String(64), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("sent_at", UtcDateTime, nullable=False),
)

# The ledger: one row per event, its primary key the leaf index (0, 1, 2, … with no gaps, assigned under the
# ledger_head row lock), the leaf hash beside it, and every completed perfect subtree hash in ledger_nodes.
events = Table(
    "events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("type", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("refs", Text, nullable=False),  # canonical JSON object of ids
    Column("payload_sha256", String(64)),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)

ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("size", BigInteger, nullable=False),
)

ledger_nodes = Table(
    "ledger_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

# Signed checkpoints: this node's own (origin = this node, cosigned by the peer) and the peer's that this node
# countersigned (origin = the peer). Both signatures are kept on both sides.
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("origin", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=False),  # the checkpoint body and the origin's signature line
    Column("cosigner", String(128)),
    Column("cosignature", Text),  # the cosigner's signature line
    Column("cosigned_at", UtcDateTime),
    # A peer's checkpoint set aside by its declared restore (the ledger index of that `peer.ledger_restored` event):
    # kept as evidence, but its log no longer has to extend it.
    Column("lost_in_restore", BigInteger),
    Index("ix_checkpoints_origin_size", "origin", "size"),
)

ledger_alarms = Table(
    "ledger_alarms",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("origin", String(128), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("evidence", Text),  # the offending checkpoint note and what it contradicts
    Column("subject", String(160)),  # what it is about (a checkpoint's digest, a channel): one alarm per subject
    Column("acknowledged_at", UtcDateTime),
    Column("acknowledged_by", String(128)),  # the officer's id, or "operator" at the node's command line
    Column("acknowledgement", Text),  # the operator's note
    Index("ix_ledger_alarms_open", "acknowledged_at", "id"),
    Index("ix_ledger_alarms_kind", "kind", "id"),
    Index("ix_ledger_alarms_subject", "origin", "kind", "subject"),
)

# Proofs of receipt fetched from the peer: the receiver's leaf for an envelope this node sent, proven against a
# checkpoint of the receiver's that this node countersigned.
receipt_proofs = Table(
    "receipt_proofs",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("peer_node_id", String(64), nullable=False),
    Column("leaf_index", BigInteger, nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("proof", Text, nullable=False),  # JSON list of hex hashes
    Column("checkpoint_id", BigInteger, ForeignKey("checkpoints.id"), nullable=False),
    Column("fetched_at", UtcDateTime, nullable=False),
)

# Every decision a legal officer takes on a held disclosure; the queue is the outgoing messages in state `held`.
review_decisions = Table(
    "review_decisions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=False, index=True),
    Column("action", String(16), nullable=False),  # approve, refuse, escalate
    Column("level", Integer, nullable=False),
    Column("reviewer", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("conditions", Text),  # JSON: caveats added, fields removed, assurance recorded
    Column("at", UtcDateTime, nullable=False),
)

# Mistreatment-risk assessments as recorded (ACMFEA Directions s.1; the deputy head's annual report, Act s.7): one row
# each, the full record as canonical JSON, the columns the send path and the lists select on.
mistreatment_assessments = Table(
    "mistreatment_assessments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("party", String(8), nullable=False),
    Column("assessor", String(128), nullable=False),
    Column("conclusion", String(32), nullable=False),
    Column("assessed_on", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("pack", String(128), nullable=False),
    Column("content", Text, nullable=False),
)

# The shared work plan: each item's current document and version, every version it has had, the proposals that
# change it (both sides hold the same rows, with the same ids), and comments.
workplan_items = Table(
    "workplan_items",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # objective | action
    Column("version", Integer, nullable=False),
    Column("doc", Text, nullable=False),  # canonical JSON of the ObjectiveDoc / ActionDoc
    Column("updated_at", UtcDateTime, nullable=False),
)

workplan_versions = Table(
    "workplan_versions",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("doc", Text, nullable=False),
    Column("proposal_id", String(36)),  # none for the agreement's default plan
    Column("at", UtcDateTime, nullable=False),
)

workplan_proposals = Table(
    "workplan_proposals",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("code", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("base_version", Integer, nullable=False),  # 0 proposes a new item
    Column("changes", Text, nullable=False),  # JSON object of the fields it sets
    Column("reason", Text, nullable=False),
    Column("party", String(8), nullable=False),  # the proposing party
    Column("proposed_by", String(128), nullable=False),
    Column("proposed_at", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),  # pending | accepted | rejected | conflicted
    Column("state_reason", Text),
    Column("decided_by", String(128)),
    Column("decided_at", UtcDateTime),
    Column("version", Integer),  # the item version an accepted proposal made
)

workplan_comments = Table(
    "workplan_comments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("code", String(64), nullable=False, index=True),
    Column("party", String(8), nullable=False),
    Column("author", String(128), nullable=False),
    Column("body", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# Cyber: STIX 2.1 objects per TAXII collection, every version kept. date_added is the server's, assigned under the
# collection's head row so it strictly increases per collection (keyset pagination and added_after rest on it);
# is_first / is_last mark each object's oldest and newest version so match[version] is a column test.
stix_objects = Table(
    "stix_objects",
    metadata,
    Column("row_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("collection_id", String(36), nullable=False),
    Column("object_id", String(300), nullable=False),  # type (up to 250 characters) "--" UUID
    Column("type", String(250), nullable=False),
    Column("spec_version", String(8), nullable=False),
    Column("version", String(40), nullable=False),  # modified, else created, else the date added, as written
    Column("version_key", String(32), nullable=False),  # the same instant in a fixed-width form, for order and match
    Column("date_added", UtcDateTime, nullable=False),
    Column("is_first", Boolean, nullable=False),
    Column("is_last", Boolean, nullable=False),
    Column("tlp", String(16), nullable=False),  # landed from a share: the stricter of its marking and the share's
    Column("marked", Boolean, nullable=False),  # False: it carried no TLP marking and the default rule applied
    Column("added_by", String(128), nullable=False),
    Column("content", Text, nullable=False),  # the object as received, compact JSON
    # The share (message) the object landed from, with its common level and caveats; NULL when this party added it.
    Column("share_id", String(36)),
    Column("share_level", String(16)),
    Column("share_caveats", String(32)),  # comma-separated, "" for none
    UniqueConstraint("collection_id", "object_id", "version_key", name="uq_stix_objects_version"),
    UniqueConstraint("collection_id", "date_added", name="uq_stix_objects_date_added"),
    Index("ix_stix_objects_type", "collection_id", "type", "date_added"),
)

# Who may be served a TLP:RED object: the recipients named when it was shared; nobody else.
stix_named_readers = Table(
    "stix_named_readers",
    metadata,
    Column(
        "object_row",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("stix_objects.row_id"),
        primary_key=True,
    ),
    Column("username", String(128), primary_key=True),
)

stix_collection_heads = Table(
    "stix_collection_heads",
    metadata,
    Column("collection_id", String(36), primary_key=True),
    Column("last_added", UtcDateTime, nullable=False),
)

# TAXII 2.1 status resources (§4.3.1), one per POST of objects.
taxii_statuses = Table(
    "taxii_statuses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("collection_id", String(36), nullable=False),
    Column("requested_by", String(36), nullable=False),  # the officer's id
    Column("request_timestamp", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("total_count", Integer, nullable=False),
    Column("success_count", Integer, nullable=False),
    Column("failure_count", Integer, nullable=False),
    Column("pending_count", Integer, nullable=False),
    Column("successes", Text, nullable=False),  # JSON list of status details
    Column("failures", Text, nullable=False),
)

# Forwards of a received message inside the recipient's own state, and the originator's consent where a caveat asks
# for it; at the forwarder's node (role "forwarder") and, as the originator learns of them, at the originator's.
forwards = Table(
    "forwards",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("role", String(16), nullable=False),  # a ForwardRole
    Column("message_id", String(36), nullable=False),  # the originator's message
    Column("from_agency", String(32), nullable=False),  # the forwarding agency (the message's recipient)
    Column("from_officer", String(128), nullable=False),
    Column("originator_agency", String(32), nullable=False),
    Column("to_party", String(8), nullable=False),
    Column("to_agency", String(32), nullable=False),
    Column("to_officer", String(128)),
    Column("reason", Text, nullable=False),
    Column("state", String(24), nullable=False),  # a ForwardState
    Column("decision", Text),  # the forward decision (JSON): verdict, policies with citations, caveats' words
    Column("consent_request_id", String(36)),
    Column("consent_answer_id", String(36)),
    Column("consent_conditions", Text),
    Column("notice_id", String(36)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime),
    Index("ix_forwards_message", "message_id"),
    Index("ix_forwards_consent", "consent_request_id"),
)

# The officers the peer publishes, per agency, through the federation channel (a signed "roster" envelope): who may
# be named as a recipient of a TLP:RED message. Replaced whole by each newer roster.
peer_roster = Table(
    "peer_roster",
    metadata,
    Column("party", String(8), primary_key=True),
    Column("username", String(128), primary_key=True),
    Column("agency", String(32), nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)

# Organised-crime networks. A case's entities (FollowTheMoney JSON, one row per entity id in the case), with where
# each came from: this party (an import, an analyst) or the partner (a share, by message). The case row carries
# the handling every read of its entities is decided on, as a message's does.
network_cases = Table(
    "network_cases",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("owner_agency", String(32), nullable=False),  # the agency that holds the case here
    Column("origin_party", String(8), nullable=False),  # who opened it: this party, or the partner (by a share)
    Column("focus_area", String(32), nullable=False),
    Column("level", String(16), nullable=False),  # a CommonLevel
    Column("tlp", String(16), nullable=False),
    Column("caveats", String(200), nullable=False),  # comma-separated, "" for none
    Column("created_by", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

network_entities = Table(
    "network_entities",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("entity_id", String(256), primary_key=True),
    Column("schema", String(64), nullable=False),
    Column("caption", String(512), nullable=False),
    Column("properties", Text, nullable=False),  # JSON: {property: [values]}
    Column("first_seen", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_network_entities_schema", "case_id", "schema"),
)

network_provenance = Table(
    "network_provenance",
    metadata,
    Column("row_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("case_id", String(36), nullable=False),
    Column("entity_id", String(256), nullable=False),
    Column("party", String(8), nullable=False),  # whose the entity is: this party's or the partner's
    Column("message_id", String(36)),  # the share it came in (or went out in); NULL for an import or an analyst
    Column("source", String(256), nullable=False),  # e.g. "import rcmp-network.csv", "share", "api"
    Column("added_by", String(128), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Index("ix_network_provenance_entity", "case_id", "entity_id"),
    Index("ix_network_provenance_message", "message_id"),
)

# Candidate matches of a partner's entity (case_id, entity_id) with one of ours, with the score and its evidence.
network_matches = Table(
    "network_matches",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("entity_id", String(256), primary_key=True),
    Column("match_case_id", String(36), primary_key=True),
    Column("match_entity_id", String(256), primary_key=True),
    Column("score", Float, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON: what agreed and what differed, with weights
    Column("found_at", UtcDateTime, nullable=False),
)

# An analyst's judgement on a pair of entities ("case_id/entity_id" keys, left < right): same, not same, unsure.
# Merges happen in views (connected "same" pairs); the entities themselves are never changed by a judgement.
network_judgements = Table(
    "network_judgements",
    metadata,
    Column("left_key", String(300), primary_key=True),
    Column("right_key", String(300), primary_key=True),
    Column("judgement", String(16), nullable=False),
    Column("officer", String(128), nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
)

# ------------------------------------------------------------------------------------------------ hit/no-hit matching

# The party's own holdings in fraud and immigration: persons and identifiers (phones, accounts, wallets, admission
# letters, consultants, documents), each with its source and the date it must be gone by.
match_holdings = Table(
    "match_holdings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_agency", String(32), nullable=False),
    Column("record_type", String(32), nullable=False),  # a RecordType
    Column("label", String(128), nullable=False),  # the id the record has in its source
    Column("fields", Text, nullable=False),  # JSON: the record as imported (its type's fields)
    Column("source", String(200), nullable=False),
    Column("retain_until", Date, nullable=False),
    Column("import_id", String(36), nullable=False),
    Column("imported_by", String(128), nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
    UniqueConstraint("owner_agency", "record_type", "label", name="uq_match_holdings_label"),
    Index("ix_match_holdings_type", "owner_agency", "record_type"),
)

# A holding's encoding under one matching key, made when a query first needs it: a person's Bloom filters and blind
# indexes as JSON, an identifier's blind index in `lookup` (one row per indexed value).
match_encodings = Table(
    "match_encodings",
    metadata,
    Column("holding_id", String(36), ForeignKey("match_holdings.id"), primary_key=True),
    Column("key_id", String(64), primary_key=True),
    Column("encoding", Text, nullable=False),
    Column("made_at", UtcDateTime, nullable=False),
)

match_lookups = Table(
    "match_lookups",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("scheme", String(32), primary_key=True),
    Column("blind_index", String(128), primary_key=True),
    Column("holding_id", String(36), ForeignKey("match_holdings.id"), primary_key=True),
)

# Queries both ways: `out` are this party's (its rows keep what it queried, its own data), `in` the partner's (only
# their size and outcome are kept here; the encodings are not).
match_queries = Table(
    "match_queries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("direction", String(8), nullable=False),
    Column("querying_party", String(8), nullable=False),
    Column("querying_agency", String(32), nullable=False),
    Column("queried_agency", String(32), nullable=False),
    Column("officer", String(128), nullable=False),
    Column("focus_area", String(32), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("hits", Integer, nullable=True),  # None until answered
    Column("state", String(16), nullable=False),  # a QueryState
    Column("reason", Text, nullable=True),  # why it was refused
    Column("created_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime, nullable=True),
    Index("ix_match_queries_period", "direction", "querying_party", "created_at"),
)

match_query_rows = Table(
    "match_query_rows",
    metadata,
    Column("query_id", String(36), ForeignKey("match_queries.id"), primary_key=True),
    Column("row", Integer, primary_key=True),
    Column("label", String(128), nullable=False),  # the querying party's id for the row
    Column("record_type", String(32), nullable=False),
    Column("fields", Text, nullable=False),  # JSON: what was queried, kept by the querying party only
    Column("hit", Boolean, nullable=True),
    Column("reference", String(64), nullable=True),
    Column("band", String(16), nullable=True),
)

# The answering side's references: what each hit's opaque reference stands for, until it expires.
match_references = Table(
    "match_references",
    metadata,
    Column("reference", String(64), primary_key=True),
    Column("query_id", String(36), nullable=False),
    Column("row", Integer, nullable=False),
    Column("holding_id", String(36), nullable=False),
    Column("score", Float, nullable=False),
    Column("band", String(16), nullable=False),
    Column("evidence", Text, nullable=False),  # JSON: the fields that agreed, with weights
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("request_message_id", String(36), nullable=True),  # the follow-up request naming it
    Column("released_message_id", String(36), nullable=True),  # the response that released the record
)

# The querying side's follow-ups: a request naming a hit's reference, and the response that released the record.
match_followups = Table(
    "match_followups",
    metadata,
    Column("query_id", String(36), primary_key=True),
    Column("row", Integer, primary_key=True),
    Column("reference", String(64), nullable=False),
    Column("request_message_id", String(36), nullable=False, unique=True),
    Column("response_message_id", String(36), nullable=True),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("released_at", UtcDateTime, nullable=True),
)


# ---- notifications to officers (accord.notifications): in the app, and by mail through the agency's relay

# One row per officer told of one thing under one rule; `subject` says what (a message id, a proposal id, a ledger
# index), so an officer is never told twice of the same thing. `facts` holds what the notice says (kind, priority,
# deadline, agencies), never a message's content, which is read (under need-to-know) when the notice is shown.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),  # UUIDv7: newest first is by id
    Column("officer_id", String(36), ForeignKey("officers.id"), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("subject", String(80), nullable=False),
    Column("message_id", String(36)),
    Column("facts", Text, nullable=False),  # JSON
    Column("created_at", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime),
    UniqueConstraint("officer_id", "rule", "subject", name="uq_notifications_once"),
    Index("ix_notifications_officer", "officer_id", "id"),
    Index("ix_notifications_subject", "subject", "rule"),  # who was told of an occurrence already
)

# The mail outbox: a notification to send by mail, claimed by the node's notifier, retried with back-off while the
# relay fails, kept once sent (when, and the Message-ID) as the record of what left.
notification_mail = Table(
    "notification_mail",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("notification_id", String(36), ForeignKey("notifications.id"), nullable=False, unique=True),
    Column("address", String(254), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime),  # NULL once sent or refused for good
    Column("lease_until", UtcDateTime),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("failed_at", UtcDateTime),  # the relay refused it for good (a 5xx for the address)
    Column("smtp_message_id", String(255)),
    Index("ix_notification_mail_due", "next_attempt_at", "id"),
)

# The optional rules an officer muted; a mandatory rule cannot be.
notification_mutes = Table(
    "notification_mutes",
    metadata,
    Column("officer_id", String(36), ForeignKey("officers.id"), primary_key=True),
    Column("rule", String(64), primary_key=True),
    Column("muted_at", UtcDateTime, nullable=False),
)

# Where the notifier is in the ledger (the next leaf index to look at) and when it last looked at deadlines; one row.
notifier_state = Table(
    "notifier_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("next_event", BigInteger, nullable=False),
    Column("deadlines_at", UtcDateTime),
)
