"""Fraud and immigration matching: the engine (normalise, encode, link) and, on it, the party's holdings, hit/no-hit
queries on encodings between the parties (the Prüm pattern), and the lawful follow-up that releases a record."""

from __future__ import annotations

from accord.matching.indicators import MATCHING_INDICATORS
from accord.matching.kinds import register_kinds
from accord.registry import Registry
from accord.workplan.indicators import register_indicator


def register(registry: Registry) -> None:
    """The query and answer envelopes, the follow-up's reference on requests, and the matching indicators."""
    register_kinds(registry)
    for indicator in MATCHING_INDICATORS:
        register_indicator(registry, indicator)
