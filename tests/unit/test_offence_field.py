"""An offence written out in words is answered with how to find its code, not with a regular expression."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from accord.domain.drafts import MessageDraft

BASE = {
    "kind": "request",
    "recipient_agency": "NCB",
    "focus_area": "drugs",
    "priority": "routine",
    "handling": {"classification": "Protected B", "tlp": "AMBER"},
    "title": "Whereabouts",
    "body": "Please confirm the address.",
}


@pytest.mark.parametrize("written", ["murder", "drug_trafficking", "homicide volontaire", "हत्या", "0101 murder"])
def test_an_offence_in_words_is_told_to_give_its_code_and_where_to_find_it(written: str) -> None:
    with pytest.raises(ValidationError) as raised:
        MessageDraft.model_validate(BASE | {"offence": written})
    said = str(raised.value)
    assert "is not an offence code" in said and "GET /api/v1/offences?q=" in said
    assert "should match pattern" not in said


def test_an_offence_code_is_taken_as_it_is() -> None:
    assert MessageDraft.model_validate(BASE | {"offence": "020221"}).offence == "020221"
