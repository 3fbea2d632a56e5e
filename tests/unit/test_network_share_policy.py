"""A network share's persons before Canada's pack, as analysts leave them: a victim or a witness is no one the
receiving state would sentence; a person whose role is left empty cannot be excluded and needs the assurance."""

from __future__ import annotations

from typing import Any

import pytest

from accord.domain.parties import Party
from tests.unit.test_neutrality import decide, held_by

PERSON = {"id": "p1", "schema": "Person", "properties": {"name": ["ਹਰਪ੍ਰੀਤ ਸਿੰਘ"], "birthDate": ["1979-03-14"]}}


def share(role: str | None) -> dict[str, Any]:
    subject: dict[str, Any] = {"kind": "person", "name": "ਹਰਪ੍ਰੀਤ ਸਿੰਘ", "date_of_birth": "1979-03-14"}
    if role is not None:
        subject["role"] = role
    return {
        "kind": "share",
        "focus_area": "networks",
        "offence": "0101",
        "recipient_agency": "CBI",
        "title": "Le réseau derrière l'homicide de Surrey",
        "body": "Les membres du réseau et leurs liens.",
        "subjects": [subject],
        "network": {"entities": [PERSON]},
    }


@pytest.mark.parametrize("role", ["victim", "witness"])
def test_a_victim_or_witness_in_a_shared_network_needs_no_death_penalty_assurance(role: str) -> None:
    assert "death-penalty-assurance" not in held_by(decide(Party.CA, **share(role)))


@pytest.mark.parametrize("role", [None, "suspect"])
def test_a_person_with_no_role_or_a_suspect_in_a_shared_network_is_held_for_the_assurance(role: str | None) -> None:
    assert "death-penalty-assurance" in held_by(decide(Party.CA, **share(role)))
