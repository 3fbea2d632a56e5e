"""The policy decision on the send path: the screens compute attributes, the party's Cedar pack decides.

`allow` needs a permit and no forbid; a forbid annotated @review holds the message for a legal officer; any other
forbid refuses it. A decision names the deciding policies with their citations, the pack and the findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import cedarpy

from accord.domain.agreement import Agreement
from accord.domain.messages import Message
from accord.i18n import N_, Language, _, language_scope
from accord.policy.pack import PolicyPack, entity_schema
from accord.policy.screens import PLACEHOLDER_PHRASES, Evidence, screen
from accord.policy.wording import fill, retell, retell_any

# The reasons a decision records, in English (the legal record; see accord.policy.wording), and says again in the
# reader's language when shown.
BECAUSE = N_("{policy}: {citation}")
BECAUSE_WITH_REMEDY = N_("{policy}: {citation} (to make it lawful: {remedy})")
NO_PERMIT = {
    "disclosure": N_("no policy of the pack permits this disclosure (deny by default)"),
    "forward": N_("no policy of the pack permits this forward (deny by default)"),
}
NO_READ_PERMIT = N_("no read policy of the pack permits it (deny by default)")
NOT_EVALUATED = N_("the pack could not evaluate: {errors}")
ALLOW_ALL_DISCLOSURE = N_("no policy pack installed: the foundation hook allows every disclosure")
ALLOW_ALL_FORWARD = N_("no policy pack installed: the foundation hook allows every forward")
PACK_UNUSABLE_DISCLOSURE = N_("the installed policy pack cannot be used ({problem}); a legal officer decides")
PACK_UNUSABLE_FORWARD = N_("the installed policy pack cannot be used ({problem}); nothing is forwarded")
_FIXED_REASONS = (
    *NO_PERMIT.values(),
    NO_READ_PERMIT,
    NOT_EVALUATED,
    ALLOW_ALL_DISCLOSURE,
    ALLOW_ALL_FORWARD,
    PACK_UNUSABLE_DISCLOSURE,
    PACK_UNUSABLE_FORWARD,
)


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
    remedy: str | None = None  # the record's: the pack's @remedy in English, its {placeholders} filled
    level: int = 1  # who lifts a hold: 1 a legal officer or the deputy head, 2 the deputy head only
    # The @remedy as the pack writes it, {placeholders} and all: the catalogues' source, so the remedy can be said
    # in the reader's language. Not part of the record.
    remedy_source: str | None = field(default=None, compare=False)

    def remedy_text(self) -> str | None:
        """The remedy in the current language, the screens' values as recorded (names, case ids) or translated
        (the screens' own words)."""
        if self.remedy is None:
            return None
        told = retell(self.remedy, self.remedy_source, _placeholder_value) if self.remedy_source else None
        return told if told is not None else _(self.remedy)

    def reason(self) -> str:
        """The reason the record keeps for this policy, in English."""
        return fill(BECAUSE_WITH_REMEDY if self.remedy else BECAUSE, self._reason_values(self.remedy or ""))

    def reason_text(self) -> str:
        """The same reason in the current language."""
        template = BECAUSE_WITH_REMEDY if self.remedy else BECAUSE
        return fill(_(template), self._reason_values(self.remedy_text() or ""))

    def _reason_values(self, remedy: str) -> dict[str, str]:
        return {"policy": self.id, "citation": self.citation, "remedy": remedy}


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

    def explained(self) -> tuple[str, ...]:
        """The reasons in the current language, for an officer to read; `reasons` stays the English record. A
        policy's citation is said verbatim; its remedy and the engine's own reasons are translated."""
        by_reason = {hit.reason(): hit for hit in self.policies}
        return tuple(
            by_reason[reason].reason_text() if reason in by_reason else retell_any(reason, _FIXED_REASONS)
            for reason in self.reasons
        )

    def shown(self) -> dict[str, Any]:
        """`as_json()` as an officer reads it: reasons and remedies in the current language. For display only:
        what is stored, logged or sent is `as_json()`."""
        shown = self.as_json()
        shown["reasons"] = list(self.explained())
        for entry, hit in zip(shown["policies"], self.policies, strict=True):
            entry["remedy"] = hit.remedy_text()
        return shown

    @classmethod
    def from_json(cls, recorded: Mapping[str, Any], pack: PolicyPack | None = None) -> DisclosureDecision:
        """A decision as `as_json()` recorded it; with the pack that made it, its remedies can be said in the
        reader's language even where the screens filled in values."""
        sources = {info.id: info.remedy for info in pack.policies.values()} if pack else {}
        hits = tuple(
            PolicyHit(
                str(p["id"]),
                str(p["citation"]),
                bool(p.get("review")),
                bool(p.get("gate")),
                p.get("remedy"),
                int(p.get("level", 1)),
                remedy_source=sources.get(str(p["id"])),
            )
            for p in recorded.get("policies") or ()
        )
        return cls(
            Verdict(recorded["verdict"]),
            tuple(str(r) for r in recorded.get("reasons") or ()),
            str(recorded.get("pack", "")),
            hits,
            dict(recorded.get("findings") or {}),
        )

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
            reasons=(ALLOW_ALL_DISCLOSURE,),
            pack="allow-all",
        )

    def readable(self, reader: Reader, items: Sequence[tuple[str, dict[str, Any]]]) -> list[bool]:
        return [attrs.get("owner_agency") == reader.agency for _, attrs in items]

    def decide_forward(self, forwarder: Reader, item_id: str, attrs: dict[str, Any]) -> DisclosureDecision:
        return DisclosureDecision(Verdict.ALLOW, (ALLOW_ALL_FORWARD,), "allow-all")

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
        # The decision is the legal record: its reasons and findings are English whatever the officer reads in.
        with language_scope(Language.EN):
            return self._decide(message, principal, evidence)

    def _decide(self, message: Message, principal: Principal | None, evidence: Evidence | None) -> DisclosureDecision:
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
            reason = fill(NOT_EVALUATED, {"errors": errors})
            return DisclosureDecision(Verdict.REVIEW, (reason,), self.pack.label, (), screened.findings)
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
        with language_scope(Language.EN):
            return self._decide_forward(forwarder, item_id, attrs)

    def _decide_forward(self, forwarder: Reader, item_id: str, attrs: dict[str, Any]) -> DisclosureDecision:
        entities = [_reader_entity(forwarder), _entity("Forward", item_id, attrs)]
        request = _request("Reader", forwarder.username, "forward", "Forward", item_id)
        result = cedarpy.is_authorized(request, self.pack.policy_set, entities, schema=entity_schema())
        if errors := _evaluation_errors(result):
            return DisclosureDecision(Verdict.DENY, (fill(NOT_EVALUATED, {"errors": errors}),), self.pack.label)
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
            return DisclosureDecision(Verdict.DENY, (NO_PERMIT[what],), self.pack.label, (), findings)
        verdict = Verdict.REVIEW if all(h.review for h in forbids) else Verdict.DENY
        return DisclosureDecision(verdict, _reasons(forbids), self.pack.label, forbids, findings)

    def _hits(self, result: Any, placeholders: dict[str, str]) -> tuple[PolicyHit, ...]:
        """The policies that decided, with their remedies' {placeholders} filled from the screens."""
        decided = set(result.diagnostics.reasons)
        return tuple(
            PolicyHit(
                info.id,
                info.citation,
                info.review,
                info.gate,
                fill(info.remedy, placeholders) if info.remedy is not None else None,
                info.review_level,
                remedy_source=info.remedy,
            )
            # In the order the pack states them: Cedar gives its reasons as a set, in an order that differs from one
            # process to the next, and the decision recorded must not.
            for key, info in self.pack.policies.items()
            if key in decided
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
        reasons = _reasons(hits) or (NO_READ_PERMIT,)
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


def _is_permit(pack: PolicyPack, policy_id: str) -> bool:
    info = pack.by_annotated_id().get(policy_id)
    return info is not None and info.effect == "permit"


def _reasons(hits: tuple[PolicyHit, ...]) -> tuple[str, ...]:
    """Each policy by its law, and what would make the disclosure lawful where the pack says (@remedy): English."""
    return tuple(h.reason() for h in hits)


def _placeholder_value(field: str, value: str) -> str:
    """A remedy's value as the reader reads it: the screens' own words translated ("each person named", "caveat
    H3"), one by one where the screens listed several; names and ids as recorded."""
    return "; ".join(_screens_words(part) for part in value.split("; "))


def _screens_words(part: str) -> str:
    told = (retell(part, phrase) for phrase in PLACEHOLDER_PHRASES)
    return next((t for t in told if t is not None), part)


def _entity(kind: str, entity_id: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"uid": {"__entity": {"type": kind, "id": entity_id}}, "attrs": attrs, "parents": []}


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
