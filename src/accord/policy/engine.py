"""The policy hook on the send path.

The foundation ships `AllowAllPolicy`; the party's policy pack replaces it without touching the send path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from accord.domain.messages import Message


class Verdict(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class DisclosureDecision:
    verdict: Verdict
    reasons: tuple[str, ...]
    pack: str


class DisclosurePolicy(Protocol):
    def decide(self, message: Message) -> DisclosureDecision: ...


class AllowAllPolicy:
    """Allows every disclosure and says so in its reason, so the ledger shows no pack was applied."""

    def decide(self, message: Message) -> DisclosureDecision:
        return DisclosureDecision(
            verdict=Verdict.ALLOW,
            reasons=("no policy pack installed: the foundation hook allows every disclosure",),
            pack="allow-all",
        )
