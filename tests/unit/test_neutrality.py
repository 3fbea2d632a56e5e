"""Neutrality screening that does not depend on the officer's honesty: protected matters found in the text in
English, French, Hindi and Punjabi (native scripts and romanised), the structural signal, India's and Canada's own
context, replies that inherit their request's screening — and ordinary crime that is not held."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accord import datafiles
from accord.bootstrap import build_registry
from accord.datafiles import load_agreement
from accord.domain.parties import Party
from accord.errors import ConfigurationError
from accord.policy.cases import Case, build_message, load_cases
from accord.policy.engine import CedarPolicy, DisclosureDecision, Verdict
from accord.policy.pack import PackError, load_pack, shipped_pack_dir
from accord.policy.persons import person_records
from accord.policy.screens import AnsweredRequest, Evidence
from accord.policy.screens._neutrality_lexicons import (
    LEXICON_DIR,
    TermFile,
    Weight,
    compiled,
    forget_compiled,
    outside,
    screen_terms,
    shipped_term_files,
)
from accord.policy.screens.neutrality import (
    NeutralityAssessment,
    NeutralityOutcome,
    _describe,
    _sentence_of,
    _sentence_starts,
    _structure,
    assess_neutrality,
    screened_text,
)
from tests.assessed import assessed

CA, IN = Party.CA, Party.IN


def decide(party: Party, evidence: Evidence | None = None, **message: Any) -> DisclosureDecision:
    """The party's shipped pack on its case table's base request, changed by `message`."""
    directory = shipped_pack_dir(party)
    table = load_cases(directory / "cases.yaml")
    case = Case(name="t", message=message, expect={"decision": "allow"})
    built, principal = build_message(table, case, load_agreement(), 0)
    return CedarPolicy(load_pack(directory), load_agreement()).decide(built, principal, assessed(built, evidence))


def held_by(decision: DisclosureDecision) -> set[str]:
    return {p.id.split("-", 1)[1] for p in decision.policies}


# ---- the failures of the old keyword list


REWORDED = [
    # A person's religious affiliations and views on independence, without "religion", "political", "Khalistan" …
    "Which gurdwara committee does Mr. H. Example sit on, whom does he meet there, and where does he stand on a "
    "separate homeland for Sikhs?",
    "Please establish the subject's standing in the sangat and his stance on self-determination for Punjab.",
    "Kindly advise which jathedar the subject follows and whether he supports secession.",
    "Veuillez préciser l'appartenance religieuse de l'intéressé et sa position sur l'indépendance du Pendjab.",
    "कृपया बताएं कि यह व्यक्ति किस गुरुद्वारा कमेटी से जुड़ा है और अलग राज्य पर उसके विचार क्या हैं।",
    "ਇਹ ਵਿਅਕਤੀ ਕਿਸ ਗੁਰਦੁਆਰਾ ਕਮੇਟੀ ਨਾਲ ਜੁੜਿਆ ਹੈ ਅਤੇ ਵੱਖਰੇ ਰਾਜ ਬਾਰੇ ਉਸਦੇ ਵਿਚਾਰ ਕੀ ਹਨ?",
    "Eh banda kehri gurdwara committee vich hai te vakhvadi lehar bare ohde vichar ki ne?",
]


@pytest.mark.parametrize("party", [CA, IN])
@pytest.mark.parametrize("body", REWORDED)
def test_religious_affiliation_and_views_on_independence_reworded_are_held(party: Party, body: str) -> None:
    person = {"kind": "person", "name": "H. Example", "role": "other"}
    decision = decide(party, title="Background on a resident", body=body, subjects=[person])
    assert decision.verdict is Verdict.REVIEW
    assert held_by(decision) & {"neutrality-text", "neutrality-structure"}
    assert all(p.citation and p.remedy for p in decision.policies)


@pytest.mark.parametrize(
    ("body", "language", "script", "word"),
    [
        ("इस व्यक्ति की खालिस्तान समर्थक गतिविधियों की जानकारी दें।", "hi", "Devanagari", "खालिस्तान"),
        ("Is vyakti ki rajnitik gatividhiyon ki jaankari dein.", "hi", "Latin", "rajnitik"),
        ("ਇਸ ਵਿਅਕਤੀ ਦੀ ਰਾਇਸ਼ੁਮਾਰੀ ਵਿੱਚ ਭੂਮਿਕਾ ਦੱਸੋ।", "pa", "Gurmukhi", "ਰਾਇਸ਼ੁਮਾਰੀ"),
        ("Is bande da dharna vich ki role si?", "pa", "Latin", "dharna"),
        ("Identifier les manifestants devant le consulat.", "fr", "Latin", "manifestants"),
    ],
)
def test_hindi_punjabi_and_french_text_is_screened_and_the_finding_names_the_words_and_language(
    body: str, language: str, script: str, word: str
) -> None:
    for party in (CA, IN):
        decision = decide(party, title="Request", body=body, subjects=[])
        assert decision.verdict is Verdict.REVIEW
        detected = decision.findings["protected_grounds_detected"]
        found = [d for d in detected if word in d["words"]]
        assert found, detected
        assert language in found[0]["languages"] and found[0]["scripts"] == [script]


@pytest.mark.parametrize(
    "body",
    [
        "Kindly furnish the subject's role in the Kisan Andolan at the Delhi borders.",
        "Ascertain whether the importer's director is close to Hurriyat leaders.",
        "The director is an anti-national element; share his whereabouts.",
        "Confirm whether the consignee's owner is a Hindutva ideologue.",
        "ਕੀ ਇਹ ਬੰਦਾ ਅਕਾਲੀ ਦਲ ਨਾਲ ਹੈ?",
        "इस व्यक्ति की भीमा कोरेगांव मामले में भूमिका बताएं।",
    ],
)
def test_indias_list_carries_the_terms_of_its_own_political_context(body: str) -> None:
    decision = decide(IN, body=body)  # an organisation as subject and a consignment in the title: not structural
    assert decision.verdict is Verdict.REVIEW
    assert held_by(decision) == {"neutrality-text"}


def test_canadas_list_carries_the_terms_of_its_own_context() -> None:
    for body in ("Was the consignee's owner part of the Freedom Convoy?", "Il milite pour la souveraineté du Québec."):
        assert held_by(decide(CA, body=body)) == {"neutrality-text"}


@pytest.mark.parametrize("party", [CA, IN])
@pytest.mark.parametrize(
    "body",
    [
        "Kindly provide the persons this individual associates with, the gatherings he attends and whom he funds.",
        "We need to know whom he meets and what he believes in.",
        "Merci d'indiquer ses fréquentations et les réunions auxquelles il participe.",
        "इस व्यक्ति के संपर्कों और बैठकों की सूची भेजें।",
        "ਇਸ ਬੰਦੇ ਦੇ ਸਾਥੀਆਂ ਅਤੇ ਮੀਟਿੰਗਾਂ ਦੀ ਸੂਚੀ ਭੇਜੋ।",
    ],
)
def test_a_request_about_only_a_persons_associations_and_beliefs_is_held_with_no_protected_word(
    party: Party, body: str
) -> None:
    person = {"kind": "person", "name": "H. Example"}
    decision = decide(party, title="Information request", body=body, subjects=[person])
    assert decision.verdict is Verdict.REVIEW
    assert held_by(decision) == {"neutrality-structure"}
    [policy] = decision.policies
    assert policy.remedy == "state the offence and the criminal conduct; ask for the data that conduct needs"
    structure = decision.findings["neutrality_structure"]
    assert structure["subjects"] == "persons only" and structure["criminal_conduct"] == "none stated"


@pytest.mark.parametrize("party", [CA, IN])
@pytest.mark.parametrize(
    "message",
    [
        {"body": "2 kg of heroin were seized in the car park of the Ross Street temple; check the phones found."},
        {"body": "The third party to the transaction wired the money to the consignee; identify the account holder."},
        {"body": "The party who signed the bill of lading used a false name; please check the IEC."},
        {"body": "Saisie de cocaïne dans un conteneur livré près d'un temple; merci de vérifier l'importateur."},
        {"body": "हेरोइन की खेप गुरुद्वारे के पास से बरामद हुई; कृपया आयातक कंपनी की जानकारी दें।"},
        {"body": "ਹੈਰੋਇਨ ਦੀ ਖੇਪ ਮੰਦਰ ਦੇ ਨੇੜੇ ਬਰਾਮਦ ਹੋਈ। ਕੰਪਨੀ ਦੇ ਲਾਇਸੈਂਸ ਦੀ ਪੁਸ਼ਟੀ ਕਰੋ।"},
        {"body": "The account holder is a politically exposed person; please confirm the wire transfers."},
        {"body": "Dear colleague, please confirm the consignee's licence.", "subjects": []},
        {
            "body": "Please provide the known associates of the courier who smuggled the fentanyl.",
            "subjects": [{"kind": "person", "name": "C. Example"}],
        },
        {"body": "The courier, a Sikh man in a turban, collected the parcel of methamphetamine.", "subjects": []},
        {"body": "Conformément à la politique du port, confirmez le destinataire de la cargaison."},
        {"body": "We propose a meeting on 12 May to discuss the views of both agencies.", "subjects": []},
        {"body": "Dharam Singh carried the heroin consignment; confirm his entry date.", "subjects": []},
        {"body": "The courier was made to sit in the car while the tramadol was loaded.", "subjects": []},
        {
            "focus_area": "fraud",
            "offence": "0701",
            "body": "कृपया आरोपी के परिवार के सदस्यों की यात्रा की जानकारी दें; वह धोखाधड़ी में वांछित है।",
            "subjects": [],
        },
    ],
)
def test_ordinary_crime_that_mentions_a_temple_a_party_or_a_community_is_not_held(
    party: Party, message: dict[str, Any]
) -> None:
    decision = decide(party, title="Seizure follow-up", **message)
    assert decision.verdict is Verdict.ALLOW, decision.findings


@pytest.mark.parametrize("party", [CA, IN])
def test_a_declared_ground_refuses_and_a_detected_one_holds_both_with_their_law(party: Party) -> None:
    refused = decide(party, grounds=["religion"])
    assert refused.verdict is Verdict.DENY and held_by(refused) == {"neutrality-grounds"}
    assert refused.findings["protected_grounds"] == ["religion"]
    assert decide(party, grounds=[" Political_Opinion"]).findings["protected_grounds"] == ["political_opinion"]
    held = decide(party, body="He preaches at the gurdwara every Sunday.")
    assert held.verdict is Verdict.REVIEW and held_by(held) == {"neutrality-text"}
    assert "INTERPOL Constitution Art. 3" in held.policies[0].citation


@pytest.mark.parametrize("party", [CA, IN])
@pytest.mark.parametrize("outcome", [NeutralityOutcome.HELD, NeutralityOutcome.REFUSED])
def test_a_reply_to_a_request_held_or_refused_on_neutrality_is_held_citing_why(
    party: Party, outcome: NeutralityOutcome
) -> None:
    answered = AnsweredRequest("req-1", outcome, "screened on arrival", ("political-activity: 'rally' [en]",))
    reply = {"kind": "response", "in_reply_to": "req-1", "title": "Re: request", "body": "Details below."}
    decision = decide(party, Evidence(answered_request=answered), **reply)
    assert decision.verdict is Verdict.REVIEW and held_by(decision) == {"neutrality-reply"}
    inherited = decision.findings["neutrality_reply"]
    assert inherited == {
        "request": "req-1",
        "outcome": outcome.value,
        "where": "screened on arrival",
        "because": ["political-activity: 'rally' [en]"],
    }
    clear = AnsweredRequest("req-1", NeutralityOutcome.CLEAR, "screened on arrival")
    assert decide(party, Evidence(answered_request=clear), **reply).verdict is Verdict.ALLOW


# ---- the data: sources, languages, validation


@pytest.mark.parametrize("name", ["grounds", "ca", "in", "asked", "conduct", "persons"])
def test_every_term_file_cites_its_sources_and_covers_the_four_languages(name: str) -> None:
    terms = datafiles.load(TermFile, LEXICON_DIR, f"{name}.yaml")
    assert terms.sources
    languages = {language.value for concept in terms.concepts for language in concept.terms}
    assert languages == {"en", "fr", "hi", "pa"}


def test_each_party_screens_with_its_own_context_file() -> None:
    assert load_pack(shipped_pack_dir(CA)).manifest.screens.neutrality.lexicons == ("grounds", "ca")
    assert load_pack(shipped_pack_dir(IN)).manifest.screens.neutrality.lexicons == ("grounds", "in")
    assert set(shipped_term_files()) == {"grounds", "ca", "in", "asked", "conduct", "persons"}


def test_a_pack_naming_a_term_file_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "pack"
    shutil.copytree(shipped_pack_dir(CA), directory)
    manifest = directory / "manifest.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("[grounds, ca]", "[grounds, canada]"))
    with pytest.raises(PackError, match=r"not a valid manifest: screens.neutrality.*neutrality/canada.yaml"):
        load_pack(directory)


def test_a_pack_screening_with_the_other_partys_context_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "pack"
    shutil.copytree(shipped_pack_dir(CA), directory)
    manifest = directory / "manifest.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("[grounds, ca]", "[grounds, in]"))
    with pytest.raises(PackError, match="in is IN's own context, not CA's"):
        load_pack(directory)


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "data"
    shutil.copytree(Path(str(datafiles.data_root())), root)
    monkeypatch.setattr(datafiles, "data_root", lambda: root)
    datafiles.forget_loaded()
    forget_compiled()
    yield root
    monkeypatch.undo()
    datafiles.forget_loaded()
    forget_compiled()


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("sources:", "origins:", "data/neutrality/grounds.yaml"),
        ("weight: contextual", "weight: sometimes", "data/neutrality/grounds.yaml"),
        ("      en: [religion, religions,", '      en: ["—*", religions,', "has no words"),
        ("      hi: [धर्मों,", "      xx: [धर्मों,", "data/neutrality/grounds.yaml"),
        ("      hi: [धर्मों,", "      hi: [ਧਰਮ, धर्मों,", "is not written in a script of that language"),
    ],
)
def test_a_broken_term_file_stops_start_up_and_names_the_file(data_copy: Path, old: str, new: str, named: str) -> None:
    path = data_copy / "neutrality" / "grounds.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=named):
        build_registry()


@pytest.mark.parametrize("party", [CA, IN])
def test_a_faith_or_community_word_inside_a_recorded_persons_name_is_a_name(party: Party) -> None:
    names = "Harpreet Singh, 1981-02-03\nAshok Jain, 1979-05-06\nPooja Saini, 1990-07-08\n"
    decision = decide(party, body="Please confirm the travel history of:\n" + names, subjects=[])
    assert not {"neutrality-text", "neutrality-structure"} & held_by(decision), decision.findings
    listed = decide(party, body="Please confirm these persons:\nAshok Jain, 1979-05-06, religion: Jain\n", subjects=[])
    assert "neutrality-text" in held_by(listed), "a person's faith recorded beside the name is a protected ground"


# ---- a network share: the entities' words are screened as the officer's own


@pytest.mark.parametrize("party", [CA, IN])
@pytest.mark.parametrize("notes", REWORDED)
def test_a_shared_entitys_notes_are_screened_in_every_language(party: Party, notes: str) -> None:
    person = {"id": "p1", "schema": "Person", "properties": {"name": ["H. Example"], "notes": [notes]}}
    decision = decide(
        party,
        kind="share",
        focus_area="networks",
        offence="06012",
        title="Directors of an importer",
        body="The directors of the importing company.",
        subjects=[{"kind": "person", "name": "H. Example", "role": "other"}],
        network={"entities": [person]},
    )
    assert decision.verdict is Verdict.REVIEW
    assert held_by(decision) & {"neutrality-text", "neutrality-structure"}


@pytest.mark.parametrize("party", [CA, IN])
def test_a_shared_company_with_plain_notes_passes_the_screen(party: Party) -> None:
    company = {"id": "c1", "schema": "Company", "properties": {"name": ["Example Logistics Inc"], "notes": ["Freight"]}}
    decision = decide(
        party,
        kind="share",
        focus_area="networks",
        offence="06012",
        title="An importer",
        body="The importing company.",
        subjects=[{"kind": "organisation", "name": "Example Logistics Inc"}],
        network={"entities": [company]},
    )
    assert not {"neutrality-text", "neutrality-structure"} & held_by(decision), decision.findings


# ---- everyday Hindi and Punjabi: verbs conjugated, in each script


def _everyday_verb_forms() -> list[str]:
    """Forty common verbs in Devanagari, Gurmukhi and romanised Hindi and Punjabi, each with the endings of the
    present, past, future, infinitive and request: the words of almost every sentence."""
    devanagari = "जा आ कर हो रह दे ले मिल बता चल बोल सुन देख रख पहुँच भेज पकड़ लिख पढ़ बैठ खा पी सो उठ मार भाग बन"
    devanagari += " बना दिखा समझ सोच खोल लौट छोड़ माँग पूछ जान"
    devanagari_endings = ["ता", "ती", "ते", "ना", "नी", "ने", "ए", "ई", "कर", "ेगा", "ेगी", "ेंगे", "ो", "िए", "ा", "या", "ी"]
    gurmukhi = "ਜਾ ਆ ਕਰ ਹੋ ਰਹਿ ਦੇ ਲੈ ਮਿਲ ਦੱਸ ਚੱਲ ਬੋਲ ਸੁਣ ਵੇਖ ਦੇਖ ਰੱਖ ਪਹੁੰਚ ਭੇਜ ਫੜ ਲਿਖ ਪੜ੍ਹ ਬੈਠ ਖਾ ਪੀ"
    gurmukhi_endings = ["ਂਦਾ", "ਂਦੀ", "ਂਦੇ", "ਦਾ", "ਦੀ", "ਦੇ", "ਣਾ", "ਣੀ", "ਣੇ", "ਗਾ", "ਗੀ", "ਗੇ", "ਓ", "ਿਆ"]
    romanised = "ja aa kar ho reh rah de le mil bata chal bol sun dekh rakh pahunch bhej pakad likh padh baith kha"
    romanised += " pi so uth maar bhaag ban bana dikha samajh soch khol laut chhod maang poochh jaan"
    # "-ti"/"-tee" are left out: romanised "jati"/"jaatee" is written the same as caste (jaati) and is held for it.
    romanised_endings = ["ta", "te", "taa", "na", "ni", "ne", "ega", "egi", "enge", "o", "iye", "ya", "a", "e", "kar"]
    return (
        [stem + end for stem in devanagari.split() for end in devanagari_endings]
        + [stem + end for stem in gurmukhi.split() for end in gurmukhi_endings]
        + [stem + end for stem in romanised.split() for end in romanised_endings]
        + ["jaanda", "jandi", "jande", "karda", "hunda", "rehnda", "dinda", "milda", "jaavega", "gaya", "gayi"]
    )


_AUXILIARY = {"d": "है", "g": "ਹੈ", "": "hai"}


@pytest.mark.parametrize("name", ["grounds", "ca", "in"])
def test_no_everyday_verb_form_is_a_protected_ground(name: str) -> None:
    """A folded spelling that makes "जाता" (goes) the caste name "जाट", or "जाती" (she goes) "जाति" (caste), would
    hold ordinary Hindi requests as asking about caste. Each form is read as a sentence uses it, with its auxiliary
    ("जाती है"): a form that is also a common misspelling of a term ("जाती" for जाति) is one only without it."""
    terms = compiled((name,))
    found = {}
    for word in _everyday_verb_forms():
        script = "d" if "\u0900" <= word[0] <= "\u097f" else "g" if "\u0a00" <= word[0] <= "\u0a7f" else ""
        found[word] = [
            hit.concept
            for hit in outside(*(lexicon.find(f"{word} {_AUXILIARY[script]}") for lexicon in terms.lexicons))
        ]
    assert {word: concepts for word, concepts in found.items() if concepts} == {}


_VICTIM = {"kind": "person", "name": "V. Example", "role": "victim"}
_WITNESS = {"kind": "person", "name": "W. Example", "role": "witness"}
_NO_ROLE = {"kind": "person", "name": "A. Example"}
_SUSPECT = {"kind": "person", "name": "S. Example", "role": "suspect"}


@pytest.mark.parametrize("party", [CA, IN])
@pytest.mark.parametrize(
    ("body", "subjects"),
    [
        ("यह खेप हर महीने मुंबई बंदरगाह से जाती है और आयातक खुद वहाँ जाता है; कृपया आयातक कंपनी का लाइसेंस जाँचें।", None),
        (
            "Yeh khep har mahine Mumbai port se jaata hai aur importer wahan jata hai; licence check karein.",
            None,
        ),
        ("कूरियर हर हफ्ते अमृतसर जाता था; कृपया उसके फोन रिकॉर्ड की जानकारी दें।", None),
        ("पीड़िता रोज़ बस से स्कूल जाती थी; कृपया उस बस के चालक के फोन रिकॉर्ड दें।", [_VICTIM]),
        ("Gawah ne bataya ki truck har raat border ki taraf jaata hai; truck ke malik ki jaankari dein.", [_WITNESS]),
        ("Yeh vyakti har hafte Delhi jata hai; uske phone ki jaankari dein.", [_NO_ROLE]),
        (
            "Le témoin dit que le camion « jaata hai » chaque nuit vers la frontière; identifiez le propriétaire.",
            [_WITNESS],
        ),
        ("ਗਵਾਹ ਨੇ ਦੱਸਿਆ ਕਿ ਟਰੱਕ ਹਰ ਰਾਤ ਸਰਹੱਦ ਵੱਲ ਜਾਂਦਾ ਹੈ; ਟਰੱਕ ਦੇ ਮਾਲਕ ਦੀ ਜਾਣਕਾਰੀ ਦਿਓ।", [_WITNESS]),
        ("पीड़िता रोज़ सुबह दफ़्तर जाती है; उसके रास्ते के CCTV फुटेज दें।", [_VICTIM]),
        ("गवाह वहाँ कभी नहीं जाती, पर उसकी बहन हर हफ्ते आती जाती थी; यात्रा के रिकॉर्ड दें।", [_WITNESS]),
        ("Gawah roz raat ko ghar jaati thi; uske bayan ki copy bhejein.", [_WITNESS]),
        ("Le témoin dit que la victime « roz jaati thi » au marché; merci de fournir les images.", [_VICTIM]),
        ("ਪੀੜਤ ਹਰ ਰੋਜ਼ ਬੱਸ ਰਾਹੀਂ ਜਾਂਦੀ ਸੀ; ਬੱਸ ਦੇ ਡਰਾਈਵਰ ਦਾ ਫੋਨ ਰਿਕਾਰਡ ਦਿਓ।", [_VICTIM]),
        ("जाँच पूरी होने पर रिपोर्ट भेजी जाती है; कृपया आयातक का लाइसेंस जाँचें।", None),
        ("आयातक की रिपोर्ट हर महीने भेजी जाती है। कृपया उसका लाइसेंस जाँचें।", None),
    ],
)
def test_a_follow_up_in_everyday_hindi_or_punjabi_is_not_held(
    party: Party, body: str, subjects: list[dict[str, Any]] | None
) -> None:
    """Suspects, victims, witnesses and a person whose role was left empty; Hindi quoted in a French request."""
    message: dict[str, Any] = {"title": "Seizure follow-up", "body": body}
    if subjects is not None:
        message["subjects"] = subjects
    decision = decide(party, **message)
    assert decision.verdict is Verdict.ALLOW, decision.findings


@pytest.mark.parametrize("party", [CA, IN])
@pytest.mark.parametrize(
    ("body", "subjects"),
    [
        ("इस व्यक्ति की जाति और गाँव की जानकारी दें।", []),
        ("Is vyakti ki jaat aur gaon ki jaankari dein.", []),
        ("ਇਸ ਵਿਅਕਤੀ ਦੀ ਜਾਤੀ ਬਾਰੇ ਦੱਸੋ।", []),
        ("क्या यह व्यक्ति जाट है? उसके समुदाय के नेताओं से संपर्क बताएं।", []),
        ("पीड़ित परिवार किस जाति से है, यह भी बताएं।", [_VICTIM]),
        ("Gawah ki jaat kya hai aur woh kis biradari se aata hai?", [_WITNESS]),
        ("Merci d'indiquer la caste de la famille de la victime.", [_VICTIM]),
        ("ਪੀੜਤ ਦੀ ਜਾਤ ਕੀ ਹੈ?", [_VICTIM]),
        ("उसकी जाती क्या है? कृपया बताएं।", [_SUSPECT]),  # जाति as often misspelt
        ("गवाह की जाती और गाँव की जानकारी भेजें।", [_WITNESS]),
        ("Gawah kis jaati se hai, yeh bhi batayein.", [_WITNESS]),
        ("Ehdi jaat ki hai? Pind da naam vi dasso.", [_NO_ROLE]),
        ("Veuillez préciser à quelle caste appartient le témoin.", [_WITNESS]),
        ("क्या पीड़ित दलित समुदाय से है?", [_VICTIM]),
        ("कृपया बताएं, पीड़ित की जाति।", [_VICTIM]),  # the term ends the sentence, before its danda
        ("ਦੱਸੋ ਕਿ ਗਵਾਹ ਦੀ ਜਾਤ।", [_WITNESS]),
    ],
)
def test_a_request_about_caste_in_hindi_punjabi_or_french_is_still_held(
    party: Party, body: str, subjects: list[dict[str, Any]]
) -> None:
    assert "neutrality-text" in held_by(decide(party, title="Family", body=body, subjects=subjects))


@pytest.mark.parametrize("party", [CA, IN])
@pytest.mark.parametrize(
    "body",
    [
        "मुलज़िम किस मज़हब को मानता है?",
        "मुलजिम किस मजहब को मानता है?",
        "Mulzim kis mazhab ko manta hai?",
        "ਮੁਲਜ਼ਮ ਕਿਸ ਮਜ਼ਹਬ ਨੂੰ ਮੰਨਦਾ ਹੈ?",
    ],
)
def test_a_question_about_religion_in_its_urdu_word_is_held(party: Party, body: str) -> None:
    """मज़हब (mazhab): the word for religion Hindi and Punjabi speakers borrow from Urdu, asked as धर्म (dharm) is."""
    assert "neutrality-text" in held_by(decide(party, title="Follow-up", body=body, subjects=[_SUSPECT]))


@pytest.mark.parametrize("party", [CA, IN])
@pytest.mark.parametrize(
    ("body", "subjects"),
    [
        ("आरोपी किस बिरादरी से है, यह बताएं।", [_SUSPECT]),
        ("पीड़िता का गोत्र क्या है?", []),
        ("sandigdh ka gotra aur gaon batayein", []),
        ("gawah di biradari kehri hai, dasso", [_WITNESS]),
        ("ਦੋਸ਼ੀ ਕਿਹੜੀ ਬਰਾਦਰੀ ਨਾਲ ਸਬੰਧ ਰੱਖਦਾ ਹੈ?", []),
        ("ਪੀੜਤ ਦਾ ਗੋਤ ਕੀ ਹੈ?", [_VICTIM]),
        ("Merci de préciser le « gotra » du témoin.", [_WITNESS]),
        ("Is vyakti ki biradari ke bare mein batayein.", [_NO_ROLE]),
    ],
)
def test_a_question_about_a_persons_biradari_or_gotra_is_held(
    party: Party, body: str, subjects: list[dict[str, Any]]
) -> None:
    """बिरादरी (biradari), a caste or kinship community, and गोत्र (gotra), the clan within a caste: asked to place a
    person in a caste without the word for caste."""
    assert "neutrality-text" in held_by(decide(party, title="Follow-up", body=body, subjects=subjects))


@pytest.mark.parametrize("party", [CA, IN])
def test_a_fraternity_that_is_not_a_caste_in_a_message_about_a_seizure_is_not_held(party: Party) -> None:
    body = "पुलिस बिरादरी के सहयोग से 5 किलो हेरोइन जब्त की गई; कृपया आयातक का विवरण दें।"
    decision = decide(party, title="Seizure follow-up", body=body)
    assert decision.verdict is Verdict.ALLOW, decision.findings


# ---- reading conduct and what is asked only where a contextual ground needs them

# Contextual grounds (a temple, a gurdwara, a community, a vote) beside conduct or questions, in one sentence or
# another, as officers write them: in French, Hindi, Punjabi and romanised, about suspects, victims and witnesses.
_CONTEXTUAL = [
    "Heroin was seized at the gurdwara car park. Who does the suspect meet at the gurdwara?",
    "Who does the witness meet at the temple each Sunday, and which committee does she sit on?",
    "The courier who smuggled the pills stopped at the temple. Please send the CCTV of the car park.",
    "Le témoin fréquente la mosquée du quartier ; avec qui la victime s'y rend-elle ?",
    "De l'héroïne a été saisie près du temple ; merci de confirmer le propriétaire du véhicule.",
    "पीड़ित किस मंदिर में जाती है और वहाँ किससे मिलती है?",
    "मंदिर के पास हेरोइन जब्त की गई; कृपया गाड़ी के मालिक की जानकारी दें।",
    "ਗਵਾਹ ਕਿਸ ਗੁਰਦੁਆਰੇ ਜਾਂਦਾ ਹੈ ਅਤੇ ਉੱਥੇ ਕਿਸ ਨੂੰ ਮਿਲਦਾ ਹੈ?",
    "Gawah kis gurdwara jaata hai? Truck mein afeem mili thi.",
    "1. Harpreet Singh, born March 3, 1980, passport Z1234567, seen at the gurdwara; who does he meet there?",
    "Name: Seema Jain\nDOB: 1990-01-02\nWhich temple does she attend?",
    "Quel parti soutient le suspect ? Il a voté pour qui ?",
]


def _assessed_reading_every_hit(message: Any, rules: Any) -> NeutralityAssessment:
    """The screen as it read every file's hits before it read conduct and what is asked only when needed."""
    text = screened_text(message)
    terms = screen_terms(rules.lexicons, rules.asked, rules.conduct, rules.persons)
    hits = terms.find(text)
    asked, conduct, found = list(hits.asked), list(hits.conduct), list(hits.grounds)
    sentences = _sentence_starts(text)
    asking = {_sentence_of(sentences, h.start) for h in asked}
    with_conduct = {_sentence_of(sentences, h.start) for h in conduct}
    contextual = [h for h in found if terms.grounds.concepts[h.concept].weight is not Weight.STRONG]
    records = person_records().record_line_spans(text) if contextual else []
    detected = [
        h
        for h in found
        if terms.grounds.concepts[h.concept].weight is Weight.STRONG
        or (
            not any(start <= h.start < end for start, end in records)
            and (not conduct or (_sentence_of(sentences, h.start) in asking - with_conduct))
        )
    ]
    strongly_asked = [h for h in asked if terms.asked.concepts[h.concept].weight is Weight.STRONG]
    return NeutralityAssessment(
        declared=tuple(sorted({g.strip().casefold() for g in message.grounds} & set(rules.protected_grounds))),
        detected=tuple(_describe(terms.grounds, detected)),
        structure=_structure(message, strongly_asked, conduct, list(hits.persons)),
    )


