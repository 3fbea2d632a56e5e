"""Organised-crime networks: FollowTheMoney entities held per case, shared through the exchange, joined by
cross-referencing and analysed as a graph (rustworkx)."""

from __future__ import annotations

from accord.focus.networks.indicators import NETWORK_INDICATORS
from accord.focus.networks.kinds import register_kinds
from accord.registry import Registry
from accord.workplan.indicators import register_indicator


def register(registry: Registry) -> None:
    """The network share and the network indicators."""
    register_kinds(registry)
    for indicator in NETWORK_INDICATORS:
        register_indicator(registry, indicator)
