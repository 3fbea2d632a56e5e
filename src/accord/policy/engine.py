"""The policy decision on the send path: the screens compute attributes, the party's Cedar pack decides.

`allow` needs a permit and no forbid; a forbid annotated @review holds the message for a legal officer; any other
forbid refuses it. A decision names the deciding policies with their citations, the pack and the findings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import cedarpy

from accord.domain.agreement import Agreement
from accord.domain.messages import Message
from accord.policy.pack import PolicyPack, entity_schema
from accord.policy.screens import Evidence, screen


class Verdict(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class PolicyHit:
    id: str
    citation: str
    review: bool
    gate: bool = False  # a hold approval cannot lift: the message as it would leave must no longer hit it
    remedy: str | None = None
    level: int = 1  # who lifts a hold: 1 a legal officer or the deputy head, 2 the deputy head only


@dataclass(frozen=True, slots=True)
class DisclosureDecision:
    verdict: Verdict
    reasons: tuple[str, ...]
    pack: str
    policies: tuple[PolicyHit, ...] = ()
    findings: dict[str, Any] = field(default_factory=dict)

    @property
    def review_level(self) -> int:
        """Who may lift this hold: the highest level any holding policy names."""
        return max((p.level for p in self.policies if p.review), default=1)

    @property
    def gates(self) -> tuple[PolicyHit, ...]:
        """The holds approval cannot lift without their remedy."""
        return tuple(p for p in self.policies if p.gate)

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "pack": self.pack,
            "policies": [
                {
                    "id": p.id,
                    "citation": p.citation,
                    "review": p.review,
                    "gate": p.gate,
                    "remedy": p.remedy,
                    "level": p.level,
                }
                for p in self.policies
            ],
            "findings": self.findings,
        }


@dataclass(frozen=True, slots=True)
class Principal:
    """Who discloses: the sending officer as the pack sees them."""

    id: str
    party: str
    agency: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reader:
    """An officer asking to read, as the read policies see them."""

    username: str
    party: str
    agency: str
    roles: tuple[str, ...]
    clearance: int  # CommonLevel rank
    focus_areas: tuple[str, ...] = ()  # empty: every focus area


class DisclosurePolicy(Protocol):
    def decide(
        self, message: Message, principal: Principal | None = None, evidence: Evidence | None = None
    ) -> DisclosureDecision: ...

    def readable(self, reader: Reader, items: Sequence[tuple[str, dict[str, Any]]]) -> list[bool]: ...

    def decide_forward(self, forwarder: Reader, item_id: str, attrs: dict[str, Any]) -> DisclosureDecision: ...

    def citation_for(self, slug: str) -> str | None:
        """The law the send path's check with problem type `slug` enforces (the pack's @validates)."""
        ...


class AllowAllPolicy:
    """Allows every disclosure and says so in its reason, so the ledger shows no pack was applied (tests only)."""

    def decide(
        self, message: Message, principal: Principal | None = None, evidence: Evidence | None = None
    ) -> DisclosureDecision:
        return DisclosureDecision(
            verdict=Verdict.ALLOW,
            reasons=("no policy pack installed: the foundation hook allows every disclosure",),
            pack="allow-all",
        )

    def readable(self, reader: Reader, items: Sequence[tuple[str, dict[str, Any]]]) -> list[bool]:
        return [attrs.get("owner_agency") == reader.agency for _, attrs in items]

    def decide_forward(self, forwarder: Reader, item_id: str, attrs: dict[str, Any]) -> DisclosureDecision:
        return DisclosureDecision(
            Verdict.ALLOW, ("no policy pack installed: the foundation hook allows every forward",), "allow-all"
        )

    def citation_for(self, slug: str) -> str | None:
        return None


class CedarPolicy:
    """The party's pack applied to a message its officer sends."""

    def __init__(self, pack: PolicyPack, agreement: Agreement) -> None:
        self.pack = pack
        self.agreement = agreement

    def decide(
        self, message: Message, principal: Principal | None = None, evidence: Evidence | None = None
    ) -> DisclosureDecision:
        who = principal or Principal(
            message.sender.officer or "unknown", message.sender.party.value, message.sender.agency, ("officer",)
        )
        screened = screen(message, self.pack.manifest.screens, self.agreement, evidence)
        entities = [
            _entity("Officer", who.id, {"party": who.party, "agency": who.agency, "roles": list(who.roles)}),
            _entity("Message", message.id, screened.attributes),
        ]
        request = _request("Officer", who.id, "disclose", "Message", message.id)
        result = cedarpy.is_authorized(request, self.pack.policy_set, entities, schema=entity_schema())
        if errors := _evaluation_errors(result):
            # A policy that cannot be evaluated must not let the message through: hold it for a person.
            return DisclosureDecision(
                Verdict.REVIEW, (f"the pack could not evaluate: {errors}",), self.pack.label, (), screened.findings
            )
        return self._verdict(result, "disclosure", screened.findings, screened.placeholders)

    def readable(self, reader: Reader, items: Sequence[tuple[str, dict[str, Any]]]) -> list[bool]:
        """Need-to-know: one Cedar decision per item, in one batch; anything but an explicit allow is a no."""
        if not items:
            return []
        entities = [_reader_entity(reader)] + [_entity("Holding", item_id, attrs) for item_id, attrs in items]
        requests = [_read_request(reader, item_id) for item_id, _ in items]
        results = cedarpy.is_authorized_batch(requests, self.pack.policy_set, entities, schema=entity_schema())
        return [r.decision == cedarpy.Decision.Allow and not r.diagnostics.errors for r in results]

    def decide_forward(self, forwarder: Reader, item_id: str, attrs: dict[str, Any]) -> DisclosureDecision:
        """May `forwarder` pass a message held here (`attrs`: its read attributes and the target) to another agency
        or officer? allow; deny; or review, which for a forward means the originator's consent is needed."""
        entities = [_reader_entity(forwarder), _entity("Forward", item_id, attrs)]
        request = _request("Reader", forwarder.username, "forward", "Forward", item_id)
        result = cedarpy.is_authorized(request, self.pack.policy_set, entities, schema=entity_schema())
        if errors := _evaluation_errors(result):
            return DisclosureDecision(Verdict.DENY, (f"the pack could not evaluate: {errors}",), self.pack.label)
        return self._verdict(result, "forward", {}, {})

    def _verdict(
        self, result: Any, what: str, findings: dict[str, Any], placeholders: dict[str, str]
    ) -> DisclosureDecision:
        """Allow needs a permit and no forbid; forbids all marked @review hold; any other forbid refuses."""
        hits = self._hits(result, placeholders)
        if result.decision == cedarpy.Decision.Allow:
            return DisclosureDecision(Verdict.ALLOW, _reasons(hits), self.pack.label, hits, findings)
        forbids = tuple(h for h in hits if not _is_permit(self.pack, h.id))
        if not forbids:
            reason = f"no policy of the pack permits this {what} (deny by default)"
            return DisclosureDecision(Verdict.DENY, (reason,), self.pack.label, (), findings)
        verdict = Verdict.REVIEW if all(h.review for h in forbids) else Verdict.DENY
        return DisclosureDecision(verdict, _reasons(forbids), self.pack.label, forbids, findings)

    def _hits(self, result: Any, placeholders: dict[str, str]) -> tuple[PolicyHit, ...]:
        """The policies that decided, with their remedies' {placeholders} filled from the screens."""
        return tuple(
            PolicyHit(
                info.id, info.citation, info.review, info.gate, _fill(info.remedy, placeholders), info.review_level
            )
            for info in (self.pack.policies[r] for r in result.diagnostics.reasons if r in self.pack.policies)
        )

    def citation_for(self, slug: str) -> str | None:
        return self.pack.citation_for(slug)

    def explain_read(self, reader: Reader, item_id: str, attrs: dict[str, Any]) -> DisclosureDecision:
        """One read decision with the policies that made it (for case tables and for telling an officer why)."""
        entities = [_reader_entity(reader), _entity("Holding", item_id, attrs)]
        result = cedarpy.is_authorized(
            _read_request(reader, item_id), self.pack.policy_set, entities, schema=entity_schema()
        )
        hits = self._hits(result, {})
        allowed = result.decision == cedarpy.Decision.Allow and not result.diagnostics.errors
        verdict = Verdict.ALLOW if allowed else Verdict.DENY
        reasons = _reasons(hits) or ("no read policy of the pack permits it (deny by default)",)
        return DisclosureDecision(verdict, reasons, self.pack.label, hits)


