"""The catalogues' extraction method for data files finds the text an officer reads (a policy's @remedy, a work-plan
objective's title, a caveat's words) exactly as the code that shows it passes it to `_()`, and nothing that is code,
an id or a citation."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from accord.datafiles import data_root, load_agreement
from accord.domain.parties import Party
from accord.i18n.extract import Extracted, extract_data
from accord.policy.pack import load_pack, shipped_pack_dir

DATA = Path(str(data_root()))


def _extracted(relative: str) -> list[Extracted]:
    with (DATA / relative).open("rb") as file:
        return list(extract_data(file, ("_",), (), {}))


def _messages(relative: str) -> set[str]:
    return {message for _, _, message, _ in _extracted(relative)}


def test_the_remedies_of_a_packs_policies_are_found_as_the_pack_reads_them() -> None:
    for party in Party:
        pack = load_pack(shipped_pack_dir(party))
        remedies = {info.remedy for info in pack.policies.values() if info.remedy}
        assert _messages(f"policy/{party.value.lower()}/policies.cedar") == remedies


def test_a_remedy_comes_with_its_line_and_its_policys_id_for_the_translator() -> None:
    found = _extracted("policy/ca/policies.cedar")
    line, function, _, comments = next(e for e in found if e[2].startswith("name the recipient officer"))
    source = (DATA / "policy/ca/policies.cedar").read_text(encoding="utf-8").splitlines()
    assert source[line - 1].startswith('@remedy("name the recipient officer')
    assert function is None
    assert comments == ["policy/ca/policies.cedar: @remedy of ca-tlp-red-named"]


def test_no_citation_id_or_condition_of_a_cedar_file_is_extracted() -> None:
    messages = _messages("policy/ca/policies.cedar")
    assert not any(m.startswith(("ca-", "Privacy Act", "INTERPOL")) for m in messages)
    assert not any("resource." in m or "principal." in m for m in messages)


def test_cedar_comments_and_escapes_are_read_as_cedar_reads_them() -> None:
    source = (
        b'// @remedy("not a policy, a comment")\n'
        b'@id("x-1")\n'
        b'@citation("Act s.1; \\"quoted\\"")\n'
        b'@remedy("say \\"why\\"; then \\u{e9}crire")\n'
        b'forbid (principal, action, resource) when { resource.note == "@remedy(\\"in a string\\")" };\n'
    )
    found = list(extract_data(BytesIO(source), ("_",), (), {"path": "data/policy/x/policies.cedar"}))
    assert found == [(4, None, 'say "why"; then écrire', ["policy/x/policies.cedar: @remedy of x-1"])]


def test_the_agreements_titles_and_names_are_found_and_its_codes_and_sources_are_not() -> None:
    agreement = load_agreement()
    messages = _messages("agreement/ca-in.yaml")
    assert {o.title for o in agreement.work_plan.objectives} <= messages
    assert {a.name for a in agreement.focus_areas} <= messages
    assert {"Canada", "India", agreement.title} <= messages
    assert "Accreditation agreed" in messages  # a milestone's title
    codes = {o.code for o in agreement.work_plan.objectives} | {a.code for a in agreement.focus_areas}
    assert not messages & codes
    assert agreement.source not in messages
    assert not messages & {"RCMP", "MHA", "secret", "Protected B", "restricted", "2026-03-31"}


def test_the_caveats_words_the_risk_questions_and_the_agencies_roles_are_found() -> None:
    assert "H2 — no onward dissemination without the originator's permission" in _messages("handling/caveats.yaml")
    manifest = _messages("policy/ca/manifest.yaml")
    assert any(m.startswith("The human-rights record of the receiving country") for m in manifest)
    assert not any(m.startswith(("Directions s.1(1)", "ACMFEA")) for m in manifest)  # a factor's source is a citation
    assert not manifest & {"ca-disclosure", "every_person", "passport", "victim"}
    roles = _messages("agencies/ca.yaml")
    assert "security intelligence" in roles
    assert not roles & {"RCMP", "Royal Canadian Mounted Police", "Gendarmerie royale du Canada", "GRC"}


def test_a_data_file_without_user_facing_keys_yields_nothing() -> None:
    assert _extracted("cyber/tlp.yaml") == []
    assert _extracted("handling/markings.yaml") == []  # official forms, not translations
