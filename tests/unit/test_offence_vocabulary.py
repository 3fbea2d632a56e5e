"""The offence vocabulary's data files: the ICCS taxonomy, each party's statute mapping and the multilingual
lexicon, validated at start-up; the rules over codes and the text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord import datafiles
from accord.domain.parties import Party
from accord.policy.offences import (
    Circumstance,
    capital_provisions,
    forget_offence_vocabulary,
    offence_lexicon,
    offence_taxonomy,
    overlaps,
    statutes_of,
    within,
)


def _forget() -> None:
    datafiles.forget_loaded()
    forget_offence_vocabulary()


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "data"
    shutil.copytree(Path(str(datafiles.data_root())), root)
    monkeypatch.setattr(datafiles, "data_root", lambda: root)
    _forget()
    yield root
    monkeypatch.undo()
    _forget()


def test_the_taxonomy_has_the_eleven_sections_and_every_code_its_parent() -> None:
    taxonomy = offence_taxonomy()
    sections = [o.code for o in taxonomy.offences if len(o.code) == 2]
    assert sections == [f"{n:02d}" for n in range(1, 12)]
    assert taxonomy.display("020221") == "020221 Kidnapping"
    assert "ICCS" in taxonomy.source or "Classification of Crime" in taxonomy.source
    for offence in taxonomy.offences:
        assert offence.parent is None or taxonomy.get(offence.parent) is not None


def test_codes_nest_by_prefix() -> None:
    assert within("020221", ["0202"]) and not within("0202", ["020221"])
    assert overlaps("0202", ["020221"]) and overlaps("020221", ["02"]) and not overlaps("0203", ["0202"])


def test_india_maps_its_capital_provisions_and_canada_has_none() -> None:
    india, canada = statutes_of(Party.IN), statutes_of(Party.CA)
    assert {p.section for _, p in capital_provisions(india, ["0101"], [])} >= {"103(1)", "104"}
    assert capital_provisions(india, ["020221"], []) and not capital_provisions(india, ["020222"], [])
    assert capital_provisions(india, ["020222"], [Circumstance.RANSOM])
    assert not capital_provisions(india, ["06012"], [])
    assert [p.section for _, p in capital_provisions(india, ["06012"], [Circumstance.REPEAT_CONVICTION])] == ["31A"]
    assert not capital_provisions(india, ["0906"], []) and capital_provisions(
        india, ["0906"], [Circumstance.DEATH_RESULTED]
    )
    everything = [o.code for o in offence_taxonomy().offences]
    assert not capital_provisions(canada, everything, list(Circumstance))
    assert "Privacy Act" in canada.offence_required.citation and "17(1)(c)" in india.offence_required.citation


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Locate the murder suspect in Ludhiana", "0101"),
        ("Le suspect d'un meurtre à Montréal", "0101"),
        ("हत्या का आरोपी ब्रैम्पटन में है", "0101"),
        ("usne hatya ki", "0101"),
        ("ਕਤਲ ਦਾ ਮੁਲਜ਼ਮ", "0101"),
        ("katal da mulzim", "0101"),
        ("attempted murder of the witness", "0102"),
        ("Enlèvement contre rançon à Brampton", "020221"),
        ("ਚਿੱਟਾ ਸਪਲਾਈ ਕਰਦਾ ਹੈ", "06012"),
        ("chitta supplier", "06012"),
        ("trafic de stupéfiants", "06012"),
        ("dunki route through Mexico", "08051"),
        ("ਡੰਕੀ ਰਾਹੀਂ", "08051"),
        ("money moved through hawala", "07041"),
        ("हवाला से पैसा", "07041"),
        ("digital arrest scam calls", "0701"),
        ("aatanki hamla", "0906"),
    ],
)
def test_offences_are_found_in_four_languages_and_two_scripts(text: str, code: str) -> None:
    assert code in offence_lexicon().find(text).offences


def test_the_longest_term_wins_and_substrings_never_match() -> None:
    found = offence_lexicon().find("an attempted murder; the skilled killers' lawyer")
    assert "0102" in found.offences and found.offences["0102"] == ["attempted murder"]
    assert "skilled" not in found.offences.get("0101", [])
    assert not offence_lexicon().find("Please reply; the shipment is described.").offences
    assert not offence_lexicon().find("the protest was peaceful; the temple committee met").offences


@pytest.mark.parametrize(
    ("text", "circumstance"),
    [
        ("a repeat offender", Circumstance.REPEAT_CONVICTION),
        ("un récidiviste", Circumstance.REPEAT_CONVICTION),
        ("पहले से सजायाफ्ता", Circumstance.REPEAT_CONVICTION),
        ("ਪਹਿਲਾਂ ਵੀ ਸਜ਼ਾ", Circumstance.REPEAT_CONVICTION),
        ("two men died", Circumstance.DEATH_RESULTED),
        ("do log mare gaye", Circumstance.DEATH_RESULTED),
        ("demanded a ransom", Circumstance.RANSOM),
        ("ਫਿਰੌਤੀ ਮੰਗੀ", Circumstance.RANSOM),
    ],
)
def test_the_circumstances_a_statute_turns_on_are_found_in_the_text(text: str, circumstance: Circumstance) -> None:
    assert circumstance in offence_lexicon().find(text).circumstances


@pytest.mark.parametrize(
    "text",
    [
        "He has no prior convictions.",
        "not previously convicted",
        "Le suspect n'a aucune condamnation antérieure.",
        "पहले कोई सजायाफ्ता नहीं",
        "ਪਹਿਲਾਂ ਵੀ ਸਜ਼ਾ ਨਹੀਂ ਹੋਈ",
        "Nobody died in the attack.",
    ],
)
def test_a_circumstance_the_text_denies_is_not_shown(text: str) -> None:
    assert offence_lexicon().find(text).circumstances == {}
