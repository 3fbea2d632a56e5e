"""The data files are loaded and validated once, at start-up: a broken one stops the node before it serves."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from accord import datafiles
from accord.bootstrap import build_registry
from accord.errors import ConfigurationError
from accord.exchange.kinds import MESSAGE_KINDS, PAYLOAD_KINDS
from accord.focus.cyber.collections import load_collections
from accord.focus.cyber.tlp import tlp_definitions
from accord.focus.precursors.plausibility import load_country_bounds, load_quantity_caps
from accord.focus.precursors.risk import load_risk_rules
from accord.focus.precursors.substances import load_substances
from accord.forwarding.texts import caveat_texts
from accord.policy.offences import forget_offence_vocabulary
from accord.policy.persons import person_records
from accord.workplan.indicators import INDICATORS


def _forget() -> None:
    datafiles.forget_loaded()
    forget_offence_vocabulary()
    for loader in (
        load_risk_rules,
        load_substances,
        load_collections,
        tlp_definitions,
        person_records,
        load_country_bounds,
        load_quantity_caps,
        caveat_texts,
    ):
        loader.cache_clear()


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the shipped data files that the loaders read instead, for one test."""
    root = tmp_path / "data"
    shutil.copytree(Path(str(datafiles.data_root())), root)
    monkeypatch.setattr(datafiles, "data_root", lambda: root)
    _forget()
    yield root
    monkeypatch.undo()
    _forget()


def test_every_capability_registers_its_kinds_and_indicators() -> None:
    registry = build_registry()
    assert {h.kind.value for h in registry.all(MESSAGE_KINDS)} == {
        "pen",
        "incident",
        "share",
        "forward-consent",
        "forward-notice",
        "response",
        "request",  # a follow-up naming a hit's reference
    }
    assert sorted(registry.keys(PAYLOAD_KINDS)) == ["hitnohit-answer", "hitnohit-query", "roster", "workplan"]
    codes = registry.keys(INDICATORS)
    assert "requests" in codes and "pen-answered-in-time" in codes and "hit-no-hit-hits" in codes


@pytest.mark.parametrize(
    ("file", "old", "new", "named"),
    [
        ("precursors/risk_rules.yaml", "rules:", "ruels:", "data/precursors/risk_rules.yaml"),
        ("cyber/collections.yaml", "collections:", "collections: 3\nx:", "data/cyber/collections.yaml"),
        ("cyber/tlp.yaml", "unmarked: AMBER", "unmarked: [", "data/cyber/tlp.yaml is not YAML"),
        ("substances/un1988.yaml", "substances:", "substance:", "data/substances/un1988.yaml"),
        ("places/country_bounds.yaml", '"CA": [41.68,', '"CA": [41.68, 5,', "data/places/country_bounds.yaml"),
        ("precursors/plausibility.yaml", "[anpp, npp,", "[anpp, nppp,", "caps for unknown substances"),
        ("minimisation/person_records.yaml", "  birth_date:", "  birthdate:", "data/minimisation/person_records.yaml"),
        ("minimisation/person_records.yaml", "passport: '[A-Z]", "passport: '([A-Z]", "not a regular expression"),
        ("handling/caveats.yaml", "  H3:", "  H4:", "data/handling/caveats.yaml"),
        ("handling/caveats.yaml", "    forward: consent", "    forward: maybe", "data/handling/caveats.yaml"),
        ("offences/iccs.yaml", '{code: "0101", label: Intentional homicide}', '{code: "0199x", label: X}', "iccs.yaml"),
        ("offences/iccs.yaml", '{code: "01", label: Acts leading', '{code: "99", label: Acts leading', "iccs.yaml"),
        ("offences/statutes/ca.yaml", "capital: false}", "capital: true}", "statutes/ca.yaml"),
        ("offences/statutes/in.yaml", 'iccs: ["0101"]', 'iccs: ["0199"]', "statutes/in.yaml"),
        ("offences/lexicon.yaml", '  "0101":', '  "0199":', "lexicon.yaml"),
        ("offences/lexicon.yaml", "  ransom:", "  ransoms:", "lexicon.yaml"),
    ],
)
def test_a_broken_data_file_stops_start_up_and_names_the_file(
    data_copy: Path, file: str, old: str, new: str, named: str
) -> None:
    path = data_copy / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=named):
        build_registry()


def test_a_file_outside_the_package_is_validated_with_the_callers_error(tmp_path: Path) -> None:
    class Thing(BaseModel):
        name: str

    path = tmp_path / "thing.yaml"
    path.write_text("name: [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"thing.yaml is not a valid thing: name: Input should be"):
        datafiles.load_file(Thing, path, kind="thing")
    with pytest.raises(ConfigurationError, match="cannot read"):
        datafiles.load_file(Thing, tmp_path / "absent.yaml")
