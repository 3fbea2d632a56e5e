"""Table-driven policy cases: a base draft, and per case what changes and which decision (and policies) to expect.
`accord policy test PACK CASES.yaml` runs them; each pack ships its own table beside it. The table may include
further files of cases (`includes: [cases/*.yaml]`), one per rule family, so each family's cases are kept together.
A case states what the send path would gather beyond the message as `evidence` (e.g. `attachments: [{name:
applicants.csv, persons: 500}]`, or `not_screened: "…"` for one it could not read)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.datafiles import load_file
from accord.domain.agreement import Agreement
from accord.domain.assessments import (
    AssessedPerson,
    FactorFinding,
    FactorRating,
    MistreatmentAssessment,
    Mitigation,
    RiskConclusion,
    persons_of,
    valid_until,
)
from accord.domain.drafts import MessageDraft
from accord.domain.handling import CommonLevel, Handling
from accord.domain.messages import Address, AttachmentRef, Message
from accord.domain.parties import Party
from accord.i18n import _
from accord.policy.engine import CedarPolicy, DisclosureDecision, Principal, Reader, Verdict
from accord.policy.pack import PackError, PolicyPack
from accord.policy.screens import AttachmentPersons, Evidence
from accord.policy.screens.neutrality import AnsweredRequest, NeutralityOutcome


class Expectation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: Verdict
    policies: tuple[str, ...] = ()


class CaseAssessment(BaseModel):
    """A mistreatment-risk assessment stated as evidence in a case: recorded at the node before the disclosure."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    persons: tuple[AssessedPerson, ...] | None = Field(
        default=None, description="whom it covers; by default every person the message names"
    )
    conclusion: RiskConclusion
    mitigation: Mitigation = Mitigation()
    age_days: int = Field(default=1, ge=0, description="how many days before the disclosure it was made")
    other_case: bool = Field(default=False, description="recorded for another case than the message's")


class AnsweredRequestCase(BaseModel):
    """For a reply: how the request it answers fared on neutrality at this node."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: NeutralityOutcome
    where: str = "screened by this node's pack when it arrived"
    because: tuple[str, ...] = ()


class CaseAttachment(BaseModel):
    """An attachment as the send path would have read it: the persons it holds, or why it could not be read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    media_type: str = "application/octet-stream"
    persons: int = Field(default=0, ge=0)
    not_screened: str | None = Field(default=None, description="why the screen could not count it")


class CaseEvidence(BaseModel):
    """What the send path gathers beyond the message (`accord.exchange.disclosure.gather_evidence`), stated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answered_request: AnsweredRequestCase | None = None
    attachments: tuple[CaseAttachment, ...] = ()

    def refs(self) -> tuple[AttachmentRef, ...]:
        return tuple(
            AttachmentRef(sha256=_stand_in_hash(a.name), name=a.name, media_type=a.media_type, size=0)
            for a in self.attachments
        )

    def evidence(self, message: Message) -> Evidence:
        answered = self.answered_request
        return Evidence(
            answered_request=AnsweredRequest(
                message.in_reply_to or "the request", answered.outcome, answered.where, answered.because
            )
            if answered is not None
            else None,
            attachments=tuple(
                AttachmentPersons(_stand_in_hash(a.name), a.name, a.persons, a.not_screened) for a in self.attachments
            ),
        )


def _stand_in_hash(name: str) -> str:
    """A case's attachment has no bytes; its name stands in for them."""
    return hashlib.sha256(name.encode()).hexdigest()


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    action: str = Field(default="disclose", pattern="^(disclose|read|forward)$")
    officer: dict[str, Any] = Field(default_factory=dict)
    message: dict[str, Any] = Field(default_factory=dict)
    item: dict[str, Any] = Field(
        default_factory=dict, description="for a read: the message as the reader's node holds it"
    )
    assessments: tuple[CaseAssessment, ...] | None = Field(
        default=None, description="assessments recorded for the case; the table's base ones when not given"
    )
    evidence: CaseEvidence = Field(default_factory=CaseEvidence, description="what the send path would gather")
    expect: Expectation
    family: str | None = Field(default=None, description="the rule family; an included file's family by default")


