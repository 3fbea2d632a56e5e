"""Table-driven policy cases: a base draft, and per case what changes and which decision (and policies) to expect.
`accord policy test PACK CASES.yaml` runs them; each pack ships its own table beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.datafiles import load_file
from accord.domain.agreement import Agreement
from accord.domain.drafts import MessageDraft
from accord.domain.handling import CommonLevel, Handling
from accord.domain.messages import Address, Message
from accord.domain.parties import Party
from accord.policy.engine import CedarPolicy, DisclosureDecision, Principal, Reader, Verdict
from accord.policy.pack import PackError, PolicyPack


class Expectation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: Verdict
    policies: tuple[str, ...] = ()


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    action: str = Field(default="disclose", pattern="^(disclose|read)$")
    officer: dict[str, Any] = Field(default_factory=dict)
    message: dict[str, Any] = Field(default_factory=dict)
    item: dict[str, Any] = Field(
        default_factory=dict, description="for a read: the message as the reader's node holds it"
    )
    expect: Expectation


class CaseTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    party: Party
    fixtures: dict[str, Any] = Field(default_factory=dict, description="YAML anchors the cases refer to")
    base: dict[str, Any]
    cases: tuple[Case, ...]


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    decision: DisclosureDecision | None
    error: str | None = None

    @property
    def passed(self) -> bool:
        if self.decision is None:
            return False
        expected = self.case.expect
        got = {p.id for p in self.decision.policies}
        return self.decision.verdict is expected.decision and (not expected.policies or got == set(expected.policies))


def load_cases(path: Path) -> CaseTable:
    return load_file(CaseTable, path, PackError, kind="case table")


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in change.items():
        merged[key] = (
            _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def build_message(table: CaseTable, case: Case, agreement: Agreement, index: int) -> tuple[Message, Principal]:
    officer = _merge(table.base.get("officer", {}), case.officer)
    draft = MessageDraft.model_validate(_merge(table.base.get("message", {}), case.message))
    party = Party(officer.get("party", table.party.value))
    level = agreement.common_level(party, draft.handling.classification)
    if level is None:
        raise PackError(f"case {case.name!r}: {draft.handling.classification!r} is not a {party} classification")
    h = draft.handling
    message = Message(
        **draft.carried(),
        id=f"case-{index}",
        case_id=f"case-{index}",
        sender=Address(party=party, agency=officer.get("agency", "?"), officer=officer.get("id", "officer")),
        recipient=Address(party=party.other, agency=draft.recipient_agency, officer=draft.recipient_officer),
        created_at=datetime.now(UTC),
        deadline=None,
        handling=Handling(
            classification=h.classification,
            level=level,
            tlp=h.tlp,
            caveats=h.caveats,
            restrictions=h.restrictions,
            named_recipients=h.named_recipients,
        ),
    )
    principal = Principal(
        message.sender.officer or "officer", party.value, message.sender.agency, tuple(officer.get("roles", ()))
    )
    return message, principal


def run_cases(pack: PolicyPack, table: CaseTable, agreement: Agreement) -> list[CaseResult]:
    if table.party is not pack.manifest.party:
        raise PackError(f"the case table is for {table.party}, the pack for {pack.manifest.party}")
    engine = CedarPolicy(pack, agreement)
    results = []
    for index, case in enumerate(table.cases):
        if case.action == "read":
            results.append(_run_read(engine, table, case, index))
            continue
        try:
            message, principal = build_message(table, case, agreement, index)
        except (ValidationError, PackError) as exc:
            results.append(CaseResult(case, None, f"the case is not a valid draft: {exc}"))
            continue
        results.append(CaseResult(case, engine.decide(message, principal)))
    return results


def _run_read(engine: CedarPolicy, table: CaseTable, case: Case, index: int) -> CaseResult:
    officer = _merge(table.base.get("officer", {}), case.officer)
    attrs = _merge(table.base.get("item", {}), case.item)
    try:
        reader = Reader(
            str(officer.get("id", "officer")),
            str(officer.get("party", table.party.value)),
            str(officer.get("agency", "?")),
            tuple(officer.get("roles", ())),
            CommonLevel(officer.get("clearance", CommonLevel.SECRET.value)).rank,
            tuple(officer.get("focus_areas", ())),
        )
        attrs = attrs | {"level": CommonLevel(attrs.get("level", CommonLevel.RESTRICTED.value)).rank}
    except ValueError as exc:
        return CaseResult(case, None, f"the case is not a valid read: {exc}")
    return CaseResult(case, engine.explain_read(reader, f"case-{index}", attrs))


def uncovered_policies(pack: PolicyPack, results: list[CaseResult]) -> list[str]:
    """Policies no passing case names: the table must exercise every one."""
    named = {p for r in results if r.passed for p in r.case.expect.policies}
    return sorted(info.id for info in pack.policies.values() if info.id not in named)
