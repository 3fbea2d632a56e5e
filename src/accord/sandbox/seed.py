"""Generated SAMPLE traffic for the sandbox: months of requests, shares, alerts and answers, written to both nodes.

The exchange cannot be replayed in the past (every envelope is stamped now), so the generator writes what both
nodes would hold after such traffic — the same message, with the same id, outgoing at one node and incoming at the
other — and logs, in the same transaction, one `sandbox.seeded` event per node naming every message it wrote and a
`sandbox.message_written` leaf per message (its id, case and direction, and its content's hash), so each one is
proven in the ledger (`accord audit prove`) once a checkpoint the peer countersigned covers it. It refuses any node
that is not a sandbox node (one with SAMPLE officer accounts): it must never touch a real deployment.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import select

from accord.crypto.canonical import canonical_json
from accord.domain.handling import Caveat, CommonLevel, Handling, Tlp
from accord.domain.messages import (
    Address,
    DeliveryState,
    Direction,
    Message,
    MessageKind,
    Priority,
    Subject,
    SubjectKind,
)
from accord.domain.parties import Party
from accord.errors import ConfigurationError, InvalidInput
from accord.exchange.sending import message_row
from accord.focus.precursors.samples import sample_precursor_traffic
from accord.i18n import _
from accord.ledger.events import EventType, append_event, append_events, event_row
from accord.node import Node
from accord.store.search import insert_messages
from accord.store.tables import officers

# Who talks to whom in each focus area: (Canadian agencies, Indian agencies).
_COUNTERPARTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "drugs": (("RCMP", "CBSA", "HC-OCS"), ("NCB", "DRI", "CBN")),
    "networks": (("RCMP", "FINTRAC"), ("NIA", "CBI", "FIU-IND")),
    "cyber": (("CCCS",), ("CERT-In",)),
    "fraud": (("CAFC", "RCMP"), ("I4C", "CBI")),
    "immigration": (("IRCC", "CBSA"), ("BOI",)),
}
_AREA_WEIGHTS = {"drugs": 0.35, "networks": 0.2, "cyber": 0.2, "fraud": 0.15, "immigration": 0.1}
_KIND_WEIGHTS = {MessageKind.REQUEST: 0.7, MessageKind.SHARE: 0.2, MessageKind.ALERT: 0.1}
_PRIORITY_WEIGHTS = {Priority.ROUTINE: 0.7, Priority.URGENT: 0.25, Priority.IMMEDIATE: 0.05}
_CLASSIFICATION = {Party.CA: "Protected B", Party.IN: "Restricted"}
_T = TypeVar("_T")
SEED_ACTOR = "sandbox"
_READ_SHARE = 0.93
_BODY = "Generated sandbox traffic: no real person, organisation or event."
# Drugs traffic is written, one message in three, in the language its agencies also write in (French at a Canadian
# one, Hindi at an Indian one), so that the search can be tried in each on the sandbox. Chosen by the message's number,
# not by the random generator, so that a seed makes the same traffic as before.
_DRUGS_BODIES = {
    Party.CA: (
        "Message généré pour le bac à sable : une expédition d’anhydride acétique et de 4-AP, précurseurs de "
        "l’héroïne et du fentanyl, est signalée. Aucune personne, organisation ni expédition réelle."
    ),
    Party.IN: (
        "सैंडबॉक्स के लिए बनाया गया नमूना संदेश: एसिटिक एनहाइड्राइड और 4-AP की एक खेप की सूचना। कोई वास्तविक "
        "व्यक्ति, संगठन या खेप नहीं।"
    ),
}
_ANSWER_SHARE = 0.85


@dataclass(frozen=True, slots=True)
class SeedSummary:
    openings: int
    responses: int
    precursors: int  # notifications, their answers and incidents
    start: datetime
    end: datetime


def _weighted(rng: random.Random, weights: dict[_T, float]) -> _T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _lag(rng: random.Random, median_h: float, sigma: float = 0.9) -> timedelta:
    return timedelta(hours=median_h * math.exp(rng.gauss(0.0, sigma)))


def require_sandbox(node: Node) -> None:
    with node.engine.connect() as conn:
        sample = conn.execute(select(officers.c.id).where(officers.c.is_sample.is_(True)).limit(1)).first()
    if sample is None:
        raise ConfigurationError(
            _("node {node_id} has no SAMPLE officers: generated traffic is for the sandbox only (`accord up`)").format(
                node_id=node.node_id
            )
        )


def seed_traffic(
    nodes: dict[Party, Node],
    count: int,
    days: int,
    rng_seed: int,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedSummary:
    """Write `count` opening messages spread over the last `days` days, with reads and responses, to both nodes."""
    if not 1 <= count <= 100_000:
        raise InvalidInput(_("--messages is between 1 and 100000"))
    if not 1 <= days <= 3650:
        raise InvalidInput(_("--days is between 1 and 3650"))
    for node in nodes.values():
        require_sandbox(node)
    rng = random.Random(rng_seed)
    end = now or datetime.now(UTC)
    start = end - timedelta(days=days)
    agreement = next(iter(nodes.values())).agreement
    rows: dict[Party, list[dict[str, Any]]] = {party: [] for party in nodes}
    responses = 0
    for n in range(count):
        created = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds() - 60))
        opening = _opening(rng, created, agreement.deadline_for)
        read_at = created + _lag(rng, agreement.response_targets[opening.priority].acknowledge_hours * 0.3)
        read = rng.random() < _READ_SHARE and read_at < end
        reply = None
        if opening.kind is MessageKind.REQUEST and read and rng.random() < _ANSWER_SHARE:
            target = agreement.response_targets[opening.priority].respond_hours
            replied_at = read_at + _lag(rng, target * 0.35)
            if replied_at < end:
                reply = _response(opening, replied_at, rng)
        _add_pair(rows, opening, read_at if read else None, reply.created_at if reply else None)
        if reply is not None:
            responses += 1
            _add_pair(rows, reply, reply.created_at + _lag(rng, 2.0) if reply.created_at < end else None, None, end)
        if progress is not None and (n + 1) % 50 == 0:
            progress(50)
    precursors = sample_precursor_traffic(
        rng, lambda at: _uuid7_at(at, rng), agreement, start, end, max(1, count // 10)
    )
    for sampled in precursors:
        _add_pair(rows, sampled.message, sampled.read_at, sampled.answered_at, end)
    for party, node in nodes.items():
        with node.engine.begin() as conn:
            ids = [row["id"] for row in rows[party]]
            append_event(
                conn,
                EventType.SANDBOX_SEEDED,
                SEED_ACTOR,
                {"messages": len(ids), "seed": rng_seed, "from": start.isoformat(), "to": end.isoformat()},
                canonical_json(ids),
            )
            for first in range(0, len(rows[party]), 500):
                batch = rows[party][first : first + 500]
                insert_messages(conn, batch)  # the messages and their search index
                append_events(conn, [_written(row) for row in batch])
    if progress is not None:
        progress(count % 50)
    return SeedSummary(count, responses, len(precursors), start, end)


def _written(row: dict[str, Any]) -> dict[str, Any]:
    """The ledger's record that the sandbox wrote this message here, bound to its content by hash as a message's
    own events are; stamped now, when it was written, whatever date the message bears."""
    refs = {"message": row["id"], "case": row["case_id"], "direction": row["direction"]}
    return event_row(EventType.SANDBOX_MESSAGE_WRITTEN, SEED_ACTOR, refs, str(row["content"]).encode())


def _opening(rng: random.Random, created: datetime, deadline_for: Callable[[Priority, datetime], datetime]) -> Message:
    area = _weighted(rng, _AREA_WEIGHTS)
    sender_party = rng.choice([Party.CA, Party.IN])
    ca_agencies, in_agencies = _COUNTERPARTS[area]
    agencies = {Party.CA: rng.choice(ca_agencies), Party.IN: rng.choice(in_agencies)}
    kind = _weighted(rng, _KIND_WEIGHTS)
    priority = _weighted(rng, _PRIORITY_WEIGHTS)
    number = rng.randrange(10_000, 99_999)
    return Message(
        id=_uuid7_at(created, rng),
        kind=kind,
        case_id=_uuid7_at(created, rng),
        sender=Address(party=sender_party, agency=agencies[sender_party], officer=None),
        recipient=Address(party=sender_party.other, agency=agencies[sender_party.other]),
        focus_area=area,
        priority=priority,
        created_at=created,
        deadline=deadline_for(priority, created) if kind in {MessageKind.REQUEST, MessageKind.ALERT} else None,
        handling=Handling(
            classification=_CLASSIFICATION[sender_party],
            level=CommonLevel.RESTRICTED,
            tlp=Tlp.AMBER,
            caveats=(Caveat.H0,),
        ),
        legal_basis="SAMPLE legal basis (generated sandbox traffic)",
        title=f"[SAMPLE] {kind.value} {area} #{number}",
        body=_DRUGS_BODIES[sender_party] if area == "drugs" and number % 3 == 0 else _BODY,
        subjects=(Subject(kind=SubjectKind.ORGANISATION, name=f"SAMPLE Trading Co {number}"),),
    )


def _response(original: Message, created: datetime, rng: random.Random) -> Message:
    return original.model_copy(
        update={
            "id": _uuid7_at(created, rng),
            "kind": MessageKind.RESPONSE,
            "sender": Address(party=original.recipient.party, agency=original.recipient.agency),
            "recipient": original.sender,
            "created_at": created,
            "deadline": None,
            "handling": original.handling.model_copy(
                update={"classification": _CLASSIFICATION[original.recipient.party]}
            ),
            "title": f"Re: {original.title}",
            "in_reply_to": original.id,
        }
    )


def _add_pair(
    rows: dict[Party, list[dict[str, Any]]],
    message: Message,
    read_at: datetime | None,
    answered_at: datetime | None,
    end: datetime | None = None,
) -> None:
    """The message as the sender's node holds it (outgoing) and as the recipient's node holds it (incoming)."""
    if end is not None and read_at is not None and read_at >= end:
        read_at = None
    content = canonical_json(message.model_dump(mode="json")).decode()
    delivered = message.created_at + timedelta(seconds=2)
    common = {"content": content, "attempts": 1, "answered_at": answered_at, "read_at": read_at, "decision": None}
    rows[message.sender.party].append(
        message_row(message, Direction.OUTGOING)
        | common
        | {
            "state": (DeliveryState.READ if read_at else DeliveryState.DELIVERED).value,
            "delivered_at": delivered,
            "received_at": None,
        }
    )
    rows[message.recipient.party].append(
        message_row(message, Direction.INCOMING)
        | common
        | {
            "state": (DeliveryState.READ if read_at else DeliveryState.RECEIVED).value,
            "delivered_at": None,
            "received_at": delivered,
        }
    )


def _uuid7_at(moment: datetime, rng: random.Random) -> str:
    """A UUIDv7 (RFC 9562 §5.7) whose time is `moment`, so generated messages sort by when they were written."""
    value = (int(moment.timestamp() * 1000) & (2**48 - 1)) << 80
    value |= 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62 | rng.getrandbits(62)
    return str(UUID(int=value))
