"""Who may be named as a reader of a TLP:RED message: each node publishes its officers per agency to the peer as a
signed `roster` envelope on the federation channel; the sender checks named recipients against the peer's latest
roster when it composes, and the receiver checks them against its own directory when the message arrives.

The roster is checked at both ends on purpose. The sender's check gives the officer a clear error at once, before
anything leaves ("in.cbi is an officer of CBI, not of NCB"); but a roster is a copy and may be older than the peer's
directory (or not yet received), so the receiver, which alone knows its officers for certain, refuses a TLP:RED
message naming someone who cannot read it there: the refusal travels back and the sender sees the message failed,
with the reason. Neither side delivers what nobody could read (FIRST TLP 2.0: RED is for the named recipients only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, delete, insert, select
from uuid6 import uuid7

from accord.domain.handling import Tlp
from accord.domain.messages import Message
from accord.domain.parties import Party
from accord.errors import InvalidInput
from accord.exchange.kinds import register_payload_kind
from accord.exchange.outbox import OutboxEntry, enqueue
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.registry import Registry
from accord.store.tables import officers, peer_roster
from accord.trust.peers import peer_for_party

ROSTER_KIND = "roster"
_RANK = 2  # routine traffic


class RosterEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str = Field(min_length=1, max_length=128)
    agency: str = Field(min_length=1, max_length=32)


class Roster(BaseModel):
    """A party's officers as it publishes them: usernames and agencies only, nothing else about them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=36)
    party: Party
    published_at: datetime
    officers: tuple[RosterEntry, ...] = Field(max_length=100_000)


def _own_roster(node: Node, conn: Connection, now: datetime) -> Roster:
    rows = conn.execute(
        select(officers.c.username, officers.c.agency)
        .where(officers.c.party == node.party.value, officers.c.active.is_(True))
        .order_by(officers.c.username)
    ).all()
    entries = tuple(RosterEntry(username=r.username, agency=r.agency) for r in rows)
    return Roster(id=str(uuid7()), party=node.party, published_at=now, officers=entries)


def publish_roster(node: Node) -> Roster:
    """Queue this node's roster for the peer (after an officer is added, or when the operator asks)."""
    now = datetime.now(UTC)
    with node.engine.begin() as conn:
        peer = peer_for_party(node, conn, node.party.other)
        roster = _own_roster(node, conn, now)
        body = roster.model_dump_json()
        enqueue(conn, node.node_id, peer.node_id, [OutboxEntry(ROSTER_KIND, roster.id, _RANK, body)])
        append_event(
            conn, EventType.ROSTER_PUBLISHED, "operator", {"roster": roster.id, "officers": len(roster.officers)}
        )
    node.outbox_signal.set()
    return roster


@dataclass(frozen=True, slots=True)
class HeldRoster:
    """The peer's roster as this node holds it: username → agency (empty: none received yet)."""

    agencies: dict[str, str]
    published_at: datetime | None


def peer_roster_of(conn: Connection, party: Party) -> HeldRoster:
    rows = conn.execute(select(peer_roster).where(peer_roster.c.party == party.value)).all()
    return HeldRoster({r.username: r.agency for r in rows}, max((r.published_at for r in rows), default=None))


def red_readers(message: Message) -> tuple[str, ...]:
    """The officers a TLP:RED message names as its readers: its named recipients and its addressed officer."""
    named = list(message.handling.named_recipients)
    if message.recipient.officer and message.recipient.officer not in named:
        named.append(message.recipient.officer)
    return tuple(named)


