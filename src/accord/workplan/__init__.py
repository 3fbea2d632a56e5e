"""The shared work plan: both nodes hold the same plan; a change takes effect when the other side accepts it."""

from __future__ import annotations

from accord.registry import Registry
from accord.workplan.indicators import EXCHANGE_INDICATORS, register_indicator
from accord.workplan.kinds import register_kinds


def register(registry: Registry) -> None:
    """The work plan's change envelopes and the exchange's indicators."""
    register_kinds(registry)
    for indicator in EXCHANGE_INDICATORS:
        register_indicator(registry, indicator)
