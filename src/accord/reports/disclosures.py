"""The report's figures on lawful disclosure, from the ledger: disclosures held for review, approved and refused, per
rule family (data/policy/families.yaml), and the assurances obtained from the receiving state.

A decision counts once in each family of the rules that decided it, so a family's figures add up to no total.
Held: the pack held the disclosure for a legal officer. Refused: the pack refused it, or a reviewer did. Approved: a
reviewer released a held disclosure. A review counts under the families of the rules that had held it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from accord.ledger.leaves import EventType
from accord.policy.families import RuleFamilies
from accord.store.tables import events
from accord.workplan.periods import Period

OUTCOMES = ("held", "approved", "refused")
_VERDICT_OUTCOME = {"review": "held", "deny": "refused"}
_REVIEW_OUTCOME = {"approve": "approved", "refuse": "refused"}
_ASSURED = '"assurance1.kind"'  # in the refs of an event that recorded an assurance


def disclosure_figures(conn: Connection, period: Period, families: RuleFamilies) -> dict[str, Any]:
    """Per family code: held, approved and refused disclosures in the period; and the assurances obtained."""
    in_period = and_(events.c.at >= period.start, events.c.at < period.end)
    rows = conn.execute(
        select(events.c.at, events.c.type, events.c.refs)
        .where(
            or_(
                # Every decision up to the period's end: a disclosure held before the period may be reviewed in it;
                # none after it, so a closed period's figures never change.
                and_(events.c.at < period.end, events.c.type == EventType.POLICY_DECIDED.value),
                and_(in_period, events.c.type == EventType.REVIEW_DECIDED.value),
                and_(in_period, events.c.type == EventType.MESSAGE_CREATED.value, events.c.refs.contains(_ASSURED)),
            )
        )
        .order_by(events.c.id)
    ).all()
    tally = _Tally(families)
    reviews: list[dict[str, Any]] = []
    assured: list[dict[str, Any]] = []
    for row in rows:
        refs = json.loads(row.refs)
        if row.type == EventType.POLICY_DECIDED.value:
            tally.decided(refs, counted=period.contains(row.at))
            continue
        if row.type == EventType.REVIEW_DECIDED.value:
            reviews.append(refs)
        if _ASSURED in row.refs:
            assured.append(refs)
    for refs in reviews:  # once every decision is read: a review counts under all the families that held it
        tally.reviewed(refs)
    return {"by_family": tally.by_family(), "assurances": _assurances(assured)}


@dataclass
class _Tally:
    families: RuleFamilies
    holding: dict[str, set[str]] = field(default_factory=dict)  # message -> the families of the rules that held it
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def decided(self, refs: dict[str, Any], *, counted: bool) -> None:
        outcome = _VERDICT_OUTCOME.get(str(refs.get("verdict")))
        if outcome is None or not refs.get("policies") or "message" not in refs:
            return  # allowed, a screening on arrival, or a re-evaluation (which names no rule)
        named = {self.families.family_of(p) for p in str(refs["policies"]).split(",") if p}
        self.holding.setdefault(str(refs["message"]), set()).update(named)
        if counted:
            self._count(named, outcome)

    def reviewed(self, refs: dict[str, Any]) -> None:
        outcome = _REVIEW_OUTCOME.get(str(refs.get("action")))
        if outcome is not None:
            self._count(self.holding.get(str(refs.get("message")), set()), outcome)

    def by_family(self) -> list[dict[str, Any]]:
        order = [f.code for f in self.families.families]
        return [
            {"family": code, "name": self.families.name_of(code), **{o: self.counts[code][o] for o in OUTCOMES}}
            for code in sorted(self.counts, key=lambda c: (order.index(c) if c in order else len(order), c))
        ]

    def _count(self, families: set[str], outcome: str) -> None:
        for family in families:
            self.counts.setdefault(family, Counter())[outcome] += 1


def _assurances(assured: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per kind: the distinct assurances (by kind and reference) the disclosures of the period were made on, as the
    ledger recorded them with each message sent and each review that recorded one; and how many disclosures relied
    on them."""
    distinct: dict[str, set[str]] = {}
    relied: Counter[str] = Counter()
    for refs in assured:
        for n in range(1, int(refs.get("assurances", 1)) + 1):
            kind = refs.get(f"assurance{n}.kind")
            if kind is None:
                continue
            distinct.setdefault(str(kind), set()).add(str(refs.get(f"assurance{n}.reference")))
            relied[str(kind)] += 1
    return [{"kind": k, "obtained": len(distinct[k]), "disclosures": relied[k]} for k in sorted(distinct)]