def check_named_recipients(node: Node, conn: Connection, message: Message) -> None:
    """At compose: each named reader of a TLP:RED message is an officer of the recipient agency in the peer's
    roster. Without a roster yet, the receiver's own check decides (see the module's docstring)."""
    if message.handling.tlp is not Tlp.RED:
        return
    roster = peer_roster_of(conn, message.recipient.party)
    if roster.published_at is None:
        return
    agency = message.recipient.agency
    as_of = roster.published_at.date().isoformat()
    for name in red_readers(message):
        held = roster.agencies.get(name)
        if held is None:
            raise InvalidInput(
                _(
                    "TLP:RED recipient {name!r} is not an officer of {agency} in {party}'s directory (roster "
                    "of {as_of}); a TLP:RED message is read only by the officers it names (FIRST TLP 2.0)"
                ).format(name=name, agency=agency, party=message.recipient.party, as_of=as_of)
            )
        if held != agency:
            raise InvalidInput(
                _(
                    "TLP:RED recipient {name!r} is an officer of {held}, not of {agency}, to which the "
                    "message goes: nobody could read it there (FIRST TLP 2.0: RED is for the named "
                    "recipients only); send it to {held} or name an officer of {agency}"
                ).format(name=name, held=held, agency=agency)
            )


def check_named_readers_here(conn: Connection, node: Node, message: Message) -> None:
    """At receipt: each named reader of a TLP:RED message is an active officer here, of the recipient agency."""
    if message.handling.tlp is not Tlp.RED:
        return
    names = red_readers(message)
    if not names:
        raise InvalidInput(_("a TLP:RED message names no recipient; nobody here could read it (FIRST TLP 2.0)"))
    rows = conn.execute(
        select(officers.c.username, officers.c.agency).where(
            officers.c.username.in_(names), officers.c.party == node.party.value, officers.c.active.is_(True)
        )
    ).all()
    here = {r.username: r.agency for r in rows}
    wrong = [n for n in names if here.get(n) != message.recipient.agency]
    if wrong:
        raise InvalidInput(
            _(
                "TLP:RED recipients {join} are not officers of {agency} here; nobody named could read "
                "the message (FIRST TLP 2.0: RED is for the named recipients only)"
            ).format(join=", ".join(wrong), agency=message.recipient.agency)
        )


class RosterKind:
    """The `roster` envelope: the peer's officers per agency, replacing the one held if newer."""

    kind = ROSTER_KIND

    def parse(self, body: dict[str, Any]) -> Roster:
        try:
            return Roster.model_validate(body)
        except ValidationError as exc:
            raise InvalidInput(
                _("the roster is not valid: {errors}").format(errors=exc.errors(include_url=False)[:5])
            ) from exc

    def check_incoming(self, node: Node, conn: Connection, payload: Any) -> None:
        roster: Roster = payload
        if roster.party is node.party:
            raise InvalidInput(
                _("a roster from the peer lists the peer's officers, not {party}'s").format(party=node.party)
            )
        unknown = sorted({e.agency for e in roster.officers if node.agreement.agency(roster.party, e.agency) is None})
        if unknown:
            raise InvalidInput(
                _("the roster names agencies {join}, not agencies of {party}").format(
                    join=", ".join(unknown), party=roster.party
                )
            )

    def apply_incoming(self, node: Node, conn: Connection, payload: Any, sender_node_id: str) -> None:
        roster: Roster = payload
        held = peer_roster_of(conn, roster.party)
        if held.published_at is not None and held.published_at >= roster.published_at:
            return  # an older roster arriving late changes nothing
        now = datetime.now(UTC)
        conn.execute(delete(peer_roster).where(peer_roster.c.party == roster.party.value))
        if roster.officers:
            conn.execute(
                insert(peer_roster),
                [
                    {
                        "party": roster.party.value,
                        "username": e.username,
                        "agency": e.agency,
                        "published_at": roster.published_at,
                        "received_at": now,
                    }
                    for e in roster.officers
                ],
            )
        counts: dict[str, int] = {}
        for e in roster.officers:
            counts[e.agency] = counts.get(e.agency, 0) + 1
        append_event(
            conn,
            EventType.PEER_ROSTER_RECEIVED,
            sender_node_id,
            {"roster": roster.id, "party": roster.party.value, "agencies": json.dumps(counts, sort_keys=True)},
        )

    def on_refused(self, node: Node, conn: Connection, ref_id: str, reason: str, peer_node_id: str) -> None:
        """A refused roster leaves the peer with the one it had; the next publication replaces it."""


def register(registry: Registry) -> None:
    register_payload_kind(registry, RosterKind())
