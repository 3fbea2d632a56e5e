"""Focus-area modules: the domain work of each focus area, on top of the exchange, policy, ledger and work plan."""

from __future__ import annotations

import importlib

# Importing a module registers its indicators (and anything else it adds to the node).
FOCUS_MODULES = ("accord.focus.precursors.indicators",)


def load_focus_modules() -> None:
    for name in FOCUS_MODULES:
        importlib.import_module(name)
