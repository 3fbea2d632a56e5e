"""Cross-referencing: the partner's entities in a case against this party's holdings (its own entities in every
case). Names are compared across scripts and spellings (Devanagari and Gurmukhi read in Latin letters, schwas and
doubled letters folded, initials, Singh and Kaur weighed as the common names they are); identifiers are compared
normalised (phones as E.164 read in the agreement's regions, account numbers and IBANs without spaces, passports,
wallet addresses in the case their format ignores). Only entities sharing a block key (an identifier, or the start of
a name token) are compared. Each candidate keeps its score and the evidence for it."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select

from accord.directory.officers import Officer
from accord.focus.networks.store import proxy_of, readable_cases, visible_case
from accord.matching.normalise import (
    PHONE_REGIONS,
    NameTokens,
    alnum_key,
    identifier_keys,
    name_similarity,
    name_tokens,
    phone_keys,
    wallet_key,
)
from accord.node import Node
from accord.store.tables import network_cases, network_entities, network_judgements, network_matches, network_provenance

if TYPE_CHECKING:
    from followthemoney.proxy import EntityProxy

MIN_SCORE = 0.5  # below this a pair is not a candidate
MAX_BLOCK = 400  # a name block holding more of our entities than this is too common to tell anything
MAX_CANDIDATES_PER_ENTITY = 10

# Schemata compared with each other: a Company may be the same as a LegalEntity, never a Person as a Vessel.
_GROUPS: Mapping[str, str] = {
    "Person": "person",
    "Company": "organisation",
    "Organization": "organisation",
    "LegalEntity": "organisation",
    "BankAccount": "account",
    "CryptoWallet": "wallet",
    "UserAccount": "handle",
    "Vehicle": "vehicle",
    "Vessel": "vessel",
    "Airplane": "airplane",
    "Passport": "document",
    "Identification": "document",
    "Address": "address",
}
# FtM property → identifier scheme; the weight is how strongly one agreeing value says "the same".
_SCHEMES: Mapping[str, str] = {
    "phone": "phone",
    "email": "email",
    "iban": "account",
    "accountNumber": "account",
    "passportNumber": "passport",
    "number": "passport",
    "idNumber": "national-id",
    "socialSecurityNumber": "national-id",
    "personalNumber": "national-id",
    "taxNumber": "registration",
    "registrationNumber": "registration",
    "vatCode": "registration",
    "leiCode": "registration",
    "innCode": "registration",
    "publicKey": "wallet",
    "cryptoAddress": "wallet",
    "imoNumber": "imo",
    "mmsi": "mmsi",
    "callSign": "callsign",
    "username": "handle",
}
WEIGHTS: Mapping[str, float] = {
    "passport": 0.97,
    "national-id": 0.95,
    "registration": 0.9,
    "account": 0.95,
    "wallet": 0.97,
    "imo": 0.97,
    "mmsi": 0.9,
    "callsign": 0.7,
    "phone": 0.8,
    "email": 0.85,
    "handle": 0.6,
    "name": 0.75,
    "birth": 0.35,
    "country": 0.1,
}
# An identifier both sides give, with no value in common, makes "the same" less likely by this factor.
CONFLICTS: Mapping[str, float] = {"passport": 0.6, "national-id": 0.5, "birth": 0.4, "country": 0.9}
# For an entity that *is* the identifier (an account, a wallet, a vessel), a different one means another entity.
_DEFINING: Mapping[str, str] = {"account": "account", "wallet": "wallet", "vessel": "imo", "document": "passport"}
# ------------------------------------------------------------------------------------------------ features


@dataclass(frozen=True, slots=True)
class Features:
    case_id: str
    entity_id: str
    group: str
    caption: str
    names: tuple[NameTokens, ...]
    identifiers: Mapping[str, frozenset[str]]
    births: frozenset[str]
    countries: frozenset[str]

    @property
    def key(self) -> str:
        return f"{self.case_id}/{self.entity_id}"


def features_of(case_id: str, proxy: EntityProxy) -> Features | None:
    # followthemoney reads its whole schema model at import (~0.9 s): imported where entities are handled.
    from followthemoney.types import registry

    group = _GROUPS.get(proxy.schema.name)
    if group is None or proxy.id is None:
        return None
    identifiers: dict[str, set[str]] = defaultdict(set)
    for prop in proxy.schema.properties.values():
        scheme = _SCHEMES.get(prop.name)
        if scheme is None:
            continue
        for value in proxy.get(prop):
            identifiers[scheme] |= identifier_keys(scheme, value)
    names = tuple(name_tokens(n) for n in proxy.get_type_values(registry.name))
    return Features(
        case_id=case_id,
        entity_id=proxy.id,
        group=group,
        caption=proxy.caption or proxy.id,
        names=tuple(n for n in names if n.strong or n.weak),
        identifiers={k: frozenset(v) for k, v in identifiers.items() if v},
        births=frozenset(proxy.get("birthDate", quiet=True)),
        countries=frozenset(proxy.get_type_values(registry.country)),
    )


def block_keys(f: Features) -> set[str]:
    keys = {f"{f.group}|{scheme}:{value}" for scheme, values in f.identifiers.items() for value in values}
    for name in f.names:
        keys |= {f"{f.group}|n:{token[:4]}" for token in name.strong if len(token) >= 3}
        if not name.strong:
            keys |= {f"{f.group}|n:{token}" for token in name.weak}
    return keys


# ------------------------------------------------------------------------------------------------ comparing


@dataclass(slots=True)
class Candidate:
    theirs: Features
    ours: Features
    score: float
    agreed: list[dict[str, Any]] = field(default_factory=list)
    differed: list[dict[str, Any]] = field(default_factory=list)

    def evidence(self) -> dict[str, Any]:
        return {"agreed": self.agreed, "differed": self.differed}


def _dates_agree(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def compare(theirs: Features, ours: Features) -> Candidate | None:
    """The candidate the pair makes, with its evidence, or None if nothing says they may be the same."""
    if theirs.group != ours.group:
        return None
    found = Candidate(theirs, ours, 0.0)
    for_same: list[float] = []
    against = 1.0
    best_name, best_pair = 0.0, ("", "")
    for a in theirs.names:
        for b in ours.names:
            sim = name_similarity(a, b)
            if sim > best_name:
                best_name, best_pair = sim, (a.text, b.text)
    if theirs.names and ours.names:
        entry = {"field": "name", "theirs": best_pair[0], "ours": best_pair[1], "similarity": best_name}
        if best_name >= 0.8:
            weight = round(WEIGHTS["name"] * best_name, 3)
            for_same.append(weight)
            found.agreed.append(entry | {"weight": weight})
        else:
            found.differed.append(entry | {"weight": 0.0})
    for scheme in sorted(theirs.identifiers.keys() & ours.identifiers.keys()):
        common = theirs.identifiers[scheme] & ours.identifiers[scheme]
        if common:
            for_same.append(WEIGHTS[scheme])
            found.agreed.append({"field": scheme, "value": sorted(common)[0], "weight": WEIGHTS[scheme]})
            continue
        factor = 0.2 if _DEFINING.get(theirs.group) == scheme else CONFLICTS.get(scheme)
        if factor is not None:
            against *= factor
            found.differed.append(
                {
                    "field": scheme,
                    "theirs": sorted(theirs.identifiers[scheme])[0],
                    "ours": sorted(ours.identifiers[scheme])[0],
                    "weight": factor,
                }
            )
    if not for_same:
        return None
    if theirs.births and ours.births:
        agree = [(a, b) for a in theirs.births for b in ours.births if _dates_agree(a, b)]
        if agree:
            for_same.append(WEIGHTS["birth"])
            found.agreed.append({"field": "birthDate", "value": agree[0][0], "weight": WEIGHTS["birth"]})
        else:
            against *= CONFLICTS["birth"]
            found.differed.append(
                {
                    "field": "birthDate",
                    "theirs": min(theirs.births),
                    "ours": min(ours.births),
                    "weight": CONFLICTS["birth"],
                }
            )
    if theirs.countries and ours.countries:
        if theirs.countries & ours.countries:
            for_same.append(WEIGHTS["country"])
            found.agreed.append(
                {"field": "country", "value": min(theirs.countries & ours.countries), "weight": WEIGHTS["country"]}
            )
        else:
            against *= CONFLICTS["country"]
            found.differed.append(
                {
                    "field": "country",
                    "theirs": min(theirs.countries),
                    "ours": min(ours.countries),
                    "weight": CONFLICTS["country"],
                }
            )
    doubt = 1.0
    for weight in for_same:
        doubt *= 1.0 - weight
    found.score = round((1.0 - doubt) * against, 3)
    return found if found.score >= MIN_SCORE else None


def match(theirs: Sequence[Features], ours: Sequence[Features]) -> list[Candidate]:
    """Every candidate of `theirs` among `ours`, comparing only pairs that share a block key; best first, at most
    MAX_CANDIDATES_PER_ENTITY per entity of theirs."""
    blocks: dict[str, list[Features]] = defaultdict(list)
    for f in ours:
        for key in block_keys(f):
            blocks[key].append(f)
    found: list[Candidate] = []
    for f in theirs:
        pairs: dict[str, Features] = {}
        for key in block_keys(f):
            members = blocks.get(key, [])
            if "|n:" in key and len(members) > MAX_BLOCK:
                continue
            pairs.update((o.key, o) for o in members if o.key != f.key)
        mine = [c for o in pairs.values() if (c := compare(f, o)) is not None]
        mine.sort(key=lambda c: (-c.score, c.ours.key))
        found += mine[:MAX_CANDIDATES_PER_ENTITY]
    return found


# ------------------------------------------------------------------------------------------------ stored


def _entities_of_party(
    conn: Connection, party: str, case_id: str | None = None, entity_ids: Iterable[str] | None = None
) -> list[Features]:
    query = (
        select(network_entities)
        .where(
            network_entities.c.schema.in_(list(_GROUPS)),
            select(network_provenance.c.row_id)
            .where(
                network_provenance.c.case_id == network_entities.c.case_id,
                network_provenance.c.entity_id == network_entities.c.entity_id,
                network_provenance.c.party == party,
            )
            .exists(),
        )
        .order_by(network_entities.c.case_id, network_entities.c.entity_id)
    )
    if case_id is not None:
        query = query.where(network_entities.c.case_id == case_id)
    if entity_ids is not None:
        query = query.where(network_entities.c.entity_id.in_(sorted(set(entity_ids))))
    return [f for row in conn.execute(query) if (f := features_of(row.case_id, proxy_of(row))) is not None]


def cross_reference(node: Node, conn: Connection, case_id: str, entity_ids: Sequence[str] | None, now: datetime) -> int:
    """Match the partner's entities of the case (those named, or all) against our holdings; replace their stored
    candidates. Returns how many candidates were stored."""
    theirs = _entities_of_party(conn, node.party.other.value, case_id, entity_ids)
    if not theirs:
        return 0
    ours = _entities_of_party(conn, node.party.value)
    found = match(theirs, ours)
    conn.execute(
        delete(network_matches).where(
            network_matches.c.case_id == case_id,
            network_matches.c.entity_id.in_([f.entity_id for f in theirs]),
        )
    )
    if found:
        conn.execute(
            insert(network_matches),
            [
                {
                    "case_id": c.theirs.case_id,
                    "entity_id": c.theirs.entity_id,
                    "match_case_id": c.ours.case_id,
                    "match_entity_id": c.ours.entity_id,
                    "score": c.score,
                    "evidence": json.dumps(c.evidence(), ensure_ascii=False, sort_keys=True),
                    "found_at": now,
                }
                for c in found
            ],
        )
    return len(found)


def pair_key(left: str, right: str) -> tuple[str, str]:
    return (left, right) if left <= right else (right, left)


def review_list(node: Node, officer: Officer, case_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The case's candidates, best first, each with both entities, the evidence and any judgement; a candidate in
    a case the officer may not read is left out."""
    with node.engine.connect() as conn:
        visible_case(node, conn, officer, case_id)
        rows = conn.execute(
            select(network_matches)
            .where(network_matches.c.case_id == case_id)
            .order_by(network_matches.c.score.desc(), network_matches.c.entity_id, network_matches.c.match_case_id)
        ).all()
        other_cases = sorted({r.match_case_id for r in rows})
        case_rows = conn.execute(select(network_cases).where(network_cases.c.case_id.in_(other_cases))).all()
        readable = {r.case_id for r in readable_cases(node, officer, case_rows)}
        rows = [r for r in rows if r.match_case_id in readable][:limit]
        keys = {(r.case_id, r.entity_id) for r in rows} | {(r.match_case_id, r.match_entity_id) for r in rows}
        entities = _captions(conn, keys)
        judged = _judgements(conn, [pair_key(f"{r.case_id}/{r.entity_id}", _match_key(r)) for r in rows])
    listed = []
    for r in rows:
        left, right = f"{r.case_id}/{r.entity_id}", _match_key(r)
        judgement = judged.get(pair_key(left, right))
        listed.append(
            {
                "theirs": entities.get((r.case_id, r.entity_id), {}) | {"key": left},
                "ours": entities.get((r.match_case_id, r.match_entity_id), {}) | {"key": right},
                "score": r.score,
                "evidence": json.loads(r.evidence),
                "judgement": judgement,
            }
        )
    return listed