def _reader_entity(reader: Reader) -> dict[str, Any]:
    return _entity(
        "Reader",
        reader.username,
        {
            "username": reader.username,
            "party": reader.party,
            "agency": reader.agency,
            "roles": list(reader.roles),
            "clearance": reader.clearance,
            "focus_areas": list(reader.focus_areas),
            "focus_limited": bool(reader.focus_areas),
        },
    )


def _read_request(reader: Reader, item_id: str) -> dict[str, Any]:
    return _request("Reader", reader.username, "read", "Holding", item_id)


def _request(principal_type: str, principal: str, action: str, resource_type: str, resource: str) -> dict[str, Any]:
    return {
        "principal": f'{principal_type}::"{_quote(principal)}"',
        "action": f'Action::"{action}"',
        "resource": f'{resource_type}::"{_quote(resource)}"',
        "context": {},
    }


def _evaluation_errors(result: Any) -> str | None:
    """Why the pack could not evaluate a request (an entity not matching the schema, say), or None."""
    errors = "; ".join(_short_error(str(e)) for e in result.diagnostics.errors)
    return errors or None


def _short_error(error: str) -> str:
    """Cedar's entity errors quote every entity; what went wrong is at the end."""
    _, marker, tail = error.rpartition("error during entity deserialization: ")
    return tail if marker else error


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _fill(remedy: str | None, values: dict[str, str]) -> str | None:
    """A remedy with the screens' values in place of its {placeholders} (an unknown one is left as written)."""
    if remedy is None:
        return None
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), remedy)


def _is_permit(pack: PolicyPack, policy_id: str) -> bool:
    info = pack.by_annotated_id().get(policy_id)
    return info is not None and info.effect == "permit"


def _reasons(hits: tuple[PolicyHit, ...]) -> tuple[str, ...]:
    """Each policy by its law, and what would make the disclosure lawful where the pack says (@remedy)."""
    return tuple(f"{h.id}: {h.citation}" + (f" (to make it lawful: {h.remedy})" if h.remedy else "") for h in hits)


def _entity(kind: str, entity_id: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"uid": {"__entity": {"type": kind, "id": entity_id}}, "attrs": attrs, "parents": []}


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
