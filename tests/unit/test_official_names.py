"""Agencies and national markings have official names in French and Hindi: each is shown in the reader's language
where it has one there, in English where it has none (a Canadian institution in Hindi, an Indian one in French);
codes and TLP labels are never translated."""

from __future__ import annotations

import pytest
from jinja2 import Environment
from pydantic import ValidationError

from accord.datafiles import load_agreement, marking_label, national_markings
from accord.domain.parties import Agency, Party, agency_name
from accord.i18n import Language, language_scope
from accord.i18n.templates import install_i18n


def _agency(party: Party, code: str) -> Agency:
    agency = load_agreement().agency(party, code)
    assert agency is not None
    return agency


@pytest.mark.parametrize(
    ("party", "code", "language", "name"),
    [
        (Party.CA, "RCMP", Language.FR, "Gendarmerie royale du Canada"),
        (Party.CA, "CBSA", Language.FR, "Agence des services frontaliers du Canada"),
        (Party.CA, "FINTRAC", Language.FR, "Centre d'analyse des opérations et déclarations financières du Canada"),
        (Party.CA, "RCMP", Language.EN, "Royal Canadian Mounted Police"),
        (Party.IN, "NCB", Language.HI, "स्वापक नियंत्रण ब्यूरो"),
        (Party.IN, "NIA", Language.HI, "राष्ट्रीय अन्वेषण अभिकरण"),
        (Party.IN, "MHA", Language.HI, "गृह मंत्रालय"),
        (Party.IN, "NCB", Language.EN, "Narcotics Control Bureau"),
    ],
)
def test_an_agency_is_named_by_its_official_name_in_each_language(
    party: Party, code: str, language: Language, name: str
) -> None:
    assert agency_name(_agency(party, code), language) == name


def test_where_no_official_form_exists_the_english_name_is_shown() -> None:
    assert agency_name(_agency(Party.CA, "RCMP"), Language.HI) == "Royal Canadian Mounted Police"
    assert agency_name(_agency(Party.IN, "CBI"), Language.FR) == "Central Bureau of Investigation"


def test_every_agency_has_its_official_name_in_its_own_partys_other_language() -> None:
    agreement = load_agreement()
    assert all(a.name_fr and not a.name_hi for a in agreement.agencies if a.party is Party.CA)
    assert all(a.name_hi and not a.name_fr for a in agreement.agencies if a.party is Party.IN)


def test_the_name_follows_the_current_language_and_the_code_never_changes() -> None:
    rcmp = _agency(Party.CA, "RCMP")
    with language_scope(Language.FR):
        assert rcmp.name_in() == "Gendarmerie royale du Canada"
        assert rcmp.short_name_in() == "GRC"
    with language_scope(Language.HI):
        assert rcmp.short_name_in() == "RCMP"
    assert rcmp.code == "RCMP"
    assert _agency(Party.CA, "PS").short_name_in(Language.FR) == "PS"  # no official French short form


def test_a_templates_official_name_global_says_the_agency_in_the_rendered_language() -> None:
    environment = Environment(autoescape=True)
    install_i18n(environment)
    template = environment.from_string("{{ official_name(a) }} ({{ a.code }})")
    with language_scope(Language.HI):
        assert template.render(a=_agency(Party.IN, "CBI")) == "केंद्रीय अन्वेषण ब्यूरो (CBI)"
    with language_scope(Language.FR):
        assert template.render(a=_agency(Party.CA, "CSIS")) == "Service canadien du renseignement de sécurité (CSIS)"


def test_an_official_name_must_be_in_the_script_of_its_language() -> None:
    with pytest.raises(ValidationError, match="Devanagari"):
        Agency(code="X", party=Party.IN, name="X", role="r", name_hi="Grih Mantralaya")
    with pytest.raises(ValidationError, match="Latin"):
        Agency(code="X", party=Party.CA, name="X", role="r", name_fr="गृह")


@pytest.mark.parametrize(
    ("party", "marking", "language", "label"),
    [
        (Party.CA, "Protected B", Language.FR, "Protégé B"),
        (Party.CA, "Top Secret", Language.FR, "Très secret"),
        (Party.CA, "Unclassified", Language.FR, "Non classifié"),
        (Party.CA, "Secret", Language.FR, "Secret"),
        (Party.IN, "Restricted", Language.HI, "प्रतिबंधित"),
        (Party.IN, "Confidential", Language.HI, "गोपनीय"),
        (Party.IN, "Secret", Language.HI, "गुप्त"),
        (Party.IN, "Top Secret", Language.HI, "अति गुप्त"),
        (Party.CA, "Protected B", Language.EN, "Protected B"),
    ],
)
def test_a_marking_is_written_in_its_official_form(party: Party, marking: str, language: Language, label: str) -> None:
    assert marking_label(party, marking, language) == label


def test_a_marking_without_an_official_form_stays_as_given() -> None:
    assert marking_label(Party.CA, "Protected B", Language.HI) == "Protected B"
    assert marking_label(Party.IN, "Secret", Language.FR) == "Secret"
    assert marking_label(Party.IN, "Unclassified", Language.HI) == "Unclassified"
    assert marking_label(Party.CA, "TLP:AMBER", Language.FR) == "TLP:AMBER"  # not a marking: never translated
    assert marking_label(Party.CA, "protected b", Language.FR) == "Protégé B"  # markings match as the agreement's do


def test_the_marking_follows_the_current_language() -> None:
    with language_scope(Language.FR):
        assert marking_label(Party.CA, "Protected A") == "Protégé A"
    with language_scope(Language.HI):
        assert marking_label(Party.IN, "Confidential") == "गोपनीय"


def test_every_marking_with_an_official_form_is_one_the_agreement_maps() -> None:
    mapping = load_agreement().classification_mapping
    for party, named in national_markings().markings.items():
        assert set(named) <= set(mapping[party])
