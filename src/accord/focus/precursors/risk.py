"""Risk rules for pre-export notifications, read from data/precursors/risk_rules.yaml: each flags a notification for
the importing authority's review, with the reason in words."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import utils

from accord.datafiles import load
from accord.domain.notifications import ImportRecord, PreExportNotification
from accord.errors import ConfigurationError, InvalidInput
from accord.focus.precursors.substances import Substance, load_substances
from accord.i18n import _

RuleKind = Literal[
    "hs_mismatch",
    "analogue",
    "quantity_history",
    "new_importer",
    "missing_licence",
    "transit_watch_list",
    "record_mismatch",
]


class RiskRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: RuleKind
    description: str
    factor: float = Field(default=5.0, gt=1)
    min_history: int = Field(default=2, ge=1)
    countries: tuple[str, ...] = ()
    tolerance_percent: float = Field(default=5.0, ge=0, le=100)


class Analogue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    synonyms: tuple[str, ...] = ()
    analogue_of: str
    why: str


class RiskRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[RiskRule, ...]
    analogues: tuple[Analogue, ...] = ()

    def analogue(self, name: str) -> Analogue | None:
        key = utils.default_process(name)
        for analogue in self.analogues:
            if key in {utils.default_process(n) for n in (analogue.name, *analogue.synonyms)}:
                return analogue
        return None


@dataclass(frozen=True, slots=True)
class RiskFlag:
    rule: str
    item: int | None  # which consignment item, when the rule is about one
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "item": self.item, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PastNotification:
    """An earlier notification, as the history rules see it."""

    importer: str
    substance: str  # substance code
    quantity_kg: float


@dataclass(frozen=True, slots=True)
class ResolvedItem:
    index: int
    substance: Substance | None  # None for an unscheduled analogue
    analogue: Analogue | None
    quantity_kg: float
    hs_code: str


@cache
def load_risk_rules() -> RiskRules:
    rules = load(RiskRules, "precursors", "risk_rules.yaml")
    substances = load_substances()
    unknown = [a.analogue_of for a in rules.analogues if substances.get(a.analogue_of) is None]
    if unknown:
        raise ConfigurationError(
            _("data/precursors/risk_rules.yaml: analogues of unknown substances {unknown}").format(unknown=unknown)
        )
    return rules


def resolve_substance(name: str) -> tuple[Substance | None, Analogue | None]:
    """A scheduled substance, or a curated unscheduled analogue; anything else is refused (InvalidInput)."""
    analogue = load_risk_rules().analogue(name)
    if analogue is not None:
        return None, analogue
    return load_substances().resolve(name), None


def identify(name: str) -> tuple[str, str]:
    """The code and name of a scheduled substance, or an analogue's own name; InvalidInput for anything else."""
    substance, analogue = resolve_substance(name)
    if substance is not None:
        return substance.code, substance.name
    assert analogue is not None
    return analogue.name, f"{analogue.name} (analogue of {analogue.analogue_of})"


def _substance_key(name: str) -> str:
    try:
        return identify(name)[0]
    except InvalidInput:
        return name_key(name)


def name_key(name: str) -> str:
    """A company or place name with case, punctuation and spacing taken out: 'Pvt. Ltd.' is 'Pvt Ltd'."""
    return " ".join(utils.default_process(name).split())


def importer_key(notification: PreExportNotification) -> str:
    return name_key(notification.importer.name)


@dataclass(frozen=True, slots=True)
class _Case:
    """What every rule looks at: the notification, its resolved items and the earlier notifications."""

    notification: PreExportNotification
    items: Sequence[ResolvedItem]
    history: Sequence[PastNotification]
    importer: str
    records: Sequence[ImportRecord]

    def past_quantities(self, substance: str) -> list[float]:
        return [p.quantity_kg for p in self.history if p.importer == self.importer and p.substance == substance]


def _hs_mismatch(rule: RiskRule, case: _Case, item: ResolvedItem) -> str | None:
    if item.substance is None or _hs6(item.hs_code) == _hs6(item.substance.hs):
        return None
    return f"HS {item.hs_code} declared for {item.substance.name}, whose subheading is {item.substance.hs}"


