"""A deployment's own settings within the agreement and the pack: a lower channel ceiling, and the screens' numeric
thresholds. Read from `deployment.yaml` in the node's data directory (and ACCORD_CHANNEL_CEILING), validated when the
node opens: a ceiling above the agreement's, or a threshold the pack does not have, stops the node with a clear error.

The agreement's ceiling is the most the parties allow on the channel; a deployment may only carry less (a national
security authority's accreditation of the system, for instance, may be lower than the agreement).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.config import Settings
from accord.crypto.canonical import canonical_json
from accord.datafiles import load_file
from accord.domain.agreement import Agreement
from accord.domain.handling import CommonLevel
from accord.errors import ConfigurationError, validation_text
from accord.i18n import _
from accord.policy.pack import PolicyPack
from accord.policy.screens import Screens

DEPLOYMENT_FILE = "deployment.yaml"


class ChannelSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ceiling: CommonLevel | None = Field(default=None, description="at most the agreement's channel ceiling")


class Deployment(BaseModel):
    """What this deployment sets for itself. `authority` cites who decided it (an accreditation, a direction)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    authority: str | None = Field(default=None, max_length=500, description="who decided these settings, and how")
    channel: ChannelSettings = ChannelSettings()
    # screen -> threshold -> value: only the numbers the pack's manifest already sets under screens.<screen>
    screens: dict[str, dict[str, int | float]] = Field(default_factory=dict)

    def agreement_for(self, agreement: Agreement) -> Agreement:
        """The agreement as this node applies it: with the deployment's lower ceiling, never a higher one."""
        ceiling = self.channel.ceiling
        if ceiling is None:
            return agreement
        if ceiling.rank > agreement.channel_ceiling.rank:
            raise ConfigurationError(
                _(
                    "the deployment sets the channel ceiling to {ceiling}, above the agreement's "
                    "{channel_ceiling} ({id}); a deployment may only lower it"
                ).format(ceiling=ceiling, channel_ceiling=agreement.channel_ceiling, id=agreement.id)
            )
        return agreement.model_copy(update={"channel_ceiling": ceiling})

    def adjust(self, pack: PolicyPack) -> PolicyPack:
        """The pack with the deployment's thresholds; its label names the deployment's settings."""
        if not self.screens:
            return pack
        shipped = pack.manifest.screens.model_dump(mode="json")
        merged = {name: dict(rules) if isinstance(rules, dict) else rules for name, rules in shipped.items()}
        for name, thresholds in sorted(self.screens.items()):
            rules = merged.get(name)
            if not isinstance(rules, dict):
                known = ", ".join(sorted(k for k, v in merged.items() if isinstance(v, dict)))
                raise ConfigurationError(
                    _("the deployment sets screens.{name}; the pack's screens are {known}").format(
                        name=name, known=known
                    )
                )
            for key, value in sorted(thresholds.items()):
                if not _is_number(rules.get(key)) or not _is_number(value):
                    numeric = ", ".join(sorted(k for k, v in rules.items() if _is_number(v)))
                    raise ConfigurationError(
                        _(
                            "the deployment sets screens.{name}.{key}={value!r}; a deployment sets only the numeric "
                            "thresholds the pack has: {value2}"
                        ).format(name=name, key=key, value=value, value2=numeric or "none")
                    )
                rules[key] = value
        try:
            screens = Screens.model_validate(merged)
        except ValidationError as exc:
            raise ConfigurationError(
                _("the deployment's screen thresholds: {validation_text}").format(validation_text=validation_text(exc))
            ) from exc
        manifest = pack.manifest.model_copy(update={"screens": screens})
        return replace(pack, manifest=manifest, deployment=self.digest())

    def digest(self) -> str:
        return hashlib.sha256(canonical_json(self.model_dump(mode="json"))).hexdigest()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def deployment_path(settings: Settings) -> Path:
    return settings.deployment_file or settings.data_dir / DEPLOYMENT_FILE


def load_deployment(settings: Settings) -> Deployment:
    """The deployment's settings: its file (if there is one), then ACCORD_CHANNEL_CEILING over the file's ceiling."""
    path = deployment_path(settings)
    if path.exists():
        deployment = load_file(Deployment, path, kind="deployment settings file")
    elif settings.deployment_file is not None:
        raise ConfigurationError(_("the deployment settings file {path} does not exist").format(path=path))
    else:
        deployment = Deployment()
    if settings.channel_ceiling is not None:
        channel = deployment.channel.model_copy(update={"ceiling": settings.channel_ceiling})
        deployment = deployment.model_copy(update={"channel": channel})
    return deployment
