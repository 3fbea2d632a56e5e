"""Drugs and fentanyl precursors: controlled substances, pre-export notifications and their risk rules."""

from __future__ import annotations

from accord.focus.precursors.indicators import PRECURSOR_INDICATORS
from accord.focus.precursors.kinds import register_kinds
from accord.focus.precursors.plausibility import load_country_bounds, load_quantity_caps
from accord.focus.precursors.risk import load_risk_rules
from accord.registry import Registry
from accord.workplan.indicators import register_indicator


def register(registry: Registry) -> None:
    """Notifications and incidents as message kinds, the precursor indicators; the substance lists and the risk
    rules are loaded and checked now, so a broken data file stops the node at start-up."""
    load_risk_rules()  # loads the substance lists it refers to
    load_quantity_caps()
    load_country_bounds()
    register_kinds(registry)
    for indicator in PRECURSOR_INDICATORS:
        register_indicator(registry, indicator)