def _match_key(row: Any) -> str:
    return f"{row.match_case_id}/{row.match_entity_id}"


def _captions(conn: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for case_id in sorted({c for c, _ in keys}):
        ids = sorted(e for c, e in keys if c == case_id)
        for row in conn.execute(
            select(network_entities.c.entity_id, network_entities.c.schema, network_entities.c.caption).where(
                network_entities.c.case_id == case_id, network_entities.c.entity_id.in_(ids)
            )
        ):
            found[case_id, row.entity_id] = {
                "case_id": case_id,
                "entity_id": row.entity_id,
                "schema": row.schema,
                "caption": row.caption,
            }
    return found


def _judgements(conn: Connection, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    if not pairs:
        return {}
    lefts = sorted({left for left, _ in pairs})
    rows = conn.execute(select(network_judgements).where(network_judgements.c.left_key.in_(lefts))).all()
    return {
        (r.left_key, r.right_key): {"judgement": r.judgement, "officer": r.officer, "at": r.decided_at.isoformat()}
        for r in rows
    }


_alnum = alnum_key
__all__ = [
    "PHONE_REGIONS",
    "NameTokens",
    "cross_reference",
    "identifier_keys",
    "match",
    "name_similarity",
    "name_tokens",
    "phone_keys",
    "review_list",
    "wallet_key",
]
