"""Risk rules for pre-export notifications, read from data/precursors/risk_rules.yaml: each flags a notification for
the importing authority's review, with the reason in words."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rapidfuzz import utils

from accord.domain.notifications import PreExportNotification
from accord.errors import ConfigurationError
from accord.focus.precursors.substances import Substance, load_substances

RuleKind = Literal[
    "hs_mismatch", "analogue", "quantity_history", "new_importer", "missing_licence", "transit_watch_list"
]


class RiskRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: RuleKind
    description: str
    factor: float = Field(default=5.0, gt=1)
    min_history: int = Field(default=2, ge=1)
    countries: tuple[str, ...] = ()


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
    path = resources.files("accord").joinpath("data", "precursors", "risk_rules.yaml")
    try:
        rules = RiskRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"data/precursors/risk_rules.yaml is invalid: {exc}") from exc
    substances = load_substances()
    unknown = [a.analogue_of for a in rules.analogues if substances.get(a.analogue_of) is None]
    if unknown:
        raise ConfigurationError(f"data/precursors/risk_rules.yaml: analogues of unknown substances {unknown}")
    return rules


def importer_key(notification: PreExportNotification) -> str:
    return utils.default_process(notification.importer.name)


def assess(
    notification: PreExportNotification,
    items: Sequence[ResolvedItem],
    history: Sequence[PastNotification],
    rules: RiskRules | None = None,
) -> list[RiskFlag]:
    """Every flag the rules raise on this notification, given the earlier notifications this node holds."""
    rules = rules or load_risk_rules()
    flags: list[RiskFlag] = []
    importer = importer_key(notification)
    for rule in rules.rules:
        if rule.kind == "hs_mismatch":
            for item in items:
                if item.substance is not None and _hs6(item.hs_code) != _hs6(item.substance.hs):
                    flags.append(
                        RiskFlag(
                            rule.id,
                            item.index,
                            f"HS {item.hs_code} declared for {item.substance.name}, whose subheading is "
                            f"{item.substance.hs}",
                        )
                    )
        elif rule.kind == "analogue":
            for item in items:
                if item.analogue is not None:
                    flags.append(
                        RiskFlag(
                            rule.id,
                            item.index,
                            f"{item.analogue.name} is an unscheduled analogue of {item.analogue.analogue_of} "
                            f"({item.analogue.why})",
                        )
                    )
        elif rule.kind == "quantity_history":
            for item in items:
                if item.substance is None:
                    continue
                past = [p.quantity_kg for p in history if p.importer == importer and p.substance == item.substance.code]
                if len(past) >= rule.min_history and item.quantity_kg > rule.factor * statistics.median(past):
                    flags.append(
                        RiskFlag(
                            rule.id,
                            item.index,
                            f"{item.quantity_kg:g} kg of {item.substance.name} is over {rule.factor:g} × the median "
                            f"{statistics.median(past):g} kg of the importer's {len(past)} earlier notifications",
                        )
                    )
        elif rule.kind == "new_importer":
            for item in items:
                code = item.substance.code if item.substance else None
                if code and not any(p.importer == importer and p.substance == code for p in history):
                    flags.append(
                        RiskFlag(
                            rule.id, item.index, f"first notification naming {notification.importer.name} for {code}"
                        )
                    )
        elif rule.kind == "missing_licence":
            if not (notification.importer.licence or "").strip():
                flags.append(RiskFlag(rule.id, None, f"{notification.importer.name} gives no licence number"))
        elif rule.kind == "transit_watch_list":
            listed = [c for c in notification.route if c in rule.countries]
            if listed:
                flags.append(RiskFlag(rule.id, None, f"the route passes through {', '.join(listed)} (watch list)"))
    return flags


def _hs6(code: str) -> str:
    return code.replace(".", "")[:6]
