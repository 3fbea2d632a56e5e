"""Mistreatment risk as a recorded assessment, decided by the shipped packs: who needs one, who an assessment covers
(names normalised and transliterated, dates of birth, identifiers), validity, and what each conclusion does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from accord.datafiles import load_agreement
from accord.domain.assessments import (
    AssessedPerson,
    AssessmentDraft,
    FactorFinding,
    FactorRating,
    MistreatmentAssessment,
    Mitigation,
    RiskConclusion,
    valid_until,
)
from accord.domain.handling import Caveat, CommonLevel, Handling, Tlp
from accord.domain.messages import Address, Identifier, Message, MessageKind, Priority, Subject, SubjectKind
from accord.domain.parties import Party
from accord.policy.cases import load_cases
from accord.policy.engine import CedarPolicy, DisclosureDecision, Verdict
from accord.policy.pack import PackError, load_pack, shipped_pack_dir
from accord.policy.screens import Evidence
from accord.policy.screens.mistreatment import covers

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SINGH = Subject(
    kind=SubjectKind.PERSON,
    name="Harpreet Singh",
    role="suspect",
    date_of_birth="1987-05-14",
    identifiers=(Identifier(scheme="passport", value="P4410982"),),
)


def message(party: Party = Party.CA, *subjects: Subject, **changes: Any) -> Message:
    fields: dict[str, Any] = {
        "id": "m-1",
        "kind": MessageKind.REQUEST,
        "case_id": "case-1",
        "sender": Address(party=party, agency="RCMP" if party is Party.CA else "NCB", officer="officer"),
        "recipient": Address(party=party.other, agency="NCB" if party is Party.CA else "RCMP"),
        "focus_area": "drugs",
        "priority": Priority.ROUTINE,
        "created_at": NOW,
        "deadline": None,
        "handling": Handling(
            classification="Protected B" if party is Party.CA else "Restricted",
            level=CommonLevel.RESTRICTED,
            tlp=Tlp.AMBER,
            caveats=(Caveat.H0, Caveat.H2),
        ),
        "legal_basis": "Privacy Act s.8(2)(f); arrangement" if party is Party.CA else "DPDP Act s.17; arrangement",
        "title": "Whereabouts",
        "body": "Can your office confirm where he is now living?",
        "subjects": subjects,
        "offence": "06012",
    }
    return Message.model_validate(fields | changes)


def recorded(
    conclusion: RiskConclusion = RiskConclusion.NO_SUBSTANTIAL_RISK,
    *,
    persons: tuple[AssessedPerson, ...] = (AssessedPerson.of(SINGH),),
    made: date = NOW.date() - timedelta(days=10),
    case_id: str = "case-1",
    mitigation: Mitigation = Mitigation(),
    validity_days: int = 180,
) -> MistreatmentAssessment:
    return MistreatmentAssessment(
        id=f"a-{conclusion.value}-{made}",
        case_id=case_id,
        persons=persons,
        factors=(FactorFinding(factor="country_record", rating=FactorRating.MODERATE),),
        conclusion=conclusion,
        rationale="Location only; the unit's record is adequate.",
        assessed_on=made,
        mitigation=mitigation,
        party="CA",
        assessor="ca.legal",
        recorded_at=datetime.combine(made, datetime.min.time(), UTC),
        valid_until=valid_until(made, validity_days),
        pack="test",
    )


def decide(msg: Message, *assessments: MistreatmentAssessment) -> DisclosureDecision:
    pack = load_pack(shipped_pack_dir(msg.sender.party))
    return CedarPolicy(pack, load_agreement()).decide(msg, None, Evidence(assessments=assessments, at=NOW))


def ids(decision: DisclosureDecision) -> set[str]:
    return {p.id for p in decision.policies}


def test_a_named_suspect_in_a_drug_case_without_an_assessment_is_held_behind_a_gate_naming_person_and_case() -> None:
    decision = decide(message(Party.CA, SINGH))
    assert decision.verdict is Verdict.REVIEW and ids(decision) == {"ca-acmfea-assessment-required"}
    [gate] = decision.gates
    assert gate.remedy is not None and "for Harpreet Singh in case case-1" in gate.remedy
    assert "Avoiding Complicity in Mistreatment by Foreign Entities Act" in gate.citation
    assert decision.findings["mistreatment_assessment"]["without_assessment"] == ["Harpreet Singh"]


def test_an_assessment_of_no_substantial_risk_lets_it_leave_and_is_reused_within_its_period() -> None:
    assert decide(message(Party.CA, SINGH), recorded()).verdict is Verdict.ALLOW
    five_months = recorded(made=NOW.date() - timedelta(days=179))
    follow_up = message(Party.CA, SINGH, id="m-2", title="Follow-up")
    assert decide(follow_up, five_months).verdict is Verdict.ALLOW


def test_an_expired_assessment_or_one_of_another_case_does_not_count() -> None:
    expired = recorded(made=NOW.date() - timedelta(days=181))
    held = decide(message(Party.CA, SINGH), expired)
    assert held.verdict is Verdict.REVIEW and ids(held) == {"ca-acmfea-assessment-required"}
    assert held.findings["mistreatment_assessment"]["expired"] == [expired.id]
    elsewhere = decide(message(Party.CA, SINGH), recorded(case_id="case-2"))
    assert ids(elsewhere) == {"ca-acmfea-assessment-required"}


def test_not_mitigable_refuses_and_mitigable_needs_the_deputy_head_with_its_measures() -> None:
    refused = decide(message(Party.CA, SINGH), recorded(RiskConclusion.NOT_MITIGABLE))
    assert refused.verdict is Verdict.DENY and ids(refused) == {"ca-acmfea-not-mitigable"}

    h1 = Mitigation(caveats=(Caveat.H1,))
    waiting = decide(message(Party.CA, SINGH), recorded(RiskConclusion.MITIGABLE, mitigation=h1))
    assert waiting.verdict is Verdict.REVIEW and waiting.review_level == 2
    assert ids(waiting) == {"ca-acmfea-deputy-head", "ca-acmfea-measures-applied"}
    [gate] = waiting.gates
    assert gate.remedy is not None and "caveat H1" in gate.remedy

    applied = message(Party.CA, SINGH, handling=message().handling.model_copy(update={"caveats": (Caveat.H1,)}))
    with_caveat = decide(applied, recorded(RiskConclusion.MITIGABLE, mitigation=h1))
    assert ids(with_caveat) == {"ca-acmfea-deputy-head"} and with_caveat.review_level == 2 and not with_caveat.gates


def test_the_latest_assessment_of_a_person_supersedes_an_earlier_one() -> None:
    earlier = recorded(RiskConclusion.NOT_MITIGABLE, made=NOW.date() - timedelta(days=30))
    later = recorded(made=NOW.date() - timedelta(days=2))
    assert decide(message(Party.CA, SINGH), earlier, later).verdict is Verdict.ALLOW


def test_every_person_counts_in_canada_and_only_high_risk_profiles_in_india() -> None:
    victim = Subject(kind=SubjectKind.PERSON, name="Priya Sharma", role="victim")
    assert ids(decide(message(Party.CA, victim))) == {"ca-acmfea-assessment-required"}

    drug_suspect = message(Party.IN, SINGH)
    assert decide(drug_suspect).verdict is Verdict.ALLOW, "drug trafficking is not among India's high-risk offences"
    extortion = {"focus_area": "networks", "offence": "02051"}
    assert ids(decide(message(Party.IN, SINGH, **extortion))) == {"in-mistreatment-assessment-required"}
    no_role = SINGH.model_copy(update={"role": None})
    assert ids(decide(message(Party.IN, no_role, **extortion))) == {"in-mistreatment-assessment-required"}
    for role in ("witness", "victim"):
        named = Subject.model_validate(SINGH.model_dump() | {"role": role})
        assert decide(message(Party.IN, named, **extortion)).verdict is Verdict.ALLOW, role


@pytest.mark.parametrize(
    ("assessed", "covered"),
    [
        ({"name": "SINGH, Harpreet"}, True),
        ({"name": "harpreet  singh", "date_of_birth": "1987"}, True),
        ({"name": "ਹਰਪ੍ਰੀਤ ਸਿੰਘ"}, True),
        ({"name": "हरप्रीत सिंह", "date_of_birth": "1987-05"}, True),
        ({"name": "H. P. Sandhu", "identifiers": [{"scheme": "Passport", "value": "p441-0982"}]}, True),
        ({"aliases": ["Harpreet Singh"]}, True),
        ({"name": "Harpreet Singh", "date_of_birth": "1990-01-01"}, False),
        ({"name": "Harpreet Singh", "identifiers": [{"scheme": "passport", "value": "P0000001"}]}, False),
        ({"name": "Harjeet Singh"}, False),
        ({"name": "Harpreet"}, False),
    ],
)
def test_who_an_assessment_covers(assessed: dict[str, Any], covered: bool) -> None:
    person = AssessedPerson.model_validate(assessed)
    assert covers(person.name, person.aliases, person.date_of_birth, person.identifiers, SINGH) is covered


def test_an_assessment_is_coherent_or_refused() -> None:
    base: dict[str, Any] = {
        "case_id": "case-1",
        "persons": [{"name": "Harpreet Singh"}],
        "factors": [{"factor": "country_record", "rating": "high"}],
        "conclusion": "substantial_risk_mitigable",
        "rationale": "Detention likely; caveats mitigate.",
        "assessed_on": "2026-11-20",
        "mitigation": {"caveats": ["H2"]},
    }
    AssessmentDraft.model_validate(base)
    with pytest.raises(ValidationError, match="mitigation measures"):
        AssessmentDraft.model_validate(base | {"mitigation": {}})
    with pytest.raises(ValidationError, match="repeated: country_record"):
        AssessmentDraft.model_validate(base | {"factors": base["factors"] * 2})
    with pytest.raises(ValidationError, match="rating"):
        AssessmentDraft.model_validate(base | {"factors": [{"factor": "country_record", "rating": "severe"}]})
    with pytest.raises(ValidationError, match="name, an alias or an identifier"):
        AssessmentDraft.model_validate(base | {"persons": [{"date_of_birth": "1980"}]})


def test_a_review_annotation_names_who_decides(tmp_path: Path) -> None:
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(shipped_pack_dir(Party.CA), pack)
    cedar = pack / "policies.cedar"
    cedar.write_text(cedar.read_text("utf-8").replace('@review("deputy_head")', '@review("minister")', 1), "utf-8")
    with pytest.raises(PackError, match="@review names who decides"):
        load_pack(pack)


@pytest.mark.parametrize("party", [Party.CA, Party.IN])
def test_each_pack_has_at_least_20_mistreatment_cases(party: Party) -> None:
    table = load_cases(shipped_pack_dir(party) / "cases.yaml")
    assert table.families()["mistreatment"] >= 20