@pytest.mark.parametrize("party", [CA, IN])
def test_the_screen_finds_what_reading_every_hit_finds(party: Party) -> None:
    """Officers' phrasings (contextual grounds beside conduct and questions, in four languages and two scripts, about
    suspects, victims and witnesses, with roles and subjects left out) and every case of both packs."""
    table = load_cases(shipped_pack_dir(party) / "cases.yaml")
    rules = load_pack(shipped_pack_dir(party)).manifest.screens.neutrality
    messages = []
    for index, body in enumerate(_CONTEXTUAL + REWORDED):
        for subjects in (None, [], [_VICTIM], [_WITNESS, _NO_ROLE], [_SUSPECT]):
            fields: dict[str, Any] = {"title": "Follow-up", "body": body}
            if subjects is not None:
                fields["subjects"] = subjects
            case = Case(name=f"t{index}", message=fields, expect={"decision": "allow"})
            messages.append(build_message(table, case, load_agreement(), index)[0])
    for other in Party:
        cases = load_cases(shipped_pack_dir(other) / "cases.yaml")
        for index, case in enumerate(cases.cases):
            try:
                messages.append(build_message(cases, case, load_agreement(), index)[0])
            except PackError:
                continue
    terms = screen_terms(rules.lexicons, rules.asked, rules.conduct, rules.persons)
    beside_conduct = 0
    for message in messages:
        assessment = assess_neutrality(message, rules)
        assert assessment == _assessed_reading_every_hit(message, rules), message.body
        hits = terms.find(screened_text(message))
        weights = {terms.grounds.concepts[h.concept].weight for h in hits.grounds}
        beside_conduct += Weight.CONTEXTUAL in weights and bool(hits.conduct)
    assert beside_conduct >= 20  # the texts reach the path that reads conduct, not only strong words
