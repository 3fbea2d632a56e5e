"""The death-penalty gate and the offence screen on the shipped packs, on the failures the legal review found: a
murder suspect with the offence left empty, an offence spelled differently with "repeat offender" in the body, a
life-saving kidnapping alert refused as out of scope, and the rule firing on a named victim."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from accord.datafiles import load_agreement
from accord.domain.drafts import MessageDraft
from accord.domain.handling import Handling
from accord.domain.messages import Address, Assurance, AssuranceKind, Message, Subject
from accord.domain.parties import Party
from accord.policy.engine import CedarPolicy, DisclosureDecision, Verdict
from accord.policy.pack import load_pack, shipped_pack_dir
from tests.assessed import assessed

GATE = "ca-death-penalty-assurance"
ASSURANCE = Assurance(
    kind=AssuranceKind.NO_DEATH_PENALTY,
    reference="Note verbale No. T-413/2026",
    issued_on=date(2026, 11, 2),
    issuing_authority="Ministry of External Affairs, Government of India",
)


def person(role: str | None, name: str = "R. Example") -> dict[str, Any]:
    return {"kind": "person", "name": name} | ({"role": role} if role else {})


def decide(party: Party = Party.CA, **changes: Any) -> DisclosureDecision:
    agreement = load_agreement()
    other = party.other
    fields: dict[str, Any] = {
        "id": "m-1",
        "kind": "request",
        "case_id": "c-1",
        "sender": Address(party=party, agency="RCMP" if party is Party.CA else "NCB", officer="officer"),
        "recipient": Address(party=other, agency="CBI" if other is Party.IN else "RCMP"),
        "focus_area": "networks",
        "priority": "routine",
        "created_at": datetime.now(UTC),
        "deadline": None,
        "handling": Handling(
            classification="Protected B" if party is Party.CA else "Restricted",
            level=agreement.common_level(party, "Protected B" if party is Party.CA else "Restricted"),
            tlp="AMBER",
        ),
        "legal_basis": "Privacy Act s.8(2)(f); arrangement" if party is Party.CA else "DPDP s.17(1)(c); arrangement",
        "title": "Request for whereabouts",
        "body": "Please confirm the current address.",
        "offence": "0101",
    } | changes
    message = Message.model_validate(fields)
    return CedarPolicy(load_pack(shipped_pack_dir(party)), agreement).decide(message, None, assessed(message))


def ids(decision: DisclosureDecision) -> set[str]:
    return {p.id for p in decision.policies}


def test_a_murder_suspect_with_the_offence_left_empty_is_refused_and_the_murder_in_the_text_still_counts() -> None:
    decision = decide(
        offence=None, subjects=[person("suspect")], body="Locate R. Example, wanted for a murder in Surrey."
    )
    assert decision.verdict is Verdict.DENY
    assert ids(decision) == {"ca-offence-required", GATE}
    assert any("Privacy Act" in p.citation for p in decision.policies if p.id == "ca-offence-required")


@pytest.mark.parametrize(
    "body",
    [
        "drug_trafficking: the courier is a repeat offender.",
        "Le suspect est un récidiviste, déjà condamné en 2018.",
        "ਮੁਲਜ਼ਮ ਪਹਿਲਾਂ ਵੀ ਸਜ਼ਾ ਕੱਟ ਚੁੱਕਾ ਹੈ।",
        "आरोपी पहले से सजायाफ्ता है।",
        "Aaropi pehle bhi saza kaat chuka hai.",
    ],
    ids=["english", "french", "punjabi", "hindi", "romanised-hindi"],
)
def test_repeat_drug_trafficking_in_any_language_is_capital_in_india(body: str) -> None:
    first = decide(focus_area="drugs", offence="06012", subjects=[person("suspect")])
    assert GATE not in ids(first), "a first-time trafficker is not capital (NDPS Act s.31A needs a prior conviction)"
    repeat = decide(focus_area="drugs", offence="06012", subjects=[person("suspect")], body=body)
    assert repeat.verdict is Verdict.REVIEW and GATE in ids(repeat)
    [gate] = [p for p in repeat.policies if p.id == GATE]
    assert gate.gate and gate.remedy and "assurance" in gate.remedy
    assert any("31A" in p for p in repeat.findings["capital_offence_in_destination"]["provisions"])


def test_a_life_saving_kidnapping_alert_is_in_scope() -> None:
    alert = decide(kind="alert", priority="immediate", offence="020221", subjects=[person("victim", "V. Example")])
    assert alert.verdict is Verdict.ALLOW, alert.reasons


@pytest.mark.parametrize("role", ["victim", "witness", "other"])
def test_victims_witnesses_and_others_never_trigger_the_gate(role: str) -> None:
    assert GATE not in ids(decide(subjects=[person(role, "V. Example")]))
    assert GATE in ids(decide(subjects=[person(role, "V. Example"), person("accused")]))


def test_a_person_whose_role_is_not_stated_cannot_be_excluded() -> None:
    assert GATE in ids(decide(subjects=[person(None)]))


def test_the_recorded_assurance_lifts_the_gate_and_nothing_else() -> None:
    decision = decide(subjects=[person("suspect")], assurances=[ASSURANCE])
    assert GATE not in ids(decision) and decision.verdict is Verdict.ALLOW
    humane = ASSURANCE.model_copy(update={"kind": AssuranceKind.HUMANE_TREATMENT})
    assert GATE in ids(decide(subjects=[person("suspect")], assurances=[humane]))


def test_an_offence_found_in_the_text_counts_like_a_declared_one() -> None:
    decision = decide(
        focus_area="drugs",
        offence="06012",
        subjects=[person("suspect")],
        body="The courier is also wanted for the हत्या of a rival dealer.",
    )
    assert ids(decision) == {GATE, "ca-offence-text-mismatch"}
    assert "0101 Intentional homicide" in decision.findings["offence_text_mismatch"]


def test_nothing_india_discloses_is_capital_in_canada() -> None:
    for offence, body in (("0101", "murder"), ("020221", "kidnapped for ransom"), ("06012", "repeat offender")):
        decision = decide(
            Party.IN,
            focus_area="networks" if offence != "06012" else "drugs",
            offence=offence,
            subjects=[person("suspect")],
            body=body,
        )
        assert decision.findings.get("capital_offence_in_destination") is None
        assert decision.verdict is Verdict.ALLOW, decision.reasons


@pytest.mark.parametrize("old", ["drug_trafficking", "murder", "kidnapping_ransom", "precursor_diversion", "1"])
def test_the_old_internal_codes_are_no_longer_accepted(old: str) -> None:
    with pytest.raises(ValidationError, match="offence"):
        MessageDraft.model_validate(
            {
                "recipient_agency": "NCB",
                "focus_area": "drugs",
                "handling": {"classification": "Protected B"},
                "title": "t",
                "body": "b",
                "offence": old,
            }
        )


@pytest.mark.parametrize("role", ["detainee", "associate", "broker", "Suspect "])
def test_a_role_outside_the_vocabulary_is_refused(role: str) -> None:
    with pytest.raises(ValidationError, match="role"):
        Subject.model_validate(person(role))
