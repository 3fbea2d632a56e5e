"""A subgraph crosses to the other party as an ordinary share: the chosen entities and the relations among them in
`Message.network`, and every person, organisation, vessel, vehicle and account among them as a structured subject,
so the policy pack's screens (death penalty, mistreatment, minimisation, neutrality) see who is disclosed. On arrival
the entities land in the receiver's case with their provenance, and the cross-references against its holdings are
computed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from accord.crypto.canonical import canonical_json
from accord.directory.officers import Officer
from accord.domain.drafts import DisclosureContext, HandlingDraft, MessageDraft
from accord.domain.messages import (
    DeliveryState,
    Identifier,
    Message,
    MessageKind,
    Priority,
    Subject,
    SubjectKind,
    SubjectRole,
)
from accord.domain.networks import MAX_SHARED_ENTITIES, SharedEntities
from accord.errors import InvalidInput
from accord.exchange.sending import send_messages
from accord.focus.networks.entities import check_entity, entity_refs, is_relation, missing_references
from accord.focus.networks.store import (
    FOCUS_AREA,
    CaseHandling,
    add_entities,
    case_entities,
    ensure_case,
    visible_case,
)
from accord.focus.networks.xref import cross_reference
from accord.i18n import N_, _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.policy.language import name_key

if TYPE_CHECKING:
    from followthemoney.proxy import EntityProxy

MAX_SUBJECTS = 200  # what a message draft carries; a larger subgraph goes in several shares
# The cross-references computed when a share lands, at most: the rest are computed when an analyst asks.
XREF_ON_ARRIVAL = 500

SUBJECT_KINDS: Mapping[str, SubjectKind] = {
    "Person": SubjectKind.PERSON,
    "Company": SubjectKind.ORGANISATION,
    "Organization": SubjectKind.ORGANISATION,
    "LegalEntity": SubjectKind.ORGANISATION,
    "Vessel": SubjectKind.VESSEL,
    "Vehicle": SubjectKind.VEHICLE,
    "Airplane": SubjectKind.VEHICLE,
    "BankAccount": SubjectKind.ACCOUNT,
    "CryptoWallet": SubjectKind.ACCOUNT,
    "UserAccount": SubjectKind.ACCOUNT,
}
# FtM identifier properties as the subject's identifier schemes (the screens read the schemes).
_IDENTIFIER_SCHEMES: Mapping[str, str] = {
    "passportNumber": "passport",
    "idNumber": "national-id",
    "socialSecurityNumber": "national-id",
    "taxNumber": "tax",
    "registrationNumber": "registration",
    "phone": "phone",
    "email": "email",
    "iban": "iban",
    "accountNumber": "account",
    "publicKey": "wallet",
    "cryptoAddress": "wallet",
    "imoNumber": "imo",
    "mmsi": "mmsi",
    "username": "handle",
}


class PersonsUnscreened(InvalidInput):
    slug = "network-persons-unscreened"
    title = N_("Persons in a network share travel as subjects")


@dataclass(frozen=True, slots=True)
class NetworkShared:
    message_id: str
    case_id: str
    state: str
    decision: dict[str, Any]
    entities: int
    subjects: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "case_id": self.case_id,
            "delivery": {"state": self.state},
            "policy": self.decision,
            "entities": self.entities,
            "subjects": self.subjects,
        }


# ------------------------------------------------------------------------------------------------ subjects


def subject_of(proxy: EntityProxy, role: SubjectRole | None) -> Subject | None:
    """The structured subject an entity is disclosed as, or None for an entity no subject kind describes."""
    # followthemoney reads its whole schema model at import (~0.9 s): imported where entities are handled.
    from followthemoney.types import registry

    kind = SUBJECT_KINDS.get(proxy.schema.name)
    if kind is None:
        return None
    names = proxy.get_type_values(registry.name) if kind is SubjectKind.PERSON else []
    caption = proxy.caption or proxy.id or ""
    aliases = [n for n in dict.fromkeys([*names, *proxy.get("alias", quiet=True)]) if n != caption]
    identifiers = [
        Identifier(scheme=scheme, value=value[:256])
        for prop, scheme in _IDENTIFIER_SCHEMES.items()
        for value in proxy.get(prop, quiet=True)
    ]
    births = proxy.get("birthDate", quiet=True) if kind is SubjectKind.PERSON else []
    countries = [*proxy.get("nationality", quiet=True), *proxy.get("citizenship", quiet=True)]
    if kind is not SubjectKind.PERSON:
        countries += proxy.get("jurisdiction", quiet=True) + proxy.get("flag", quiet=True)
    return Subject(
        kind=kind,
        name=caption[:256],
        aliases=tuple(a[:256] for a in aliases[:20]),
        date_of_birth=min(births)[:10] if births else None,
        nationality=countries[0].upper()[:3] if countries else None,
        role=role if kind is SubjectKind.PERSON else None,
        identifiers=tuple(identifiers[:50]),
    )


def persons_without_subjects(proxies: Iterable[EntityProxy], subjects: Sequence[Subject]) -> list[str]:
    """The ids of the bundle's persons no person subject names (by one of the entity's names)."""
    from followthemoney.types import registry

    named = {name_key(s.name) for s in subjects if s.kind is SubjectKind.PERSON and s.name}
    named |= {name_key(a) for s in subjects if s.kind is SubjectKind.PERSON for a in s.aliases}
    missing = []
    for proxy in proxies:
        if proxy.schema.is_a("Person") and not {name_key(n) for n in proxy.get_type_values(registry.name)} & named:
            missing.append(proxy.id or "")
    return missing


def check_bundle(message: Message) -> list[EntityProxy]:
    """The message's entities, checked: FtM-valid, unique ids, relations and references inside the bundle, every
    person disclosed as a subject too. Raises InvalidInput (nothing stored) otherwise."""
    if message.network is None:
        return []
    if message.focus_area != FOCUS_AREA:
        raise InvalidInput(
            _("network entities travel in a share of focus area {FOCUS_AREA!r}").format(FOCUS_AREA=FOCUS_AREA)
        )
    proxies = [check_entity(raw) for raw in message.network.entities]
    seen: set[str] = set()
    for proxy in proxies:
        if proxy.id in seen:
            raise InvalidInput(_("entity {id} is in the share twice").format(id=proxy.id))
        seen.add(proxy.id or "")
    missing = missing_references(proxies, set())
    if missing:
        first, refs = next(iter(missing.items()))
        raise InvalidInput(
            _("entity {first} refers to {join}, which the share does not carry").format(
                first=first, join=", ".join(refs)
            )
        )
    unscreened = persons_without_subjects(proxies, message.subjects)
    if unscreened:
        raise PersonsUnscreened(
            _(
                "{count} person(s) in the share have no subject ({join}): every person travels as a "
                "structured subject too, so the disclosure screens see them"
            ).format(count=len(unscreened), join=", ".join(unscreened[:5]))
        )
    return proxies


# ------------------------------------------------------------------------------------------------ sending


def select_subgraph(held: Sequence[EntityProxy], entity_ids: Sequence[str]) -> list[EntityProxy]:
    """The chosen things and relations, with every relation of the case whose ends are all chosen."""
    by_id = {p.id: p for p in held}
    unknown = sorted(set(entity_ids) - set(by_id))
    if unknown:
        raise InvalidInput(_("the case holds no entity {join}").format(join=", ".join(unknown[:5])))
    chosen = {i: by_id[i] for i in entity_ids}
    for proxy in held:
        if proxy.id not in chosen and is_relation(proxy):
            refs = {ref for _, ref in entity_refs(proxy)}
            if refs and refs <= chosen.keys():
                chosen[proxy.id or ""] = proxy
    missing = missing_references(chosen.values(), set())
    if missing:
        first, absent = next(iter(missing.items()))
        raise InvalidInput(
            _("entity {first} refers to {join}: choose those too, or leave {first} out").format(
                first=first, join=", ".join(absent)
            )
        )
    if len(chosen) > MAX_SHARED_ENTITIES:
        raise InvalidInput(
            _("a share carries at most {MAX_SHARED_ENTITIES} entities; {count} were chosen").format(
                MAX_SHARED_ENTITIES=MAX_SHARED_ENTITIES, count=len(chosen)
            )
        )
    return list(chosen.values())


def share_entities(
    node: Node,
    officer: Officer,
    case_id: str,
    entity_ids: Sequence[str],
    *,
    recipient_agency: str,
    title: str,
    body: str,
    handling: HandlingDraft,
    roles: Mapping[str, SubjectRole | None] | None = None,
    context: DisclosureContext | None = None,
    legal_basis: str | None = None,
    priority: Priority = Priority.ROUTINE,
    recipient_officer: str | None = None,
) -> NetworkShared:
    """Send the chosen entities (and the relations among them) through the ordinary send path: the policy pack
    decides, holds or refuses as for any share; what left is recorded in the case's provenance."""
    if not entity_ids:
        raise InvalidInput(_("choose at least one entity to share"))
    with node.engine.connect() as conn:
        visible_case(node, conn, officer, case_id)
        chosen = select_subgraph(case_entities(conn, case_id), entity_ids)
    given = dict(roles or {})
    persons = {p.id for p in chosen if p.schema.is_a("Person")}
    stray = sorted(set(given) - persons)
    if stray:
        raise InvalidInput(
            _("roles are given for persons of the share; {join} is not one").format(join=", ".join(stray[:5]))
        )
    subjects = [s for p in chosen if (s := subject_of(p, given.get(p.id or ""))) is not None]
    if len(subjects) > MAX_SUBJECTS:
        raise InvalidInput(
            _(
                "the share describes {count} persons, organisations, vessels, vehicles and accounts; a "
                "share carries at most {MAX_SUBJECTS}: split it"
            ).format(count=len(subjects), MAX_SUBJECTS=MAX_SUBJECTS)
        )
    stated = context or DisclosureContext()
    draft = MessageDraft(
        kind=MessageKind.SHARE,
        recipient_agency=recipient_agency,
        recipient_officer=recipient_officer,
        focus_area=FOCUS_AREA,
        case_id=case_id,
        priority=priority,
        handling=handling,
        legal_basis=legal_basis,
        title=title,
        body=body,
        subjects=tuple(subjects),
        purpose=stated.purpose,
        offence=stated.offence,
        grounds=stated.grounds,
        assurances=stated.assurances,
        network=SharedEntities(entities=tuple(p.to_dict() for p in chosen)),
    )
    [queued] = send_messages(node, officer, [draft])
    if queued.state is DeliveryState.QUEUED:
        record_sent(node, queued.message, officer.username)
    return NetworkShared(
        queued.message.id,
        queued.message.case_id,
        queued.state.value,
        queued.decision.as_json(),
        len(chosen),
        len(subjects),
    )


