"""Bilateral sharing of cyber threat information: STIX objects cross to the other party as an Accord `share` (signed,
policy-checked, logged), marked with the strictest TLP among them; on arrival they land, under the share's handling,
in the receiving node's `from_partner` collections that admit it, where that country's tools read them through TAXII."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection

from accord.directory.officers import Officer
from accord.domain.cyber import SharedBundle
from accord.domain.drafts import HandlingDraft, MessageDraft
from accord.domain.handling import Tlp
from accord.domain.messages import Message, MessageKind, Priority
from accord.errors import InvalidInput
from accord.exchange.sending import send_messages
from accord.focus.cyber.collections import Collection, Direction, load_collections
from accord.focus.cyber.store import ShareHandling, add_objects
from accord.focus.cyber.tlp import bundle_tlp, held_tlp, object_tlp
from accord.focus.cyber.validation import CheckedObjects, check_objects
from accord.i18n import _
from accord.node import Node


@dataclass(frozen=True, slots=True)
class SharedOut:
    message_id: str
    state: str
    tlp: Tlp
    objects: int

    def as_json(self) -> dict[str, Any]:
        return {"id": self.message_id, "state": self.state, "tlp": self.tlp.value, "objects": self.objects}


def summary(objects: Sequence[Mapping[str, Any]], kinds: int = 3) -> str:
    """E.g. '7 indicator, 9 observed-data, 7 relationship and 14 more (37 objects)'."""
    counts = Counter(str(o.get("type")) for o in objects if o.get("type") != "marking-definition")
    named = counts.most_common(kinds)
    rest = sum(counts.values()) - sum(n for _, n in named)
    text = ", ".join(f"{n} {kind}" for kind, n in named)
    return f"{text} and {rest} more ({sum(counts.values())} objects)" if rest else text


def share_bundle(
    node: Node,
    officer: Officer,
    objects: Sequence[Mapping[str, Any]],
    focus_area: str = "cyber",
    *,
    named_recipients: Sequence[str] = (),
    title: str | None = None,
    note: str = "",
    classification: str | None = None,
    tlp: Tlp | None = None,
    priority: Priority = Priority.ROUTINE,
) -> SharedOut:
    """Send STIX objects to the other party's cyber centre as one share."""
    if not objects:
        raise InvalidInput(_("there is nothing to share: the bundle has no objects"))
    agreement = node.agreement
    level = tlp or bundle_tlp(objects)
    bundle = SharedBundle(id=f"bundle--{uuid4()}", objects=tuple(dict(o) for o in objects))
    draft = MessageDraft(
        kind=MessageKind.SHARE,
        recipient_agency=agreement.cyber_sharing.centres[node.party.other],
        focus_area=focus_area,
        priority=priority,
        handling=HandlingDraft(
            classification=classification or agreement.cyber_sharing.classification[node.party],
            tlp=level,
            named_recipients=tuple(named_recipients),
        ),
        title=(title or f"STIX: {summary(objects) or 'markings only'}")[:300],
        body=note.strip() or f"{len(objects)} STIX 2.1 object(s) shared under TLP:{level.value}.",
        stix=bundle,
    )
    [queued] = send_messages(node, officer, [draft])
    return SharedOut(queued.message.id, queued.state.value, level, len(objects))


def share_misp_event(
    node: Node,
    officer: Officer,
    event: Mapping[str, Any],
    focus_area: str = "cyber",
    *,
    named_recipients: Sequence[str] = (),
    note: str = "",
) -> tuple[SharedOut, tuple[str, ...]]:
    """Share a MISP event, converted to STIX 2.1 through misp-stix (its TLP tag becoming TLP 2.0 markings); returns
    the share and what the conversion noted."""
    from accord.focus.cyber.misp import convert_misp_event  # misp-stix is imported when first needed

    converted = convert_misp_event(dict(event))
    shared = share_bundle(
        node,
        officer,
        converted.document["objects"],
        focus_area,
        named_recipients=named_recipients,
        title=converted.title,
        note=note,
    )
    return shared, tuple(converted.notes)


def share_document(
    node: Node,
    officer: Officer,
    document: Any,
    focus_area: str = "cyber",
    *,
    named_recipients: Sequence[str] = (),
    note: str = "",
) -> SharedOut:
    """Share an uploaded document: a STIX 2.1 bundle as it is, or a MISP event converted to STIX."""
    if isinstance(document, dict) and document.get("type") == "bundle":
        objects = document.get("objects")
        if not isinstance(objects, list) or not objects:
            raise InvalidInput(_("the STIX bundle has no objects"))
        stix = [o for o in objects if isinstance(o, dict)]
        return share_bundle(node, officer, stix, focus_area, named_recipients=named_recipients, note=note)
    if isinstance(document, dict) and ("Event" in document or "Attribute" in document or "Object" in document):
        shared, _event = share_misp_event(
            node, officer, document, focus_area, named_recipients=named_recipients, note=note
        )
        return shared
    raise InvalidInput(_("the file is neither a STIX 2.1 bundle nor a MISP event (JSON as MISP exports it)"))


def share_posted(
    node: Node, officer: Officer, collection: Collection, added: Sequence[Mapping[str, Any]]
) -> SharedOut | None:
    """What a tool added to a `to_partner` collection crosses to the other party (RED objects excepted: they go
    only to named recipients, whom a TAXII POST cannot name; they stay in the collection, unshared)."""
    if collection.direction is not Direction.TO_PARTNER:
        return None
    shareable = [o for o in added if object_tlp(o).level is not Tlp.RED]
    if not any(o.get("type") != "marking-definition" for o in shareable):
        return None
    return share_bundle(node, officer, shareable, collection.focus_area)


def share_handling(message: Message) -> ShareHandling:
    """What bounds the objects a share lands: its TLP, level and caveats, and the readers a TLP:RED share names (as
    the read policies count them: the named recipients and the recipient officer)."""
    handling = message.handling
    named = list(handling.named_recipients)
    if message.recipient.officer and message.recipient.officer not in named:
        named.append(message.recipient.officer)
    return ShareHandling(message.id, handling.tlp, handling.level, handling.caveats, tuple(named))


def land_bundle(conn: Connection, message: Message) -> int:
    """Add a received share's STIX objects to this node's `from_partner` collections for its focus area: each object
    held under the stricter of its own TLP and the share's, and only in the collections that admit that TLP and the
    share's caveats."""
    if message.stix is None:
        return 0
    actor = f"{message.sender.party.value}:{message.sender.agency}"
    share = share_handling(message)
    checked = check_objects(message.stix.objects)  # once, for every collection the objects land in
    added = 0
    for collection in load_collections().receiving(message.focus_area):
        admitted = (i for i in checked.items if collection.admits(held_tlp(i.stix, share.tlp).level, share.caveats))
        held = CheckedObjects(tuple(admitted))
        if held.items:
            added += len(add_objects(conn, collection.key, held, actor=actor, share=share).added)
    return added
