"""Organised-crime networks: FollowTheMoney entities held per case, shared through the exchange, joined by
cross-referencing and analysed as a graph (rustworkx)."""

from __future__ import annotations

from accord.registry import Registry


def register(registry: Registry) -> None:
    """The network share and the network indicators."""
