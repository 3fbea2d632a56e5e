"""The handling codes' words (data/handling/caveats.yaml), read out in forward decisions and consent requests."""

from __future__ import annotations

from functools import cache

from accord.datafiles import load
from accord.domain.caveats import CaveatTexts


@cache
def caveat_texts() -> CaveatTexts:
    return load(CaveatTexts, "handling", "caveats.yaml")
