"""What a reviewer reads and changes: the screens' findings as sentences with their values, and the conditions that
redact a held message (a field, a subject, an attachment), with their refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from accord.domain.handling import Caveat, CommonLevel, Handling, Tlp
from accord.domain.messages import (
    Address,
    Assurance,
    AssuranceKind,
    AttachmentRef,
    Message,
    MessageKind,
    Priority,
    Subject,
)
from accord.domain.parties import Party
from accord.errors import InvalidInput
from accord.exchange.redaction import ReviewConditions, apply_conditions, removed_by
from accord.policy.findings import describe_findings

SHA = "a" * 64
SUSPECT = {"kind": "person", "name": "H. Example", "role": "suspect", "date_of_birth": "1988"}
VICTIM = {"kind": "person", "name": "V. Victim", "role": "victim", "identifiers": [{"scheme": "phone", "value": "1"}]}
ASSURANCE = Assurance(
    kind=AssuranceKind.NO_DEATH_PENALTY,
    reference="Note verbale 2026/114",
    issued_on=date(2026, 10, 2),
    issuing_authority="Ministry of External Affairs, Government of India",
)


def held_message() -> Message:
    return Message.model_validate(
        {
            "id": "01a20000-0000-7000-8000-000000000001",
            "kind": MessageKind.REQUEST,
            "case_id": "01a20000-0000-7000-8000-000000000002",
            "sender": Address(party=Party.CA, agency="RCMP", officer="ca.rcmp"),
            "recipient": Address(party=Party.IN, agency="NIA"),
            "focus_area": "networks",
            "priority": Priority.URGENT,
            "created_at": datetime(2026, 11, 1, tzinfo=UTC),
            "deadline": None,
            "handling": Handling(
                classification="Protected B", level=CommonLevel.RESTRICTED, tlp=Tlp.AMBER, caveats=(Caveat.H2,)
            ),
            "title": "Locate a suspect",
            "body": "Please locate him.",
            "subjects": (
                Subject.model_validate(
                    {"kind": "person", "name": "H. Example", "role": "suspect", "date_of_birth": "1988"}
                ),
                Subject.model_validate(
                    {
                        "kind": "person",
                        "name": "V. Victim",
                        "role": "victim",
                        "identifiers": [{"scheme": "phone", "value": "1"}],
                    }
                ),
            ),
            "attachments": (AttachmentRef(sha256=SHA, name="list.csv", media_type="text/csv", size=10),),
        }
    )


def test_findings_are_sentences_with_their_values_not_key_names() -> None:
    sentences = describe_findings(
        {
            "mistreatment_assessment": {
                "persons": ["H. Example"],
                "without_assessment": ["H. Example"],
                "assessments": [],
            },
            "personal_data": {"persons": 2, "identifier_schemes": ["passport", "phone"]},
            "sensitive_terms": ["gurdwara"],
            "capital_offence_in_destination": {
                "provisions": ["Bharatiya Nyaya Sanhita, 2023 s.103 (murder)"],
                "suspects": ["subjects[0] H. Example (suspect)"],
            },
            "offence": {"category": "fraud", "in_scope": False},
            "minimisation": ["subjects[1].identifiers (victim)"],
            "tlp_red_without_named_recipient": False,
            "a_new_screen": {"matched": ["x", "y"], "count": 2},
        },
        held_message(),
    )
    assert sentences == [
        "No valid mistreatment-risk assessment is recorded for H. Example in this case.",
        "It names 2 persons and carries passport and phone identifiers.",
        "The text mentions “gurdwara”, which touch protected matters.",
        "Death is a possible sentence in the receiving state under Bharatiya Nyaya Sanhita, 2023 s.103 (murder), and "
        "the message names H. Example (suspect).",
        "The declared offence is fraud, outside the focus area's scope.",
        "More personal data than the purpose needs: the identifiers of V. Victim (victim).",
        "A new screen: matched x and y; count 2.",
    ]
    assert not any("score" in s or "threshold," in s or "because:" in s for s in sentences)


def test_conditions_redact_a_field_a_subject_and_an_attachment_and_record_an_assurance() -> None:
    message = held_message()
    conditions = ReviewConditions(
        remove_fields=("subjects[0].date_of_birth",),
        remove_subjects=(1,),
        remove_attachments=(SHA,),
        add_caveats=(Caveat.H1,),
        assurance=ASSURANCE,
    )
    leaving = apply_conditions(message, conditions)
    assert [s.name for s in leaving.subjects] == ["H. Example"]
    assert leaving.subjects[0].date_of_birth is None
    assert leaving.attachments == ()
    assert leaving.handling.caveats == (Caveat.H2, Caveat.H1)
    assert leaving.assurances == (ASSURANCE,)
    assert apply_conditions(leaving, ReviewConditions(assurance=ASSURANCE)).assurances == (ASSURANCE,)
    assert removed_by(message, conditions) == [
        "the whole of V. Victim (person, victim)",
        "the date of birth of H. Example (person, suspect)",
        "attachment list.csv",
    ]


@pytest.mark.parametrize(
    ("conditions", "says"),
    [
        (ReviewConditions(remove_subjects=(2,)), "the message has 2 subjects"),
        (ReviewConditions(remove_fields=("subjects[5].role",)), "the message has 2 subjects"),
        (ReviewConditions(remove_fields=("subjects[0].password",)), "fields are removed as subjects"),
        (ReviewConditions(remove_fields=("subjects[x].role",)), "N must be a number"),
        (ReviewConditions(remove_attachments=("b" * 64,)), "carries no attachment"),
    ],
)
def test_conditions_that_do_not_fit_the_message_are_refused(conditions: ReviewConditions, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        apply_conditions(held_message(), conditions)


def test_an_assurance_dated_in_the_future_is_not_recorded() -> None:
    with pytest.raises(ValidationError, match="dated in the future"):
        ReviewConditions(assurance=ASSURANCE.model_copy(update={"issued_on": date(2999, 1, 1)}))
