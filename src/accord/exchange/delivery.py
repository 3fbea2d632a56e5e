"""Delivery workers: claim due outbox rows, seal them, POST batches to the peer, keep the signed receipts.

Stateless: any number of workers in any number of processes share the outbox through the database.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from sqlalchemy import Connection, bindparam, case, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from uuid6 import uuid7

from accord.crypto.envelope import seal_batch, seal_envelope, sign_envelope
from accord.crypto.receipts import BatchReceiptClaims
from accord.crypto.versions import BATCH_VERSION, ENVELOPE_VERSION_CLAIM, NoCommonVersion
from accord.domain.messages import DeliveryState
from accord.errors import AccordError
from accord.exchange.assurances import listed_assurance_refs, with_refs
from accord.exchange.attachments import read_blob_bytes
from accord.exchange.delivery_watch import DeliveryWatch
from accord.exchange.errors import SequenceCollision
from accord.exchange.kinds import KindHandlers
from accord.exchange.outbox import (
    MAX_SEQ,
    URGENT_RANK,
    OutboxItem,
    OutboxKind,
    channel_name,
    claim_due,
    held_channels,
    hold_channel,
    release_channel,
    release_leases,
    remove,
    reschedule,
    retry_at,
)
from accord.exchange.rotation import deliver_rotations
from accord.exchange.transport import PeerClient, PeerUnreachable
from accord.exchange.uploads import UploadKind, sign_upload
from accord.ledger.alarms import AlarmKind, Recurrence, raise_alarm
from accord.ledger.batch_receipts import verify_delivery_receipt
from accord.ledger.events import EventType, append_events, event_row
from accord.ledger.notes import origin_for
from accord.node import Node
from accord.store.engine import bulk_item, urgent_writes, write_giving_way
from accord.store.tables import blob_transfers, blobs, messages
from accord.trust.peer_versions import PeerVersions, load_peer_versions
from accord.trust.peers import PeerRecord, load_peers
from accord.trust.rotation import refresh_keys

log = structlog.get_logger("accord.delivery")
_LANE_IDLE_S = 5.0

# Refusals a later attempt can overcome (keys re-pinned, clocks fixed, an attachment pushed again);
# every other refusal is final and the message shows `failed` with the peer's reason.
_TRANSIENT_REFUSALS = frozenset(
    {
        "attachment-missing",
        "unknown-reference",
        "stale-envelope",
        "unknown-sender",
        "undecryptable-envelope",
        "bad-signature",
        "replayed-envelope",
        "unsupported-envelope-version",  # the peer went back to a release before that version; its hello will say
    }
)


@dataclass(frozen=True, slots=True)
class _Settled:
    item: OutboxItem
    receipt: str | None = None
    failure: str | None = None  # final refusal
    retry_error: str | None = None
    channel_down: bool = False  # the peer did not answer the batch at all: the whole channel waits
    collision: dict[str, Any] | None = None  # the peer's sequence-collision problem: retried, and an alarm


# The JSON body of each outbox item of a round by its row id, parsed once for the round's several readers.
_Bodies = dict[int, dict[str, Any]]


class DeliveryWorker:
    def __init__(
        self,
        node: Node,
        client: PeerClient | None = None,
        watch: DeliveryWatch | None = None,
        *,
        urgent_only: bool = False,
        polls: bool = True,
    ) -> None:
        """`urgent_only`: the urgent lane — a worker that carries only immediate and urgent traffic, woken as soon as
        some is queued, so that it never waits for a worker busy with a full batch of routine traffic; its own
        writes go before routine ones waiting (`urgent_writes`).
        `polls`: whether an idle worker looks for due rows every `outbox_poll_s` (retries come due, another process
        queued), else only when woken, by this process queueing or by the worker that polls finding rows due. One a
        process polls: an idle node's rounds (each five queries) are its main work, and its siblings need not repeat
        them."""
        self.node = node
        self.client = client or PeerClient()
        self.watch = watch or DeliveryWatch()
        self.kinds = KindHandlers(node.registry)
        self.urgent_only = urgent_only
        self.polls = polls and not urgent_only

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set; sleeps only when nothing is due."""
        signal = self.node.urgent_signal if self.urgent_only else self.node.outbox_signal
        # A worker that does not poll is woken: the lane when urgent traffic is queued (the others take urgent rows
        # first when they look, retries included), a sibling when the process queues or the poller finds rows due.
        # Its own look every few seconds is only a safety net.
        idle_s = self.node.settings.outbox_poll_s if self.polls else max(self.node.settings.outbox_poll_s, _LANE_IDLE_S)
        while not stop.is_set():
            try:
                with urgent_writes() if self.urgent_only else nullcontext():  # its claims too
                    delivered = self.deliver_once()
            except (SQLAlchemyError, OSError) as exc:
                log.error("delivery round failed; retrying", error=str(exc))
                delivered = 0
                stop.wait(self.node.settings.outbox_poll_s)
            if delivered == 0:
                signal.wait(idle_s)
                signal.clear()
            elif self.polls:
                signal.set()  # rows found by looking (retries come due, another process's): the siblings help

    def deliver_once(self) -> int:
        refresh_keys(self.node)
        deliver_rotations(self.node, self.client)
        with self.node.engine.connect() as conn:
            peers = load_peers(self.node, conn)
            versions = load_peer_versions(conn)
            held = held_channels(conn, self.node.node_id)
        handled = 0
        now = datetime.now(UTC)
        for peer in peers:
            hold = held.get(peer.node_id)
            if hold is not None and hold.until > now:
                # What waits for the peer waits with its channel until the hold ends (`hold_channel`): there is nothing
                # to claim, and looking would read every row queued for it, each time the node queues a batch.
                continue
            items = claim_due(
                self.node.engine,
                self.node.node_id,
                peer.node_id,
                # A channel held for a peer that did not answer is tried with one envelope: while the peer is away,
                # a try signs, seals and logs one envelope rather than a full batch; its answer releases the channel.
                1 if hold is not None else self.node.settings.outbox_batch_size,
                self.node.settings.outbox_lease_s,
                max_rank=URGENT_RANK if self.urgent_only else None,
            )
            if items:
                try:
                    # Urgent rows leave alone (`claim_due`): whichever worker carries them, its writes go first.
                    with urgent_writes() if items[0].urgent else nullcontext():
                        self._deliver(peer, versions.get(peer.node_id) or PeerVersions(peer.node_id, None), items)
                except BaseException:
                    # A round that fails (e.g. a deadlock in the settling transaction, rolled back) must not leave its
                    # rows leased: they would wait out the lease while later rows — a withdrawal of one of them —
                    # went ahead without them.
                    release_leases(self.node.engine, [item.id for item in items])
                    raise
                handled += len(items)
        return handled

    def _deliver(self, peer: PeerRecord, versions: PeerVersions, items: list[OutboxItem]) -> None:
        negotiated = versions.negotiated()
        if isinstance(negotiated, NoCommonVersion):
            # Nothing this node can seal would be read: the channel waits, as for a peer that is down, until a hello
            # says one of the two nodes changed version.
            error = f"{negotiated.slug}: {negotiated.detail}"
            self._settle(peer, [_Settled(item, retry_error=error, channel_down=True) for item in items])
            return
        version = negotiated.envelope
        bodies = {item.id: orjson.loads(item.body) for item in items}
        blocked = self._push_attachments(peer, version, items, bodies)
        ready = [item for item in items if item.id not in blocked]
        settled = [_Settled(item, retry_error=blocked[item.id]) for item in items if item.id in blocked]
        if ready:
            settled.extend(self._post(peer, version, ready, bodies))
        self._settle(peer, settled)

    def _claims(self, peer: PeerRecord, version: int, item: OutboxItem, bodies: _Bodies) -> dict[str, Any]:
        return {
            ENVELOPE_VERSION_CLAIM: version,
            "iss": self.node.node_id,
            "aud": peer.node_id,
            "jti": str(uuid7()),
            "iat": int(time.time()),
            "kind": item.kind,
            "ref": item.ref_id,
            "seq": item.seq,
            "body": bodies[item.id],
        }

    def _body(self, peer: PeerRecord, version: int, items: list[OutboxItem], bodies: _Bodies) -> bytes:
        """Version 2: each envelope signed, the batch sealed once; version 1: each envelope signed and sealed."""
        if version >= BATCH_VERSION:
            signed = []
            for item in items:
                with bulk_item():
                    signed.append(sign_envelope(self._claims(peer, version, item, bodies), self.node.keys))
            return orjson.dumps({"batch": seal_batch(signed, peer.pinned.keys)})
        envelopes = [
            {
                "ref": item.ref_id,
                "token": seal_envelope(self._claims(peer, version, item, bodies), self.node.keys, peer.pinned.keys),
            }
            for item in items
        ]
        return orjson.dumps({"envelopes": envelopes})

    def _post(self, peer: PeerRecord, version: int, items: list[OutboxItem], bodies: _Bodies) -> list[_Settled]:
        batch = self._body(peer, version, items, bodies)
        self._mark_sent(peer, items, bodies)
        started = time.monotonic()
        try:
            answer = self.client.send_envelopes(
                peer, batch, sign_upload(self.node, peer, UploadKind.ENVELOPE_BATCH, batch)
            )
        except PeerUnreachable as exc:
            self.watch.unanswered(peer.node_id, datetime.now(UTC))
            return [_Settled(item, retry_error=f"peer unreachable: {exc.detail}", channel_down=True) for item in items]
        finally:
            self.watch.round_trip.labels(peer.node_id).observe(time.monotonic() - started)
        results = answer.body.get("results") if isinstance(answer.body, dict) else None
        if not isinstance(results, list) or len(results) != len(items):
            self.watch.unanswered(peer.node_id, datetime.now(UTC))
            refused = f" ({answer.problem_slug}: {answer.detail})" if answer.problem_slug else ""
            error = f"peer answered HTTP {answer.status} without per-envelope results{refused}"
            return [_Settled(item, retry_error=error, channel_down=True) for item in items]
        self.watch.answered(peer.node_id, datetime.now(UTC))
        now, verified = datetime.now(UTC), dict[str, BatchReceiptClaims]()
        return [
            self._settle_one(peer, item, result, now, verified) for item, result in zip(items, results, strict=True)
        ]

    def _settle_one(
        self, peer: PeerRecord, item: OutboxItem, result: Any, now: datetime, verified: dict[str, BatchReceiptClaims]
    ) -> _Settled:
        receipt = result.get("receipt") if isinstance(result, dict) else None
        if isinstance(receipt, str):
            try:
                verify_delivery_receipt(receipt, peer.pinned, item.ref_id, now, verified)
            except AccordError as exc:
                return _Settled(item, retry_error=f"peer's receipt does not verify: {exc.detail}")
            return _Settled(item, receipt=receipt)
        problem = result.get("problem") if isinstance(result, dict) else None
        slug = str(problem.get("type", "")).rsplit(":", 1)[-1] if isinstance(problem, dict) else ""
        detail = str(problem.get("detail", "refused without a reason")) if isinstance(problem, dict) else "no result"
        if slug == "attachment-missing":
            self._forget_transfers(peer, item)
        if slug == SequenceCollision.slug and isinstance(problem, dict):
            return _Settled(item, retry_error=f"peer refused ({slug}): {detail}", collision=problem)
        if slug in _TRANSIENT_REFUSALS:
            return _Settled(item, retry_error=f"peer refused ({slug}): {detail}")
        return _Settled(item, failure=f"peer refused ({slug or 'unknown'}): {detail}")

    def _mark_sent(self, peer: PeerRecord, items: Sequence[OutboxItem], bodies: _Bodies) -> None:
        sent = [item for item in items if item.kind == OutboxKind.MESSAGE]
        # The assurances of what is sent: a message's outbox body is its stored content as it leaves.
        assured = {item.ref_id: listed_assurance_refs(bodies[item.id].get("assurances")) for item in sent}
        now = datetime.now(UTC)
        rows = [
            event_row(
                EventType.ENVELOPE_SENT,
                self.node.node_id,
                with_refs(
                    {"ref": item.ref_id, "peer": peer.node_id, "seq": item.seq, "attempt": item.attempts + 1},
                    assured.get(item.ref_id, {}),
                ),
                at=now,
            )
            for item in items
        ]

        def mark(conn: Connection) -> None:
            if sent:
                conn.execute(
                    update(messages)
                    .where(
                        messages.c.id.in_([item.ref_id for item in sent]),
                        messages.c.state == DeliveryState.QUEUED.value,
                    )
                    .values(state=DeliveryState.SENT.value)
                )
            append_events(conn, rows)

        write_giving_way(self.node.engine, mark)  # a routine batch's 200 leaves wait for an urgent writer

    def _settle(self, peer: PeerRecord, settled: list[_Settled]) -> None:
        now = datetime.now(UTC)
        settings = self.node.settings
        delivered = [s for s in settled if s.receipt is not None]
        failed = [s for s in settled if s.failure is not None]
        retried = [s for s in settled if s.retry_error is not None]
        down = [s for s in retried if s.channel_down]
        channel_due = (
            retry_at(max(s.item.attempts for s in down), settings.retry_base_s, settings.retry_max_s) if down else None
        )
        retry_rows = [
            (
                s.item.id,
                s.item.attempts + 1,
                channel_due
                if s.channel_down and channel_due is not None
                else retry_at(s.item.attempts, settings.retry_base_s, settings.retry_max_s),
                s.retry_error or "",
            )
            for s in retried
        ]
        with self.node.engine.begin() as conn:
            remove(conn, [s.item.id for s in delivered + failed])
            reschedule(conn, retry_rows)
            if channel_due is not None:
                hold_channel(conn, self.node.node_id, peer.node_id, channel_due, down[0].retry_error or "")
            elif len(down) < len(settled):
                release_channel(conn, self.node.node_id, peer.node_id)  # the peer answered
            msg_delivered = [s for s in delivered if s.item.kind == OutboxKind.MESSAGE]
            if msg_delivered:
                conn.execute(
                    update(messages)
                    .where(messages.c.id == bindparam("ref"))
                    .values(
                        state=case(
                            (messages.c.state == DeliveryState.READ.value, DeliveryState.READ.value),
                            else_=DeliveryState.DELIVERED.value,
                        ),
                        receipt=bindparam("receipt"),
                        delivered_at=bindparam("at"),
                        attempts=bindparam("attempts"),
                        last_error=None,
                        next_attempt_at=None,
                    ),
                    [
                        {"ref": s.item.ref_id, "receipt": s.receipt, "at": now, "attempts": s.item.attempts + 1}
                        for s in msg_delivered
                    ],
                )
            msg_failed = [s for s in failed if s.item.kind == OutboxKind.MESSAGE]
            if msg_failed:
                conn.execute(
                    update(messages)
                    .where(messages.c.id == bindparam("ref"))
                    .values(
                        state=DeliveryState.FAILED.value,
                        state_reason=bindparam("reason"),
                        attempts=bindparam("attempts"),
                        next_attempt_at=None,
                    ),
                    [{"ref": s.item.ref_id, "reason": s.failure, "attempts": s.item.attempts + 1} for s in msg_failed],
                )
            self._tell_refused(conn, peer, failed)
            retry_by_id = {row[0]: row for row in retry_rows}
            msg_retried = [s for s in retried if s.item.kind == OutboxKind.MESSAGE]
            if msg_retried:
                conn.execute(
                    update(messages)
                    .where(messages.c.id == bindparam("ref"))
                    .values(
                        last_error=bindparam("error"), attempts=bindparam("attempts"), next_attempt_at=bindparam("due")
                    ),
                    [
                        {
                            "ref": s.item.ref_id,
                            "error": s.retry_error,
                            "attempts": s.item.attempts + 1,
                            "due": retry_by_id[s.item.id][2],
                        }
                        for s in msg_retried
                    ],
                )
            events = [
                event_row(
                    EventType.ENVELOPE_DELIVERED,
                    peer.node_id,
                    {"ref": s.item.ref_id, "seq": s.item.seq},
                    (s.receipt or "").encode(),
                    now,
                )
                for s in delivered
            ] + [
                event_row(
                    EventType.ENVELOPE_FAILED,
                    peer.node_id,
                    {"ref": s.item.ref_id, "seq": s.item.seq},
                    (s.failure or "").encode(),
                    now,
                )
                for s in failed
            ]
            append_events(conn, events)
        self._observe(peer, delivered, failed, now)
        if retried:
            log.info("delivery deferred", peer=peer.node_id, count=len(retried), error=retried[0].retry_error)
        self._alarm_collisions(peer, [s for s in settled if s.collision is not None])

    def _observe(self, peer: PeerRecord, delivered: list[_Settled], failed: list[_Settled], now: datetime) -> None:
        for outcome, settled in (("delivered", delivered), ("refused", failed)):
            for s in settled:
                self.watch.attempts.labels(peer.node_id, outcome).observe(s.item.attempts + 1)
        for s in delivered:
            if s.item.queued_at is not None:
                self.watch.latency.labels(peer.node_id).observe((now - s.item.queued_at).total_seconds())

    def _alarm_collisions(self, peer: PeerRecord, collided: Sequence[_Settled]) -> None:
        """The peer holds other envelopes under sequence numbers these used: this node's channel counter went back.
        One open alarm per channel; the envelopes stay queued, retried, until the operator re-sequences them."""
        if not collided:
            return
        channel = channel_name(self.node.node_id, peer.node_id)
        highest = max(_reported_highest(s.collision) for s in collided)
        seqs = sorted(s.item.seq for s in collided)
        detail = (
            f"{peer.node_id} holds other envelopes under sequence numbers {seqs} of channel {channel} (its highest is "
            f"{highest}): this node's channel counter went back. Run `accord node resequence --peer {peer.node_id}`, "
            "then acknowledge this alarm"
        )
        evidence = {
            "channel": channel,
            "peer_highest_seq": highest,
            "collisions": [
                {"ref": s.item.ref_id, "seq": s.item.seq, "held_by": (s.collision or {}).get("held_by")}
                for s in collided
            ],
        }
        raise_alarm(
            self.node.engine,
            self.node.node_id,
            origin_for(peer.node_id),
            AlarmKind.SEQUENCE_COLLISION,
            detail,
            evidence,
            subject=channel,
            recurrence=Recurrence.AFTER_ACKNOWLEDGEMENT,
        )

    def _push_attachments(
        self, peer: PeerRecord, version: int, items: list[OutboxItem], bodies: _Bodies
    ) -> dict[int, str]:
        """Send attachment bytes the peer has not had yet; returns the items that must wait, with why."""
        needs: dict[int, list[str]] = {}
        for item in items:
            if item.kind == OutboxKind.MESSAGE:
                shas = [a["sha256"] for a in bodies[item.id].get("attachments", [])]
                if shas:
                    needs[item.id] = shas
        if not needs:
            return {}
        wanted = {sha for shas in needs.values() for sha in shas}
        with self.node.engine.connect() as conn:
            sent = set(
                conn.scalars(
                    select(blob_transfers.c.sha256).where(
                        blob_transfers.c.peer_node_id == peer.node_id, blob_transfers.c.sha256.in_(wanted)
                    )
                )
            )
            media = {
                row.sha256: row.media_type
                for row in conn.execute(select(blobs.c.sha256, blobs.c.media_type).where(blobs.c.sha256.in_(wanted)))
            }
        failures: dict[str, str] = {}
        for sha in sorted(wanted - sent):
            error = self._push_blob(peer, version, sha, media.get(sha, "application/octet-stream"))
            if error:
                failures[sha] = error
        return {
            item_id: "; ".join(failures[sha] for sha in shas if sha in failures)
            for item_id, shas in needs.items()
            if any(sha in failures for sha in shas)
        }

    def _push_blob(self, peer: PeerRecord, version: int, sha256: str, media_type: str) -> str | None:
        data = read_blob_bytes(self.node, sha256)
        claims = {
            ENVELOPE_VERSION_CLAIM: version,
            "iss": self.node.node_id,
            "aud": peer.node_id,
            "jti": str(uuid7()),
            "iat": int(time.time()),
            "kind": OutboxKind.BLOB.value,
            "ref": sha256,
            "body": {
                "sha256": sha256,
                "media_type": media_type,
                "size": len(data),
                "data": base64.b64encode(data).decode(),
            },
        }
        sealed = seal_envelope(claims, self.node.keys, peer.pinned.keys).encode()
        try:
            answer = self.client.send_blob(peer, sealed, sign_upload(self.node, peer, UploadKind.SEALED_BLOB, sealed))
        except PeerUnreachable as exc:
            return f"attachment {sha256[:12]}… not sent: peer unreachable: {exc.detail}"
        if not answer.ok:
            return f"attachment {sha256[:12]}… refused by peer: HTTP {answer.status} {answer.detail}"
        with self.node.engine.begin() as conn:
            conn.execute(
                insert(blob_transfers), [{"peer_node_id": peer.node_id, "sha256": sha256, "sent_at": datetime.now(UTC)}]
            )
        return None

    def _tell_refused(self, conn: Connection, peer: PeerRecord, failed: Sequence[_Settled]) -> None:
        """The kind of each envelope the peer refused for good reacts (a proposal shows as conflicted, …)."""
        for refused in failed:
            reason = refused.failure or ""
            if refused.item.kind == OutboxKind.MESSAGE:
                kind = json.loads(refused.item.body).get("kind", "")
                for handler in self.kinds.for_kind(kind):
                    handler.on_refused(self.node, conn, refused.item.ref_id, reason)
                continue
            payload = self.kinds.payload(refused.item.kind)
            if payload is not None:
                payload.on_refused(self.node, conn, refused.item.ref_id, reason, peer.node_id)

    def _forget_transfers(self, peer: PeerRecord, item: OutboxItem) -> None:
        shas = [a["sha256"] for a in json.loads(item.body).get("attachments", [])]
        with self.node.engine.begin() as conn:
            conn.execute(
                delete(blob_transfers).where(
                    blob_transfers.c.peer_node_id == peer.node_id, blob_transfers.c.sha256.in_(shas)
                )
            )


def _reported_highest(problem: dict[str, Any] | None) -> int:
    """The highest sequence number the peer says it holds on the channel (0 if it says nothing usable)."""
    value = (problem or {}).get("highest_seq")
    return value if type(value) is int and 0 <= value < MAX_SEQ else 0
