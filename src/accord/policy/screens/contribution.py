"""What one screen adds to a decision: Cedar attributes, and findings a person can read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Contribution:
    attributes: dict[str, Any]
    findings: dict[str, Any] = field(default_factory=dict)  # a finding that is None or empty is left out
    # Values a policy's @remedy names in braces ("for {persons_without_assessment} in case {case}").
    placeholders: dict[str, str] = field(default_factory=dict)
