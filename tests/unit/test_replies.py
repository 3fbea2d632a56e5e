"""What an answer takes from the message it answers: its title once, and handling never looser."""

from __future__ import annotations

from accord.datafiles import load_agreement
from accord.domain.drafts import HandlingDraft
from accord.domain.handling import Caveat, CommonLevel, Handling, Tlp
from accord.domain.parties import Party
from accord.domain.replies import answer_start, reply_title, weakenings, with_original_codes

PROTECTED_B = Handling(
    classification="Protected B",
    level=CommonLevel.RESTRICTED,
    tlp=Tlp.AMBER,
    caveats=(Caveat.H0, Caveat.H3),
    restrictions="not for the media",
)


def test_an_answer_s_title_says_re_once() -> None:
    assert reply_title("Consignee of a 4-AP shipment") == "Re: Consignee of a 4-AP shipment"
    assert reply_title("Re: Consignee") == "Re: Consignee"
    assert reply_title("RÉ : Destinataire") == "RÉ : Destinataire"
    assert reply_title("Re-export of a consignment") == "Re: Re-export of a consignment"
    assert len(reply_title("x" * 400)) == 300


def test_india_answers_a_protected_b_request_at_restricted_with_its_codes_and_no_looser_choice() -> None:
    india = load_agreement().classification_mapping[Party.IN]
    start = answer_start("Consignee", PROTECTED_B, india, answered_officer="ca.rcmp")
    assert (start.handling.classification, start.handling.tlp) == ("Restricted", Tlp.AMBER)
    assert start.handling.caveats == (Caveat.H0, Caveat.H3) and start.handling.restrictions == "not for the media"
    assert "Unclassified" not in start.markings and "Restricted" in start.markings
    assert start.tlps == (Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)


def test_a_lower_level_or_looser_tlp_is_named_as_weaker_and_a_stricter_one_is_not() -> None:
    looser = HandlingDraft(classification="Unclassified", tlp=Tlp.GREEN)
    found = weakenings(looser, CommonLevel.UNCLASSIFIED, PROTECTED_B)
    assert [w.aspect for w in found] == ["classification", "tlp"]
    stricter = HandlingDraft(classification="Confidential", tlp=Tlp.RED)
    assert weakenings(stricter, CommonLevel.CONFIDENTIAL, PROTECTED_B) == []


def test_a_tlp_red_answer_naming_no_one_is_for_the_officer_who_asked() -> None:
    red = with_original_codes(
        HandlingDraft(classification="Secret", tlp=Tlp.RED), PROTECTED_B, answered_officer="ca.rcmp"
    )
    assert red.named_recipients == ("ca.rcmp",)
    assert red.caveats == (Caveat.H0, Caveat.H3)
