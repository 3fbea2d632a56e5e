"""The kinds the exchange carries beyond its own: message kinds a capability adds or extends, and payload kinds that
travel in envelopes of their own (work-plan changes). A capability registers a handler; the exchange calls it and
knows nothing else of the capability.

A message handler owns the `Message` fields it names (only a message of its kind carries them) and the fields of a
response to its kind (only such a response carries them); the exchange enforces that ownership on both sides, and
the handler checks the content.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Row

from accord.domain.agreement import Agreement
from accord.domain.messages import Message, MessageKind
from accord.errors import InvalidInput
from accord.i18n import _
from accord.node import Node
from accord.registry import Registry, Slot


@dataclass(frozen=True, slots=True)
class ArrivalWarning:
    """Something wrong with a message this node accepted anyway: recorded on the message, shown to its readers."""

    code: str  # e.g. "place-outside-country"
    detail: str  # a sentence an officer reads, with the values

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


class MessageKindHandler:
    """What a capability adds to one message kind; every hook does nothing unless the handler says otherwise."""

    kind: MessageKind
    fields: frozenset[str] = frozenset()  # Message fields only a message of this kind carries
    answer_fields: frozenset[str] = frozenset()  # fields only a response to a message of this kind carries

    def deadline(self, agreement: Agreement, now: datetime) -> datetime | None:
        """The answer's deadline if this kind sets its own (None: the agreement's target for the priority)."""
        return None

    def holds_case(self, node: Node, conn: Connection, agency: str, case_id: str) -> bool:
        """True if the capability holds `case_id` for `agency`: a first message may then open it on the exchange."""
        return False

    def check_outgoing(self, node: Node, conn: Connection, message: Message, now: datetime) -> None:
        """Raise if the message cannot be sent (before policy decides on it)."""

    def check_outgoing_answer(self, node: Node, conn: Connection, answered: Row[Any], response: Message) -> None:
        """Raise if `response` cannot answer `answered`, a message of this kind held here."""

    def check_incoming(self, node: Node, message: Message) -> tuple[ArrivalWarning, ...]:
        """Raise if a message from the peer cannot be accepted (before anything is stored); return what its readers
        must be warned of if it is accepted (an implausible value the sender's checks should have caught)."""
        return ()

    def apply_incoming(self, node: Node, conn: Connection, message: Message) -> None:
        """Do what the message's arrival does, in the inbox's transaction."""

    def on_refused(self, node: Node, conn: Connection, message_id: str, reason: str) -> None:
        """The peer refused the message for good; the sender's side reacts, in the settling transaction."""


class PayloadKind(Protocol):
    """One change a payload envelope carries; `id` is its reference, unique on the channel."""

    @property
    def id(self) -> str: ...


class PayloadKindHandler(Protocol):
    """A kind of envelope other than a message (e.g. a work-plan change), with its own body."""

    kind: str

    def parse(self, body: dict[str, Any]) -> PayloadKind:
        """The body as a typed value; raise InvalidInput if it is not one."""
        ...

    def check_incoming(self, node: Node, conn: Connection, payload: Any) -> None:
        """Refuse what can never apply here (raise), or what must wait for something in flight (UnknownReference)."""
        ...

    def apply_incoming(self, node: Node, conn: Connection, payload: Any, sender_node_id: str) -> None: ...

    def on_refused(self, node: Node, conn: Connection, ref_id: str, reason: str, peer_node_id: str) -> None: ...


MESSAGE_KINDS: Slot[MessageKindHandler] = Slot("message kind handler")
PAYLOAD_KINDS: Slot[PayloadKindHandler] = Slot("payload kind")


def register_message_kind(registry: Registry, handler: MessageKindHandler) -> None:
    registry.add(MESSAGE_KINDS, f"{handler.kind.value}:{type(handler).__qualname__}", handler)


def register_payload_kind(registry: Registry, handler: PayloadKindHandler) -> None:
    registry.add(PAYLOAD_KINDS, handler.kind, handler)


@dataclass(frozen=True, slots=True)
class KindHandlers:
    """The handlers of one node, looked up by kind."""

    registry: Registry

    def for_kind(self, kind: str) -> list[MessageKindHandler]:
        return [h for h in self.registry.all(MESSAGE_KINDS) if h.kind == kind]

    def payload(self, kind: str) -> PayloadKindHandler | None:
        return self.registry.get(PAYLOAD_KINDS, kind)

    def deadline(self, agreement: Agreement, kind: MessageKind, now: datetime) -> datetime | None:
        for handler in self.for_kind(kind):
            due = handler.deadline(agreement, now)
            if due is not None:
                return due
        return None

    def check_ownership(self, message: Message, answered_kind: str | None) -> None:
        """Every capability field the message carries belongs to its kind, or to a response to the kind it answers."""
        handlers = self.registry.all(MESSAGE_KINDS)
        for field in sorted({f for h in handlers for f in h.fields}):
            if getattr(message, field) is not None and not any(field in h.fields for h in self.for_kind(message.kind)):
                owners = _kinds(h for h in handlers if field in h.fields)
                raise InvalidInput(
                    _("only a message of kind {owners} carries {field}, not a {value!r}").format(
                        owners=owners, field=field, value=message.kind.value
                    )
                )
        for field in sorted({f for h in handlers for f in h.answer_fields}):
            carried = getattr(message, field) is not None
            if carried and message.kind is not MessageKind.RESPONSE:
                owners = _kinds(h for h in handlers if field in h.answer_fields)
                raise InvalidInput(
                    _("{field} travels in a response to a message of kind {owners}").format(field=field, owners=owners)
                )
            if message.kind is not MessageKind.RESPONSE or answered_kind is None:
                continue
            expected = any(field in h.answer_fields for h in self.for_kind(answered_kind))
            if carried and not expected:
                owners = _kinds(h for h in handlers if field in h.answer_fields)
                raise InvalidInput(
                    _("{field} answers a message of kind {owners}; the message answered is a {answered_kind}").format(
                        field=field, owners=owners, answered_kind=answered_kind
                    )
                )
            if expected and not carried:
                raise InvalidInput(
                    _("the answer to a message of kind {answered_kind!r} gives {field}").format(
                        answered_kind=answered_kind, field=field
                    )
                )


def _kinds(handlers: Iterable[MessageKindHandler]) -> str:
    return " or ".join(sorted({repr(h.kind.value) for h in handlers}))
