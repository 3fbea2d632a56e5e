"""What one screen adds to a decision: Cedar attributes, and findings a person can read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Contribution:
    attributes: dict[str, Any]
    findings: dict[str, Any] = field(default_factory=dict)  # a finding that is None or empty is left out
