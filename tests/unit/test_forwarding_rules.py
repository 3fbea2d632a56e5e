"""The pure rules of onward disclosure: handling carried from one message into another (the stricter wins), the
caveats' words, and which named readers of a TLP:RED message the policy screens count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.datafiles import load_agreement
from accord.domain.caveats import CaveatTexts
from accord.domain.forwarding import TLP_ORDER, inherit_handling, stricter_tlp
from accord.domain.handling import Caveat, CommonLevel, Handling, Tlp
from accord.domain.messages import Address, Message, MessageKind, Priority
from accord.domain.parties import Party
from accord.forwarding.texts import caveat_texts
from accord.policy.screens.handling import screen_handling

caveat_sets = st.lists(st.sampled_from(list(Caveat)), unique=True).map(tuple)


def handling(tlp: Tlp, caveats: tuple[Caveat, ...] = (), restrictions: str | None = None) -> Handling:
    return Handling(
        classification="Protected B",
        level=CommonLevel.RESTRICTED,
        tlp=tlp,
        caveats=caveats,
        restrictions=restrictions,
    )


@given(st.sampled_from(list(Tlp)), st.sampled_from(list(Tlp)), caveat_sets, caveat_sets)
def test_a_message_made_from_another_never_loses_a_caveat_or_weakens_the_tlp(
    own_tlp: Tlp, source_tlp: Tlp, own: tuple[Caveat, ...], source: tuple[Caveat, ...]
) -> None:
    made = inherit_handling(handling(own_tlp, own), handling(source_tlp, source))
    assert set(made.caveats) == set(own) | set(source)
    assert TLP_ORDER.index(made.tlp) == max(TLP_ORDER.index(own_tlp), TLP_ORDER.index(source_tlp))
    assert len(made.caveats) == len(set(made.caveats))


def test_the_originators_restriction_travels_beside_ones_own() -> None:
    made = inherit_handling(
        handling(Tlp.GREEN, (Caveat.H0,), "For the port only"),
        handling(Tlp.AMBER, (Caveat.H3,), "Not to customs brokers"),
    )
    assert made.restrictions == "For the port only; Not to customs brokers"
    assert (made.tlp, made.caveats) == (Tlp.AMBER, (Caveat.H0, Caveat.H3))
    assert stricter_tlp(Tlp.RED, Tlp.CLEAR) is Tlp.RED


def test_every_handling_code_has_its_words_and_they_are_read_out_in_code_order() -> None:
    texts = caveat_texts()
    assert texts.describe((Caveat.H2, Caveat.H0)) == (texts.caveats[Caveat.H0].text, texts.caveats[Caveat.H2].text)
    assert "no onward dissemination" in texts.caveats[Caveat.H2].text
    incomplete = {"caveats": {c.value: {"text": c.value, "forward": "allowed"} for c in Caveat if c is not Caveat.H3}}
    with pytest.raises(ValueError, match="missing: H3"):
        CaveatTexts.model_validate(incomplete)


def _message(tlp: Tlp, named: tuple[str, ...], officer: str | None) -> Message:
    return Message(
        id="m",
        kind=MessageKind.SHARE,
        case_id="c",
        sender=Address(party=Party.CA, agency="CCCS", officer="ca.cccs"),
        recipient=Address(party=Party.IN, agency="CERT-In", officer=officer),
        focus_area="cyber",
        priority=Priority.ROUTINE,
        created_at=datetime.now(UTC),
        deadline=None,
        handling=handling(tlp).model_copy(update={"named_recipients": named}),
        title="t",
        body="b",
    )


@pytest.mark.parametrize(
    ("named", "officer", "counted"),
    [
        (("in.certin",), None, True),  # a share to a centre names its analysts, addresses none of them
        (("in.certin", "in.certin.red"), "in.certin", True),
        ((), "in.certin", True),
        (("in.certin",), "in.ncb", False),  # the addressed officer is not among the named
        ((), None, False),
    ],
)
def test_tlp_red_counts_as_named_when_it_names_its_readers(
    named: tuple[str, ...], officer: str | None, counted: bool
) -> None:
    screened = screen_handling(_message(Tlp.RED, named, officer), load_agreement())
    assert screened.attributes["recipient_named"] is counted
    assert screened.findings["tlp_red_without_named_recipient"] is not counted
