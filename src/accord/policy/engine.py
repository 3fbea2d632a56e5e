"""The policy decision on the send path: the screens compute attributes, the party's Cedar pack decides.

`allow` needs a permit and no forbid; a forbid annotated @review holds the message for a legal officer; any other
forbid refuses it. A decision names the deciding policies with their citations, the pack and the findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import cedarpy

from accord.domain.agreement import Agreement
from accord.domain.messages import Message
from accord.policy.pack import PolicyPack
from accord.policy.screens import screen


class Verdict(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class PolicyHit:
    id: str
    citation: str
    review: bool


@dataclass(frozen=True, slots=True)
class DisclosureDecision:
    verdict: Verdict
    reasons: tuple[str, ...]
    pack: str
    policies: tuple[PolicyHit, ...] = ()
    findings: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "pack": self.pack,
            "policies": [{"id": p.id, "citation": p.citation, "review": p.review} for p in self.policies],
            "findings": self.findings,
        }


@dataclass(frozen=True, slots=True)
class Principal:
    """Who discloses: the sending officer as the pack sees them."""

    id: str
    party: str
    agency: str
    roles: tuple[str, ...]


class DisclosurePolicy(Protocol):
    def decide(self, message: Message, principal: Principal | None = None) -> DisclosureDecision: ...


class AllowAllPolicy:
    """Allows every disclosure and says so in its reason, so the ledger shows no pack was applied (tests only)."""

    def decide(self, message: Message, principal: Principal | None = None) -> DisclosureDecision:
        return DisclosureDecision(
            verdict=Verdict.ALLOW,
            reasons=("no policy pack installed: the foundation hook allows every disclosure",),
            pack="allow-all",
        )


class CedarPolicy:
    """The party's pack applied to a message its officer sends."""

    def __init__(self, pack: PolicyPack, agreement: Agreement) -> None:
        self.pack = pack
        self.agreement = agreement

    def decide(self, message: Message, principal: Principal | None = None) -> DisclosureDecision:
        who = principal or Principal(
            message.sender.officer or "unknown", message.sender.party.value, message.sender.agency, ("officer",)
        )
        screened = screen(message, self.pack.manifest.screens, self.agreement)
        entities = [
            _entity("Officer", who.id, {"party": who.party, "agency": who.agency, "roles": list(who.roles)}),
            _entity("Message", message.id, screened.attributes),
        ]
        request = {
            "principal": f'Officer::"{_quote(who.id)}"',
            "action": 'Action::"disclose"',
            "resource": f'Message::"{_quote(message.id)}"',
            "context": {},
        }
        result = cedarpy.is_authorized(request, self.pack.policy_set, entities)
        if result.diagnostics.errors:
            # A policy that cannot be evaluated must not let the message through: hold it for a person.
            errors = "; ".join(str(e) for e in result.diagnostics.errors)
            return DisclosureDecision(
                Verdict.REVIEW, (f"the pack could not evaluate: {errors}",), self.pack.label, (), screened.findings
            )
        hits = tuple(
            PolicyHit(info.id, info.citation, info.review)
            for info in (self.pack.policies[r] for r in result.diagnostics.reasons if r in self.pack.policies)
        )
        if result.decision == cedarpy.Decision.Allow:
            return DisclosureDecision(Verdict.ALLOW, _reasons(hits), self.pack.label, hits, screened.findings)
        forbids = tuple(h for h in hits if not _is_permit(self.pack, h.id))
        if not forbids:
            reason = "no policy of the pack permits this disclosure (deny by default)"
            return DisclosureDecision(Verdict.DENY, (reason,), self.pack.label, (), screened.findings)
        verdict = Verdict.REVIEW if all(h.review for h in forbids) else Verdict.DENY
        return DisclosureDecision(verdict, _reasons(forbids), self.pack.label, forbids, screened.findings)


def _is_permit(pack: PolicyPack, policy_id: str) -> bool:
    info = pack.by_annotated_id().get(policy_id)
    return info is not None and info.effect == "permit"


def _reasons(hits: tuple[PolicyHit, ...]) -> tuple[str, ...]:
    return tuple(f"{h.id}: {h.citation}" for h in hits)


def _entity(kind: str, entity_id: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"uid": {"__entity": {"type": kind, "id": entity_id}}, "attrs": attrs, "parents": []}


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
