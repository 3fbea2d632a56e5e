"""Analysts' judgements on pairs of entities, with a resolver's semantics: a judgement is kept per pair (the latest
wins), entities judged "same" form connected components, and each component has one canonical id. Merging happens
only in views; the entities as they arrived are never changed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select

from accord.crypto.canonical import canonical_json
from accord.directory.officers import Officer
from accord.errors import InvalidInput, NotFound
from accord.exchange.sending import require_sender
from accord.focus.networks.entities import entity_refs
from accord.focus.networks.store import case_entities, case_parties, held_ids, readable_cases, visible_case
from accord.focus.networks.xref import pair_key
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.store.tables import network_cases, network_judgements

if TYPE_CHECKING:
    from followthemoney.proxy import EntityProxy


class Judgement(StrEnum):
    SAME = "same"
    NOT_SAME = "not_same"
    UNSURE = "unsure"


def split_key(key: str) -> tuple[str, str]:
    case_id, sep, entity_id = key.partition("/")
    if not sep or not case_id or not entity_id:
        raise InvalidInput(_("{key!r} is not an entity key: write case_id/entity_id").format(key=key))
    return case_id, entity_id


def judge(node: Node, officer: Officer, left: str, right: str, judgement: Judgement) -> dict[str, Any]:
    """Record the officer's judgement on a pair; both entities must exist in cases the officer may read."""
    require_sender(officer)
    now = datetime.now(UTC)
    low, high = pair_key(left, right)
    with node.engine.begin() as conn:
        for key in (low, high):
            case_id, entity_id = split_key(key)
            visible_case(node, conn, officer, case_id)
            if not held_ids(conn, case_id, [entity_id]):
                raise NotFound(
                    _("case {case_id} holds no entity {entity_id}").format(case_id=case_id, entity_id=entity_id)
                )
        if low == high:
            raise InvalidInput(_("a judgement is on two different entities"))
        conn.execute(
            delete(network_judgements).where(
                network_judgements.c.left_key == low, network_judgements.c.right_key == high
            )
        )
        conn.execute(
            insert(network_judgements).values(
                left_key=low, right_key=high, judgement=judgement.value, officer=officer.username, decided_at=now
            )
        )
        append_event(
            conn,
            EventType.NETWORK_JUDGED,
            officer.id,
            {"left": low, "right": high, "judgement": judgement.value},
            canonical_json({"left": low, "right": high, "judgement": judgement.value}),
            now,
        )
    return {"left": low, "right": high, "judgement": judgement.value, "officer": officer.username, "at": now}


# ------------------------------------------------------------------------------------------------ resolving


@dataclass(slots=True)
class Resolver:
    """Union-find over the "same" judgements: `canonical(key)` is the smallest key of the key's component."""

    parent: dict[str, str] = field(default_factory=dict)

    def find(self, key: str) -> str:
        root = key
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while key != root:  # path compression
            self.parent[key], key = root, self.parent.get(key, key)
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            low, high = sorted((ra, rb))
            self.parent[high] = low
            self.parent.setdefault(low, low)

    def canonical(self, key: str) -> str:
        return self.find(key)

    def components(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for key in sorted(self.parent):
            found.setdefault(self.find(key), []).append(key)
        return found


def resolver(conn: Connection) -> Resolver:
    solved = Resolver()
    for row in conn.execute(
        select(network_judgements.c.left_key, network_judgements.c.right_key).where(
            network_judgements.c.judgement == Judgement.SAME.value
        )
    ):
        solved.union(row.left_key, row.right_key)
    return solved


@dataclass(frozen=True, slots=True)
class MergedCase:
    """A case's entities for display: those judged the same merged under the id of the first, references rewritten;
    `same_as` gives, per shown id, every entity key of its component the reader may see (other cases included)."""

    entities: list[EntityProxy]
    same_as: dict[str, list[str]]
    parties: dict[str, set[str]]  # per shown id: the parties of every entity merged into it that the reader may see


def merge_entities(
    case_id: str, proxies: Sequence[EntityProxy], solved: Resolver
) -> tuple[list[EntityProxy], dict[str, str]]:
    """The case's entities merged by component, and each original id's shown id."""
    groups: dict[str, list[EntityProxy]] = {}
    for proxy in proxies:
        groups.setdefault(solved.canonical(f"{case_id}/{proxy.id}"), []).append(proxy)
    shown: dict[str, str] = {}
    merged: list[EntityProxy] = []
    for members in groups.values():
        members = sorted(members, key=lambda p: p.id or "")
        head = members[0].clone()
        for other in members[1:]:
            try:
                head.merge(other)
            except Exception:  # FtM refuses to merge unrelated schemata: show them apart
                merged.append(other.clone())
                shown[other.id or ""] = other.id or ""
                continue
            shown[other.id or ""] = head.id or ""
        shown[head.id or ""] = head.id or ""
        merged.append(head)
    for proxy in merged:
        for name, value in list(entity_refs(proxy)):
            target = shown.get(value, value)
            if target != value:
                proxy.remove(name, value)
                proxy.add(name, target, cleaned=True)
    return merged, shown


def merged_case(node: Node, conn: Connection, officer: Officer, case_id: str) -> MergedCase:
    """The merged view of a case the officer may read (NotFound/Forbidden as for its entities)."""
    visible_case(node, conn, officer, case_id)
    solved = resolver(conn)
    entities, shown = merge_entities(case_id, case_entities(conn, case_id), solved)
    readable = _readable_cases(node, conn, officer, {split_key(k)[0] for k in solved.parent})
    components = solved.components()
    same_as: dict[str, list[str]] = {}
    for original, shown_id in shown.items():
        members = components.get(solved.canonical(f"{case_id}/{original}"), [])
        visible = [k for k in members if split_key(k)[0] in readable]
        if len(visible) > 1:
            same_as.setdefault(shown_id, [])
            same_as[shown_id] = sorted(set(same_as[shown_id]) | set(visible))
    return MergedCase(entities, same_as, _merged_parties(conn, case_id, shown, same_as))


def _merged_parties(
    conn: Connection, case_id: str, shown: dict[str, str], same_as: dict[str, list[str]]
) -> dict[str, set[str]]:
    """Whose each shown entity is: its own provenance, and that of every entity judged the same as it (the
    partner's person judged the same as one of ours is both parties')."""
    by_case = {case_id: case_parties(conn, case_id)}
    parties: dict[str, set[str]] = {}
    for original, shown_id in shown.items():
        parties.setdefault(shown_id, set()).update(by_case[case_id].get(original, set()))
    for shown_id, keys in same_as.items():
        for key in keys:
            other_case, other_id = split_key(key)
            if other_case not in by_case:
                by_case[other_case] = case_parties(conn, other_case)
            parties.setdefault(shown_id, set()).update(by_case[other_case].get(other_id, set()))
    return parties


def _readable_cases(node: Node, conn: Connection, officer: Officer, case_ids: Iterable[str]) -> set[str]:
    rows = conn.execute(select(network_cases).where(network_cases.c.case_id.in_(sorted(set(case_ids))))).all()
    return {r.case_id for r in readable_cases(node, officer, rows)}
