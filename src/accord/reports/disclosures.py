"""The report's figures on lawful disclosure, from the ledger: disclosures held for review, approved and refused, per
rule family (data/policy/families.yaml), and the assurances obtained from the receiving state.

A decision counts once in each family of the rules that decided it, so a family's figures add up to no total.
Held: the pack held the disclosure for a legal officer. Refused: the pack refused it, or a reviewer did. Approved: a
reviewer released a held disclosure. A review counts under the families of the rules that had held it.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sqlalchemy import Connection, select

from accord.ledger.leaves import EventType
from accord.policy.families import RuleFamilies
from accord.store.tables import events
from accord.workplan.periods import Period

OUTCOMES = ("held", "approved", "refused")
_VERDICT_OUTCOME = {"review": "held", "deny": "refused"}
_REVIEW_OUTCOME = {"approve": "approved", "refuse": "refused"}


def disclosure_figures(conn: Connection, period: Period, families: RuleFamilies) -> dict[str, Any]:
    """Per family code: held, approved and refused disclosures in the period; and the assurances obtained."""
    decided = conn.execute(
        select(events.c.at, events.c.refs).where(events.c.type == EventType.POLICY_DECIDED.value).order_by(events.c.id)
    ).all()
    holding: dict[str, set[str]] = {}  # message -> the families of the rules that held or refused it
    counts: dict[str, Counter[str]] = {}
    for row in decided:
        refs = json.loads(row.refs)
        outcome = _VERDICT_OUTCOME.get(str(refs.get("verdict")))
        if outcome is None or not refs.get("policies") or "message" not in refs:
            continue  # allowed, a screening on arrival, or a re-evaluation (which names no rule)
        named = {families.family_of(p) for p in str(refs["policies"]).split(",") if p}
        holding.setdefault(str(refs["message"]), set()).update(named)
        if period.contains(row.at):
            for family in named:
                counts.setdefault(family, Counter())[outcome] += 1
    reviewed = conn.execute(
        select(events.c.refs)
        .where(
            events.c.type == EventType.REVIEW_DECIDED.value,
            events.c.at >= period.start,
            events.c.at < period.end,
        )
        .order_by(events.c.id)
    ).all()
    for row in reviewed:
        refs = json.loads(row.refs)
        outcome = _REVIEW_OUTCOME.get(str(refs.get("action")))
        if outcome is not None:
            for family in holding.get(str(refs.get("message")), set()):
                counts.setdefault(family, Counter())[outcome] += 1
    order = [f.code for f in families.families]
    rows = [
        {"family": code, "name": families.name_of(code), **{o: counts[code][o] for o in OUTCOMES}}
        for code in sorted(counts, key=lambda c: (order.index(c) if c in order else len(order), c))
    ]
    return {"by_family": rows, "assurances": _assurances(conn, period)}


def _assurances(conn: Connection, period: Period) -> list[dict[str, Any]]:
    """Per kind: the distinct assurances (by kind and reference) the disclosures of the period were made on, as the
    ledger recorded them with each message sent and each review that recorded one; and how many disclosures relied
    on them."""
    rows = conn.execute(
        select(events.c.refs).where(
            events.c.type.in_([EventType.MESSAGE_CREATED.value, EventType.REVIEW_DECIDED.value]),
            events.c.at >= period.start,
            events.c.at < period.end,
            events.c.refs.contains('"assurance1.kind"'),
        )
    ).all()
    distinct: dict[str, set[str]] = {}
    relied: Counter[str] = Counter()
    for row in rows:
        refs = json.loads(row.refs)
        for n in range(1, int(refs.get("assurances", 1)) + 1):
            kind = refs.get(f"assurance{n}.kind")
            if kind is None:
                continue
            distinct.setdefault(str(kind), set()).add(str(refs.get(f"assurance{n}.reference")))
            relied[str(kind)] += 1
    return [{"kind": k, "obtained": len(distinct[k]), "disclosures": relied[k]} for k in sorted(distinct)]