def record_sent(node: Node, message: Message, actor: str) -> None:
    """Our side of a share that left: a provenance row per entity naming the message (the entities are ours)."""
    if message.network is None:
        return
    proxies = [check_entity(raw) for raw in message.network.entities]
    now = datetime.now(UTC)
    with node.engine.begin() as conn:
        add_entities(
            conn,
            message.case_id,
            proxies,
            party=node.party,
            source=f"shared with {message.recipient.agency}",
            added_by=actor,
            now=now,
            message_id=message.id,
        )


# ------------------------------------------------------------------------------------------------ arrival


def land_share(node: Node, conn: Connection, message: Message) -> None:
    """A partner's share lands in the case of the same id (opened here if new), in the inbox's transaction."""
    proxies = check_bundle(message)
    if not proxies:
        return
    now = datetime.now(UTC)
    handling = message.handling
    ensure_case(
        conn,
        case_id=message.case_id,
        title=message.title,
        owner_agency=message.recipient.agency,
        origin_party=message.sender.party,
        created_by=message.sender.officer or message.sender.agency,
        now=now,
        handling=CaseHandling(handling.level, handling.tlp, tuple(c.value for c in handling.caveats)),
    )
    added = add_entities(
        conn,
        message.case_id,
        proxies,
        party=message.sender.party,
        source=f"share from {message.sender.agency}",
        added_by=message.sender.officer or message.sender.agency,
        now=now,
        message_id=message.id,
    )
    append_event(
        conn,
        EventType.NETWORK_ENTITIES_ADDED,
        "inbox",
        {"case": message.case_id, "message": message.id, "party": message.sender.party.value},
        canonical_json({"new": added.new, "merged": added.merged}),
        now,
    )
    cross_reference(node, conn, message.case_id, [p.id or "" for p in proxies][:XREF_ON_ARRIVAL], now)
