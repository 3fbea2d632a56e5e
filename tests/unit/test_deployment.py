"""A deployment's own settings: it may lower the channel's ceiling, never raise it, and set the numeric thresholds the
pack's screens already have; anything else stops the node with an error that says what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.config import Settings
from accord.datafiles import DEFAULT_AGREEMENT, load_agreement
from accord.domain.handling import CommonLevel
from accord.domain.parties import Party
from accord.errors import ConfigurationError
from accord.policy.deployment import ChannelSettings, Deployment, load_deployment
from accord.policy.pack import load_pack, shipped_pack_dir


def test_a_deployment_lowers_the_channel_ceiling() -> None:
    agreement = load_agreement(DEFAULT_AGREEMENT)
    lowered = Deployment(channel=ChannelSettings(ceiling=CommonLevel.CONFIDENTIAL)).agreement_for(agreement)
    assert lowered.channel_ceiling is CommonLevel.CONFIDENTIAL
    assert agreement.channel_ceiling is CommonLevel.SECRET, "the shared agreement itself is unchanged"
    assert Deployment().agreement_for(agreement) is agreement


def test_a_deployment_cannot_raise_the_ceiling_above_the_agreement() -> None:
    agreement = load_agreement(DEFAULT_AGREEMENT)
    with pytest.raises(ConfigurationError, match=r"above the agreement's secret .* may only lower it"):
        Deployment(channel=ChannelSettings(ceiling=CommonLevel.TOP_SECRET)).agreement_for(agreement)


def test_thresholds_set_by_the_deployment_replace_the_packs_and_the_label_says_so() -> None:
    pack = load_pack(shipped_pack_dir(Party.CA))
    adjusted = Deployment(screens={"minimisation": {"max_persons": 5}, "mistreatment": {"validity_days": 30}}).adjust(
        pack
    )
    assert adjusted.manifest.screens.minimisation.max_persons == 5
    assert adjusted.manifest.screens.mistreatment.validity_days == 30
    assert pack.manifest.screens.minimisation.max_persons == 10
    assert adjusted.label.startswith(pack.label + "+deployment#")
    assert Deployment().adjust(pack) is pack


@pytest.mark.parametrize(
    ("screens", "says"),
    [
        ({"weather": {"threshold": 1}}, "screens.weather; the pack's screens are"),
        ({"mistreatment": {"colour": 1}}, "only the numeric thresholds the pack has: validity_days"),
        ({"neutrality": {"sensitive_terms": 3}}, "only the numeric thresholds the pack has: none"),
        ({"minimisation": {"max_persons": 0}}, "minimisation.max_persons"),
    ],
)
def test_a_threshold_the_pack_does_not_have_or_out_of_bounds_is_refused(
    screens: dict[str, dict[str, int]], says: str
) -> None:
    pack = load_pack(shipped_pack_dir(Party.IN))
    with pytest.raises(ConfigurationError, match=says.replace(".", r"\.").replace("(", r"\(")):
        Deployment(screens=screens).adjust(pack)


def test_the_settings_file_and_the_environment_are_read_and_validated(tmp_path: Path) -> None:
    assert load_deployment(Settings(data_dir=tmp_path)) == Deployment()
    (tmp_path / "deployment.yaml").write_text(
        "# Accreditation of the Canadian node, 2026 (departmental security officer)\n"
        "authority: Departmental security officer's accreditation, 2026\n"
        "channel: {ceiling: confidential}\n"
        "screens: {minimisation: {max_persons: 5}}\n",
        encoding="utf-8",
    )
    read = load_deployment(Settings(data_dir=tmp_path))
    assert read.channel.ceiling is CommonLevel.CONFIDENTIAL and read.screens == {"minimisation": {"max_persons": 5}}
    overridden = load_deployment(Settings(data_dir=tmp_path, channel_ceiling=CommonLevel.RESTRICTED))
    assert overridden.channel.ceiling is CommonLevel.RESTRICTED

    (tmp_path / "deployment.yaml").write_text("channel: {ceiling: cosmic}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"deployment\.yaml is not a valid deployment settings file"):
        load_deployment(Settings(data_dir=tmp_path))
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_deployment(Settings(data_dir=tmp_path, deployment_file=tmp_path / "missing.yaml"))


def test_the_example_deployment_file_is_valid_for_the_shipped_packs() -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "deployment.yaml"
    deployment = load_deployment(Settings(data_dir=example.parent, deployment_file=example))
    assert deployment.channel.ceiling is CommonLevel.CONFIDENTIAL
    for party in Party:
        assert deployment.adjust(load_pack(shipped_pack_dir(party))).manifest.screens.minimisation.max_persons == 5
