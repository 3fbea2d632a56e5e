"""The agreement and agency data files load, validate and answer the rules the exchange relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from accord.datafiles import load_agreement, load_sample_officers
from accord.domain.agreement import Agreement
from accord.domain.handling import CommonLevel
from accord.domain.messages import Priority
from accord.domain.parties import Party


def test_agreement_names_the_five_focus_areas_and_both_parties_agencies() -> None:
    agreement = load_agreement()
    assert [a.code for a in agreement.focus_areas] == ["drugs", "networks", "cyber", "fraud", "immigration"]
    for party, codes in {
        Party.CA: {"RCMP", "CBSA", "IRCC", "CSIS", "CCCS"},
        Party.IN: {"NCB", "NIA", "CBI", "CERT-In", "I4C", "BOI"},
    }.items():
        assert codes <= {a.code for a in agreement.agencies if a.party is party}


def test_national_markings_map_to_the_common_ladder_case_insensitively() -> None:
    agreement = load_agreement()
    assert agreement.common_level(Party.CA, "protected b") is CommonLevel.RESTRICTED
    assert agreement.common_level(Party.IN, "Restricted") is CommonLevel.RESTRICTED
    assert agreement.common_level(Party.IN, "Protected B") is None
    assert agreement.channel_ceiling.rank < CommonLevel.TOP_SECRET.rank


def test_deadline_follows_the_response_target_of_the_priority() -> None:
    agreement = load_agreement()
    sent = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    urgent = agreement.deadline_for(Priority.URGENT, sent)
    immediate = agreement.deadline_for(Priority.IMMEDIATE, sent)
    assert immediate < urgent < agreement.deadline_for(Priority.ROUTINE, sent)
    assert urgent - sent == timedelta(hours=agreement.response_targets[Priority.URGENT].respond_hours)


def test_an_agreement_missing_a_priority_target_is_refused() -> None:
    raw = load_agreement().model_dump(mode="json")
    del raw["response_targets"]["urgent"]
    with pytest.raises(ValidationError, match="response_targets lacks"):
        Agreement.model_validate(raw)


def test_sample_officers_are_marked_and_belong_to_known_agencies() -> None:
    for party in Party:
        officers = load_sample_officers(party)
        assert officers
        assert all(o.name.startswith("SAMPLE") for o in officers)
