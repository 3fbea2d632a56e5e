"""A disclosure decision is a legal record: its reasons, remedies and findings are stored, signed into the ledger and
sent in English whatever language the officer works in. Shown to the officer, the same decision is explained in the
officer's language: the engine's reasons, the pack's @remedy (with the screens' values kept) and the findings are
translated; a policy's citation is the law's own words and stays verbatim."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import NullTranslations, Translations

from accord.datafiles import load_agreement
from accord.domain.handling import CommonLevel, Handling
from accord.domain.messages import Address, Message
from accord.domain.parties import Party
from accord.i18n import Language, catalogue, language_scope
from accord.policy.engine import BECAUSE_WITH_REMEDY, NO_PERMIT, CedarPolicy, DisclosureDecision, PolicyHit, Verdict
from accord.policy.findings import describe_findings
from accord.policy.installed import shown_decision
from accord.policy.pack import PolicyPack, load_pack, shipped_pack_dir

ASSESSMENT_GATE = "ca-acmfea-assessment-required"
ASSESSMENT_REMEDY = (
    "record a mistreatment-risk assessment for {persons_without_assessment} in case {case} (accord assessment "
    "record, POST /api/v1/assessments, or Assess in the review queue)"
)
H3_REMEDY = "state the restriction the H3 code stands for"
MEASURES_REMEDY = "apply the assessment's mitigation measures to the message: {missing_measures}"
ASSESSMENT_REMEDY_FR = (
    "consigner une évaluation du risque de mauvais traitements pour {persons_without_assessment} dans le dossier "
    "{case} (accord assessment record, POST /api/v1/assessments, ou Évaluer dans la file d'examen)"
)
FRENCH: Mapping[str | tuple[str, str], str] = {
    BECAUSE_WITH_REMEDY: "{policy} : {citation} (pour la rendre licite : {remedy})",
    ASSESSMENT_REMEDY: ASSESSMENT_REMEDY_FR,
    H3_REMEDY: "énoncer la restriction que représente le code H3",
    MEASURES_REMEDY: "appliquer au message les mesures d'atténuation de l'évaluation : {missing_measures}",
    "caveat {caveat}": "la mise en garde {caveat}",
    NO_PERMIT["disclosure"]: "aucune politique du paquet ne permet cette communication (refus par défaut)",
    "No valid mistreatment-risk assessment is recorded for {persons} in this case.": (
        "Aucune évaluation valide du risque de mauvais traitements n'est consignée pour {persons} dans ce dossier."
    ),
    "It is TLP:RED but the recipient officer is not named.": (
        "Elle est TLP:RED mais l'agent destinataire n'est pas nommé."
    ),
}


@pytest.fixture
def french(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A small French catalogue in place of the shipped one (whose contents the translators change)."""
    built = Catalog(locale="fr_CA", domain="accord")
    for msgid, msgstr in FRENCH.items():
        built.add(msgid, msgstr)
    compiled = BytesIO()
    write_mo(compiled, built)
    compiled.seek(0)
    translations = Translations(compiled, domain="accord")
    monkeypatch.setattr(
        catalogue, "translations", lambda language: translations if language is Language.FR else NullTranslations()
    )
    yield


def _pack() -> PolicyPack:
    return load_pack(shipped_pack_dir(Party.CA))


def _decide(**changes: Any) -> DisclosureDecision:
    agreement = load_agreement()
    fields: dict[str, Any] = {
        "id": "m-1",
        "kind": "request",
        "case_id": "c-1",
        "sender": Address(party=Party.CA, agency="RCMP", officer="officer"),
        "recipient": Address(party=Party.IN, agency="CBI"),
        "focus_area": "networks",
        "priority": "routine",
        "created_at": datetime(2026, 11, 2, tzinfo=UTC),
        "deadline": None,
        "handling": Handling(classification="Protected B", level=CommonLevel.RESTRICTED),
        "legal_basis": "Privacy Act s.8(2)(f); arrangement",
        "title": "Request for whereabouts",
        "body": "Please confirm the current address.",
        "offence": "0101",
        "subjects": [{"kind": "person", "name": "R. Example", "role": "witness"}],
    } | changes
    return CedarPolicy(_pack(), agreement).decide(Message.model_validate(fields))


def _gate(decision: DisclosureDecision) -> PolicyHit:
    return next(p for p in decision.policies if p.id == ASSESSMENT_GATE)


@pytest.mark.usefixtures("french")
def test_the_stored_reasons_stay_english_when_the_officer_works_in_french() -> None:
    in_english = _decide()
    with language_scope(Language.FR):
        in_french = _decide()
    assert in_french.as_json() == in_english.as_json()
    assert in_french.reasons == in_english.reasons
    assert any(
        "(to make it lawful: record a mistreatment-risk assessment for R. Example in case c-1" in r
        for r in in_french.reasons
    )
    remedy = _gate(in_french).remedy
    assert remedy is not None and remedy.startswith("record a mistreatment-risk assessment")


