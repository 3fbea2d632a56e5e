"""Both parties' packs load, pass their case tables and exercise every policy; broken or unsigned packs are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.crypto.keys import NodeKeys
from accord.datafiles import load_agreement
from accord.domain.parties import Party
from accord.policy.cases import load_cases, run_cases, uncovered_policies
from accord.policy.pack import (
    PackError,
    PackVersionReused,
    install_pack,
    load_installed_pack,
    load_pack,
    require_new_version,
    shipped_pack_dir,
)

PARTIES = [Party.CA, Party.IN]


@pytest.mark.parametrize("party", PARTIES)
def test_each_pack_passes_its_table_of_at_least_60_cases_covering_every_policy(party: Party) -> None:
    directory = shipped_pack_dir(party)
    pack = load_pack(directory)
    results = run_cases(pack, load_cases(directory / "cases.yaml"), load_agreement())
    assert len(results) >= 60
    failed = [(r.case.name, r.error, r.decision) for r in results if not r.passed]
    assert failed == []
    assert uncovered_policies(pack, results) == []
    verdicts = {r.case.expect.decision.value for r in results}
    assert verdicts == {"allow", "deny", "review"}


@pytest.mark.parametrize("party", PARTIES)
def test_every_policy_cites_the_law_it_enforces(party: Party) -> None:
    pack = load_pack(shipped_pack_dir(party))
    assert all(len(info.citation) > 20 for info in pack.policies.values())
    assert all(info.id.startswith(party.value.lower() + "-") for info in pack.policies.values())
    assert pack.label.startswith(pack.manifest.pack + "@")


def copy_pack(party: Party, tmp_path: Path) -> Path:
    target = tmp_path / f"pack-{party.value}"
    shutil.copytree(shipped_pack_dir(party), target)
    return target


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("policies.cedar", "permit (principal", "permit (principle", "not valid Cedar"),
        ("policies.cedar", '@citation("FIRST Traffic', '@note("FIRST Traffic', "needs @id and @citation"),
        ("policies.cedar", '@id("ca-mlat-evidence")', '@id("ca-channel-ceiling")', "appears twice"),
        ("manifest.yaml", "party: CA", "party: XX", "not a valid manifest"),
        ("manifest.yaml", "validity_days: 180 ", "validity_days: many ", "not a valid manifest"),
        ("manifest.yaml", "pack: ca-disclosure", "pack: [", "not YAML"),
    ],
)
def test_a_malformed_pack_is_refused_with_the_reason(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    directory = copy_pack(Party.CA, tmp_path)
    text = (directory / file).read_text(encoding="utf-8")
    assert old in text
    (directory / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PackError, match=message):
        load_pack(directory)


def test_an_installed_pack_must_be_signed_by_this_node_and_unchanged(tmp_path: Path) -> None:
    keys = NodeKeys.generate()
    installed = tmp_path / "installed"
    pack = install_pack(shipped_pack_dir(Party.CA), installed, keys, Party.CA)
    assert load_installed_pack(installed, keys.public).sha256 == pack.sha256

    with pytest.raises(PackError, match="signed by another key"):
        load_installed_pack(installed, NodeKeys.generate().public)

    cedar = installed / "policies.cedar"
    cedar.write_text(cedar.read_text(encoding="utf-8").replace("resource.level > resource.ceiling", "false"))
    with pytest.raises(PackError, match="changed after it was installed"):
        load_installed_pack(installed, keys.public)

    (installed / "pack.sig").unlink()
    with pytest.raises(PackError, match="not signed"):
        load_installed_pack(installed, keys.public)

    with pytest.raises(PackError, match="the pack is for CA"):
        install_pack(shipped_pack_dir(Party.CA), tmp_path / "other", keys, Party.IN)


def test_one_version_of_a_pack_means_one_text_and_an_earlier_one_may_come_back(tmp_path: Path) -> None:
    pack = load_pack(shipped_pack_dir(Party.CA))
    same = f"{pack.manifest.pack}@{pack.manifest.version}#{pack.sha256[:12]}"
    require_new_version(pack, [same, same + "+deployment#0123456789ab", f"{pack.manifest.pack}@0.1#000000000000"])
    with pytest.raises(PackVersionReused, match=f"version {pack.manifest.version} was installed before"):
        require_new_version(pack, [f"{pack.manifest.pack}@{pack.manifest.version}#000000000000"])


def test_the_cli_shows_tests_and_diffs_packs(tmp_path: Path) -> None:
    runner = CliRunner()
    ca = shipped_pack_dir(Party.CA)
    shown = runner.invoke(app, ["policy", "show", str(ca)])
    assert shown.exit_code == 0 and "ca-acmfea-assessment-required" in shown.output

    tested = runner.invoke(app, ["policy", "test", str(ca), str(ca / "cases.yaml")])
    assert tested.exit_code == 0, tested.output
    cases = len(load_cases(ca / "cases.yaml").cases)
    assert f"{cases}/{cases} cases pass" in tested.output

    changed = copy_pack(Party.CA, tmp_path)
    cedar = changed / "policies.cedar"
    cedar.write_text(cedar.read_text(encoding="utf-8").replace('resource.purpose == "evidence"', "false"))
    failing = runner.invoke(app, ["policy", "test", str(changed), str(ca / "cases.yaml")])
    assert failing.exit_code == 1
    assert "FAIL evidence for court goes through the MLAT" in failing.output
    assert "ca-mlat-evidence" in failing.output

    diffed = runner.invoke(app, ["policy", "diff", str(ca), str(changed)])
    assert diffed.exit_code == 0
    assert "~ changed ca-mlat-evidence" not in diffed.output  # annotations unchanged; the text diff shows it
    assert '-when { resource.purpose == "evidence" };' in diffed.output

    missing = runner.invoke(app, ["policy", "test", str(tmp_path / "nowhere"), str(ca / "cases.yaml")])
    assert missing.exit_code == 1
    assert "cannot read the pack" in missing.output


def test_a_case_table_includes_one_file_per_rule_family_and_reports_per_family(tmp_path: Path) -> None:
    ca = shipped_pack_dir(Party.CA)
    table = tmp_path / "cases.yaml"
    shipped = (ca / "cases.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = "".join(line for line in shipped if not line.startswith("includes:"))
    table.write_text(kept + "includes: [cases/*.yaml, families/*.yaml]\n", "utf-8")
    shutil.copytree(ca / "cases", tmp_path / "cases")
    (tmp_path / "families").mkdir()
    (tmp_path / "families" / "evidence.yaml").write_text(
        "party: CA\nfamily: treaty-route\ncases:\n"
        "  - {name: court evidence goes by treaty, message: {purpose: evidence}, "
        "expect: {decision: deny, policies: [ca-mlat-evidence]}}\n",
        "utf-8",
    )
    loaded = load_cases(table)
    assert loaded.families()["treaty-route"] == 1
    tested = CliRunner().invoke(app, ["policy", "test", str(ca), str(table)])
    assert tested.exit_code == 0, tested.output
    assert "treaty-route" in tested.output and "ca-mlat-evidence" in tested.output

    (tmp_path / "families" / "wrong.yaml").write_text(
        "party: IN\nfamily: other\ncases:\n  - {name: x, expect: {decision: allow}}\n", "utf-8"
    )
    wrong_party = CliRunner().invoke(app, ["policy", "test", str(ca), str(table)])
    assert wrong_party.exit_code == 1 and "the table's for CA" in wrong_party.output

    (tmp_path / "families" / "wrong.yaml").write_text(
        "party: CA\nfamily: other\ncases:\n  - {name: court evidence goes by treaty, expect: {decision: allow}}\n",
        "utf-8",
    )
    repeated = CliRunner().invoke(app, ["policy", "test", str(ca), str(table)])
    assert repeated.exit_code == 1 and "repeated: court evidence goes by treaty" in repeated.output


def test_a_policy_reading_an_attribute_the_screens_do_not_compute_is_refused_by_cedars_validator(
    tmp_path: Path,
) -> None:
    changed = copy_pack(Party.CA, tmp_path)
    cedar = changed / "policies.cedar"
    cedar.write_text(cedar.read_text(encoding="utf-8").replace("resource.capital_offence", "resource.capital"), "utf-8")
    with pytest.raises(PackError, match="attribute `capital` on entity type `Message` not found"):
        load_pack(changed)
    typed_wrong = copy_pack(Party.IN, tmp_path / "in")
    cedar = typed_wrong / "policies.cedar"
    cedar.write_text(
        cedar.read_text(encoding="utf-8") + '\n@id("in-x")\n@citation("a policy comparing a number to '
        'a string")\nforbid (principal, action == Action::"disclose", resource) when { resource.level == '
        '"secret" && resource.level > 1 };\n',
        "utf-8",
    )
    with pytest.raises(PackError, match="does not validate against the entity schema"):
        load_pack(typed_wrong)


@pytest.mark.parametrize("party", PARTIES)
def test_every_decision_of_the_case_table_is_evaluated_under_the_schema_not_held_for_an_error(party: Party) -> None:
    directory = shipped_pack_dir(party)
    results = run_cases(load_pack(directory), load_cases(directory / "cases.yaml"), load_agreement())
    unevaluated = [
        r.case.name for r in results if r.decision and any("could not evaluate" in x for x in r.decision.reasons)
    ]
    assert unevaluated == []