def _analogue(rule: RiskRule, case: _Case, item: ResolvedItem) -> str | None:
    if item.analogue is None:
        return None
    return f"{item.analogue.name} is an unscheduled analogue of {item.analogue.analogue_of} ({item.analogue.why})"


def _quantity_history(rule: RiskRule, case: _Case, item: ResolvedItem) -> str | None:
    if item.substance is None:
        return None
    past = case.past_quantities(item.substance.code)
    if len(past) < rule.min_history or item.quantity_kg <= rule.factor * statistics.median(past):
        return None
    return (
        f"{item.quantity_kg:g} kg of {item.substance.name} is over {rule.factor:g} × the median "
        f"{statistics.median(past):g} kg of the importer's {len(past)} earlier notifications"
    )


def _new_importer(rule: RiskRule, case: _Case, item: ResolvedItem) -> str | None:
    if item.substance is None or case.past_quantities(item.substance.code):
        return None
    return f"first notification naming {case.notification.importer.name} for {item.substance.code}"


def _missing_licence(rule: RiskRule, case: _Case) -> str | None:
    if (case.notification.importer.licence or "").strip():
        return None
    return f"{case.notification.importer.name} gives no licence number"


def _transit_watch_list(rule: RiskRule, case: _Case) -> str | None:
    listed = [c for c in case.notification.route if c in rule.countries]
    return f"the route passes through {', '.join(listed)} (watch list)" if listed else None


def _record_mismatch(rule: RiskRule, case: _Case) -> str | None:
    """The importing side's own record (given with its answer) against the notification, field by field."""
    if not case.records:
        return None
    record = case.records[-1]
    notification = case.notification
    found = []
    if name_key(record.importer) != case.importer:
        found.append(f"importer {record.importer!r} against {notification.importer.name!r}")
    if record.import_permit and notification.import_permit and record.import_permit != notification.import_permit:
        found.append(f"import permit {record.import_permit} against {notification.import_permit}")
    entry = record.point_of_entry
    if entry and name_key(entry) != name_key(notification.point_of_entry):
        found.append(f"point of entry {entry!r} against {notification.point_of_entry!r}")
    declared = _quantities((i.substance, i.quantity_kg) for i in notification.items)
    recorded = _quantities((i.substance, i.quantity_kg) for i in record.items)
    for key in sorted(declared.keys() | recorded.keys()):
        ours, theirs = declared.get(key), recorded.get(key)
        if ours is None or theirs is None:
            found.append(f"{key} only in the {'importing' if ours is None else 'exporting'} side's record")
        elif abs(theirs - ours) > ours * rule.tolerance_percent / 100:
            found.append(f"{key}: {theirs:g} kg recorded against {ours:g} kg notified")
    return "the two sides' records differ: " + "; ".join(found) if found else None


def _quantities(items: Iterable[tuple[str, float]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for name, quantity in items:
        key = _substance_key(name)
        totals[key] = totals.get(key, 0.0) + quantity
    return totals


_ITEM_RULES = {
    "hs_mismatch": _hs_mismatch,
    "analogue": _analogue,
    "quantity_history": _quantity_history,
    "new_importer": _new_importer,
}
_NOTIFICATION_RULES = {
    "missing_licence": _missing_licence,
    "transit_watch_list": _transit_watch_list,
    "record_mismatch": _record_mismatch,
}


def assess(
    notification: PreExportNotification,
    items: Sequence[ResolvedItem],
    history: Sequence[PastNotification],
    rules: RiskRules | None = None,
    records: Sequence[ImportRecord] = (),
) -> list[RiskFlag]:
    """Every flag the rules raise on this notification, given the earlier notifications this node holds and the
    importing side's records of the shipment."""
    case = _Case(notification, items, history, importer_key(notification), records)
    flags: list[RiskFlag] = []
    for rule in (rules or load_risk_rules()).rules:
        if rule.kind in _ITEM_RULES:
            for item in items:
                reason = _ITEM_RULES[rule.kind](rule, case, item)
                if reason:
                    flags.append(RiskFlag(rule.id, item.index, reason))
        else:
            reason = _NOTIFICATION_RULES[rule.kind](rule, case)
            if reason:
                flags.append(RiskFlag(rule.id, None, reason))
    return flags


def _hs6(code: str) -> str:
    return code.replace(".", "")[:6]