@pytest.mark.usefixtures("french")
def test_the_explanation_is_in_the_current_language_with_the_citation_verbatim() -> None:
    decision = _decide()
    gate = _gate(decision)
    with language_scope(Language.FR):
        explained = decision.explained()
        remedy = gate.remedy_text()
    assert remedy == (
        "consigner une évaluation du risque de mauvais traitements pour R. Example dans le dossier c-1 (accord "
        "assessment record, POST /api/v1/assessments, ou Évaluer dans la file d'examen)"
    )
    assert f"{ASSESSMENT_GATE} : {gate.citation} (pour la rendre licite : {remedy})" in explained
    assert len(explained) == len(decision.reasons)
    assert decision.explained() == decision.reasons  # in English the explanation is the record itself


@pytest.mark.usefixtures("french")
def test_a_recorded_decision_is_explained_again_from_its_json_and_the_pack() -> None:
    recorded = _decide().as_json()
    with language_scope(Language.FR):
        again = DisclosureDecision.from_json(recorded, _pack())
        assert again.explained() == _decide().explained()
        shown = again.shown()
        without_pack = _gate(DisclosureDecision.from_json(recorded)).remedy_text()
    assert again.as_json() == recorded
    assert shown["policies"][0]["citation"] == recorded["policies"][0]["citation"]
    assert any(p["remedy"] and p["remedy"].startswith("consigner") for p in shown["policies"])
    assert without_pack is not None and without_pack.startswith("record a mistreatment")  # its values need the pack


@pytest.mark.usefixtures("french")
def test_a_remedy_without_values_and_the_engines_own_reasons_are_translated() -> None:
    hit = PolicyHit(
        "ca-caveat-h3-stated", "Europol handling code H3", False, remedy="state the restriction the H3 code stands for"
    )
    denied = DisclosureDecision(Verdict.DENY, (NO_PERMIT["disclosure"], "a reason no catalogue knows"), "p")
    with language_scope(Language.FR):
        assert hit.remedy_text() == "énoncer la restriction que représente le code H3"
        assert denied.explained() == (
            "aucune politique du paquet ne permet cette communication (refus par défaut)",
            "a reason no catalogue knows",
        )
    assert denied.reasons[0] == "no policy of the pack permits this disclosure (deny by default)"


@pytest.mark.usefixtures("french")
def test_findings_are_described_in_the_current_language_and_recorded_in_english() -> None:
    findings = {
        "mistreatment_assessment": {"persons": ["R. Example"], "without_assessment": ["R. Example"]},
        "tlp_red_without_named_recipient": True,
    }
    with language_scope(Language.FR):
        assert describe_findings(findings) == [
            "Aucune évaluation valide du risque de mauvais traitements n'est consignée pour R. Example dans ce "
            "dossier.",
            "Elle est TLP:RED mais l'agent destinataire n'est pas nommé.",
        ]
    assert describe_findings(findings) == [
        "No valid mistreatment-risk assessment is recorded for R. Example in this case.",
        "It is TLP:RED but the recipient officer is not named.",
    ]
    with language_scope(Language.FR):
        recorded = _decide().findings
    assert recorded["mistreatment_assessment"]["without_assessment"] == ["R. Example"]


@pytest.mark.usefixtures("french")
def test_the_screens_own_words_in_a_remedy_are_translated_and_names_kept() -> None:
    hit = PolicyHit(
        "ca-acmfea-measures-applied",
        "Directions s.1(1), (3)",
        True,
        gate=True,
        remedy="apply the assessment's mitigation measures to the message: caveat H2; a no_death_penalty assurance",
        remedy_source=MEASURES_REMEDY,
    )
    with language_scope(Language.FR):
        assert hit.remedy_text() == (
            "appliquer au message les mesures d'atténuation de l'évaluation : la mise en garde H2; "
            "a no_death_penalty assurance"  # no translation in this catalogue: as recorded
        )


@pytest.mark.usefixtures("french")
def test_a_stored_decision_is_shown_with_the_nodes_policy() -> None:
    recorded = _decide().as_json()
    with language_scope(Language.FR):
        shown = shown_decision(recorded, CedarPolicy(_pack(), load_agreement()))
    [gate] = [p for p in shown["policies"] if p["id"] == ASSESSMENT_GATE]
    assert gate["remedy"].startswith("consigner une évaluation du risque de mauvais traitements pour R. Example")
    assert shown["verdict"] == recorded["verdict"] and shown["findings"] == recorded["findings"]
