"""Onward disclosure inside the recipient's own state: forwarding a received message where its caveats allow, the
originator's consent where they ask for it, and the notice that puts every forward in both ledgers."""

from __future__ import annotations

from accord.forwarding.kinds import register_kinds
from accord.forwarding.texts import caveat_texts
from accord.registry import Registry


def register(registry: Registry) -> None:
    """The consent request, its answer and the forward notice; the caveats' words are loaded and checked now."""
    caveat_texts()
    register_kinds(registry)
