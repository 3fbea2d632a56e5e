"""Recording mistreatment-risk assessments (Canada: ACMFEA s.3 and the Directions under it; India: its pack's rule):
a legal officer or the deputy head records one for persons of a case, it is checked against the pack's factors,
stored and logged, and the case's held disclosures are decided again in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, func, select
from uuid6 import uuid7

from accord.crypto.canonical import canonical_json
from accord.directory.officers import Officer, Role
from accord.domain.assessments import (
    AssessmentDraft,
    MistreatmentAssessment,
    person_label,
    valid_until,
)
from accord.domain.messages import Direction, Message, Subject
from accord.errors import Conflict, Forbidden, InvalidInput, NotFound
from accord.exchange.assessment_records import recorded_assessments, store_assessment
from accord.exchange.review import redecide_held
from accord.i18n import N_, _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.policy.engine import CedarPolicy
from accord.policy.installed import InstalledPolicy
from accord.policy.pack import PolicyPack
from accord.policy.screens.mistreatment import MistreatmentRules, RiskFactor, covers, persons_needing_assessment
from accord.store.tables import messages

# Directions s.1(2)-(3): officials assess and the deputy head determines; an officer who discloses does not assess
# their own disclosure.
ASSESSORS = frozenset({Role.LEGAL, Role.DEPUTY_HEAD})
READERS = ASSESSORS | {Role.OVERSIGHT}


class UnknownCase(NotFound):
    slug = "unknown-case"
    title = N_("No message of that case is held at this node")


@dataclass(frozen=True, slots=True)
class Recorded:
    assessment: MistreatmentAssessment
    redecided: dict[str, int]  # verdicts of the case's held disclosures decided again


@dataclass(frozen=True, slots=True)
class PersonStatus:
    label: str
    subject: Subject
    assessment: MistreatmentAssessment | None  # the current assessment that covers them, if any


@dataclass(frozen=True, slots=True)
class MessageAssessments:
    """For one outgoing message: whom the pack requires an assessment for, and who still needs one."""

    message: Message
    state: str
    persons: tuple[PersonStatus, ...]
    factors: tuple[RiskFactor, ...]
    validity_days: int

    @property
    def pending(self) -> tuple[PersonStatus, ...]:
        return tuple(p for p in self.persons if p.assessment is None)


def record_assessment(node: Node, officer: Officer, draft: AssessmentDraft) -> Recorded:
    _require(officer, ASSESSORS, "mistreatment-risk assessments are recorded by a legal officer or the deputy head")
    pack = _pack(node)
    rules = pack.manifest.screens.mistreatment
    _check_factors(draft, rules)
    now = datetime.now(UTC)
    if draft.assessed_on > now.date():
        raise InvalidInput(
            _("assessed_on {assessed_on} is in the future; an assessment is recorded once made").format(
                assessed_on=draft.assessed_on
            )
        )
    until = valid_until(draft.assessed_on, rules.validity_days)
    if until <= now.date():
        raise InvalidInput(
            _(
                "an assessment made on {assessed_on} expired on {until} (the pack's period is "
                "{validity_days} days); make a new one"
            ).format(assessed_on=draft.assessed_on, until=until, validity_days=rules.validity_days)
        )
    assessment = MistreatmentAssessment(
        **draft.model_dump(),
        id=str(uuid7()),
        party=node.party.value,
        assessor=officer.username,
        recorded_at=now,
        valid_until=until,
        pack=pack.label,
    )
    with node.engine.begin() as conn:
        _require_case(conn, draft.case_id)
        store_assessment(conn, assessment)
        append_event(
            conn,
            EventType.ASSESSMENT_RECORDED,
            officer.id,
            {
                "assessment": assessment.id,
                "case": assessment.case_id,
                "conclusion": assessment.conclusion.value,
                "valid_until": until.isoformat(),
            },
            canonical_json(assessment.model_dump(mode="json")),
            now,
        )
        redecided = redecide_held(node, conn, case_id=draft.case_id)
    node.outbox_signal.set()
    return Recorded(assessment, redecided)


def list_assessments(node: Node, officer: Officer, case_id: str | None = None) -> tuple[MistreatmentAssessment, ...]:
    _require(officer, READERS, "assessments are read by legal officers, the deputy head and oversight")
    with node.engine.connect() as conn:
        return recorded_assessments(conn, case_id)


def message_assessments(node: Node, officer: Officer, message_id: str, today: date | None = None) -> MessageAssessments:
    """Who an outgoing message names that the pack requires an assessment for, and which are still missing one."""
    _require(officer, READERS, "assessments are read by legal officers, the deputy head and oversight")
    rules = _pack(node).manifest.screens.mistreatment
    day = today or datetime.now(UTC).date()
    with node.engine.connect() as conn:
        row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
        if row is None or row.direction != Direction.OUTGOING.value:
            raise NotFound(_("no outgoing message {message_id}").format(message_id=message_id))
        message = Message.model_validate_json(row.content)
        current = [a for a in recorded_assessments(conn, message.case_id) if a.valid_on(day)]
    persons = tuple(
        PersonStatus(
            person_label(p.name, p.aliases, p.identifiers),
            p,
            next((a for a in reversed(current) if _covers(a, p)), None),
        )
        for p in persons_needing_assessment(message, rules)
    )
    return MessageAssessments(message, row.state, persons, rules.factors, rules.validity_days)


def _covers(assessment: MistreatmentAssessment, subject: Subject) -> bool:
    return any(covers(p.name, p.aliases, p.date_of_birth, p.identifiers, subject) for p in assessment.persons)


def _check_factors(draft: AssessmentDraft, rules: MistreatmentRules) -> None:
    """Every factor the pack lists is rated, and no other (Directions s.1(3): the basis is documented)."""
    given = {f.factor for f in draft.factors}
    if missing := [f for f in rules.factor_ids if f not in given]:
        raise InvalidInput(_("every factor of the pack must be rated; missing: {join}").format(join=", ".join(missing)))
    if unknown := sorted(given - set(rules.factor_ids)):
        raise InvalidInput(
            _("unknown factor {join}; the pack's factors are {join2}").format(
                join=", ".join(unknown), join2=", ".join(rules.factor_ids)
            )
        )


def _require_case(conn: Connection, case_id: str) -> None:
    found = conn.execute(select(func.count()).select_from(messages).where(messages.c.case_id == case_id)).scalar_one()
    if not found:
        raise UnknownCase(
            _("no case {case_id} at this node; an assessment is recorded for a case its messages name").format(
                case_id=case_id
            )
        )


def _require(officer: Officer, roles: frozenset[Role], why: str) -> None:
    if not roles & officer.roles:
        raise Forbidden(why)


def _pack(node: Node) -> PolicyPack:
    """The pack whose factors and validity period apply: the one the node decides with."""
    pack = node.policy.pack if isinstance(node.policy, CedarPolicy | InstalledPolicy) else None
    if pack is None:
        raise Conflict(_("no usable policy pack is installed on this node; install one with `accord policy install`"))
    return pack
