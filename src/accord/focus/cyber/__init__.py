"""Cyber: STIX 2.1 objects, TLP 2.0 as policy input, TAXII 2.1 for each country's own tools, MISP interop."""

from __future__ import annotations

from accord.focus.cyber.collections import load_collections
from accord.focus.cyber.kinds import register_kinds
from accord.focus.cyber.tlp import tlp_definitions
from accord.registry import Registry


def register(registry: Registry) -> None:
    """The STIX share; the TAXII collections and TLP definitions are loaded and checked now."""
    load_collections()
    tlp_definitions()
    register_kinds(registry)