class CaseFamily(BaseModel):
    """An included file of cases: one rule family (death penalty, neutrality, minimisation …)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    party: Party
    family: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9-]*$")
    fixtures: dict[str, Any] = Field(default_factory=dict, description="YAML anchors the cases refer to")
    cases: tuple[Case, ...] = Field(min_length=1)


class CaseTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    party: Party
    fixtures: dict[str, Any] = Field(default_factory=dict, description="YAML anchors the cases refer to")
    base: dict[str, Any]
    includes: tuple[str, ...] = Field(default=(), description="glob patterns, relative to the table, of case files")
    cases: tuple[Case, ...] = ()

    def families(self) -> dict[str, int]:
        """How many cases each rule family has (cases without one count as "general")."""
        counts: dict[str, int] = {}
        for case in self.cases:
            family = case.family or "general"
            counts[family] = counts.get(family, 0) + 1
        return dict(sorted(counts.items()))


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


def load_table(path: Path) -> CaseTable:
    """The case table alone (its party, fixtures, base and own cases), without the case files it includes."""
    return load_file(CaseTable, path, PackError, kind="case table")


def load_cases(path: Path) -> CaseTable:
    table = load_table(path)
    included: list[Case] = []
    for pattern in table.includes:
        files = sorted(path.parent.glob(pattern))
        if not files:
            raise PackError(_("{path}: the include {pattern!r} matches no file").format(path=path, pattern=pattern))
        for file in files:
            family = load_file(CaseFamily, file, PackError, kind="case file")
            if family.party is not table.party:
                raise PackError(
                    _("{file}: its cases are for {party}, the table's for {party2}").format(
                        file=file, party=family.party, party2=table.party
                    )
                )
            included.extend(c if c.family else c.model_copy(update={"family": family.family}) for c in family.cases)
    cases = table.cases + tuple(included)
    if not cases:
        raise PackError(_("{path}: the case table has no cases").format(path=path))
    names = [c.name for c in cases]
    if duplicated := sorted({n for n in names if names.count(n) > 1}):
        raise PackError(
            _("{path}: case names must be unique; repeated: {join}").format(path=path, join=", ".join(duplicated))
        )
    return table.model_copy(update={"cases": cases})


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
        raise PackError(
            _("case {name!r}: {classification!r} is not a {party} classification").format(
                name=case.name, classification=draft.handling.classification, party=party
            )
        )
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
    if case.evidence.attachments:
        message = message.model_copy(update={"attachments": message.attachments + case.evidence.refs()})
    principal = Principal(
        message.sender.officer or "officer", party.value, message.sender.agency, tuple(officer.get("roles", ()))
    )
    return message, principal


def run_cases(pack: PolicyPack, table: CaseTable, agreement: Agreement) -> list[CaseResult]:
    if table.party is not pack.manifest.party:
        raise PackError(
            _("the case table is for {party}, the pack for {party2}").format(
                party=table.party, party2=pack.manifest.party
            )
        )
    engine = CedarPolicy(pack, agreement)
    results = []
    for index, case in enumerate(table.cases):
        if case.action in {"read", "forward"}:
            results.append(_run_read(engine, table, case, index))
            continue
        try:
            message, principal = build_message(table, case, agreement, index)
        except (ValidationError, PackError) as exc:
            results.append(CaseResult(case, None, _("the case is not a valid draft: {exc}").format(exc=exc)))
            continue
        try:
            evidence = _evidence(pack, table, case, message)
        except ValidationError as exc:
            results.append(CaseResult(case, None, _("the case's assessments are not valid: {exc}").format(exc=exc)))
            continue
        stated = case.evidence.evidence(message)
        evidence = replace(evidence, answered_request=stated.answered_request, attachments=stated.attachments)
        results.append(CaseResult(case, engine.decide(message, principal, evidence)))
    return results


def _evidence(pack: PolicyPack, table: CaseTable, case: Case, message: Message) -> Evidence:
    """What the node would know when the case's message is sent: the assessments recorded for its case."""
    stated = case.assessments
    if stated is None:
        stated = tuple(CaseAssessment.model_validate(a) for a in table.base.get("assessments", ()))
    now = datetime.now(UTC)
    rules = pack.manifest.screens.mistreatment
    recorded = []
    for number, given in enumerate(stated):
        # A person with no name, alias or identifier cannot be recorded in an assessment, so is never covered.
        described = [p for p in persons_of(message.subjects) if p.name or p.aliases or p.identifiers]
        persons = given.persons or tuple(AssessedPerson.of(p) for p in described)
        if not persons:
            continue  # nobody to assess: nothing would have been recorded
        assessed_on = (now - timedelta(days=given.age_days)).date()
        recorded.append(
            MistreatmentAssessment(
                id=f"{message.id}-assessment-{number}",
                case_id=f"{message.case_id}-other" if given.other_case else message.case_id,
                persons=persons,
                factors=tuple(FactorFinding(factor=f, rating=FactorRating.MODERATE) for f in rules.factor_ids),
                conclusion=given.conclusion,
                rationale="stated by the case",
                assessed_on=assessed_on,
                mitigation=given.mitigation,
                party=pack.manifest.party.value,
                assessor="case.legal",
                recorded_at=now - timedelta(days=given.age_days),
                valid_until=valid_until(assessed_on, rules.validity_days),
                pack=pack.label,
            )
        )
    return Evidence(assessments=tuple(recorded), at=now)


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
        return CaseResult(case, None, _("the case is not a valid {action}: {exc}").format(action=case.action, exc=exc))
    if case.action == "forward":
        # A forward stays in the holder's state and has no consent unless the case says otherwise.
        target = {"target_party": attrs.get("holder_party"), "target_agency": "", "originator_consented": False}
        return CaseResult(case, engine.decide_forward(reader, f"case-{index}", target | attrs))
    return CaseResult(case, engine.explain_read(reader, f"case-{index}", attrs))


def family_results(results: list[CaseResult]) -> dict[str, list[CaseResult]]:
    """Results grouped by the case's rule family, families in name order."""
    grouped: dict[str, list[CaseResult]] = {}
    for result in results:
        grouped.setdefault(result.case.family or "general", []).append(result)
    return dict(sorted(grouped.items()))


def uncovered_policies(pack: PolicyPack, results: list[CaseResult]) -> list[str]:
    """Policies no passing case names: the table must exercise every one."""
    named = {p for r in results if r.passed for p in r.case.expect.policies}
    return sorted(info.id for info in pack.policies.values() if info.id not in named)
